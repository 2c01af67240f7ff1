import { createServer, type Server, type Socket } from "node:net";
import type { SecureContext } from "node:tls";

/**
 * The HTTP/1.1 of the credentials server, on plain sockets: a strict reader of request heads and
 * prebuilt answers. The endpoint needs a sliver of HTTP — a request line and a handful of
 * headers, no bodies — and node:http costs twice the CPU per request for the rest, which on a
 * two-core machine is the difference between a p99 under 5 ms at 50 connections and not.
 *
 * Strict on purpose (RFC 9112 where it says "MUST", refusal where it says "MAY"): CRLF only, no
 * obs-fold, no whitespace before a colon, no control characters, one Host, one Authorization,
 * heads within 8 KiB and 64 headers. Anything else is a 400 (or 431) and the connection closed.
 * A request that announces a body is answered and the connection closed: bodies are never read.
 *
 * Any local user can connect, so a stranger must not be able to hold the slots the real client
 * needs: a connection starts "tokenless" and has TOKENLESS_DEADLINE_MS to show the token (an
 * answer with `authorised`); tokenless connections share MAX_TOKENLESS of the slots, the oldest
 * one making way for each new connection once they are full; and every refusal (4xx) ends its
 * connection. An authorised client's new connection therefore always gets in, and its kept
 * connections are never taken from it.
 */

export const MAX_HEAD_BYTES = 8 * 1024;
const MAX_HEADERS = 64;
/** A head must arrive whole within this time of its first byte (slow senders hold no socket). */
const HEAD_TIMEOUT_MS = 5_000;
/** An idle keep-alive connection is closed after this. */
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_CONNECTIONS = 256;
/**
 * Of those, at most this many may be connections that have not yet shown the token. Generous: a
 * client's burst of new connections (wrk, a parallel job) must all fit before any has been read,
 * or the first of them would be taken for the oldest stranger.
 */
export const MAX_TOKENLESS = 128;
/** A connection that has not shown the token within this time of connecting is closed. */
export const TOKENLESS_DEADLINE_MS = 2_000;

export interface RequestHead {
  method: string;
  /** The request target as sent: `/`, `/path?query`, or another form (never a path then). */
  target: string;
  host: string | undefined;
  authorization: string | undefined;
  /** Content-Length other than 0, or any Transfer-Encoding. */
  announcesBody: boolean;
  /** HTTP/1.0, or `Connection: close`. */
  wantsClose: boolean;
}

export type HeadResult =
  | { head: RequestHead; end: number }
  | { refuse: 400 | 431; why: string }
  /** Not a whole head yet. */
  | undefined;

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const TARGET = /^[\x21-\x7e]+$/;
const HEADER_LINE = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[\t\x20]*([\t\x20-\x7e\x80-\xff]*?)[\t\x20]*$/;
const CONTENT_LENGTH = /^\d+$/;
const CLOSE_TOKEN = /(^|,)[\t\x20]*close[\t\x20]*(,|$)/i;

/**
 * Reads one request head from `text` (bytes as latin1) starting at `from`. Empty lines before a
 * request line are skipped (RFC 9112 §2.2).
 */
