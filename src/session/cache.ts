import { mkdirSync, readdirSync, statSync, unlinkSync } from "node:fs";
import { dirname, join } from "node:path";
import { AppError, errnoCode, fileError, isAppError } from "../errors";
import { type FileStamp, stillStamped } from "../fsio/file-stamp";
import { privacyProblem } from "../fsio/private-file";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";
import type { CallerIdentity, SessionCredentials } from "../sts/credentials";

/**
 * One file per plan step under the cache directory, 0600 in a 0700 directory. A file that
 * others could read or write, or that someone else owns, is refused: it may have been planted.
 */

export interface CacheEntry {
  version: 1;
  /**
   * "login-session", "sso": a signed-in session's own credentials, kept while they are good so that
   * the warm path answers them; the aws CLI's token file stays the truth they are read from.
   */
  kind: "mfa-session" | "assume-role" | "login-session" | "sso";
  /** The profile that made it (for `status`); the key, not this, decides who may reuse it. */
  profile: string;
  credentials: SessionCredentials;
  identity?: CallerIdentity;
  serial?: string;
  roleArn?: string;
  /** The IAM user behind the session, for the default role session name. */
  userName?: string;
  /** For a session's copy: the aws CLI's token file it was read from, as it was then. */
  tokenFile?: FileStamp;
  createdAt: string;
}

// node:crypto and node:os are loaded where they are used, not at the top: the warm path
// (session/warm-index.ts) needs neither, and loading them costs every credential_process call.

export { cacheDirectory } from "../config/files";

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
    throw fileError("cache-dir", `Cannot create the cache directory ${dir}`, error, {
      hint: "Set AWSMFA_CACHE_DIR to a directory you own.",
    });
  }
  checkOwnership(dir, statSync(dir), "directory");
}

/**
 * The plan step an entry is read for: its key, and the kind and device or role the entry must
 * say it was made for (a CacheableStep of session/steps.ts is one).
 */
export interface EntryTarget {
  key: string;
  step: { type: CacheEntry["kind"]; serial?: string; roleArn?: string };
}

/** As stored: the entry and the key it was written under, so that one copied or moved to another step's file is a miss. */
type StoredEntry = CacheEntry & { key: string };

/** The entry of `target` if it is there, whole, made for that step, and its expiry possible; else undefined (a miss). */
export function readEntry(dir: string, target: EntryTarget): CacheEntry | undefined {
  const entry = validEntry(readJsonFile(entryPath(dir, target.key)));
  return entry && madeFor(entry, target) && plausibleExpiry(entry) ? entry : undefined;
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
  // A FIFO, a directory or a device in place of the file is a miss, never a hang or an error.
  const file = readRegularFile(path);
  if (!("text" in file)) return undefined;
  checkOwnership(path, file.stat, "file");
  try {
    return JSON.parse(file.text);
  } catch {
    return undefined;
  }
}

export function writeEntry(dir: string, key: string, entry: CacheEntry): void {
  ensureCacheDirectory(dir);
  const path = entryPath(dir, key);
  const stored: StoredEntry = { ...entry, key };
  try {
    writeWhole(path, `${JSON.stringify(stored)}\n`, 0o600);
  } catch (error) {
    throw fileError("cache-write", `Cannot write the cache file ${path}`, error, {
      hint: "Check that you can write to the directory, or set AWSMFA_CACHE_DIR to one you can.",
    });
  }
}

/**
 * Stores credentials just obtained, or says on `warn` why it could not: a full or read-only disk
 * must not cost the credentials in hand, nor the MFA code that made them.
 */
export function keepEntry(
  dir: string,
  key: string,
  entry: CacheEntry,
  warn: (message: string) => void,
): void {
  try {
    writeEntry(dir, key, entry);
  } catch (error) {
    if (!isAppError(error)) throw error;
    warn(
      `The credentials work but are not cached, so the next call gets new ones. ${error.message} ${error.hint ?? ""}`.trimEnd(),
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

/** The entry of `target` if it is there, good (see readEntry) and fresh (see isFresh). */
export function freshEntry(dir: string, target: EntryTarget, minTtlSeconds: number): CacheEntry | undefined {
  const entry = readEntry(dir, target);
  return entry && isFresh(entry, minTtlSeconds) ? entry : undefined;
}

function validEntry(value: unknown): StoredEntry | undefined {
  const entry = value as StoredEntry | undefined;
  const c = entry?.credentials;
  const valid =
    entry?.version === 1 &&
    typeof entry.key === "string" &&
    typeof c?.accessKeyId === "string" &&
    typeof c.secretAccessKey === "string" &&
    typeof c.sessionToken === "string" &&
    !Number.isNaN(Date.parse(c.expiration)) &&
    !Number.isNaN(Date.parse(entry.createdAt));
  return valid ? entry : undefined;
}

/**
 * Made for this step: written under its key (which covers the keys, device and role settings
 * below it), of its kind, for its device or role. The profile that made it is not compared: the
 * profiles on the same keys and device share one MFA session by design.
 */
function madeFor(entry: StoredEntry, target: EntryTarget): boolean {
  if (entry.key !== target.key || entry.kind !== target.step.type) return false;
  if (entry.kind === "mfa-session") return entry.serial === target.step.serial;
  if (entry.kind === "assume-role") return entry.roleArn === target.step.roleArn;
  // A session's key is its identity (session/sources/identity.ts); its copy holds while the aws
  // CLI's token file is as it was read: a sign-in, a sign-out, a refresh elsewhere make it a miss.
  return entry.tokenFile !== undefined && stillStamped(entry.tokenFile);
}

/** The longest credentials AWS issues: GetSessionToken for an IAM user 36 h, AssumeRole 12 h. */
const LONGEST_SECONDS: Record<CacheEntry["kind"], number> = {
  "mfa-session": 129_600,
  "assume-role": 43_200,
  "login-session": 43_200,
  sso: 43_200,
};
/** For a clock set back a little since the entry was made. */
const CLOCK_MARGIN_SECONDS = 300;

/**
 * An expiry further from its creation, or from now, than AWS ever grants was not written by
 * awsmfa from an STS answer: the entry is damaged, or hand-made.
 */
function plausibleExpiry(entry: StoredEntry, now = Date.now()): boolean {
  const longest = (LONGEST_SECONDS[entry.kind] + CLOCK_MARGIN_SECONDS) * 1000;
  const expires = Date.parse(entry.credentials.expiration);
  return expires - Date.parse(entry.createdAt) <= longest && expires - now <= longest;
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
      { hint: `Remove it (\`rm -r ${path}\`) or set AWSMFA_CACHE_DIR to a directory you own.` },
    );
  }
  const wanted = what === "file" ? "600" : "700";
  throw new AppError(
    "unsafe-cache",
    `The cache ${what} ${path} is open to other users (mode ${problem.openMode.toString(8)}); not using it.`,
    { hint: `Run \`chmod ${wanted} ${path}\` (or remove it) and try again.` },
  );
}
