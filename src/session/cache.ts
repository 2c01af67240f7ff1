import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { homeDirectory } from "../config/files";
import { AppError, errnoCode } from "../errors";
import { privacyProblem } from "../fsio/private-file";
import { writeWhole } from "../fsio/write-whole";
import type { CallerIdentity, SessionCredentials } from "../sts/credentials";

/**
 * One file per plan step under the cache directory, 0600 in a 0700 directory. A file that
 * others could read or write, or that someone else owns, is refused: it may have been planted.
 */

export interface CacheEntry {
  version: 1;
  kind: "mfa-session" | "assume-role";
  /** The profile that made it (for `status`); the key, not this, decides who may reuse it. */
  profile: string;
  credentials: SessionCredentials;
  identity?: CallerIdentity;
  serial?: string;
  roleArn?: string;
  /** The IAM user behind the session, for the default role session name. */
  userName?: string;
  createdAt: string;
}

// node:crypto and node:os are loaded where they are used, not at the top: the warm path
// (session/warm-index.ts) needs neither, and loading them costs every credential_process call.

export function cacheDirectory(env: NodeJS.ProcessEnv): string {
  if (env.AWSMFA_CACHE_DIR) return env.AWSMFA_CACHE_DIR;
  return join(homeDirectory(env), ".aws", "awsmfa", "cache");
}

/** A stable file name for a step, from everything that decides what credentials it yields. */
export function cacheKey(parts: (string | number | null | undefined)[]): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  return createHash("sha256").update(JSON.stringify(parts)).digest("hex").slice(0, 32);
}

export function entryPath(dir: string, key: string): string {
  return join(dir, `${key}.json`);
}

/** Creates the directory 0700 if needed and refuses one that others can enter. */
export function ensureCacheDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw new AppError(
      "cache-dir",
      `Cannot create the cache directory ${dir}: ${(error as Error).message}.`,
      {
        status: "unsafeFile",
        hint: "Set AWSMFA_CACHE_DIR to a directory you own.",
      },
    );
  }
  checkOwnership(dir, statSync(dir), "directory");
}

export function readEntry(dir: string, key: string): CacheEntry | undefined {
  return validEntry(readJsonFile(entryPath(dir, key)));
}

/**
 * A JSON file of the cache directory, after the ownership and mode checks of the file and of the
 * directory (the warm path reads here without ensureCacheDirectory); undefined when it is
 * missing or damaged (a damaged file is a miss: the step is simply done again).
 */
export function readJsonFile(path: string): unknown {
  const dir = dirname(path);
  let dirStat: Ownership;
  try {
    dirStat = statSync(dir);
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
    throw error;
  }
  checkOwnership(dir, dirStat, "directory");
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
    throw error;
  }
  let text: string;
  try {
    checkOwnership(path, fstatSync(fd), "file");
    text = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

export function writeEntry(dir: string, key: string, entry: CacheEntry): void {
  ensureCacheDirectory(dir);
  const path = entryPath(dir, key);
  try {
    writeWhole(path, `${JSON.stringify(entry)}\n`, 0o600);
  } catch (error) {
    // A full disk or a read-only directory is the user's to fix, not a bug (exit 70).
    throw new AppError(
      "cache-write",
      `Cannot write the cache file ${path} (${errnoCode(error) ?? "unknown error"}).`,
      {
        hint: "Check the free space and that you can write to the directory, or set AWSMFA_CACHE_DIR to one you can.",
        cause: error,
      },
    );
  }
}

export function removeEntry(dir: string, key: string): boolean {
  return removeCacheFile(entryPath(dir, key));
}

export function removeCacheFile(path: string): boolean {
  try {
    unlinkSync(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}

/** Every file awsmfa keeps credentials or their index in, for `logout --all`. */
export function listCacheFiles(dir: string): string[] {
  try {
    return readdirSync(dir)
      .filter((name) => /^(warm-)?[0-9a-f]{32}\.json$/.test(name))
      .map((name) => join(dir, name));
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return [];
    throw error;
  }
}

/** Seconds of validity left, from now. */
export function secondsLeft(entry: CacheEntry, now = Date.now()): number {
  return Math.floor((Date.parse(entry.credentials.expiration) - now) / 1000);
}

/** How long the credentials were issued for (from when awsmfa stored them to their expiry). */
export function lifetimeSeconds(entry: CacheEntry): number {
  const lifetime = (Date.parse(entry.credentials.expiration) - Date.parse(entry.createdAt)) / 1000;
  return Number.isFinite(lifetime) && lifetime > 0 ? lifetime : Math.max(0, secondsLeft(entry));
}

/**
 * Good to hand out: at least `minTtlSeconds` left — or, for credentials that never last that
 * long (a 900 s role under the default 15 min), at least half their life, or every call would
 * mint new ones.
 */
export function isFresh(entry: CacheEntry, minTtlSeconds: number, now = Date.now()): boolean {
  return secondsLeft(entry, now) >= Math.min(minTtlSeconds, lifetimeSeconds(entry) / 2);
}

/** The entry at `key` if it is there, readable and fresh (see isFresh). */
export function freshEntry(dir: string, key: string, minTtlSeconds: number): CacheEntry | undefined {
  const entry = readEntry(dir, key);
  return entry && isFresh(entry, minTtlSeconds) ? entry : undefined;
}

function validEntry(value: unknown): CacheEntry | undefined {
  const entry = value as CacheEntry | undefined;
  const c = entry?.credentials;
  const valid =
    entry?.version === 1 &&
    typeof c?.accessKeyId === "string" &&
    typeof c.secretAccessKey === "string" &&
    typeof c.sessionToken === "string" &&
    !Number.isNaN(Date.parse(c.expiration));
  return valid ? entry : undefined;
}

interface Ownership {
  mode: number;
  uid: number;
}

function checkOwnership(path: string, stat: Ownership, what: "file" | "directory"): void {
  const problem = privacyProblem(stat);
  if (problem === undefined) return;
  if ("otherOwner" in problem) {
    throw new AppError(
      "unsafe-cache",
      `The cache ${what} ${path} belongs to another user (uid ${problem.otherOwner}); not using it.`,
      {
        status: "unsafeFile",
        hint: `Remove it (\`rm -r ${path}\`) or set AWSMFA_CACHE_DIR to a directory you own.`,
      },
    );
  }
  const wanted = what === "file" ? "600" : "700";
  throw new AppError(
    "unsafe-cache",
    `The cache ${what} ${path} is open to other users (mode ${problem.openMode.toString(8)}); not using it.`,
    { status: "unsafeFile", hint: `Run \`chmod ${wanted} ${path}\` (or remove it) and try again.` },
  );
}
