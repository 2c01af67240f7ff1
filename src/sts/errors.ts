import { AppError, type ExitStatusName } from "../errors";
import { type AwsService, endpointOverride } from "./endpoint";

/** What a call was for, so that its error can name the profile and say what to do. */
export interface CallContext {
  profile: string;
  action?: string;
  /** The service called: STS unless said (client.ts says IAM for IAM calls). */
  service?: AwsService;
  serial?: string;
  roleArn?: string;
  accessKeyId?: string;
  /** A call to an endpoint that is not the service's own (the console's federation endpoint): its URL and the variable that sets it. */
  endpoint?: { url: string; variable: string };
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

const CLOCK_HINT =
  "Check this machine's clock (AWS refuses requests more than 5 minutes off): `date -u`, then enable time sync.";
const NEXT_CODE = "wait for the next code from your authenticator";

/** Every AWS or network failure a user can meet, as one line that names the profile and the next step. */
export function toAppError(error: unknown, context: CallContext, env: NodeJS.ProcessEnv): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as SdkError;
  // AWS's own code first: the SDK names modelled errors differently (NoSuchEntityException for NoSuchEntity).
  const code = e.Code ?? e.name ?? "";
  const message = oneLine(e.message ?? String(error));
  const profile = `profile '${context.profile}'`;
  const action = context.action ?? "the AWS call";
  const service = context.service ?? "STS";
  const endpointVariable = context.endpoint?.variable ?? `AWS_ENDPOINT_URL_${service}`;
  const status = e.$metadata?.httpStatusCode;
  const attempts = e.$metadata?.attempts;
  const afterAttempts = attempts && attempts > 1 ? `, still after ${attempts} attempts` : "";
  const fail = (id: string, text: string, exit: ExitStatusName, hint: string): AppError =>
    new AppError(id, text, { status: exit, hint, cause: error });

  // Answers that arrived but cannot be used. client.ts raises the two plain Errors below itself.
  const expiredOnArrival = /the credentials AWS returned had already expired \(([^)]*)\)/.exec(message);
  if (expiredOnArrival) {
    return fail(
      "expired-on-arrival",
      `The credentials AWS returned for ${profile} expire at ${expiredOnArrival[1]?.replace(/\.\d{3}Z$/, "Z")}, which is already past by this machine's clock (${nowText()}): the clock is probably wrong.`,
      "aws",
      `${CLOCK_HINT} Then ${NEXT_CODE} and log in again.`,
    );
  }
  if (/XML parse error|Deserialization error|held no complete credentials/i.test(message)) {
    return fail(
      "bad-response",
      `${service} answered ${context.action ?? "a request"} for ${profile} with something that is not a valid AWS response${status ? ` (HTTP ${status})` : ""}.`,
      "network",
      `A proxy, firewall or captive portal may be rewriting traffic: check HTTPS_PROXY and ${endpointVariable}, then ${tryAgain(context)}.`,
    );
  }

  if (/MultiFactorAuthentication failed with invalid MFA one time pass code/i.test(message)) {
    return fail(
      "mfa-rejected",
      `AWS rejected the MFA code for ${profile}: it is wrong, expired or was already used.`,
      "mfaRejected",
      `Each code works once: ${NEXT_CODE} and try again. If codes come from this machine (mfa_process, ykman), check its clock.`,
    );
  }
  if (/MultiFactorAuthentication failed, unable to validate MFA code/i.test(message)) {
    return fail(
      "mfa-serial-invalid",
      `The MFA device ${context.serial ?? "configured"} is not associated with the IAM user of ${profile}.`,
      "mfaRejected",
      `Fix mfa_serial for '${context.profile}' (or remove it and run \`awsmfa login -p ${context.profile}\` to find the device).`,
    );
  }
  // STS says SignatureDoesNotMatch for a skewed clock too; only the message tells the two apart.
  if (
    /^(RequestExpired|RequestTimeTooSkewed|RequestInTheFuture)$/.test(code) ||
    /Signature expired|Signature not yet current/i.test(message)
  ) {
    return fail(
      "clock-skew",
      `AWS refused the request for ${profile} as signed at the wrong time: this machine's clock is off.`,
      "aws",
      CLOCK_HINT,
    );
  }
  if (code === "AccessDenied" && context.action === "AssumeRole") {
    return fail(
      "assume-role-denied",
      `${capital(profile)} is not allowed to assume ${context.roleArn ?? "the role"}: ${sentence(message)}.`,
      "aws",
      `Check role_arn, source_profile and external_id for '${context.profile}'; the role's trust policy must allow your user (and may require MFA or an external ID).`,
    );
  }
  if (code === "AccessDenied" && context.action === "ListMFADevices") {
    return fail(
      "list-mfa-denied",
      `IAM refused to list the MFA devices of the user behind ${profile}, so awsmfa cannot find its mfa_serial: ${sentence(message)}.`,
      "aws",
      `Add mfa_serial = <your device ARN, from IAM console → Users → Security credentials> to the profile that holds the keys of '${context.profile}', or get iam:ListMFADevices on your own user.`,
    );
  }
  if (code === "ExpiredToken" || code === "ExpiredTokenException") {
    return fail(
      "expired-token",
      `AWS says the session awsmfa cached for ${profile} has expired, although this machine's clock gave it time left.`,
      "aws",
      `Run \`awsmfa login -p ${context.profile} --force\` for a new session. If this happens again, this machine's clock is behind: \`date -u\`, then enable time sync.`,
    );
  }
  if (code === "InvalidClientTokenId" || code === "UnrecognizedClientException") {
    return invalidKey(context, profile, (text, hint) => fail("invalid-keys", text, "aws", hint));
  }
  if (code === "SignatureDoesNotMatch") {
    return fail(
      "bad-signature",
      `AWS refused the signature of ${profile}: the secret access key does not match the access key ID${context.accessKeyId ? ` ${context.accessKeyId}` : ""}, or the clock is off.`,
      "aws",
      `Check aws_secret_access_key for '${context.profile}' in the credentials file. ${CLOCK_HINT}`,
    );
  }
  if (code === "ValidationError" && /role chaining/i.test(message)) {
    return fail(
      "duration-too-long",
      `${capital(profile)} asked for a longer session than AWS allows for ${context.roleArn ?? "a role"} assumed from another role: ${sentence(message)}.`,
      "aws",
      `Lower duration_seconds for '${context.profile}' to 3600 or less: a role assumed with another role's session lasts at most 1 hour.`,
    );
  }
  if (code === "ValidationError" && /DurationSeconds exceeds|MaxSessionDuration/i.test(message)) {
    return fail(
      "duration-too-long",
      `${capital(profile)} asked for a longer session than ${context.roleArn ?? "the role"} allows: ${sentence(message)}.`,
      "aws",
      `Lower duration_seconds for '${context.profile}' to the role's maximum session duration (3600 s unless it was raised in IAM), or raise the role's maximum in IAM.`,
    );
  }
  if (
    /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException|SlowDown)$/.test(code) ||
    status === 429
  ) {
    return fail(
      "throttled",
      `AWS throttled ${action} for ${profile} (${code}: ${sentence(message)})${afterAttempts}.`,
      "aws",
      `Wait a minute and try again; something else may be calling ${service} in a loop with these keys.`,
    );
  }
  const network = networkProblem(e, message);
  if (network) {
    const where = context.endpoint?.url ?? endpointOverride(env, service) ?? `the ${service} endpoint`;
    // A refused connection never carried the code; a request that got no answer may have spent it.
    const then =
      network === "connection refused" || network === "host name not found" ? "try again" : tryAgain(context);
    return fail(
      "network",
      `Could not reach ${where} for ${profile}: ${network}${attempts && attempts > 1 ? ` (${attempts} attempts)` : ""}.`,
      "network",
      `Check the network connection, and HTTPS_PROXY / ${endpointVariable} if you set them; then ${then}.`,
    );
  }
  if (status !== undefined && status >= 500) {
    return fail(
      "aws-unavailable",
      `${service} failed ${action} for ${profile} on its side (HTTP ${status} ${code}: ${sentence(message)})${afterAttempts}.`,
      "aws",
      "This is AWS's problem, not your setup: try again in a few minutes, and check https://health.aws.amazon.com if it lasts.",
    );
  }
  const detail = code && code !== "Error" ? `${code}: ${sentence(message)}` : sentence(message);
  return fail(
    "aws-error",
    `${action} failed for ${profile}: ${detail}${status ? ` (HTTP ${status})` : ""}.`,
    "aws",
    "If this persists, run with --debug and check the AWS status page.",
  );
}

