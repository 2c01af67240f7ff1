import { closeSync, openSync, statSync, unlinkSync, writeSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, errnoCode, fileError, isAppError, isMachineState } from "../errors";
import { processIsAlive } from "./process-alive";
import { type RegularFile, readRegularFile } from "./regular-file";

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
  /**
   * The work is safe without the lock (it spends nothing and may at worst be done twice): when the
   * machine cannot hold a lock file (a full or read-only disk), it runs unlocked instead of failing.
   */
  optional?: boolean;
}

export interface LockHolder {
  pid: number;
  host: string;
  /** Wall clock, ms: the only age other hosts can judge (a shared home on NFS). */
  startedAt: number;
  /**
   * The system's monotonic clock (ms since boot), which no clock change moves: the age this host
   * judges by. Absent in locks of older versions.
   */
  monotonicAt?: number;
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
        { hint: `If no awsmfa is running, remove ${path} and try again.` },
      );
    }
    await sleep(POLL_MS);
  }
}

export async function withLock<T>(path: string, options: LockOptions, work: () => Promise<T>): Promise<T> {
  let lock: HeldLock;
  try {
    lock = await acquireLock(path, options);
  } catch (error) {
    if (options.optional && isAppError(error) && error.code === "lock-file" && isMachineState(error))
      return work();
    throw error;
  }
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
    monotonicAt: monotonicNow(),
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
    try {
      writeSync(fd, JSON.stringify(holder));
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    // A full disk takes the file but not its content: an empty lock left behind would hold up
    // the next call for nothing.
    unlinkQuietly(path);
    throw lockError(path, error);
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
  let file: RegularFile;
  try {
    file = readRegularFile(path);
  } catch (error) {
    throw lockError(path, error);
  }
  if ("missing" in file) return "gone";
  if ("notRegular" in file) {
    // Not awsmfa's: reading a FIFO would hang, and removing it could destroy someone's file.
    throw new AppError("lock-file", `The lock file ${path} is ${file.notRegular}, not a file awsmfa made.`, {
      hint: `Remove it (\`rm ${path}\`) and try again.`,
    });
  }
  try {
    const parsed = JSON.parse(file.text) as LockHolder;
    if (typeof parsed.pid === "number" && typeof parsed.nonce === "string") return parsed;
  } catch {
    // written but not yet complete, or damaged: judged by the file's age below
  }
  return "unreadable";
}

/** How long a lock file may stay empty or unparsable before its writer is taken for dead. */
const UNREADABLE_GRACE_MS = 1000;

/**
 * A lock is stale when its holder is gone or has held it too long. "Too long" is measured so that
 * no clock change can freeze it: on this host by the monotonic clock (a holder's reading above
 * ours means a reboot since, so the holder is gone); elsewhere, and for locks of older versions,
 * by the wall clock in either direction, so that a lock stamped in the future (the clock was set
 * back) ages too instead of being held forever.
 */
function isStale(path: string, holder: LockHolder | "unreadable", staleMs: number): boolean {
  if (holder === "unreadable") {
    try {
      return Math.abs(Date.now() - statSync(path).mtimeMs) > UNREADABLE_GRACE_MS;
    } catch {
      return false;
    }
  }
  if (holder.host === hostName()) {
    if (!processIsAlive(holder.pid)) return true;
    if (typeof holder.monotonicAt === "number") {
      const age = monotonicNow() - holder.monotonicAt;
      return age < 0 || age > staleMs;
    }
  }
  return Math.abs(Date.now() - holder.startedAt) > staleMs;
}

/** The system-wide monotonic clock (CLOCK_MONOTONIC, mach_absolute_time, QueryPerformanceCounter), in ms. */
function monotonicNow(): number {
  return Number(process.hrtime.bigint() / 1_000_000n);
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
    // A breaker that died mid-break leaves this file; it only ever lives for microseconds (an
    // mtime in the future counts too: the clock was set back since).
    try {
      if (Math.abs(Date.now() - statSync(breaker).mtimeMs) > 2000) unlinkQuietly(breaker);
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

/** A lock file that cannot be made or read (full or read-only disk, foreign directory): the user's problem to fix, not a bug. */
function lockError(path: string, error: unknown): AppError {
  return fileError("lock-file", `Cannot use the lock file ${path}`, error, {
    hint: `Check that ${dirname(path)} is a directory you can write to.`,
  });
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
