import { randomBytes, timingSafeEqual } from "node:crypto";
import type { AddressInfo, Server } from "node:net";
import type { SecureContext } from "node:tls";
import { AppError, errnoCode } from "../errors";
import type { SessionCredentials } from "../sts/credentials";
import { type Reply, type RequestHead, replyBytes, serveHttp } from "./server-wire";
import type { Variables } from "./shell";

/**
 * A container credentials endpoint (the protocol of ECS tasks and EKS pod identity) on
 * 127.0.0.1: `GET` with `Authorization: <token>` answers the credentials held in memory as
 * `{AccessKeyId, SecretAccessKey, Token, Expiration}`. It never calls STS or asks for a code
 * itself: what it answers comes from `answer()`, which the keeper (server-keeper.ts) keeps fresh.
 *
 * Locked down: loopback only, plus the addresses containers reach it at when asked (`extraHosts`,
 * output/containers.ts), never 0.0.0.0; a random token compared in constant time; a Host header other than
 * 127.0.0.1/localhost (DNS rebinding from a browser) refused; GET only; no CORS headers; bodies
 * never read; small header limits and timeouts on every connection, every refusal ends its
 * connection, and connections without the token get a short deadline and few slots (server-wire.ts);
 * nothing logged.
 */

export const SERVER_HOST = "127.0.0.1";
/** The path the URI names; any other is 404. */
export const SERVER_PATH = "/";
/** 32 random bytes: 43 characters of base64url. */
const TOKEN_BYTES = 32;

/** What the server answers now: the credentials, or why there are none (503). */
export type Answer = { credentials: SessionCredentials } | { code: string; message: string };

export interface CredentialsServerOptions {
  /** Called on every authorised request; must answer from memory, synchronously. */
  answer: () => Answer;
  /** 0 (default): any free port. */
  port?: number;
  /** For tests and benchmarks; a fresh random token otherwise. */
  token?: string;
  /** Addresses listened on besides 127.0.0.1, with the same port (the ECS address for containers). */
  extraHosts?: readonly string[];
  /** Also https, on the same port (server-wire.ts), for containers in a VM (container-ca.ts). */
  tls?: EndpointTls;
}

export interface EndpointTls {
  /** The server's TLS context now (its certificate renewed before it expires). */
  context(): SecureContext;
  /** The names a request over TLS may give in Host (with or without the port); over plain http they are refused. */
  hostNames: readonly string[];
}

export interface CredentialsServer {
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI. */
  readonly url: string;
  readonly port: number;
  /** AWS_CONTAINER_AUTHORIZATION_TOKEN: never print it anywhere but where it is asked for. */
  readonly token: string;
  close(): Promise<void>;
}

export function newServerToken(): string {
  return randomBytes(TOKEN_BYTES).toString("base64url");
}

