import { readFileSync, statSync } from "node:fs";
import { AppError, ExitStatus, errnoCode, isAppError } from "../../errors";
import { withLock } from "../../fsio/lock";

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
  let text: string;
  let mode: number;
  try {
    const stat = statSync(path);
    refuseForeign(stat, path, session);
    mode = stat.mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (errnoCode(error) === "ENOENT") {
      throw sessionMissing(session, `there is no ${session.kind} for it (${path} does not exist)`, error);
    }
    throw new AppError("token-file", `Cannot read ${path} (${errnoCode(error) ?? "unknown error"}).`, {
      status: "failure",
      hint: `Check that you can read it, or sign in again: \`${session.signInCommand}\`.`,
      cause: error,
    });
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw sessionMissing(session, `its token file ${path} is not JSON`, error);
  }
  if (typeof json !== "object" || json === null || Array.isArray(json)) {
    throw sessionMissing(session, `its token file ${path} is not a JSON object`);
  }
  return { json: json as Record<string, unknown>, mode };
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
    { status: "sessionEnded", cause },
  );
}

/** A token file someone else owns or may write may have been planted: its credentials are not used. */
function refuseForeign(stat: { uid: number; mode: number }, path: string, session: TokenSession): void {
  if (process.platform === "win32") return;
  const uid = process.getuid?.();
  const foreign = uid !== undefined && stat.uid !== uid;
  if (!foreign && (stat.mode & 0o022) === 0) return;
  throw new AppError(
    "token-file-unsafe",
    `Refusing the ${session.kind} of profile '${session.profile}': ${path} ${foreign ? `belongs to user ${stat.uid}` : "may be written by others"}.`,
    { status: "unsafeFile", hint: `Remove it and sign in again: \`${session.signInCommand}\`.` },
  );
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