export function readRequestHead(text: string, from = 0): HeadResult {
  let start = from;
  while (text.startsWith("\r\n", start)) start += 2;
  const end = text.indexOf("\r\n\r\n", start);
  // Measured from `from`: the skipped empty lines count too, or a stream of them would never end.
  if (end === -1) {
    return text.length - from > MAX_HEAD_BYTES ? { refuse: 431, why: "request head too large" } : undefined;
  }
  if (end - from > MAX_HEAD_BYTES) return { refuse: 431, why: "request head too large" };
  const lines = text.slice(start, end).split("\r\n");
  if (lines.length - 1 > MAX_HEADERS) return { refuse: 431, why: "too many headers" };

  const requestLine = (lines[0] as string).split(" ");
  if (requestLine.length !== 3) return { refuse: 400, why: "malformed request line" };
  const [method, target, version] = requestLine as [string, string, string];
  if (!METHOD.test(method) || !TARGET.test(target)) return { refuse: 400, why: "malformed request line" };
  if (version !== "HTTP/1.1" && version !== "HTTP/1.0")
    return { refuse: 400, why: "unsupported HTTP version" };

  const head: RequestHead = {
    method,
    target,
    host: undefined,
    authorization: undefined,
    announcesBody: false,
    wantsClose: version === "HTTP/1.0",
  };
  let hostSeen = false;
  let authorizationSeen = false;
  let lengthSeen = false;
  let chunked = false;
  for (let index = 1; index < lines.length; index++) {
    const match = HEADER_LINE.exec(lines[index] as string);
    if (match === null) return { refuse: 400, why: "malformed header line" };
    const name = (match[1] as string).toLowerCase();
    const value = match[2] as string;
    if (name === "host") {
      if (hostSeen) return { refuse: 400, why: "more than one Host" };
      hostSeen = true;
      head.host = value;
    } else if (name === "authorization") {
      if (authorizationSeen) return { refuse: 400, why: "more than one Authorization" };
      authorizationSeen = true;
      head.authorization = value;
    } else if (name === "content-length") {
      if (lengthSeen || !CONTENT_LENGTH.test(value)) return { refuse: 400, why: "bad Content-Length" };
      lengthSeen = true;
      if (Number(value) !== 0) head.announcesBody = true;
    } else if (name === "transfer-encoding") {
      chunked = true;
      head.announcesBody = true;
    } else if (name === "connection") {
      if (CLOSE_TOKEN.test(value)) head.wantsClose = true;
    }
  }
  // Both framings at once is how requests are smuggled past proxies: never guess which one wins.
  if (chunked && lengthSeen) return { refuse: 400, why: "both Content-Length and Transfer-Encoding" };
  if (!hostSeen && version === "HTTP/1.1") return { refuse: 400, why: "no Host header" };
  return { head, end: end + 4 };
}

const REASONS: Record<number, string> = {
  200: "OK",
  400: "Bad Request",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  431: "Request Header Fields Too Large",
  503: "Service Unavailable",
};

/**
 * The bytes of one JSON answer, status line to body. `close` says so to the client; whether the
 * connection is then closed is the caller's (see `serveHttp`).
 */
export function replyBytes(
  status: number,
  json: string,
  options: { headers?: Record<string, string>; close?: boolean; omitBody?: boolean } = {},
): Buffer {
  const length = Buffer.byteLength(json);
  let head = `HTTP/1.1 ${status} ${REASONS[status] ?? "Unknown"}\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\nCache-Control: no-store\r\nX-Content-Type-Options: nosniff\r\n`;
  for (const [name, value] of Object.entries(options.headers ?? {})) head += `${name}: ${value}\r\n`;
  head += options.close
    ? "Connection: close\r\n\r\n"
    : `Connection: keep-alive\r\nKeep-Alive: timeout=${KEEP_ALIVE_TIMEOUT_MS / 1000}\r\n\r\n`;
  return Buffer.from(options.omitBody ? head : head + json, "utf8");
}

/** One answer: prebuilt where it is the same each time (the 200), so a request allocates nothing. */
export interface Reply {
  readonly bytes: Buffer;
  /** The connection ends after this answer. */
  readonly close: boolean;
  /** The request showed the right token: its connection leaves the tokenless budget for good. */
  readonly authorised: boolean;
}

export interface HttpHandler {
  /**
   * The answer to one request head, built synchronously; `close`: the client wants the connection
   * ended after it; `tls`: the request came over TLS.
   */
  answer(head: RequestHead, close: boolean, tls: boolean): Reply;
  /** The answer to a head that cannot be read (the connection ends after it). */
  refuse(status: 400 | 431): Buffer;
}

/**
 * TCP servers that answer each request head with `handler`, in order, never reading a body. All
 * the servers made by one `serveHttp` (one per address listened on) share its slots and tokenless
 * budget: a stranger on one address cannot crowd out the client on another.
 *
 * With `tls`, a connection whose first byte opens a TLS handshake (0x16) is answered over TLS
 * with that context, any other in plain HTTP, on the same port: the host's clients keep plain
 * http on 127.0.0.1 and containers in a VM get https at the same port (container-ca.ts). The
 * handshake happens inside the connection's tokenless deadline, so the slots' rules hold for it.
 */
