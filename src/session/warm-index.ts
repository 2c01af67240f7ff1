import { type BigIntStats, statSync } from "node:fs";
import { join } from "node:path";
import { configFilePath, credentialsFilePath } from "../config/files";
import type { Plan } from "../config/plan";
import { errnoCode } from "../errors";
import { writeWhole } from "../fsio/write-whole";
import { cacheKey, ensureCacheDirectory, readJsonFile } from "./cache";
import { cacheableSteps, chainRegion } from "./steps";

/**
 * The warm path's shortcut: per profile, which cache entry its plan ends in and the identity of
 * the config files it was resolved from (size, inode, mtime and ctime in nanoseconds). While
 * both files are unchanged, `credential-process` reads this small file and the entry, and never
 * parses a config of thousands of profiles. Any change to either file is a miss, and the full
 * resolution runs and writes a new index.
 */

interface FileStamp {
  path: string;
  stamp: string | null;
}

interface WarmIndex {
  version: 1;
  profile: string;
  files: FileStamp[];
  entryKey: string;
  /** The region of the profile chain, for `env` (the environment's wins at use). */
  region: string | null;
}

export interface WarmTarget {
  entryKey: string;
  region: string | undefined;
}

export function readWarmIndex(dir: string, profile: string, env: NodeJS.ProcessEnv): WarmTarget | undefined {
  const files = profileFiles(env);
  const index = readJsonFile(indexPath(dir, profile, files)) as WarmIndex | undefined;
  if (index?.version !== 1 || index.profile !== profile || index.files.length !== files.length)
    return undefined;
  for (const [position, path] of files.entries()) {
    const recorded = index.files[position];
    if (recorded?.path !== path || recorded.stamp !== stampOf(path)) return undefined;
  }
  return { entryKey: index.entryKey, region: index.region ?? undefined };
}

/** The profile files' stamps taken just before each plan was read from them. */
const stampsOfPlan = new WeakMap<Plan, FileStamp[]>();

/**
 * Reads the profile files through `load`, remembering their stamps from before the read: a file
 * changed while it was read then fails the next comparison instead of pinning a stale plan.
 */
export function planWithStamps(env: NodeJS.ProcessEnv, load: () => Plan): Plan {
  const stamps = profileFiles(env).map((path) => ({ path, stamp: stampOf(path) }));
  const plan = load();
  stampsOfPlan.set(plan, stamps);
  return plan;
}

/** Records where `plan` ends, for the next warm call; only for a plan read through planWithStamps. */
export function writeWarmIndex(dir: string, plan: Plan, env: NodeJS.ProcessEnv): void {
  const last = cacheableSteps(plan)?.at(-1);
  const stamps = stampsOfPlan.get(plan);
  if (!last || !stamps) return;
  const index: WarmIndex = {
    version: 1,
    profile: plan.profile,
    files: stamps,
    entryKey: last.key,
    region: chainRegion(plan) ?? null,
  };
  ensureCacheDirectory(dir);
  writeWhole(indexPath(dir, plan.profile, profileFiles(env)), `${JSON.stringify(index)}\n`, 0o600);
}

function profileFiles(env: NodeJS.ProcessEnv): string[] {
  return [configFilePath(env), credentialsFilePath(env)];
}

function indexPath(dir: string, profile: string, files: string[]): string {
  return join(dir, `warm-${cacheKey(["warm-index", profile, ...files])}.json`);
}

function stampOf(path: string): string | null {
  let stat: BigIntStats;
  try {
    stat = statSync(path, { bigint: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
  return `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`;
}
