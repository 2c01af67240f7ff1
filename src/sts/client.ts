import { readFileSync } from "node:fs";
import { AppError } from "../errors";
import type { AwsCredentials, CallerIdentity, SessionCredentials } from "./credentials";
import { type AwsService, endpointOverride } from "./endpoint";
import { type CallContext, toAppError } from "./errors";

/**
 * The only module that talks to AWS. The SDK is loaded here with import() so that the warm
 * path (a valid cache) never pays for it. Credentials are always passed explicitly: the SDK's
 * default chain could lead back into awsmfa through credential_process.
 */

export interface Endpoints {
  region: string;
  env: NodeJS.ProcessEnv;
}

const REQUEST_TIMEOUT_MS = 10_000;
const CONNECT_TIMEOUT_MS = 3_000;
const MAX_ATTEMPTS = 3;

export async function getSessionToken(
  credentials: AwsCredentials,
  params: { serialNumber: string; tokenCode: string; durationSeconds: number },
  where: Endpoints,
  context: CallContext,
): Promise<SessionCredentials> {
  const { STSClient, GetSessionTokenCommand } = await loadSts();
  const client = new STSClient(await clientConfig(credentials, where, "STS", 1));
  try {
    const command = new GetSessionTokenCommand({
      SerialNumber: params.serialNumber,
      TokenCode: params.tokenCode,
      DurationSeconds: params.durationSeconds,
    });
    const out = await sendSpendingCode(() => client.send(command));
    return sessionCredentials(out.Credentials, context);
  } catch (error) {
    throw toAppError(error, { ...context, action: "GetSessionToken" }, where.env);
  } finally {
    client.destroy();
  }
}

export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds?: number;
  serialNumber?: string;
  tokenCode?: string;
}

export async function assumeRole(
  credentials: AwsCredentials,
  params: AssumeRoleParams,
  where: Endpoints,
  context: CallContext,
): Promise<{ credentials: SessionCredentials; identity: CallerIdentity }> {
  const { STSClient, AssumeRoleCommand } = await loadSts();
  const spendsCode = params.tokenCode !== undefined;
  const client = new STSClient(await clientConfig(credentials, where, "STS", spendsCode ? 1 : MAX_ATTEMPTS));
  try {
    const command = new AssumeRoleCommand({
      RoleArn: params.roleArn,
      RoleSessionName: params.roleSessionName,
      ExternalId: params.externalId,
      DurationSeconds: params.durationSeconds,
      SerialNumber: params.serialNumber,
      TokenCode: params.tokenCode,
    });
    const out = spendsCode ? await sendSpendingCode(() => client.send(command)) : await client.send(command);
    const arn = out.AssumedRoleUser?.Arn ?? params.roleArn;
    return {
      credentials: sessionCredentials(out.Credentials, context),
      identity: { arn, account: arn.split(":")[4] ?? "", userId: out.AssumedRoleUser?.AssumedRoleId ?? "" },
    };
  } catch (error) {
    throw toAppError(error, { ...context, action: "AssumeRole", roleArn: params.roleArn }, where.env);
  } finally {
    client.destroy();
  }
}

export async function getCallerIdentity(
  credentials: AwsCredentials,
  where: Endpoints,
  context: CallContext,
): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } = await loadSts();
  const client = new STSClient(await clientConfig(credentials, where, "STS"));
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
  } catch (error) {
    throw toAppError(error, { ...context, action: "GetCallerIdentity" }, where.env);
  } finally {
    client.destroy();
  }
}

export interface MfaDevice {
  serial: string;
  enabled: string | undefined;
}

/**
 * The MFA devices of an IAM user. AWS answers for the caller when no user is named, but not every
 * implementation does (moto looks up a user named "None"), so the caller's name is passed.
 */
export async function listMfaDevices(
  credentials: AwsCredentials,
  userName: string | undefined,
  where: Endpoints,
  context: CallContext,
): Promise<MfaDevice[]> {
  return iamCall("ListMFADevices", credentials, where, context, async (client, iam) => {
    const out = await client.send(new iam.ListMFADevicesCommand({ UserName: userName }));
    return (out.MFADevices ?? []).map((device) => ({
      serial: device.SerialNumber ?? "",
      enabled: device.EnableDate?.toISOString(),
    }));
  });
}

