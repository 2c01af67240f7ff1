import { readFileSync } from "node:fs";
import type { AwsCredentials } from "./credentials";
import { type AwsService, endpointOverride } from "./endpoint";

/**
 * How awsmfa makes every SDK client: region, endpoint, timeouts, proxy, CA bundle. The SDK is
 * loaded with import() so that the warm path (a valid cache) never pays for it. Credentials are
 * always passed explicitly: the SDK's default chain could lead back into awsmfa through
 * credential_process.
 */

export interface Endpoints {
  region: string;
  env: NodeJS.ProcessEnv;
}

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;
/** Attempts per call, the SDK's own retries and those of a call that carries an MFA code (retry.ts) alike. */
export const MAX_ATTEMPTS = 3;

/** An SDK client's configuration as awsmfa makes every one: region, endpoint, timeouts, proxy, CA bundle. */
export async function clientConfig(
  credentials: AwsCredentials,
  where: Endpoints,
  service: AwsService,
  maxAttempts = MAX_ATTEMPTS,
) {
  const endpoint = endpointOverride(where.env, service);
  return {
    region: where.region,
    credentials: {
      accessKeyId: credentials.accessKeyId,
      secretAccessKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    },
    ...(endpoint ? { endpoint } : {}),
    maxAttempts,
    requestHandler: {
      requestTimeout: REQUEST_TIMEOUT_MS,
      // Without this the handler only warns when the timeout passes, and waits on.
      throwOnRequestTimeout: true,
      connectionTimeout: CONNECT_TIMEOUT_MS,
      ...(await agents(where.env, endpoint)),
    },
  };
}

/** HTTPS_PROXY/NO_PROXY and AWS_CA_BUNDLE, which the SDK for JavaScript does not read by itself. */
export async function agents(env: NodeJS.ProcessEnv, endpoint: string | undefined) {
  const caBundle = env.AWS_CA_BUNDLE;
  const ca = caBundle ? readFileSync(caBundle) : undefined;
  const proxy = proxyFor(env, endpoint);
  if (!proxy && !ca) return {};
  const { Agent } = await import("node:https");
  if (!proxy) return { httpsAgent: new Agent({ keepAlive: true, ca }) };
  const { HttpsProxyAgent } = await import("https-proxy-agent");
  const { HttpProxyAgent } = await import("http-proxy-agent");
  return {
    httpsAgent: new HttpsProxyAgent(proxy, { ca }),
    httpAgent: new HttpProxyAgent(proxy),
  };
}

function proxyFor(env: NodeJS.ProcessEnv, endpoint: string | undefined): string | undefined {
  const target = new URL(endpoint ?? "https://sts.amazonaws.com");
  const proxy =
    target.protocol === "http:"
      ? env.HTTP_PROXY || env.http_proxy
      : env.HTTPS_PROXY || env.https_proxy || env.HTTP_PROXY || env.http_proxy;
  if (!proxy) return undefined;
  const noProxy = (env.NO_PROXY || env.no_proxy || "").split(",").map((entry) => entry.trim().toLowerCase());
  const host = target.hostname.toLowerCase();
  const bypass = noProxy.some(
    (entry) =>
      entry === "*" ||
      (entry !== "" &&
        (host === entry.replace(/^\./, "") || host.endsWith(entry.startsWith(".") ? entry : `.${entry}`))),
  );
  return bypass ? undefined : proxy;
}

export async function loadSts() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return import("@aws-sdk/client-sts");
}

export async function loadIam() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return import("@aws-sdk/client-iam");
}
