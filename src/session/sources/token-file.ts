import { lstatSync, type Stats, unlinkSync } from "node:fs";
import { AppError, ExitStatus, errnoCode, fileError, isAppError } from "../../errors";
import { type FileStamp, stampOf } from "../../fsio/file-stamp";
import { withLock } from "../../fsio/lock";
import { privacyProblem } from "../../fsio/private-file";
import { type RegularFile, readRegularFile } from "../../fsio/regular-file";
import { writeWhole } from "../../fsio/write-whole";
import type { SessionCredentials } from "../../sts/credentials";

/**
 * What the `aws login` and IAM Identity Center sources share about the aws CLI's token files:
 * reading one (refusing one that may have been planted), its expiry in either writer's format,
 * and the lock under which exactly one process refreshes it.
 */

/** A session of a profile, as the messages about its token file name it. */
export interface TokenSession {
  profile: string;
  /** "aws login session", "IAM Identity Center session". */
  kind: string;
  /** The aws CLI command that signs in again. */
  signInCommand: string;
}

export interface TokenFile {
  json: Record<string, unknown>;
  /** Permission bits, kept when the file is rewritten. */
  mode: number;
  /** The file's stamp from before it was read: a write during the read shows as a change later. */
  stamp: FileStamp;
}

/**
 * A session's credentials and the stamp of the token file they are true to: the one read, or the
 * one awsmfa wrote when it refreshed. awsmfa's copy of them is good only while the file keeps that
 * stamp, so that a sign-in, a sign-out or a refresh by another program is never answered from it.
 */
export interface SignedInCredentials {
  credentials: SessionCredentials;
  tokenFile: FileStamp;
}

/** Refresh when fewer than this many ms are left: the aws CLI's and the SDKs' own margin. */
const REFRESH_MARGIN_MS = 5 * 60_000;
/** Below the 15 minutes a refreshed `aws login` token lives: a wider margin would refresh on every call. */
const MAX_REFRESH_MARGIN_MS = 10 * 60_000;
/** Less than this left on a token, and a failed refresh is the caller's failure, not a token to hand out. */
const STILL_USABLE_MS = 60_000;
const LOCK_TIMEOUT_MS = 30_000;
/** A refresh is one HTTPS call with retries: a lock held this long belongs to a stuck process. */
const LOCK_STALE_MS = 60_000;

export function readTokenFile(path: string, session: TokenSession): TokenFile {
  let found: RegularFile;
  let stamp: FileStamp;
  try {
    stamp = { path, stamp: stampOf(path) };
    // Opened without blocking and judged by its own fstat: a FIFO put in its place never hangs awsmfa.
    found = readRegularFile(path);
  } catch (error) {
    throw new AppError("token-file", `Cannot read ${path} (${errnoCode(error) ?? "unknown error"}).`, {
      hint: `Check that you can read it, or sign in again: \`${session.signInCommand}\`.`,
      cause: error,
    });
  }
  if ("missing" in found) {
    throw sessionMissing(session, `there is no ${session.kind} for it (${path} does not exist)`);
  }
  if ("notRegular" in found)
    throw unsafeTokenFile(path, session, `is ${found.notRegular}, not a regular file`);
  refuseForeign(found.stat, path, session);
  const mode = found.stat.mode & 0o777;
  const text = found.text;
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw sessionMissing(session, `its token file ${path} is not JSON`, error);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw sessionMissing(session, `its token file ${path} is not a JSON object`);
  }
  return { json: json as Record<string, unknown>, mode, stamp };
}

/**
 * Rewrites the token file whole and atomically in its mode; the stamp of what was written, taken
 * after the rename (which changes the file's ctime).
 */
export function rewriteTokenFile(path: string, text: string, mode: number): FileStamp {
  writeWhole(path, text, mode);
  return { path, stamp: stampOf(path) };
}

/** The ms of an `expiresAt`: the aws CLI writes whole seconds (…:05Z), the SDKs milliseconds (…:05.123Z). */
export function expiresAtMs(value: unknown, path: string, session: TokenSession): number {
  const ms = typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) throw sessionMissing(session, `its token file ${path} has no readable expiresAt`);
  return ms;
}

