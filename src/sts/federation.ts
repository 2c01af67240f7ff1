import { AppError } from "../errors";
import type { SessionCredentials } from "./credentials";
import { type CallContext, toAppError } from "./errors";
import { agents, type Endpoints } from "./sdk-config";

/**
 * A console sign-in token for role session credentials, from the federation endpoint
 * (GET …/federation?Action=getSigninToken). Not an SDK call, but a call to AWS all the same, so
 * it goes through the same proxy and CA-bundle settings as the SDK clients. The URL carries the
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
