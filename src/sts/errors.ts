import { AppError, type ErrorCode } from "../errors";
import { type AwsService, endpointOverride } from "./endpoint";
import { classifyAwsFailure } from "./error-kind";

/** What a call was for, so that its error can name the profile and say what to do. */
export interface CallContext {
  profile: string;
  action?: string;
  /** The service called: STS unless said (iam.ts says IAM for IAM calls). */
  service?: AwsService;
  serial?: string;
  roleArn?: string;
  accessKeyId?: string;
  /** A call to an endpoint that is not the service's own (the console's federation endpoint): its URL and the variable that sets it. */
  endpoint?: { url: string; variable: string };
}

const CLOCK_HINT =
  "Check this machine's clock (AWS refuses requests more than 5 minutes off): `date -u`, then enable time sync.";
const NEXT_CODE = "wait for the next code from your authenticator";

/**
 * Every AWS or network failure a user can meet, as one line that names the profile and the next step.
 * Long because it is one switch over every kind error-kind.ts knows, a message and a hint each: the
 * kinds side by side keep their wording alike, and a kind left out shows.
 */
export function toAppError(error: unknown, context: CallContext, env: NodeJS.ProcessEnv): AppError {
  if (error instanceof AppError) return error;
  const failure = classifyAwsFailure(error);
  const { code, message, httpStatus: status, attempts } = failure;
  const profile = `profile '${context.profile}'`;
  const action = context.action ?? "the AWS call";
  const service = context.service ?? "STS";
  const afterAttempts = attempts && attempts > 1 ? `, still after ${attempts} attempts` : "";
  const fail = (id: ErrorCode, text: string, hint: string): AppError =>
    new AppError(id, text, { hint, cause: error });

  switch (failure.kind) {
    case "bad-response":
      return badResponse(context, status, error);
    case "mfa-code-rejected":
      return fail(
        "mfa-rejected",
        `AWS rejected the MFA code for ${profile}: it is wrong, expired or was already used.`,
        `Each code works once: ${NEXT_CODE} and try again. If codes come from this machine (mfa_process, ykman), check its clock.`,
      );
    case "mfa-device-unknown":
      return fail(
        "mfa-serial-invalid",
        `The MFA device ${context.serial ?? "configured"} is not associated with the IAM user of ${profile}.`,
        `Fix mfa_serial for '${context.profile}' (or remove it and run \`awsmfa login -p ${context.profile}\` to find the device).`,
      );
    case "clock-skew":
      return fail(
        "clock-skew",
        `AWS refused the request for ${profile} as signed at the wrong time: this machine's clock is off.`,
        CLOCK_HINT,
      );
    case "access-denied":
      if (context.action === "AssumeRole") {
        return fail(
          "assume-role-denied",
          `${capital(profile)} is not allowed to assume ${context.roleArn ?? "the role"}: ${sentence(message)}.`,
          `Check role_arn, source_profile and external_id for '${context.profile}'; the role's trust policy must allow your user (and may require MFA or an external ID).`,
        );
      }
      if (context.action === "ListMFADevices") {
        return fail(
          "list-mfa-denied",
          `IAM refused to list the MFA devices of the user behind ${profile}, so awsmfa cannot find its mfa_serial: ${sentence(message)}.`,
          `Add mfa_serial = <your device ARN, from IAM console → Users → Security credentials> to the profile that holds the keys of '${context.profile}', or get iam:ListMFADevices on your own user.`,
        );
      }
      break;
    case "expired-token":
      return fail(
        "expired-token",
        `AWS says the session awsmfa cached for ${profile} has expired, although this machine's clock gave it time left.`,
        `Run \`awsmfa login -p ${context.profile} --force\` for a new session. If this happens again, this machine's clock is behind: \`date -u\`, then enable time sync.`,
      );
    case "unknown-key":
      return invalidKey(context, profile, (text, hint) => fail("invalid-keys", text, hint));
    case "bad-signature":
      return fail(
        "bad-signature",
        `AWS refused the signature of ${profile}: the secret access key does not match the access key ID${context.accessKeyId ? ` ${context.accessKeyId}` : ""}, or the clock is off.`,
        `Check aws_secret_access_key for '${context.profile}' in the credentials file. ${CLOCK_HINT}`,
      );
    case "role-chaining-too-long":
      return fail(
        "duration-too-long",
        `${capital(profile)} asked for a longer session than AWS allows for ${context.roleArn ?? "a role"} assumed from another role: ${sentence(message)}.`,
        `Lower duration_seconds for '${context.profile}' to 3600 or less: a role assumed with another role's session lasts at most 1 hour.`,
      );
    case "duration-too-long":
      return fail(
        "duration-too-long",
        `${capital(profile)} asked for a longer session than ${context.roleArn ?? "the role"} allows: ${sentence(message)}.`,
        `Lower duration_seconds for '${context.profile}' to the role's maximum session duration (3600 s unless it was raised in IAM), or raise the role's maximum in IAM.`,
      );
    case "throttled":
      return fail(
        "throttled",
        `AWS throttled ${action} for ${profile} (${code}: ${sentence(message)})${afterAttempts}.`,
        `Wait a minute and try again; something else may be calling ${service} in a loop with these keys.`,
      );
    case "unreachable": {
      const network = failure.network;
      const where = context.endpoint?.url ?? endpointOverride(env, service) ?? `the ${service} endpoint`;
      // A refused connection never carried the code; a request that got no answer may have spent it.
      const then =
        network === "connection refused" || network === "host name not found"
          ? "try again"
          : tryAgain(context);
      return fail(
        "network",
        `Could not reach ${where} for ${profile}: ${network}${attempts && attempts > 1 ? ` (${attempts} attempts)` : ""}.`,
        `Check the network connection, and HTTPS_PROXY / ${endpointVariable(context)} if you set them; then ${then}.`,
      );
    }
    case "server-error":
      return fail(
        "aws-unavailable",
        `${service} failed ${action} for ${profile} on its side (HTTP ${status} ${code}: ${sentence(message)})${afterAttempts}.`,
        "This is AWS's problem, not your setup: try again in a few minutes, and check https://health.aws.amazon.com if it lasts.",
      );
  }
  const detail = code && code !== "Error" ? `${code}: ${sentence(message)}` : sentence(message);
  return fail(
    "aws-error",
    `${action} failed for ${profile}: ${detail}${status ? ` (HTTP ${status})` : ""}.`,
    "If this persists, run with --debug and check the AWS status page.",
  );
}