export function serveHttp(
  handler: HttpHandler,
  options: { tls?: () => SecureContext } = {},
): { newServer(): Server; closeAll(): void } {
  const sockets = new Set<Socket>();
  /** In the order they connected: the first is the oldest. */
  const tokenless = new Set<Socket>();
  const drop = (socket: Socket) => {
    sockets.delete(socket);
    tokenless.delete(socket);
    socket.destroy();
  };
  const accept = (socket: Socket) => {
    if (tokenless.size >= MAX_TOKENLESS || sockets.size >= MAX_CONNECTIONS) {
      const oldest = tokenless.values().next().value;
      if (oldest !== undefined) drop(oldest);
    }
    // Every slot held by a connection that showed the token: the client's own doing.
    if (sockets.size >= MAX_CONNECTIONS) {
      socket.destroy();
      return;
    }
    sockets.add(socket);
    tokenless.add(socket);
    const deadline = setTimeout(() => drop(socket), TOKENLESS_DEADLINE_MS);
    socket.on("close", () => {
      clearTimeout(deadline);
      sockets.delete(socket);
      tokenless.delete(socket);
    });
    const onAuthorised = () => {
      clearTimeout(deadline);
      tokenless.delete(socket);
    };
    if (options.tls === undefined) connection(socket, handler, onAuthorised, false);
    else
      startTlsOrPlain(socket, options.tls, (stream, tls) => connection(stream, handler, onAuthorised, tls));
  };
  return {
    newServer: () => createServer({ noDelay: true }, accept),
    closeAll() {
      for (const socket of sockets) socket.destroy();
    },
  };
}

/** Waits for the first byte, puts it back, and hands on the socket as it is or wrapped in TLS. */
function startTlsOrPlain(
  socket: Socket,
  context: () => SecureContext,
  start: (stream: Socket, tls: boolean) => void,
): void {
  socket.on("error", () => socket.destroy());
  socket.once("readable", () => {
    const first = socket.read(1) as Buffer | null;
    if (first === null) return; // ended before a byte: "close" cleans up
    socket.unshift(first);
    if (first[0] !== TLS_HANDSHAKE) {
      start(socket, false);
      return;
    }
    let secureContext: SecureContext;
    try {
      secureContext = context();
    } catch {
      socket.destroy();
      return;
    }
    const { TLSSocket } = process.getBuiltinModule("node:tls") as typeof import("node:tls");
    start(new TLSSocket(socket, { isServer: true, secureContext }), true);
  });
}

/** The first byte of a TLS record that carries a handshake (a ClientHello first). */
const TLS_HANDSHAKE = 0x16;

function connection(socket: Socket, handler: HttpHandler, onAuthorised: () => void, tls: boolean): void {
  let pending = "";
  let headStartedAt = 0;
  let ended = false;
  let authorised = false;
  socket.setEncoding("latin1");
  socket.setTimeout(KEEP_ALIVE_TIMEOUT_MS, () => socket.destroy());
  socket.on("error", () => socket.destroy());

  const finish = (bytes: Buffer) => {
    ended = true;
    pending = "";
    socket.end(bytes);
    // A client that never reads its last answer does not keep the socket.
    setTimeout(() => socket.destroy(), 1_000).unref();
  };

  const answerPending = () => {
    let from = 0;
    for (;;) {
      const result = readRequestHead(pending, from);
      if (result === undefined) break;
      if ("refuse" in result) {
        finish(handler.refuse(result.refuse));
        return;
      }
      from = result.end;
      const reply = handler.answer(result.head, result.head.wantsClose || result.head.announcesBody, tls);
      if (reply.authorised && !authorised) {
        authorised = true;
        onAuthorised();
      }
      if (reply.close) {
        finish(reply.bytes);
        return;
      }
      if (!socket.write(reply.bytes)) {
        // Pipelined requests from a client that does not read: once the socket's write buffer is
        // full, read nothing more until the client has taken what waits.
        pending = pending.slice(from);
        socket.pause();
        socket.once("drain", () => {
          socket.resume();
          answerPending();
        });
        return;
      }
    }
    pending = from === 0 ? pending : pending.slice(from);
    // The clock runs for the head now pending: a new one if a head was just answered.
    if (pending.length === 0) headStartedAt = 0;
    else if (from > 0 || headStartedAt === 0) headStartedAt = Date.now();
  };

  socket.on("data", (chunk: string) => {
    if (ended) return;
    pending = pending.length === 0 ? chunk : pending + chunk;
    if (headStartedAt !== 0 && Date.now() - headStartedAt > HEAD_TIMEOUT_MS) {
      socket.destroy();
      return;
    }
    if (socket.isPaused()) return;
    answerPending();
  });
}
