import { AppError } from "../errors";
import { endpointOverride } from "./endpoint";

/** What a call was for, so that its error can name the profile and say what to do. */
export interface CallContext {
  profile: string;
  action?: string;
  serial?: string;
  roleArn?: string;
  accessKeyId?: string;
}

interface SdkError {
  name?: string;
  code?: string;
  message?: string;
  $metadata?: { httpStatusCode?: number };
  Code?: string;
}

const CLOCK_HINT =
  "Check this machine's clock (AWS refuses requests more than 5 minutes off): `date -u`, then enable time sync.";

/** Every AWS or network failure a user can meet, as one line that names the profile and the next step. */
export function toAppError(error: unknown, context: CallContext, env: NodeJS.ProcessEnv): AppError {
  if (error instanceof AppError) return error;
  const e = (error ?? {}) as SdkError;
  const code = e.Code ?? e.name ?? "";
  const message = e.message ?? String(error);
  const profile = `profile '${context.profile}'`;
  const action = context.action ?? "the AWS call";

  if (/MultiFactorAuthentication failed with invalid MFA one time pass code/i.test(message)) {
    return new AppError("mfa-rejected", `AWS rejected the MFA code for ${profile}: it is wrong, expired or was already used.`, {
      status: "mfaRejected",
      hint: "Wait for the next code from your authenticator and try again.",
      cause: error,
    });
  }
  if (/MultiFactorAuthentication failed, unable to validate MFA code/i.test(message)) {
    return new AppError(
      "mfa-serial-invalid",
      `The MFA device ${context.serial ?? "configured"} is not associated with the IAM user of ${profile}.`,
      {
        status: "mfaRejected",
        hint: `Fix mfa_serial for '${context.profile}' (or remove it and run \`awsmfa login -p ${context.profile}\` to find the device).`,
        cause: error,
      },
    );
  }
  if (code === "AccessDenied" && context.action === "AssumeRole") {
    return new AppError("assume-role-denied", `${capital(profile)} is not allowed to assume ${context.roleArn ?? "the role"}: ${message}`, {
      status: "aws",
      hint: "The role's trust policy must allow your user (and may require MFA); check role_arn and source_profile.",
      cause: error,
    });
  }
  if (code === "ExpiredToken" || code === "ExpiredTokenException") {
    return new AppError("expired-token", `The session credentials used for ${profile} have expired.`, {
      status: "aws",
      hint: `Run \`awsmfa login -p ${context.profile} --force\` for a new session.`,
      cause: error,
    });
  }
  if (code === "InvalidClientTokenId" || code === "UnrecognizedClientException") {
    return new AppError(
      "invalid-keys",
      `AWS does not recognise the access key${context.accessKeyId ? ` ${context.accessKeyId}` : ""} of ${profile}: it was deleted or deactivated.`,
      {
        status: "aws",
        hint: "Create a new access key in the IAM console (Security credentials) and update the credentials file, or run `awsmfa setup`.",
        cause: error,
      },
    );
  }
  if (code === "SignatureDoesNotMatch") {
    return new AppError(
      "bad-signature",
      `AWS refused the signature of ${profile}: the secret access key does not match the access key ID, or the clock is off.`,
      { status: "aws", hint: `Check aws_secret_access_key for '${context.profile}'. ${CLOCK_HINT}`, cause: error },
    );
  }
  if (code === "RequestExpired" || /Signature expired/i.test(message)) {
    return new AppError("clock-skew", `AWS refused the request for ${profile} as expired: this machine's clock is off.`, {
      status: "aws",
      hint: CLOCK_HINT,
      cause: error,
    });
  }
  if (code === "ValidationError" && /DurationSeconds exceeds|MaxSessionDuration/i.test(message)) {
    return new AppError("duration-too-long", `${capital(profile)} asked for a longer session than ${context.roleArn ?? "the role"} allows: ${message}`, {
      status: "aws",
      hint: "Lower duration_seconds in the profile to the role's maximum session duration (1 hour unless the role says more).",
      cause: error,
    });
  }
  if (/^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException|SlowDown)$/.test(code)) {
    return new AppError("throttled", `AWS throttled ${action} for ${profile}, still after retries.`, {
      status: "aws",
      hint: "Wait a minute and try again; something else may be calling STS in a loop.",
      cause: error,
    });
  }
  const network = networkProblem(e, message);
  if (network) {
    const service = context.action === "ListMFADevices" ? "IAM" : "STS";
    const where = endpointOverride(env, service) ?? `the ${service} endpoint`;
    return new AppError("network", `Could not reach ${where} for ${profile}: ${network}.`, {
      status: "network",
      hint: "Check the network connection, and HTTPS_PROXY / AWS_ENDPOINT_URL_STS if you set them.",
      cause: error,
    });
  }
  const status = e.$metadata?.httpStatusCode;
  const detail = code && code !== "Error" ? `${code}: ${message}` : message;
  return new AppError("aws-error", `${action} failed for ${profile}: ${detail}${status ? ` (HTTP ${status})` : ""}.`, {
    status: "aws",
    hint: "If this persists, run with --debug and check the AWS status page.",
    cause: error,
  });
}

function networkProblem(e: SdkError, message: string): string | undefined {
  const errno = e.code ?? "";
  if (errno === "ECONNREFUSED") return "connection refused";
  if (errno === "ENOTFOUND" || errno === "EAI_AGAIN") return "host name not found";
  if (errno === "ECONNRESET" || errno === "EPIPE") return "connection reset";
  if (errno === "ETIMEDOUT" || e.name === "TimeoutError" || /timed? ?out|timeout/i.test(message)) return "timed out";
  if (errno === "ENETUNREACH" || errno === "EHOSTUNREACH") return "network unreachable";
  if (/^(EPROTO|CERT_|UNABLE_TO_VERIFY|SELF_SIGNED|DEPTH_ZERO)/.test(errno)) return `TLS failed (${errno})`;
  return undefined;
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
