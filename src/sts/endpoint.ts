/** The endpoint a service call goes to when the environment overrides it, as the SDKs read it. */
export function endpointOverride(env: NodeJS.ProcessEnv, service: "STS" | "IAM"): string | undefined {
  return env[`AWS_ENDPOINT_URL_${service}`] || env.AWS_ENDPOINT_URL || undefined;
}