export async function startCredentialsServer(options: CredentialsServerOptions): Promise<CredentialsServer> {
  const token = options.token ?? newServerToken();
  const context: Context = {
    expected: Buffer.from(token, "utf8"),
    allowedHosts: new Set(),
    allowedTlsHosts: new Set(),
    answer: options.answer,
  };
  const http = serveHttp(
    {
      answer: (head, close, tls) => replyTo(head, context, close, tls),
      refuse: (status) =>
        status === 431
          ? refusal(431, "RequestHeaderFieldsTooLarge", "Request head too large.").bytes
          : refusal(400, "BadRequest", "Malformed request.").bytes,
    },
    { tls: options.tls?.context },
  );
  const extraHosts = options.extraHosts ?? [];
  const { servers, port } = await listenAll(http.newServer, [SERVER_HOST, ...extraHosts], options.port ?? 0);
  // Only the names a client uses; a browser led here by a rebound DNS name sends its own.
  for (const name of [SERVER_HOST, "localhost", ...extraHosts])
    context.allowedHosts.add(name).add(`${name}:${port}`);
  for (const name of options.tls?.hostNames ?? []) context.allowedTlsHosts.add(name).add(`${name}:${port}`);
  const url = `http://${SERVER_HOST}:${port}${SERVER_PATH}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    close() {
      closing ??= closeServers(servers).then(() => undefined);
      http.closeAll();
      return closing;
    },
  };
}

/** A port chosen by the system for the first address may be taken on another: try a few others. */
const PORT_TRIES = 5;

/** One server per host, all on one port: `port`, or (0) the first that is free on every host. */
async function listenAll(
  newServer: () => Server,
  hosts: readonly string[],
  port: number,
): Promise<{ servers: Server[]; port: number }> {
  for (let attempt = 1; ; attempt++) {
    const servers: Server[] = [];
    let chosen = port;
    try {
      for (const host of hosts) {
        const server = newServer();
        await listenOn(server, host, chosen);
        servers.push(server);
        chosen = (server.address() as AddressInfo).port;
      }
      return { servers, port: chosen };
    } catch (error) {
      await closeServers(servers);
      const retry = port === 0 && errnoCode(error) === "EADDRINUSE" && attempt < PORT_TRIES;
      if (!retry) throw listenError(error as Error, (error as { host?: string }).host ?? SERVER_HOST, chosen);
    }
  }
}

function listenOn(server: Server, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(Object.assign(error, { host })));
    server.listen({ port, host, exclusive: true }, () => resolve());
  });
}

function closeServers(servers: Server[]): Promise<unknown> {
  return Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
}

/** The variables that point AWS SDKs and the aws CLI at the server, and clear what would win over it. */
export function containerVariables(
  server: Pick<CredentialsServer, "url" | "token">,
  options: { tokenFile?: string; region?: string } = {},
): Variables {
  return {
    AWS_CONTAINER_CREDENTIALS_FULL_URI: server.url,
    ...(options.tokenFile === undefined
      ? { AWS_CONTAINER_AUTHORIZATION_TOKEN: server.token, AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: undefined }
      : {
          AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE: options.tokenFile,
          AWS_CONTAINER_AUTHORIZATION_TOKEN: undefined,
        }),
    // The SDKs prefer a relative URI (ECS) to the full one, and static keys or a profile to both.
    AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: undefined,
    AWS_ACCESS_KEY_ID: undefined,
    AWS_SECRET_ACCESS_KEY: undefined,
    AWS_SESSION_TOKEN: undefined,
    AWS_SECURITY_TOKEN: undefined,
    AWS_CREDENTIAL_EXPIRATION: undefined,
    ...(options.region ? { AWS_REGION: options.region, AWS_DEFAULT_REGION: options.region } : {}),
    AWS_PROFILE: undefined,
    AWS_DEFAULT_PROFILE: undefined,
  };
}

interface Context {
  expected: Buffer;
  /** Host header values accepted (lower case); filled in once the port is known. */
  allowedHosts: Set<string>;
  /** The same, for requests over TLS. */
  allowedTlsHosts: Set<string>;
  answer: () => Answer;
}

/** Every refusal (4xx) ends its connection: a stranger gets one answer per connection, never a slot to keep. */
function replyTo(head: RequestHead, context: Context, close: boolean, tls: boolean): Reply {
  const allowed = tls ? context.allowedTlsHosts : context.allowedHosts;
  if (head.host === undefined || !allowed.has(head.host.toLowerCase())) {
    return refusal(
      403,
      "AccessDenied",
      `Host not allowed: use ${tls ? "host.docker.internal" : "127.0.0.1"}.`,
    );
  }
  if (head.method !== "GET") {
    const bytes = replyBytes(405, json("MethodNotAllowed", "Only GET is supported."), {
      headers: { Allow: "GET" },
      close: true,
      omitBody: head.method === "HEAD",
    });
    return { bytes, close: true, authorised: false };
  }
  if (!tokenMatches(head.authorization, context.expected)) {
    return refusal(
      403,
      "AccessDenied",
      "Missing or wrong Authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN).",
    );
  }
  if (pathOf(head.target) !== SERVER_PATH) return refusal(404, "NotFound", "No such path.");
  let answer: Answer;
  try {
    answer = context.answer();
  } catch {
    answer = { code: "InternalError", message: "awsmfa failed to answer; see its stderr." };
  }
  if ("credentials" in answer) return credentialsReply(answer.credentials, close);
  const bytes = replyBytes(503, json(answer.code, answer.message), {
    headers: { "Retry-After": "5" },
    close,
  });
  return { bytes, close, authorised: true };
}

function json(code: string, message: string): string {
  return JSON.stringify({ Code: code, Message: message });
}

function refusal(status: number, code: string, message: string): Reply {
  return { bytes: replyBytes(status, json(code, message), { close: true }), close: true, authorised: false };
}

/**
 * The 200 answer, built once per set of credentials: the same keys are answered thousands of
 * times until the keeper renews them, and per-request garbage is what makes the tail latency.
 */
const answers = new WeakMap<object, { keepAlive: Reply; close: Reply }>();

function credentialsReply(c: SessionCredentials, close: boolean): Reply {
  let built = answers.get(c);
  if (built === undefined) {
    const body = JSON.stringify({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: rfc3339(c.expiration),
    });
    built = {
      keepAlive: { bytes: replyBytes(200, body), close: false, authorised: true },
      close: { bytes: replyBytes(200, body, { close: true }), close: true, authorised: true },
    };
    answers.set(c, built);
  }
  return close ? built.close : built.keepAlive;
}

/** Constant time for a token of the right length; a wrong length is refused at once (it tells only the length). */
function tokenMatches(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  // Heads are read as latin1: one byte per character, as the token's own bytes.
  const bytes = Buffer.from(given, "latin1");
  if (bytes.length !== expected.length) return false;
  return timingSafeEqual(bytes, expected);
}

function pathOf(raw: string): string {
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

/** RFC 3339 UTC to the second, whatever precision the stored value has. */
function rfc3339(expiration: string): string {
  const time = Date.parse(expiration);
  return Number.isNaN(time) ? expiration : new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function listenError(error: Error, host: string, port: number): Error {
  const code = errnoCode(error);
  if (code === "EADDRINUSE") {
    return new AppError("port-in-use", `Port ${port} on ${host} is in use.`, {
      hint: "Choose another with --port, or --port 0 for any free one.",
    });
  }
  if (code === "EACCES") {
    return new AppError("port-denied", `Not allowed to listen on port ${port}.`, {
      hint: "Ports below 1024 need privileges: choose a higher one, or --port 0.",
    });
  }
  if (code === "EADDRNOTAVAIL") {
    return new AppError("listen-no-address", `Cannot listen on ${host}: this machine has no such address.`, {
      hint: "For containers: sudo awsmfa containers enable",
    });
  }
  return new AppError("listen-failed", `Cannot listen on ${host}:${port}: ${error.message}`, {});
}
