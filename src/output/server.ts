import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { AppError, errnoCode } from "../errors";
import type { SessionCredentials } from "../sts/credentials";
import type { Variables } from "./shell";

/**
 * A container credentials endpoint (the protocol of ECS tasks and EKS pod identity) on
 * 127.0.0.1: `GET` with `Authorization: <token>` answers the credentials held in memory as
 * `{AccessKeyId, SecretAccessKey, Token, Expiration}`. It never calls STS or asks for a code
 * itself: what it answers comes from `answer()`, which the keeper (server-keeper.ts) keeps fresh.
 *
 * Locked down: loopback only; a random token compared in constant time; a Host header other than
 * 127.0.0.1/localhost (DNS rebinding from a browser) refused; GET only; no CORS headers; bodies
 * never read; small header limits and timeouts on every connection; nothing logged.
 */

export const SERVER_HOST = "127.0.0.1";
/** The path the URI names; any other is 404. */
export const SERVER_PATH = "/";
/** 32 random bytes: 43 characters of base64url. */
const TOKEN_BYTES = 32;
const MAX_HEADER_BYTES = 8 * 1024;
const MAX_HEADERS = 64;
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const IDLE_SOCKET_TIMEOUT_MS = 30_000;
const MAX_CONNECTIONS = 256;

/** What the server answers now: the credentials, or why there are none (503). */
export type Answer = { credentials: SessionCredentials } | { code: string; message: string };

export interface CredentialsServerOptions {
  /** Called on every authorised request; must answer from memory, synchronously. */
  answer: () => Answer;
  /** 0 (default): any free port. */
  port?: number;
  /** For tests and benchmarks; a fresh random token otherwise. */
  token?: string;
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
  const expected = Buffer.from(token, "utf8");
  let port = options.port ?? 0;
  const server: Server = createServer(
    { maxHeaderSize: MAX_HEADER_BYTES, requireHostHeader: true },
    (req, res) => handle(req, res, { expected, port: () => port, answer: options.answer }),
  );
  server.maxHeadersCount = MAX_HEADERS;
  server.headersTimeout = HEADERS_TIMEOUT_MS;
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.keepAliveTimeout = KEEP_ALIVE_TIMEOUT_MS;
  server.maxConnections = MAX_CONNECTIONS;
  server.setTimeout(IDLE_SOCKET_TIMEOUT_MS, (socket) => socket.destroy());
  // A malformed request or an oversized header: answer 400/431 and drop the connection, say nothing.
  server.on("clientError", (error: NodeJS.ErrnoException, socket) => {
    const status =
      error.code === "HPE_HEADER_OVERFLOW" ? "431 Request Header Fields Too Large" : "400 Bad Request";
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    setTimeout(() => socket.destroy(), 1_000).unref();
  });

  await new Promise<void>((resolve, reject) => {
    server.once("error", (error) => reject(listenError(error, port)));
    server.listen({ port, host: SERVER_HOST, exclusive: true }, () => resolve());
  });
  port = (server.address() as AddressInfo).port;
  const url = `http://${SERVER_HOST}:${port}${SERVER_PATH}`;
  let closing: Promise<void> | undefined;
  return {
    url,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closing;
    },
  };
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
  port: () => number;
  answer: () => Answer;
}

interface Reply {
  status: number;
  /** An object to serialise, or text serialised already. */
  body: object | string;
  headers?: Record<string, string>;
}

function handle(req: IncomingMessage, res: ServerResponse, context: Context): void {
  // Bodies are never read: a request that announces one gets its answer and the connection closed,
  // so that Node does not read (and discard) an arbitrary amount of it to keep the connection alive.
  if (hasBody(req)) res.shouldKeepAlive = false;
  const reply = replyTo(req, context);
  send(res, reply);
}

