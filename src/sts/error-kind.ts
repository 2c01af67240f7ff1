/**
 * The one reading of a failed AWS call: AWS's error code, the HTTP status and Node's errno become
 * one kind of failure. The retry policy (retry.ts) and the messages (errors.ts) both decide from
 * it, so that a kind the messages know is never one the retries miss.
 */

export type AwsFailureKind =
  /** An answer that is not a valid AWS response (a proxy or captive portal, a cut-off body). */
  | "bad-response"
  | "mfa-code-rejected"
  /** The MFA device is not the caller's (or does not exist). */
  | "mfa-device-unknown"
  /** Signed at a time AWS does not accept: this machine's clock is off. */
  | "clock-skew"
  | "access-denied"
  | "expired-token"
  /** AWS does not know the access key (deleted, deactivated, another partition, a session key where a user's key is needed). */
  | "unknown-key"
  | "bad-signature"
  | "duration-too-long"
  /** A role assumed with another role's session, asked for more than AWS's one hour. */
  | "role-chaining-too-long"
  | "throttled"
  /** No answer: refused, not found, reset, timed out, TLS. */
  | "unreachable"
  /** AWS failed on its side (HTTP 5xx). */
  | "server-error"
  | "other";

export interface AwsFailure {
  kind: AwsFailureKind;
  /** AWS's error code as the service sent it, else the SDK's name for the error. */
  code: string;
  /** AWS's or Node's message, on one line. */
  message: string;
  httpStatus: number | undefined;
  /** Attempts made, when there were retries (the SDK's or retry.ts's). */
  attempts: number | undefined;
  /** For "unreachable": what happened, in words ("connection refused", "timed out", …). */
  network?: string;
}

interface SdkError {
  name?: string;
  /** Node's errno code (ECONNREFUSED, ETIMEDOUT, …). */
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number; attempts?: number };
  /** AWS's error code as the service sent it; for modelled errors `name` differs (NoSuchEntityException). */
  Code?: string;
}

const CLOCK_SKEW_CODES = new Set(["RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture"]);
const THROTTLING_CODES = new Set([
  "Throttling",
  "ThrottlingException",
  "RequestLimitExceeded",
  "TooManyRequestsException",
  "SlowDown",
]);

export function classifyAwsFailure(error: unknown): AwsFailure {
  const e = (error ?? {}) as SdkError;
  // AWS's own code first: the SDK names modelled errors differently (NoSuchEntityException for NoSuchEntity).
  const code = e.Code ?? e.name ?? "";
  const message = oneLine(e.message ?? String(error));
  const facts = { code, message, httpStatus: e.$metadata?.httpStatusCode, attempts: e.$metadata?.attempts };
  const network = networkProblem(e, message);
  const kind = kindOf(code, message, facts.httpStatus, network);
  return kind === "unreachable" ? { kind, ...facts, network } : { kind, ...facts };
}

/** The first rule that matches decides: the order is the order of precedence. */
function kindOf(code: string, message: string, status: number | undefined, network?: string): AwsFailureKind {
  if (/XML parse error|Deserialization error/i.test(message)) return "bad-response";
  if (/MultiFactorAuthentication failed with invalid MFA one time pass code/i.test(message))
    return "mfa-code-rejected";
  if (/MultiFactorAuthentication failed, unable to validate MFA code/i.test(message))
    return "mfa-device-unknown";
  // STS says SignatureDoesNotMatch for a skewed clock too; only the message tells the two apart.
  if (CLOCK_SKEW_CODES.has(code) || /Signature expired|Signature not yet current/i.test(message))
    return "clock-skew";
  if (code === "AccessDenied") return "access-denied";
  if (code === "ExpiredToken" || code === "ExpiredTokenException") return "expired-token";
  if (code === "InvalidClientTokenId" || code === "UnrecognizedClientException") return "unknown-key";
  if (code === "SignatureDoesNotMatch") return "bad-signature";
  if (code === "ValidationError" && /role chaining/i.test(message)) return "role-chaining-too-long";
  if (code === "ValidationError" && /DurationSeconds exceeds|MaxSessionDuration/i.test(message))
    return "duration-too-long";
  if (THROTTLING_CODES.has(code) || status === 429) return "throttled";
  if (network) return "unreachable";
  if (status !== undefined && status >= 500) return "server-error";
  return "other";
}

/**
 * Whether AWS cannot have used an MFA code the failed request carried, so that sending it again
 * is safe: a refused connection, throttling, a skewed clock (refused at authentication; the SDK
 * has corrected its offset by the retry) and any server error. After a timeout or a reset the
 * answer may be lost while the code is spent.
 */
export function codeUnspent(failure: AwsFailure): boolean {
  return (
    failure.kind === "throttled" ||
    failure.kind === "clock-skew" ||
    (failure.kind === "unreachable" && failure.network === "connection refused") ||
    (failure.httpStatus ?? 0) >= 500
  );
}

function networkProblem(e: SdkError, message: string): string | undefined {
  const errno = e.code ?? "";
  if (errno === "ECONNREFUSED") return "connection refused";
  if (errno === "ENOTFOUND" || errno === "EAI_AGAIN") return "host name not found";
  if (errno === "ECONNRESET" || errno === "EPIPE") return "connection reset";
  if (errno === "ETIMEDOUT" || e.name === "TimeoutError" || /timed? ?out|timeout/i.test(message))
    return "timed out";
  if (errno === "ENETUNREACH" || errno === "EHOSTUNREACH") return "network unreachable";
  if (/^(EPROTO|CERT_|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO|ERR_TLS)/.test(errno))
    return `TLS failed (${errno})`;
  return undefined;
}

/** SDK and AWS messages can span lines ("…XML parse error…\n Deserialization error: …"); a message is one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