export interface AccessKeyMetadata {
  accessKeyId: string;
  status: string;
  created: string | undefined;
}

/** The access keys of `userName` (IAM allows two per user). */
export async function listAccessKeys(
  credentials: AwsCredentials,
  userName: string,
  where: Endpoints,
  context: CallContext,
): Promise<AccessKeyMetadata[]> {
  return iamCall("ListAccessKeys", credentials, where, context, async (client, iam) => {
    const keys: AccessKeyMetadata[] = [];
    let marker: string | undefined;
    do {
      const out = await client.send(new iam.ListAccessKeysCommand({ UserName: userName, Marker: marker }));
      for (const key of out.AccessKeyMetadata ?? []) {
        keys.push({
          accessKeyId: key.AccessKeyId ?? "",
          status: key.Status ?? "",
          created: key.CreateDate?.toISOString(),
        });
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return keys;
  });
}

/** A new long-term access key for `userName`; its secret is in this answer only, never again. */
export async function createAccessKey(
  credentials: AwsCredentials,
  userName: string,
  where: Endpoints,
  context: CallContext,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  return iamCall("CreateAccessKey", credentials, where, context, async (client, iam) => {
    const out = await client.send(new iam.CreateAccessKeyCommand({ UserName: userName }));
    const accessKeyId = out.AccessKey?.AccessKeyId;
    const secretAccessKey = out.AccessKey?.SecretAccessKey;
    if (!accessKeyId || !secretAccessKey) throw new Error("the response held no complete access key");
    return { accessKeyId, secretAccessKey };
  });
}

export async function deleteAccessKey(
  credentials: AwsCredentials,
  userName: string,
  accessKeyId: string,
  where: Endpoints,
  context: CallContext,
): Promise<void> {
  return iamCall("DeleteAccessKey", credentials, where, context, async (client, iam) => {
    await client.send(new iam.DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
  });
}

type IamModule = typeof import("@aws-sdk/client-iam");

/** One IAM call: the SDK loaded on first use, a client for it, errors named after `action` and IAM. */
async function iamCall<T>(
  action: string,
  credentials: AwsCredentials,
  where: Endpoints,
  context: CallContext,
  call: (client: InstanceType<IamModule["IAMClient"]>, iam: IamModule) => Promise<T>,
): Promise<T> {
  const iam = await loadIam();
  // IAM is a global service: its endpoint lives in us-east-1 whatever the profile's region.
  const client = new iam.IAMClient(await clientConfig(credentials, { ...where, region: "us-east-1" }, "IAM"));
  try {
    return await call(client, iam);
  } catch (error) {
    throw toAppError(error, { ...context, action, service: "IAM" }, where.env);
  } finally {
    client.destroy();
  }
}

/**
 * A console sign-in token for role session credentials, from the federation endpoint
 * (GET …/federation?Action=getSigninToken). Not an SDK call, but a call to AWS all the same, so
 * it lives here and goes through the same proxy and CA-bundle settings. The URL carries the
 * session's secret: it never appears in an error.
 */
export async function getSigninToken(
  credentials: SessionCredentials,
  params: { federationUrl: string; sessionDurationSeconds?: number },
  where: Endpoints,
  context: CallContext,
): Promise<string> {
  const url = new URL(params.federationUrl);
  url.searchParams.set("Action", "getSigninToken");
  if (params.sessionDurationSeconds !== undefined) {
    url.searchParams.set("SessionDuration", String(params.sessionDurationSeconds));
  }
  url.searchParams.set(
    "Session",
    JSON.stringify({
      sessionId: credentials.accessKeyId,
      sessionKey: credentials.secretAccessKey,
      sessionToken: credentials.sessionToken,
    }),
  );
  const endpoint = `${url.origin}${url.pathname}`;
  const refused = (message: string, cause?: unknown) =>
    new AppError(
      "signin-refused",
      `The AWS sign-in endpoint ${endpoint} refused a console sign-in for profile '${context.profile}': ${message}.`,
      {
        status: "aws",
        hint: `The console takes role sessions only. Get a fresh one with \`awsmfa login -p ${context.profile} --force\` and try again.`,
        cause,
      },
    );
  let answer: { status: number; body: string };
  try {
    answer = await httpGet(url, where.env);
  } catch (error) {
    const called = { url: endpoint, variable: "AWSMFA_FEDERATION_URL" };
    throw toAppError(error, { ...context, action: "getSigninToken", endpoint: called }, where.env);
  }
  if (answer.status !== 200) {
    const detail = answer.body.replace(/\s+/g, " ").trim().slice(0, 200);
    throw refused(`HTTP ${answer.status}${detail ? ` (${detail})` : ""}`);
  }
  let token: unknown;
  try {
    token = (JSON.parse(answer.body) as { SigninToken?: unknown } | null)?.SigninToken;
  } catch (error) {
    throw refused("its answer is not JSON", error);
  }
  if (typeof token !== "string" || token === "") throw refused("its answer held no SigninToken");
  return token;
}

const FEDERATION_TIMEOUT_MS = 10_000;

async function httpGet(url: URL, env: NodeJS.ProcessEnv): Promise<{ status: number; body: string }> {
  const plain = url.protocol === "http:";
  const http = plain ? await import("node:http") : await import("node:https");
  const found = (await agents(env, url.origin)) as { httpAgent?: unknown; httpsAgent?: unknown };
  const agent = (plain ? found.httpAgent : found.httpsAgent) as import("node:http").Agent | undefined;
  return new Promise((resolve, reject) => {
    const request = http.get(url, { agent, timeout: FEDERATION_TIMEOUT_MS }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (body.length < 65_536) body += chunk;
      });
      response.on("end", () => resolve({ status: response.statusCode ?? 0, body }));
      response.on("error", reject);
    });
    request.on("timeout", () =>
      request.destroy(Object.assign(new Error("timed out"), { code: "ETIMEDOUT" })),
    );
    request.on("error", reject);
  });
}