function replyTo(req: IncomingMessage, context: Context): Reply {
  if (!hostAllowed(req.headers.host, context.port())) {
    return { status: 403, body: { Code: "AccessDenied", Message: "Host not allowed: use 127.0.0.1." } };
  }
  if (req.method !== "GET") {
    return {
      status: 405,
      body: { Code: "MethodNotAllowed", Message: "Only GET is supported." },
      headers: { Allow: "GET" },
    };
  }
  if (!tokenMatches(req.headers.authorization, context.expected)) {
    const message = "Missing or wrong Authorization token (AWS_CONTAINER_AUTHORIZATION_TOKEN).";
    return { status: 403, body: { Code: "AccessDenied", Message: message } };
  }
  if (pathOf(req.url) !== SERVER_PATH) {
    return { status: 404, body: { Code: "NotFound", Message: "No such path." } };
  }
  let answer: Answer;
  try {
    answer = context.answer();
  } catch {
    answer = { code: "InternalError", message: "awsmfa failed to answer; see its stderr." };
  }
  if ("credentials" in answer) return { status: 200, body: credentialsBody(answer.credentials) };
  return {
    status: 503,
    body: { Code: answer.code, Message: answer.message },
    headers: { "Retry-After": "5" },
  };
}

/**
 * The 200 body, serialised once per set of credentials: the same keys are answered thousands of
 * times until the keeper renews them, and per-request garbage is what makes the tail latency.
 */
const bodies = new WeakMap<object, string>();

function credentialsBody(c: SessionCredentials): string {
  let text = bodies.get(c);
  if (text === undefined) {
    text = JSON.stringify({
      AccessKeyId: c.accessKeyId,
      SecretAccessKey: c.secretAccessKey,
      Token: c.sessionToken,
      Expiration: rfc3339(c.expiration),
    });
    bodies.set(c, text);
  }
  return text;
}

function send(res: ServerResponse, { status, body, headers }: Reply): void {
  const text = typeof body === "string" ? body : JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    ...headers,
  });
  res.end(text);
}

function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return req.headers["transfer-encoding"] !== undefined || (length !== undefined && length !== "0");
}

/** Only the names a local client uses; a browser led here by a rebound DNS name sends its own. */
export function hostAllowed(host: string | undefined, port: number): boolean {
  if (host === undefined) return false;
  const value = host.toLowerCase();
  return (
    value === SERVER_HOST ||
    value === "localhost" ||
    value === `${SERVER_HOST}:${port}` ||
    value === `localhost:${port}`
  );
}

/** Constant time for a token of the right length; a wrong length is refused at once (it tells only the length). */
export function tokenMatches(given: string | undefined, expected: Buffer): boolean {
  if (given === undefined) return false;
  const bytes = Buffer.from(given, "utf8");
  if (bytes.length !== expected.length) return false;
  return timingSafeEqual(bytes, expected);
}

function pathOf(url: string | undefined): string {
  const raw = url ?? "/";
  const query = raw.indexOf("?");
  return query === -1 ? raw : raw.slice(0, query);
}

/** RFC 3339 UTC to the second, whatever precision the stored value has. */
function rfc3339(expiration: string): string {
  const time = Date.parse(expiration);
  return Number.isNaN(time) ? expiration : new Date(time).toISOString().replace(/\.\d{3}Z$/, "Z");
}

function listenError(error: Error, port: number): Error {
  const code = errnoCode(error);
  if (code === "EADDRINUSE") {
    return new AppError("port-in-use", `Port ${port} on ${SERVER_HOST} is in use.`, {
      status: "failure",
      hint: "Choose another with --port, or --port 0 for any free one.",
    });
  }
  if (code === "EACCES") {
    return new AppError("port-denied", `Not allowed to listen on port ${port}.`, {
      status: "failure",
      hint: "Ports below 1024 need privileges: choose a higher one, or --port 0.",
    });
  }
  return new AppError("listen-failed", `Cannot listen on ${SERVER_HOST}:${port}: ${error.message}`, {
    status: "failure",
  });
}