/** InvalidClientTokenId: which key AWS did not know decides what to do. */
function invalidKey(
  context: CallContext,
  profile: string,
  make: (text: string, hint: string) => AppError,
): AppError {
  const key = context.accessKeyId;
  if (key?.startsWith("ASIA") && context.action === "AssumeRole") {
    return make(
      `AWS does not recognise the session (${key}) awsmfa cached for ${profile}: it was made elsewhere or revoked.`,
      `Run \`awsmfa login -p ${context.profile} --force\` for a new session.`,
    );
  }
  if (key?.startsWith("ASIA")) {
    return make(
      `The access key ${key} of ${profile} is a temporary session key, which AWS refuses here: awsmfa needs the IAM user's own long-term key (AKIA…).`,
      "Put the IAM user's aws_access_key_id and aws_secret_access_key back in the credentials file (another tool may have overwritten them with session credentials).",
    );
  }
  return make(
    `AWS does not recognise the access key${key ? ` ${key}` : ""} of ${profile}: it was deleted or deactivated, or belongs to another AWS partition.`,
    "Check aws_access_key_id in the credentials file; if the key is gone, create a new one in the IAM console (Users → Security credentials) and put it there.",
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

/** "try again", and when the failed call carried an MFA code, that AWS may have spent it though no usable answer came back. */
function tryAgain(context: CallContext): string {
  const sentCode =
    context.action === "GetSessionToken" || (context.action === "AssumeRole" && context.serial !== undefined);
  return sentCode ? `try again with a new code (AWS may have used this one): ${NEXT_CODE}` : "try again";
}

/** SDK and AWS messages can span lines ("…XML parse error…\n Deserialization error: …"); a message is one line. */
function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}

/** A quoted message without its own full stop, so that ours ends the sentence. */
function sentence(text: string): string {
  return text.replace(/[\s.]+$/, "");
}

function nowText(): string {
  return new Date().toISOString().replace(/\.\d{3}Z$/, "Z");
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
