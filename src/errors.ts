import { type ErrorCode, type ErrorCodeRule, errorCodes, type FileOperationCode } from "./error-codes";

/**
 * The one error type that reaches the user. Every failure a user can meet is an AppError with
 * a stable code (for scripts and tests), one line of message, an optional hint that says what
 * to do next, and the process exit status. Anything else that escapes is a bug (exit 70).
 */

/** Exit statuses: README's exit-status table and `--help` list the same numbers (test/care/error-codes.test.ts). */
export const ExitStatus = {
  ok: 0,
  failure: 1,
  usage: 2,
  config: 3,
  noCode: 4,
  mfaRejected: 5,
  aws: 6,
  network: 7,
  locked: 8,
  unsafeFile: 9,
  /** An `aws login` or IAM Identity Center session that cannot be refreshed: signing in again with the aws CLI mends it. */
  sessionEnded: 10,
  internal: 70,
  /** Ctrl-C at a question (128 + SIGINT, as shells report a command it ended). */
  interrupted: 130,
  /** stdout's reader went away (`| head`, quitting `less`): 128 + SIGPIPE, as shells report a command SIGPIPE ended (output/stdout.ts). */
  closedStdout: 141,
} as const;

export type ExitStatusName = keyof typeof ExitStatus;

export type { ErrorCode } from "./error-codes";

export interface AppErrorOptions {
  /** What to do next; the code's default hint (error-codes.ts) when not given. */
  hint?: string;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  /** The exit status, from the code (error-codes.ts), never from the place that throws. */
  readonly status: number;

  constructor(code: ErrorCode, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    const rule = errorCodes()[code];
    this.hint = options.hint ?? rule.hint;
    this.status = exitStatusOf(rule, options.cause);
  }
}

/**
 * The code's status, with two rules the table marks: an error that reports another AppError
 * (statusOfCause) exits as that one did, and a file operation that met the machine's own state
 * (fileOperation, MACHINE_STATE) exits 1 whatever it was doing, as README's table says.
 */
function exitStatusOf(rule: ErrorCodeRule, cause: unknown): number {
  if (
    rule.statusOfCause &&
    isAppError(cause) &&
    cause.status !== ExitStatus.ok &&
    cause.status !== ExitStatus.internal
  )
    return cause.status;
  if (rule.fileOperation && isMachineState(cause)) return ExitStatus.failure;
  return ExitStatus[rule.status];
}

/**
 * By shape, not by class: the entry bundle and the full bundle each carry their own copy of
 * this module (build.mjs), and an error thrown in one is reported by the other.
 */
export function isAppError(error: unknown): error is AppError {
  const e = error as AppError | null;
  return (
    error instanceof Error &&
    e?.name === "AppError" &&
    typeof e.code === "string" &&
    typeof e.status === "number"
  );
}

/** Node's errno code of a caught error, or undefined. */
export function errnoCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * Errnos that report the state of the machine — a full, read-only or failing disk, a quota, no
 * file descriptors or memory left, no permission — rather than a bug in awsmfa: what each means
 * to a person, and what to do about it.
 */
const MACHINE_STATE: Record<string, { cause: string; hint: string }> = {
  ENOSPC: {
    cause: "no space left on the device",
    hint: "Free some space on that file system and try again.",
  },
  EDQUOT: {
    cause: "disk quota exceeded",
    hint: "Free some space within your quota (or raise it) and try again.",
  },
  EFBIG: {
    cause: "file too large for the file system",
    hint: "Free some space or raise the file size limit (ulimit -f).",
  },
  EROFS: {
    cause: "read-only file system",
    hint: "Remount it read-write, or point awsmfa at a writable place (AWSMFA_CACHE_DIR, AWS_CONFIG_FILE, AWS_SHARED_CREDENTIALS_FILE).",
  },
  EIO: {
    cause: "input/output error",
    hint: "The device reported an error; check it (dmesg) before trying again.",
  },
  ESTALE: {
    cause: "stale network file handle",
    hint: "The network file system lost the file; remount it and try again.",
  },
  EMFILE: {
    cause: "too many open files in this process",
    hint: "Raise the limit (ulimit -n) and try again.",
  },
  ENFILE: { cause: "too many open files on the system", hint: "Close some programs and try again." },
  ENOMEM: { cause: "out of memory", hint: "Close some programs and try again." },
  EACCES: { cause: "permission denied", hint: "Check that you can write to that directory and file." },
  EPERM: {
    cause: "operation not permitted",
    hint: "Check the file's attributes (lsattr) and that you own it.",
  },
};

/**
 * The one way an I/O failure becomes what the user reads: `what` (say, "Cannot write the cache
 * file PATH"), then the errno and, for the machine's own state, its cause in words and what to do,
 * exit 1. Any other errno keeps the code's status and the caller's hint.
 */
export function fileError(
  code: FileOperationCode,
  what: string,
  error: unknown,
  options: AppErrorOptions = {},
): AppError {
  const errno = errnoCode(error);
  const state = errno === undefined ? undefined : MACHINE_STATE[errno];
  if (state)
    return new AppError(code, `${what}: ${state.cause} (${errno}).`, { hint: state.hint, cause: error });
  return new AppError(code, `${what} (${errno ?? "unknown error"}).`, { ...options, cause: error });
}

/** Whether `error`, or the error an AppError wraps, is the machine's state (see MACHINE_STATE). */
export function isMachineState(error: unknown): boolean {
  const errno = errnoCode(isAppError(error) ? error.cause : error);
  return errno !== undefined && MACHINE_STATE[errno] !== undefined;
}

/** A file error that escaped without being put in words (a path Node names), if it is the machine's state. */
export function machineStateError(error: unknown): AppError | undefined {
  if (isAppError(error) || !isMachineState(error)) return undefined;
  const { syscall, path } = error as { syscall?: unknown; path?: unknown };
  const where = typeof path === "string" ? ` ${path}` : "";
  const doing = typeof syscall === "string" ? `${syscall}${where}` : `use${where || " a file"}`;
  return fileError("machine-state", `Cannot ${doing}`, error);
}
