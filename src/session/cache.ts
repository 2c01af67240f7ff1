import { createHash } from "node:crypto";
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
import { homedir } from "node:os";
import { join } from "node:path";
import { AppError, errnoCode } from "../errors";
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

export function cacheDirectory(env: NodeJS.ProcessEnv): string {
  if (env.AWSMFA_CACHE_DIR) return env.AWSMFA_CACHE_DIR;
  const home = env.HOME || env.USERPROFILE || homedir();
  return join(home, ".aws", "awsmfa", "cache");
}

/** A stable file name for a step, from everything that decides what credentials it yields. */
export function cacheKey(parts: (string | number | null | undefined)[]): string {
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
 * A JSON file of the cache directory, after the ownership and mode checks; undefined when it is
 * missing or damaged (a damaged file is a miss: the step is simply done again).
 */
export function readJsonFile(path: string): unknown {
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
  writeWhole(entryPath(dir, key), `${JSON.stringify(entry)}\n`, 0o600);
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
  if (process.platform === "win32") return;
  const uid = process.getuid?.();
  if (uid !== undefined && stat.uid !== uid) {
    throw new AppError(
      "unsafe-cache",
      `The cache ${what} ${path} belongs to another user (uid ${stat.uid}); not using it.`,
      {
        status: "unsafeFile",
        hint: `Remove it (\`rm -r ${path}\`) or set AWSMFA_CACHE_DIR to a directory you own.`,
      },
    );
  }
  if ((stat.mode & 0o077) !== 0) {
    const wanted = what === "file" ? "600" : "700";
    throw new AppError(
      "unsafe-cache",
      `The cache ${what} ${path} is open to other users (mode ${(stat.mode & 0o777).toString(8)}); not using it.`,
      { status: "unsafeFile", hint: `Run \`chmod ${wanted} ${path}\` (or remove it) and try again.` },
    );
  }
}
