/**
 * The one error type that reaches the user. Every failure a user can meet is an AppError with
 * a stable code (for scripts and tests), one line of message, an optional hint that says what
 * to do next, and the process exit status. Anything else that escapes is a bug (exit 70).
 */

/** Exit statuses: the README's table is generated from the same numbers; keep both true. */
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
  sessionEnded: 10,
  internal: 70,
} as const;

export type ExitStatusName = keyof typeof ExitStatus;

export interface AppErrorOptions {
  hint?: string;
  status?: ExitStatusName;
  cause?: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly hint: string | undefined;
  readonly status: number;

  constructor(code: string, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "AppError";
    this.code = code;
    this.hint = options.hint;
    this.status = ExitStatus[options.status ?? "failure"];
  }
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
