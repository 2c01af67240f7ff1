/** The services awsmfa calls, by the names of their AWS_ENDPOINT_URL_<SERVICE> variables. */
export type AwsService = "STS" | "IAM" | "SIGNIN" | "SSO" | "SSO_OIDC";

/** The endpoint a service call goes to when the environment overrides it, as the SDKs read it. */
export function endpointOverride(env: NodeJS.ProcessEnv, service: AwsService): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}
