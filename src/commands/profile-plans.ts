import { loadProfileSet, profileFromEnv, resolveOnProfilesOf } from "../config/files";
import { type KeysStep, type Plan, resolvePlan } from "../config/plan";
import { AppError } from "../errors";
import { type CacheableStep, cacheableSteps } from "../session/steps";
import { planWithStamps } from "../session/warm-index";

/** The profile a command works on: --profile, else AWS_PROFILE, else default (as the aws CLI). */
export function selectedProfile(option: string | undefined, env: NodeJS.ProcessEnv): string {
  return option || profileFromEnv(env);
}

/** The plan of `profile`: `read` if it is that profile's (what the warm path read for this call), else read from the files. */
export function loadPlan(profile: string, env: NodeJS.ProcessEnv, read?: Plan): Plan {
  if (read?.profile === profile) return read;
  return planWithStamps(env, () => resolveOnProfilesOf(env, profile, (set) => resolvePlan(set, profile)));
}

/** A profile whose credentials awsmfa makes and caches, with its cached steps. */
export interface ServedProfile {
  profile: string;
  plan: Plan;
  steps: CacheableStep[];
}

/**
 * Every profile of the files that resolves to a plan awsmfa serves from its cache, by name. A
 * broken profile is left out: `plan -p NAME` explains it; these are for overviews.
 */
export function servedProfiles(env: NodeJS.ProcessEnv): ServedProfile[] {
  const set = loadProfileSet(env);
  const served: ServedProfile[] = [];
  for (const profile of Object.keys(set.profiles).sort()) {
    let plan: Plan;
    try {
      plan = resolvePlan(set, profile);
    } catch {
      continue;
    }
    const steps = cacheableSteps(plan);
    if (steps) served.push({ profile, plan, steps });
  }
  return served;
}

/** The long-term keys at the bottom of a profile's chain, for commands that work on them (`verb` says what for). */
export function keysLeafOf(plan: Plan, verb: string): KeysStep {
  if (plan.leaf.type === "keys") return plan.leaf;
  throw new AppError(
    "no-long-term-keys",
    `Profile '${plan.profile}' has no long-term access keys to ${verb}: its credentials come from ${plan.leaf.type} (profile '${plan.leaf.profile}').`,
  );
}