/** The token file's fields the aws CLI always writes are there; a file without them is not a session. */
export function requireFields(path: string, session: TokenSession, complete: boolean): void {
  if (!complete) throw sessionMissing(session, `its token file ${path} lacks fields the aws CLI writes`);
}

/** One refresh at a time per token file, across processes; the lock file sits beside it. */
export function withTokenFileLock<T>(
  path: string,
  session: TokenSession,
  work: () => Promise<T>,
): Promise<T> {
  return withLock(
    `${path}.lock`,
    {
      timeoutMs: LOCK_TIMEOUT_MS,
      staleMs: LOCK_STALE_MS,
      what: `the ${session.kind} of profile '${session.profile}' (${path})`,
    },
    work,
  );
}

export function sessionMissing(session: TokenSession, reason: string, cause?: unknown): AppError {
  return new AppError(
    "session-missing",
    `Profile '${session.profile}' cannot be used: ${reason}; sign in with \`${session.signInCommand}\`.`,
    { cause },
  );
}

/** A token file someone else owns or may write may have been planted: its credentials are not used. */
function refuseForeign(stat: { uid: number; mode: number }, path: string, session: TokenSession): void {
  if (process.platform === "win32") return;
  const owner = privacyProblem(stat);
  if (owner && "otherOwner" in owner)
    throw unsafeTokenFile(path, session, `belongs to user ${owner.otherOwner}`);
  if ((stat.mode & 0o022) !== 0) throw unsafeTokenFile(path, session, "may be written by others");
}

function unsafeTokenFile(path: string, session: TokenSession, why: string): AppError {
  return new AppError(
    "token-file-unsafe",
    `Refusing the ${session.kind} of profile '${session.profile}': ${path} ${why}.`,
    { hint: `Remove it and sign in again: \`${session.signInCommand}\`.` },
  );
}

/**
 * Deletes the token file (the aws CLI's own, so this signs `aws` out too), under the lock a refresh
 * takes, so that no refresh is half way through writing it. Only a regular file of this user's
 * (a link, a FIFO or someone else's file is refused, exit 9). False when there was none.
 */
export async function removeTokenFile(path: string, session: TokenSession): Promise<boolean> {
  if (lstatOrMissing(path) === undefined) return false;
  return withTokenFileLock(path, session, async () => {
    const stat = lstatOrMissing(path);
    if (stat === undefined) return false;
    if (!stat.isFile()) throw unsafeTokenFile(path, session, "is not a regular file; it was left in place");
    const owner = privacyProblem(stat);
    if (owner && "otherOwner" in owner) {
      throw unsafeTokenFile(path, session, `belongs to user ${owner.otherOwner}; it was left in place`);
    }
    try {
      unlinkSync(path);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return false;
      throw fileError("token-file", `Cannot delete ${path}`, error);
    }
    return true;
  });
}

function lstatOrMissing(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if (errnoCode(error) === "ENOENT" || errnoCode(error) === "ENOTDIR") return undefined;
    throw fileError("token-file", `Cannot read ${path}`, error);
  }
}

/** The margin a caller asked for, within what the sessions allow (5 minutes when not asked). */
export function refreshMargin(asked: number | undefined): number {
  return Math.min(asked ?? REFRESH_MARGIN_MS, MAX_REFRESH_MARGIN_MS);
}

/**
 * Refreshes; when that fails for any reason but the session's end (the network, throttling, a
 * missing region), what is left of the current token is still used, as the SDKs do, while it lasts.
 */
export async function refreshOrKeep<T>(msLeft: number, keep: () => T, refresh: () => Promise<T>): Promise<T> {
  try {
    return await refresh();
  } catch (error) {
    const ended = isAppError(error) && error.status === ExitStatus.sessionEnded;
    if (!ended && msLeft > STILL_USABLE_MS) return keep();
    throw error;
  }
}
