import { join } from "node:path";
import { configFilePath, credentialsFilePath } from "../config/files";
import type { Plan } from "../config/plan";
import { type FileStamp, hash128, stampOf } from "../fsio/file-stamp";
import { writeWhole } from "../fsio/write-whole";
import { type EntryTarget, ensureCacheDirectory, readJsonFile } from "./cache";
import { type CacheableStep, cacheableSteps, chainRegion } from "./steps";

/**
 * The warm path's shortcut: per profile, which cache entry its plan ends in and the identity of
 * the config files it was resolved from (size, inode, mtime and ctime in nanoseconds). While
 * both files are unchanged, `credential-process` reads this small file and the entry, and never
 * parses a config of thousands of profiles. Any change to either file is a miss, and the full
 * resolution runs and writes a new index.
 */

interface WarmIndex {
  version: 1;
  profile: string;
  files: FileStamp[];
  entryKey: string;
  /** What the entry must have been made for (cache.ts readEntry checks it, as on the full path). */
  step: EntryTarget["step"];
  /** The region of the profile chain, for `env` (the environment's wins at use). */
  region: string | null;
}

export interface WarmTarget {
  entry: EntryTarget;
  region: string | undefined;
}

const ENTRY_KEY = /^[0-9a-f]{32}$/;

export function readWarmIndex(dir: string, profile: string, env: NodeJS.ProcessEnv): WarmTarget | undefined {
  const files = profileFiles(env);
  const index = readJsonFile(indexPath(dir, profile, files)) as Partial<WarmIndex> | undefined;
  // A damaged or hand-edited index is a miss, never an error; its key names a file in the cache only.
  if (
    index?.version !== 1 ||
    index.profile !== profile ||
    !Array.isArray(index.files) ||
    index.files.length !== files.length ||
    typeof index.entryKey !== "string" ||
    !ENTRY_KEY.test(index.entryKey) ||
    !isStepOfEntry(index.step)
  )
    return undefined;
  for (const [position, path] of files.entries()) {
    const recorded = index.files[position];
    if (recorded?.path !== path || recorded.stamp !== stampOf(path)) return undefined;
  }
  return {
    entry: { key: index.entryKey, step: index.step },
    region: typeof index.region === "string" ? index.region : undefined,
  };
}

/** An index of an older version has none: a miss, and the full path writes a new one. */
function isStepOfEntry(step: unknown): step is EntryTarget["step"] {
  const { type, serial, roleArn } = (step ?? {}) as Record<string, unknown>;
  if (type === "login-session" || type === "sso") return true;
  return type === "mfa-session"
    ? typeof serial === "string"
    : type === "assume-role" && typeof roleArn === "string";
}

/**
 * Reads the profile files through `load`, the plan carrying their stamps from before the read: a
 * file changed while it was read then fails the next comparison instead of pinning a stale plan.
 */
export function planWithStamps(env: NodeJS.ProcessEnv, load: () => Plan): Plan {
  const filesRead = profileFiles(env).map((path) => ({ path, stamp: stampOf(path) }));
  return { ...load(), filesRead };
}

/** Records where `plan` ends, for the next warm call; only for a plan read through planWithStamps. */
export function writeWarmIndex(dir: string, plan: Plan, env: NodeJS.ProcessEnv): void {
  const last = cacheableSteps(plan)?.at(-1);
  const stamps = plan.filesRead;
  if (!last || !stamps) return;
  const index: WarmIndex = {
    version: 1,
    profile: plan.profile,
    files: stamps,
    entryKey: last.key,
    step: entryStep(last.step),
    region: chainRegion(plan) ?? null,
  };
  try {
    ensureCacheDirectory(dir);
    writeWhole(indexPath(dir, plan.profile, profileFiles(env)), `${JSON.stringify(index)}\n`, 0o600);
  } catch {
    // Only a shortcut: without it the next call parses the config files, and the credentials
    // in hand are still good. An unsafe directory is reported by the reads that matter.
  }
}

/** What an entry of the step must say it was made for (cache.ts madeFor). */
function entryStep(step: CacheableStep["step"]): EntryTarget["step"] {
  if (step.type === "mfa-session") return { type: step.type, serial: step.serial };
  if (step.type === "assume-role") return { type: step.type, roleArn: step.roleArn };
  return { type: step.type };
}

function profileFiles(env: NodeJS.ProcessEnv): string[] {
  return [configFilePath(env), credentialsFilePath(env)];
}

/**
 * The index file of a profile. Its name only spreads profiles over files: the content names the
 * profile and the files and is checked on read, so a collision is a miss, never a wrong answer.
 * Hence a non-cryptographic hash, which spares the warm path loading node:crypto (about as
 * costly as everything else it does). 32 hex digits, as `listCacheFiles` expects.
 */
function indexPath(dir: string, profile: string, files: string[]): string {
  return join(dir, `warm-${hash128(JSON.stringify(["warm-index", profile, ...files]))}.json`);
}
