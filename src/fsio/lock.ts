import { closeSync, openSync, readFileSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, errnoCode } from "../errors";
import { processIsAlive } from "./process-alive";

// node:os and node:crypto when a lock is taken: most commands that import this module never do.
const hostName = () => process.getBuiltinModule("node:os").hostname();

/**
 * A cross-process lock: an exclusive-create file holding who holds it. Used so that one
 * process does a piece of work (ask for a code, call STS, rewrite a file) while the others
 * wait and then read its result. A holder that died (SIGKILL included) or that has held the
 * lock longer than `staleMs` loses it to the next waiter; nobody waits forever.
 */

export interface LockOptions {
  /** Give up waiting after this long, with an AppError (status `locked`). */
  timeoutMs: number;
  /** A lock older than this is taken over even if its holder still runs. */
  staleMs: number;
  /** What the lock protects, for the message when waiting times out. */
  what: string;
  /** Called once if this process has to wait, e.g. to say so on the terminal. */
  onWait?: (holder: LockHolder) => void;
}

export interface LockHolder {
  pid: number;
  host: string;
  startedAt: number;
  nonce: string;
}

export interface HeldLock {
  release(): void;
}

const POLL_MS = 25;

export async function acquireLock(path: string, options: LockOptions): Promise<HeldLock> {
  const deadline = Date.now() + options.timeoutMs;
  let told = false;
  for (;;) {
    const mine = tryCreate(path);
    if (mine) return mine;
    const holder = readHolder(path);
    if (holder === "gone") continue;
    if (isStale(path, holder, options.staleMs)) {
      // Another breaker at work (or one that died mid-break, whose file expires in 2 s): wait, do not spin.
      if (!breakLock(path, holder)) await sleep(POLL_MS);
      continue;
    }
    if (!told && holder !== "unreadable") {
      told = true;
      options.onWait?.(holder);
    }
    if (Date.now() >= deadline) {
      const who = holder === "unreadable" ? "another process" : `process ${holder.pid}`;
      throw new AppError(
        "lock-timeout",
        `Gave up waiting for ${who} that holds the lock on ${options.what}.`,
        {
          status: "locked",
          hint: `If no awsmfa is running, remove ${path} and try again.`,
        },
      );
    }
    await sleep(POLL_MS);
  }
}

export async function withLock<T>(path: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  const lock = await acquireLock(path, options);
  try {
    return await work();
  } finally {
    lock.release();
  }
}

function tryCreate(path: string): HeldLock | undefined {
  const holder: LockHolder = {
    pid: process.pid,
    host: hostName(),
    startedAt: Date.now(),
    nonce: process.getBuiltinModule("node:crypto").randomBytes(8).toString("hex"),
  };
  let fd: number;
  try {
    fd = openSync(path, "wx", 0o600);
  } catch (error) {
    if (errnoCode(error) === "EEXIST") return undefined;
    throw lockError(path, error);
  }
  try {
    writeSync(fd, JSON.stringify(holder));
  } finally {
    closeSync(fd);
  }
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      // Only remove the file if it is still ours: a waiter may have taken it over as stale.
      const now = readHolder(path);
      if (typeof now === "object" && now.nonce === holder.nonce) unlinkQuietly(path);
    },
  };
}

type HolderState = LockHolder | "gone" | "unreadable";

function readHolder(path: string): HolderState {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return "gone";
    throw lockError(path, error);
  }
  try {
    const parsed = JSON.parse(text) as LockHolder;
    if (typeof parsed.pid === "number" && typeof parsed.nonce === "string") return parsed;
  } catch {
    // written but not yet complete, or damaged: judged by the file's age below
  }
  return "unreadable";
}

/** How long a lock file may stay empty or unparsable before its writer is taken for dead. */
const UNREADABLE_GRACE_MS = 1000;

function isStale(path: string, holder: LockHolder | "unreadable", staleMs: number): boolean {
  if (holder === "unreadable") {
    try {
      return Date.now() - statSync(path).mtimeMs > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (Date.now() - holder.startedAt > staleMs) return true;
  return holder.host === hostName() && !processIsAlive(holder.pid);
}

/**
 * Several waiters may find the same stale lock. Breaking it is serialised by a second
 * exclusive file, so that one waiter cannot delete the fresh lock another has just made.
 */
function breakLock(path: string, stale: LockHolder | "unreadable"): boolean {
  const breaker = `${path}.break`;
  let fd: number;
  try {
    fd = openSync(breaker, "wx", 0o600);
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw lockError(breaker, error);
    // A breaker that died mid-break leaves this file; it only ever lives for microseconds.
    try {
      if (Date.now() - statSync(breaker).mtimeMs > 2000) unlinkQuietly(breaker);
    } catch {
      // gone already
    }
    return false;
  }
  closeSync(fd);
  try {
    const now = readHolder(path);
    const same =
      typeof now === "object" && typeof stale === "object" ? now.nonce === stale.nonce : now === stale;
    if (same) unlinkQuietly(path);
  } finally {
    unlinkQuietly(breaker);
  }
  return true;
}

/** A lock file that cannot be made or read (read-only or foreign directory): the user's problem to fix, not a bug. */
function lockError(path: string, error: unknown): AppError {
  return new AppError(
    "lock-file",
    `Cannot use the lock file ${path} (${errnoCode(error) ?? "unknown error"}).`,
    {
      status: "failure",
      hint: `Check that ${dirname(path)} is a directory you can write to.`,
      cause: error,
    },
  );
}

function unlinkQuietly(path: string): void {
  try {
    unlinkSync(path);
  } catch {
    // already gone
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
