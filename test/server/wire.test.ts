// The credentials server's own HTTP/1.1 (src/output/server-wire.ts): the strict head reader, and
// the connection rules over real sockets on 127.0.0.1 against a real in-process server.
import assert from "node:assert/strict";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type CredentialsServer, startCredentialsServer } from "../../src/output/server";
import { MAX_HEAD_BYTES, readRequestHead } from "../../src/output/server-wire";

const TOKEN = "t".repeat(43);
const CREDENTIALS = {
  accessKeyId: "ASIAWIRETEST00000001",
  secretAccessKey: "wire/secret",
  sessionToken: "wire-session-token",
  expiration: "2026-11-28T12:00:00.000Z",
};

describe("readRequestHead: strict", () => {
  const good = "GET / HTTP/1.1\r\nHost: 127.0.0.1:9\r\nAuthorization: abc\r\n\r\n";

  test("a whole head: method, target, Host, Authorization, and where the next one starts", () => {
    const result = readRequestHead(`${good}GET /x HTTP/1.1\r\n`);
    assert.ok(result && "head" in result);
    assert.deepEqual(result.head, {
      method: "GET",
      target: "/",
      host: "127.0.0.1:9",
      authorization: "abc",
      announcesBody: false,
      wantsClose: false,
    });
    assert.equal(result.end, good.length);
    assert.equal(readRequestHead(`${good}GET /x HTTP/1.1\r\n`, result.end), undefined, "not whole yet");
  });

  test("values lose surrounding blanks; names are case-blind; leading empty lines are skipped", () => {
    const result = readRequestHead(
      "\r\nGET / HTTP/1.1\r\nhOsT:   localhost \t\r\nAUTHORIZATION:\tabc\r\n\r\n",
    );
    assert.ok(result && "head" in result);
    assert.equal(result.head.host, "localhost");
    assert.equal(result.head.authorization, "abc");
  });

  test("bodies and closing are noticed", () => {
    const cases: [string, Partial<{ announcesBody: boolean; wantsClose: boolean }>][] = [
      ["Content-Length: 0\r\n", { announcesBody: false }],
      ["Content-Length: 5\r\n", { announcesBody: true }],
      ["Transfer-Encoding: chunked\r\n", { announcesBody: true }],
      ["Connection: keep-alive, Close\r\n", { wantsClose: true }],
      ["Connection: keep-alive\r\n", { wantsClose: false }],
    ];
    for (const [line, expected] of cases) {
      const result = readRequestHead(`GET / HTTP/1.1\r\nHost: a\r\n${line}\r\n`);
      assert.ok(result && "head" in result, line);
      for (const [key, value] of Object.entries(expected)) {
        assert.equal(result.head[key as keyof typeof expected], value, line);
      }
    }
    const old = readRequestHead("GET / HTTP/1.0\r\n\r\n");
    assert.ok(old && "head" in old);
    assert.equal(old.head.wantsClose, true, "HTTP/1.0 closes; it needs no Host");
  });

  test("refused: each way a head can be malformed or ambiguous", () => {
    const refused: [string, number][] = [
      ["GET / HTTP/1.1\nHost: a\n\n\r\n\r\n", 400], // bare LF
      ["GET  / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
      ["GET / HTTP/2.0\r\nHost: a\r\n\r\n", 400],
      ["GET / http/1.1\r\nHost: a\r\n\r\n", 400],
      ["G(T / HTTP/1.1\r\nHost: a\r\n\r\n", 400],
      ["GET /\x7f HTTP/1.1\r\nHost: a\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\n\r\n", 400], // no Host
      ["GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: a\r\nAuthorization: x\r\nauthorization: y\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost : a\r\n\r\n", 400], // blank before the colon
      ["GET / HTTP/1.1\r\nHost: a\r\nX: 1\r\n folded\r\n\r\n", 400], // obs-fold
      ["GET / HTTP/1.1\r\nHost: a\r\nX: a\x00b\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n", 400],
      ["GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", 400],
      [`GET / HTTP/1.1\r\nHost: a\r\n${"X: 1\r\n".repeat(64)}\r\n`, 431],
      [`GET / HTTP/1.1\r\nHost: a\r\nX: ${"y".repeat(MAX_HEAD_BYTES)}\r\n\r\n`, 431],
      [`GET / HTTP/1.1\r\nHost: a\r\nX: ${"y".repeat(MAX_HEAD_BYTES)}`, 431], // before its end arrives
      ["\r\n".repeat(MAX_HEAD_BYTES), 431], // empty lines count towards the limit too
    ];
    for (const [text, status] of refused) {
      const result = readRequestHead(text);
      assert.ok(result && "refuse" in result, JSON.stringify(text));
      assert.equal(result.refuse, status, JSON.stringify(text));
    }
  });

  test("property: any bytes give a head, a refusal or 'not yet' — never a throw, never past the input", () => {
    const piece = fc.oneof(
      fc.constantFrom("GET", " ", "/", "HTTP/1.1", "HTTP/1.0", "\r\n", "\r", "\n", ":", "Host", "\t", "\x00"),
      fc.string({ maxLength: 12 }),
      fc.string({ unit: "binary", maxLength: 12 }).map((value) => Buffer.from(value).toString("latin1")),
    );
    fc.assert(
      fc.property(fc.array(piece, { maxLength: 40 }), (pieces) => {
        const text = pieces.join("");
        const result = readRequestHead(text);
        if (result && "head" in result) {
          assert.ok(result.end <= text.length);
          assert.match(result.head.method, /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/);
          assert.match(result.head.target, /^[\x21-\x7e]+$/);
        }
      }),
      { numRuns: 4_000 },
    );
  });
});

describe("the connection rules, over real sockets", () => {
  let server: CredentialsServer;
  let host: string;

  before(async () => {
    server = await startCredentialsServer({ token: TOKEN, answer: () => ({ credentials: CREDENTIALS }) });
    host = `127.0.0.1:${server.port}`;
  });
  after(() => server.close());

  /** Writes `chunks` (one write each, a pause between) and collects all it reads until the server closes or `idleMs` passes. */
  function exchange(chunks: string[], idleMs = 400): Promise<{ text: string; closedByServer: boolean }> {
    return new Promise((resolve, reject) => {
      const socket: Socket = connect({ host: "127.0.0.1", port: server.port });
      let text = "";
      let timer: NodeJS.Timeout | undefined;
      const done = (closedByServer: boolean) => {
        clearTimeout(timer);
        socket.destroy();
        resolve({ text, closedByServer });
      };
      const idle = () => {
        clearTimeout(timer);
        timer = setTimeout(() => done(false), idleMs);
      };
      socket.setEncoding("latin1");
      socket.on("data", (chunk: string) => {
        text += chunk;
        idle();
      });
      socket.on("end", () => done(true));
      socket.on("error", reject);
      socket.on("connect", async () => {
        for (const chunk of chunks) {
          socket.write(chunk, "latin1");
          await new Promise((wait) => setTimeout(wait, 5));
        }
        idle();
      });
    });
  }

  // Answers follow one another with nothing between: a status line starts right after a body.
  const statuses = (text: string) => [...text.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
  const get = (extra = "") => `GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${TOKEN}\r\n${extra}\r\n`;

  test("pipelined requests are answered in order on one connection, which stays open", async () => {
    const wrong = `GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${"u".repeat(43)}\r\n\r\n`;
    const { text, closedByServer } = await exchange([get() + wrong + get()]);
    assert.deepEqual(statuses(text), [200, 403, 200]);
    assert.equal(closedByServer, false);
    assert.equal(text.split(CREDENTIALS.accessKeyId).length - 1, 2);
  });

  test("a head split into one-byte writes is read whole", async () => {
    const { text } = await exchange([...get()]);
    assert.deepEqual(statuses(text), [200]);
  });

  test("a malformed head: 400 and the connection closed, nothing after it answered", async () => {
    const { text, closedByServer } = await exchange([`GET / HTTP/1.1\nHost: ${host}\n\n${get()}`]);
    assert.deepEqual(statuses(text), [400]);
    assert.equal(closedByServer, true);
    assert.ok(!text.includes(CREDENTIALS.secretAccessKey));
  });

  test("a request with a body: answered, then closed; the body is never taken for a request", async () => {
    const smuggled = get();
    const post = `POST / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${TOKEN}\r\nContent-Length: ${smuggled.length}\r\n\r\n`;
    const { text, closedByServer } = await exchange([post + smuggled]);
    assert.deepEqual(statuses(text), [405]);
    assert.match(text, /^Connection: close\r$/m);
    assert.equal(closedByServer, true);
  });

  test("HTTP/1.0 and Connection: close end after the answer; HEAD gets no body", async () => {
    const old = await exchange([`GET / HTTP/1.0\r\nAuthorization: ${TOKEN}\r\nHost: ${host}\r\n\r\n`]);
    assert.deepEqual(statuses(old.text), [200]);
    assert.equal(old.closedByServer, true);
    const close = await exchange([get("Connection: close\r\n")]);
    assert.deepEqual(statuses(close.text), [200]);
    assert.equal(close.closedByServer, true);
    const head = await exchange([`HEAD / HTTP/1.1\r\nHost: ${host}\r\n\r\n${get()}`]);
    assert.deepEqual(statuses(head.text), [405, 200], "the HEAD answer has no body to misread");
    assert.match(head.text, /^Allow: GET\r$/m);
  });

  test("a head that never ends: 431 once it passes 8 KiB, and closed", async () => {
    const { text, closedByServer } = await exchange([
      `GET / HTTP/1.1\r\nHost: ${host}\r\nX: `,
      "y".repeat(MAX_HEAD_BYTES + 1),
    ]);
    assert.deepEqual(statuses(text), [431]);
    assert.equal(closedByServer, true);
  });

  test("a head sent slowly is cut off 5 s after its first byte, however steadily it trickles", async () => {
    const socket = connect({ host: "127.0.0.1", port: server.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    let text = "";
    socket.setEncoding("latin1").on("data", (chunk: string) => {
      text += chunk;
    });
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    const started = Date.now();
    socket.write("GET / HTTP/1.1\r\n");
    // One byte a second: never idle long enough for the keep-alive timeout to end it.
    const drip = setInterval(() => socket.writable && socket.write("X"), 1_000);
    const end = await Promise.race([
      closed,
      new Promise<number>((resolve) => setTimeout(() => resolve(0), 9_000)),
    ]);
    clearInterval(drip);
    socket.destroy();
    assert.notEqual(end, 0, "still open after 9 s");
    assert.ok(end - started >= 5_000, `closed after ${end - started} ms`);
    assert.equal(text, "", "nothing answered");
  });

  test("the 5 s head clock restarts with each head: a steady pipeliner is never cut off", async () => {
    // Each write ends one request and starts the next, so a head is always half-sent.
    const request = get();
    const half = Math.floor(request.length / 2);
    const socket = connect({ host: "127.0.0.1", port: server.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    let text = "";
    let closed = false;
    socket.setEncoding("latin1").on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("close", () => {
      closed = true;
    });
    socket.write(request.slice(0, half));
    const started = Date.now();
    while (Date.now() - started < 6_500 && !closed) {
      await new Promise((wait) => setTimeout(wait, 100));
      socket.write(request.slice(half) + request.slice(0, half));
    }
    socket.destroy();
    assert.equal(closed, false, `closed after ${Date.now() - started} ms`);
    assert.ok(statuses(text).length >= 40 && statuses(text).every((status) => status === 200));
  });

  test("a client that pipelines without reading is not answered into memory without end", async () => {
    // 200,000 requests (18 MB) sent, none read: the server stops reading once its write buffer
    // is full, so the kernel's buffers fill and what is left waits in our own buffer. Then every
    // request is answered, in order, once we take the answers.
    const one = (await exchange([get()])).text.length;
    const requests = 200_000;
    const socket = connect({ host: "127.0.0.1", port: server.port });
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.pause();
    socket.write(get().repeat(requests));
    await new Promise((wait) => setTimeout(wait, 500));
    assert.ok(socket.writableLength > 0, "the server stopped reading: our writes wait in our buffer");
    let received = 0;
    socket.on("data", (chunk: Buffer) => {
      received += chunk.length;
    });
    socket.resume();
    const deadline = Date.now() + 60_000;
    while (received < one * requests && Date.now() < deadline)
      await new Promise((wait) => setTimeout(wait, 50));
    socket.destroy();
    assert.equal(received / one, requests, "every request answered once the client reads");
  });
});
