import type { SessionCredentials } from "../sts/credentials";

/** The one JSON object the aws CLI and SDKs expect from a credential_process on stdout. */
export function credentialProcessJson(credentials: SessionCredentials): string {
  return JSON.stringify({
    Version: 1,
    AccessKeyId: credentials.accessKeyId,
    SecretAccessKey: credentials.secretAccessKey,
    SessionToken: credentials.sessionToken,
    Expiration: credentials.expiration,
  });
}
