import type { ExitStatusName } from "./errors";

/**
 * Every code an AppError can carry, and what it means to the caller: the exit status (a property
 * of the code, not of the place that throws it) and, for some, the hint shown when the throw site
 * gives none. README's exit-status table documents every status used here
 * (test/care/error-codes.test.ts checks both ways).
 */
export interface ErrorCodeRule {
  status: ExitStatusName;
  /** Shown when the throw site gives no hint of its own. */
  hint?: string;
  /**
   * A code that reports another failure (rotate stopped by it): the status of that failure when
   * it is an AppError, else `status`.
   */
  statusOfCause?: true;
  /**
   * A code for a file operation (errors.ts fileError): when the machine's own state is the cause
   * (a full or read-only disk, no file descriptors left: MACHINE_STATE), it exits 1, as README says.
   */
  fileOperation?: true;
}

const NO_TERMINAL_HINT = "Run awsmfa from a terminal, or give the answer another way.";

/**
 * The table is built in a function, on the first AppError: the warm path answers without one, and
 * V8 only scans a function it does not call (a third of the cost of building the object at load).
 * Long because it is the one table, a line a code grouped by status: split, a reader could no
 * longer see every code of a status, nor README's table beside it.
 */
function table() {
  return {
    // 1: failure (the message says what)
    "cache-write": { status: "failure", fileOperation: true },
    "keys-move-unverified": { status: "failure" },
    "listen-failed": { status: "failure" },
    "lock-file": { status: "failure", fileOperation: true },
    "machine-state": { status: "failure", fileOperation: true },
    "port-denied": { status: "failure" },
    "port-in-use": { status: "failure" },
    "rotate-failed": { status: "failure", statusOfCause: true },
    "rotate-file-changed": { status: "failure" },
    "rotate-incomplete": { status: "failure", statusOfCause: true },
    "rotate-unverified": { status: "failure" },
    "rotate-wrong-user": { status: "failure" },
    "setup-file-changed": { status: "failure" },
    "container-ca": { status: "failure", fileOperation: true },
    "container-env": { status: "failure", fileOperation: true },
    "container-env-dir": { status: "failure" },
    "container-env-exists": { status: "failure" },
    "containers-ip-failed": { status: "failure" },
    "containers-need-root": { status: "failure" },
    "containers-no-ip": { status: "failure" },
    "token-file": { status: "failure", fileOperation: true },
    "token-file-dir": { status: "failure" },
    "token-file-exists": { status: "failure" },

    // 2: usage
    "bad-choice": { status: "usage" },
    "bad-containers-mode": { status: "usage" },
    "bad-login": { status: "usage" },
    "container-env-without-containers": { status: "usage" },
    "containers-not-linux": { status: "usage" },
    "containers-without-server": { status: "usage" },
    "bad-code": { status: "usage" },
    "bad-console-duration": { status: "usage" },
    "bad-duration": { status: "usage" },
    "bad-logout": { status: "usage" },
    "bad-min-ttl": { status: "usage" },
    "bad-passphrase": { status: "usage" },
    "bad-port": { status: "usage" },
    "bad-shell": { status: "usage" },
    "bad-totp-seed": { status: "usage" },
    cancelled: { status: "usage" },
    "completion-shell": { status: "usage" },
    "config-unsafe-edit": { status: "usage" },
    "console-duration-chained": { status: "usage" },
    "nested-exec": { status: "usage" },
    "seed-in-file": { status: "usage" },
    "setup-usage": { status: "usage" },

    // 3: configuration
    "containers-not-enabled": { status: "config" },
    "listen-no-address": { status: "config" },
    "bad-prompt": { status: "config" },
    "bad-role-duration": { status: "config" },
    "config-encoding": { status: "config" },
    "config-parse": { status: "config" },
    "config-read": { status: "config", fileOperation: true },
    "config-too-large": { status: "config" },
    "config-write": { status: "config", fileOperation: true },
    "console-needs-role": { status: "config" },
    "credential-loop": { status: "config" },
    "keyring-failed": { status: "config" },
    "keyring-unavailable": { status: "config" },
    "no-credentials": { status: "config" },
    "no-home": { status: "config" },
    "no-long-term-keys": { status: "config" },
    "no-mfa-device": { status: "config" },
    "no-mfa-serial": { status: "config" },
    "no-passphrase": { status: "config" },
    "no-profiles": { status: "config" },
    "no-region": { status: "config" },
    "no-stored-keys": { status: "config" },
    "partial-keys": { status: "config" },
    "profile-loop": { status: "config" },
    "profile-not-ours": { status: "config" },
    "role-source-conflict": { status: "config" },
    "role-without-source": { status: "config" },
    "rotate-key-unknown": { status: "config" },
    "rotate-not-a-user": { status: "config" },
    "secrets-damaged": { status: "config" },
    "secrets-dir": { status: "config", fileOperation: true },
    "secrets-passphrase": { status: "config" },
    "secrets-read": { status: "config", fileOperation: true },
    "secrets-tampered": { status: "config" },
    "secrets-write": { status: "config", fileOperation: true },
    "setup-keys-in-store": { status: "config" },
    "setup-no-keys-to-import": { status: "config" },
    "setup-not-a-user": { status: "config" },
    "several-mfa-devices": { status: "config" },
    "sso-incomplete": { status: "config" },
    "sso-region-conflict": { status: "config" },
    "sso-session-missing": { status: "config" },
    "unknown-profile": { status: "config" },
    "unknown-store": { status: "config" },
    "unsupported-profile": { status: "config" },
    "web-identity-without-role": { status: "config" },

    // 4: no way to get an MFA code (or any answer) here
    "code-cancelled": { status: "noCode" },
    "code-reused": { status: "noCode" },
    "mfa-process-failed": { status: "noCode" },
    "mfa-process-output": { status: "noCode" },
    "mfa-process-timeout": { status: "noCode" },
    "no-answer": { status: "noCode" },
    "no-code-source": { status: "noCode" },
    "no-terminal": { status: "noCode", hint: NO_TERMINAL_HINT },
    "no-totp-seed": { status: "noCode" },
    "prompt-failed": { status: "noCode" },
    "prompt-timeout": { status: "noCode" },
    "stdin-failed": { status: "noCode" },
    "ykman-failed": { status: "noCode" },

    // 5: AWS rejected the MFA code or device
    "mfa-rejected": { status: "mfaRejected" },
    "mfa-serial-invalid": { status: "mfaRejected" },

    // 6: AWS refused the request
    "assume-role-denied": { status: "aws" },
    "not-renewed": { status: "aws" },
    "aws-error": { status: "aws" },
    "aws-unavailable": { status: "aws" },
    "bad-signature": { status: "aws" },
    "clock-skew": { status: "aws" },
    "duration-too-long": { status: "aws" },
    "expired-on-arrival": { status: "aws" },
    "expired-token": { status: "aws" },
    "invalid-keys": { status: "aws" },
    "list-mfa-denied": { status: "aws" },
    "renewed-expired": { status: "aws" },
    "rotate-no-room": { status: "aws" },
    "rotate-old-key-left": { status: "aws", statusOfCause: true },
    "signin-refused": { status: "aws" },
    throttled: { status: "aws" },

    // 7: network
    "bad-response": { status: "network" },
    network: { status: "network" },

    // 8: another awsmfa holds the lock
    "lock-timeout": { status: "locked" },

    // 9: unsafe permissions or owner
    "cache-dir": { status: "unsafeFile", fileOperation: true },
    "container-env-dir-unsafe": { status: "unsafeFile" },
    "unsafe-container-ca": { status: "unsafeFile" },
    "token-file-dir-unsafe": { status: "unsafeFile" },
    "token-file-unsafe": { status: "unsafeFile" },
    "unsafe-cache": { status: "unsafeFile" },
    "unsafe-secrets": { status: "unsafeFile" },

    // 10: an aws login or IAM Identity Center session that only signing in again renews
    "aws-cli-missing": { status: "sessionEnded" },
    "aws-cli-too-old": { status: "sessionEnded" },
    "login-session-ended": { status: "sessionEnded" },
    "sign-in-failed": { status: "sessionEnded" },
    "session-missing": { status: "sessionEnded" },
    "sso-session-ended": { status: "sessionEnded" },

    // 130: interrupted
    "sign-in-interrupted": { status: "interrupted" },
    "setup-cancelled": { status: "interrupted" },
  } as const satisfies Record<string, ErrorCodeRule>;
}

export type ErrorCode = keyof ReturnType<typeof table>;

/** The codes errors.ts fileError may take. */
export type FileOperationCode = {
  [Code in ErrorCode]: ReturnType<typeof table>[Code] extends { fileOperation: true } ? Code : never;
}[ErrorCode];

let rules: Readonly<Record<ErrorCode, ErrorCodeRule>> | undefined;

/** Every error code, with its exit status and default hint. */
export function errorCodes(): Readonly<Record<ErrorCode, ErrorCodeRule>> {
  rules ??= table();
  return rules;
}