async function loadIam() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return import("@aws-sdk/client-iam");
}

async function loadSts() {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  return import("@aws-sdk/client-sts");
}

/**
 * A call that carries an MFA code is retried only when AWS cannot have used the code: refused
 * connections, throttling and server errors. After a timeout or a reset the answer may be lost
 * while the code is spent, and a retry would only turn success into "invalid MFA code".
 */
async function sendSpendingCode<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !codeUnspent(error)) throw withAttempts(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

/** Tells the error mapping how many attempts were made, as the SDK's own retries do. */
function withAttempts(error: unknown, attempts: number): unknown {
  const e = error as { $metadata?: { attempts?: number } } | null;
  if (e && typeof e === "object") e.$metadata = { ...e.$metadata, attempts };
  return error;
}

function codeUnspent(error: unknown): boolean {
  const e = error as {
    code?: string;
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.code === "ECONNREFUSED") return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  const code = e.Code ?? e.name ?? "";
  // A skewed clock is refused at authentication; the SDK has corrected its offset by the retry.
  const skewed =
    /^(RequestExpired|RequestTimeTooSkewed)$/.test(code) ||
    /Signature (expired|not yet current)/i.test(e.message ?? "");
  const throttled = /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException)$/.test(
    code,
  );
  return status >= 500 || skewed || throttled;
}

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
async function agents(env: NodeJS.ProcessEnv, endpoint: string | undefined) {
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

function sessionCredentials(
  credentials:
    | { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string; Expiration?: Date }
    | undefined,
  context: CallContext,
): SessionCredentials {
  const expiration = credentials?.Expiration;
  if (!credentials?.AccessKeyId || !credentials.SecretAccessKey || !credentials.SessionToken || !expiration) {
    throw toAppError(new Error("the response held no complete credentials"), context, {});
  }
  if (Number.isNaN(expiration.getTime()) || expiration.getTime() <= Date.now()) {
    throw toAppError(
      new Error(`the credentials AWS returned had already expired (${expiration.toISOString()})`),
      context,
      {},
    );
  }
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
    expiration: expiration.toISOString().replace(/\.\d{3}Z$/, "Z"),
  };
}
