import type { SessionCredentials } from "./credentials";
import { badResponse, type CallContext, expiredOnArrival } from "./errors";

/** The credentials in an STS answer, checked: complete, and not already expired by this machine's clock. */
export function sessionCredentials(
  credentials:
    | { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date }
    | undefined,
  context: CallContext,
): SessionCredentials {
  const expiration = credentials?.Expiration;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !expiration) {
    throw badResponse(context);
  }
  if (Number.isNaN(expiration.getTime()) || expiration.getTime() <= Date.now()) {
    throw expiredOnArrival(context, expiration);
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}
