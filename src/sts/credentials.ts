/** Credentials as awsmfa passes them around: long-term keys have no token or expiry. */
export interface AwsCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
  /** RFC 3339 UTC. */
  expiration?: string;
}

export interface SessionCredentials extends AwsCredentials {
  sessionToken: string;
  expiration: string;
}

export interface CallerIdentity {
  account: string;
  arn: string;
  userId: string;
}

/** The IAM user name in a user ARN (arn:aws:iam::123:user/path/alice → alice), if it is one. */
export function userNameOf(arn: string): string | undefined {
  const match = /^arn:[\w-]+:iam::\d+:user\/(?:.*\/)?([^/]+)$/.exec(arn);
  return match?.[1];
}
