import type { Plan } from "../config/plan";
import { type CacheEntry, cacheDirectory } from "../session/cache";
import { cachedEntry, chainRegion } from "../session/steps";
import { writeWarmIndex } from "../session/warm-index";
import { loadPlan } from "./profile-plans";

/** What the warm path found for a profile: a cache entry to answer with, or the plan it read before the cache missed. */
export type WarmFound = { entry: CacheEntry; region: string | undefined } | { read: Plan | undefined };

/**
 * The warm path when the warm index has no answer (the config files changed, or a first call):
 * resolve the profile's plan, answer from the cache if it can, and index the answer for the next
 * call. In the direct bundle, not the entry's: an index hit, the case paid on every aws CLI
 * call, then compiles none of the config parser or the plan.
 */
export function warmFromPlan(profile: string, env: NodeJS.ProcessEnv, minTtl: number): WarmFound {
  const plan = loadPlan(profile, env);
  const entry = cachedEntry(plan, env, minTtl);
  if (!entry) return { read: plan };
  writeWarmIndex(cacheDirectory(env), plan, env);
  return { entry, region: chainRegion(plan) };
}