/** An answer that arrived but is not a valid AWS response (or lacks what the call returns). */
export function badResponse(context: CallContext, httpStatus?: number, cause?: unknown): AppError {
  const service = context.service ?? "STS";
  return new AppError(
    "bad-response",
    `${service} answered ${context.action ?? "a request"} for profile '${context.profile}' with something that is not a valid AWS response${httpStatus ? ` (HTTP ${httpStatus})` : ""}.`,
    {
      hint: `A proxy, firewall or captive portal may be rewriting traffic: check HTTPS_PROXY and ${endpointVariable(context)}, then ${tryAgain(context)}.`,
      cause,
    },
  );
}

/** Credentials that AWS returned already expired by this machine's clock. */
export function expiredOnArrival(context: CallContext, expiration: Date): AppError {
  const when = Number.isNaN(expiration.getTime()) ? "an invalid time" : rfc3339(expiration);
  return new AppError(
    "expired-on-arrival",
    `The credentials AWS returned for profile '${context.profile}' expire at ${when}, which is already past by this machine's clock (${rfc3339(new Date())}): the clock is probably wrong.`,
    { hint: `${CLOCK_HINT} Then ${NEXT_CODE} and log in again.` },
  );
}

function endpointVariable(context: CallContext): string {
  return context.endpoint?.variable ?? `AWS_ENDPOINT_URL_${context.service ?? "STS"}`;
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

/** "try again", and when the failed call carried an MFA code, that AWS may have spent it though no usable answer came back. */
function tryAgain(context: CallContext): string {
  const sentCode =
    context.action === "GetSessionToken" || (context.action === "AssumeRole" && context.serial !== undefined);
  return sentCode ? `try again with a new code (AWS may have used this one): ${NEXT_CODE}` : "try again";
}

/** A quoted message without its own full stop, so that ours ends the sentence. */
function sentence(text: string): string {
  return text.replace(/[\s.]+$/, "");
}

function rfc3339(time: Date): string {
  return time.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
