// The credentials server's own HTTP/1.1 (src/output/server-wire.ts): the strict head reader, and
// the connection rules over real sockets on 127.0.0.1 against a real in-process server.
import assert from "node:assert/strict";
import { Agent, request } from "node:http";
import { connect, type Socket } from "node:net";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { type CredentialsServer, startCredentialsServer } from "../../src/output/server";
import {
  MAX_HEAD_BYTES,
  MAX_TOKENLESS,
  readRequestHead,
  TOKENLESS_DEADLINE_MS,
} from "../../src/output/server-wire";

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
    const { text, closedByServer } = await exchange([get() + get() + get()]);
    assert.deepEqual(statuses(text), [200, 200, 200]);
    assert.equal(closedByServer, false);
    assert.equal(text.split(CREDENTIALS.accessKeyId).length - 1, 3);
  });

  test("every 4xx ends its connection, even one that showed the token before: nothing after it is answered", async () => {
    const wrong = `GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${"u".repeat(43)}\r\n\r\n`;
    const cases: [string, number[]][] = [
      [wrong, [403]],
      [`GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`, [403]],
      [`GET / HTTP/1.1\r\nHost: evil.example\r\nAuthorization: ${TOKEN}\r\n\r\n`, [403]],
      [`GET /x HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${TOKEN}\r\n\r\n`, [404]],
      [`DELETE / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${TOKEN}\r\n\r\n`, [405]],
      [get() + wrong, [200, 403]],
    ];
    for (const [requests, expected] of cases) {
      const { text, closedByServer } = await exchange([requests + get()]);
      assert.deepEqual(statuses(text), expected, requests);
      assert.equal(closedByServer, true, requests);
      assert.match(
        text.slice(text.lastIndexOf("HTTP/1.1 ")),
        /\r\nConnection: close\r\n/,
        "the refusal says so",
      );
    }
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
    assert.deepEqual(statuses(head.text), [405], "the HEAD answer has no body, and ends the connection");
    assert.equal(head.closedByServer, true);
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
    // Authorised first: a tokenless connection is ended sooner, by its deadline.
    socket.write(get());
    await new Promise((wait) => setTimeout(wait, 200));
    assert.deepEqual(statuses(text), [200]);
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
    assert.deepEqual(statuses(text), [200], "nothing answered after the first");
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

  /** A connection that sends nothing; resolves with the time it was closed by the server (0: still open after `waitMs`). */
  function silent(waitMs: number): { socket: Socket; closedAt: Promise<number> } {
    const socket = connect({ host: "127.0.0.1", port: server.port });
    socket.on("error", () => {});
    const closedAt = new Promise<number>((resolve) => {
      socket.once("close", () => resolve(Date.now()));
      setTimeout(() => resolve(0), waitMs).unref();
    });
    return { socket, closedAt };
  }

  test("a connection that shows no token is closed after its short deadline, long before the idle timeout", async () => {
    const started = Date.now();
    const { socket, closedAt } = silent(9_000);
    const at = await closedAt;
    socket.destroy();
    assert.notEqual(at, 0, "still open after 9 s");
    assert.ok(at - started >= TOKENLESS_DEADLINE_MS - 100, `closed after ${at - started} ms`);
    assert.ok(at - started < 4_500, `closed only after ${at - started} ms`);
  });

  test("tokenless connections share a few slots: the oldest make way, a new client is answered, kept ones stay", async () => {
    const kept = connect({ host: "127.0.0.1", port: server.port });
    let keptText = "";
    kept.setEncoding("latin1").on("data", (chunk: string) => {
      keptText += chunk;
    });
    kept.write(get());
    await new Promise((wait) => setTimeout(wait, 200));
    const holders: ReturnType<typeof silent>[] = [];
    for (let index = 0; index < MAX_TOKENLESS + 20; index++) {
      holders.push(silent(1_500));
      await new Promise((resolve) => holders.at(-1)?.socket.once("connect", resolve));
    }
    const { text } = await exchange([get()]);
    assert.deepEqual(statuses(text), [200], "a new connection with the token is answered");
    kept.write(get());
    await new Promise((wait) => setTimeout(wait, 200));
    assert.deepEqual(statuses(keptText), [200, 200], "the kept connection was not taken");
    kept.destroy();
    const closed = await Promise.all(holders.map((holder) => holder.closedAt));
    for (const holder of holders) holder.socket.destroy();
    // Closed within 1.5 s, so by eviction, not by the 2 s deadline: the oldest 21 (20 + the new client's).
    const evicted = closed.map((at) => at !== 0);
    assert.deepEqual(
      evicted,
      holders.map((_, index) => index < 21),
      "the oldest tokenless connections were closed to make room, and only those",
    );
  });

  test("a flood of tokenless keep-alive connections for 10 s: every authorised request is answered 200", async () => {
    const FLOOD = 300;
    const DURATION_MS = 10_000;
    const stopAt = Date.now() + DURATION_MS;
    const flood = new Set<Socket>();
    let floodAnswers = 0;
    let floodConnections = 0;
    const tokenlessGet = `GET / HTTP/1.1\r\nHost: ${host}\r\n\r\n`;
    // Each attacker keeps a connection open, sends a request without the token every 2 s, and
    // comes back half a second after the server closes it.
    const attack = () => {
      if (Date.now() >= stopAt) return;
      floodConnections++;
      const socket = connect({ host: "127.0.0.1", port: server.port });
      flood.add(socket);
      let ticker: NodeJS.Timeout | undefined;
      const send = () => {
        if (socket.writable) socket.write(tokenlessGet);
        ticker = setTimeout(send, 2_000);
      };
      socket.on("connect", () => {
        ticker = setTimeout(send, Math.random() * 2_000);
      });
      socket.on("data", () => {
        floodAnswers++;
      });
      socket.on("error", () => {});
      socket.on("close", () => {
        clearTimeout(ticker);
        flood.delete(socket);
        setTimeout(attack, 500);
      });
    };
    for (let index = 0; index < FLOOD; index++) attack();
    await new Promise((wait) => setTimeout(wait, 1_000)); // the flood is in place

    // The real client: every 250 ms, alternately on a fresh connection and on one it keeps.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const statusesSeen: (number | string)[] = [];
    const ask = (fresh: boolean) =>
      new Promise<number | string>((resolve) => {
        const req = request(
          `http://${host}/`,
          { agent: fresh ? false : agent, headers: { Authorization: TOKEN }, timeout: 5_000 },
          (res) => {
            res.resume();
            res.on("end", () => resolve(res.statusCode ?? 0));
          },
        );
        req.on("timeout", () => req.destroy(new Error("timed out")));
        req.on("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
        req.end();
      });
    const asked: Promise<void>[] = [];
    for (let index = 0; Date.now() < stopAt - 500; index++) {
      asked.push(ask(index % 2 === 0).then((status) => void statusesSeen.push(status)));
      await new Promise((wait) => setTimeout(wait, 250));
    }
    await Promise.all(asked);
    agent.destroy();
    await new Promise((wait) => setTimeout(wait, Math.max(0, stopAt - Date.now())));
    for (const socket of flood) socket.destroy();
    assert.ok(statusesSeen.length >= 20, `${statusesSeen.length} requests`);
    assert.deepEqual(
      statusesSeen.filter((status) => status !== 200),
      [],
      `${statusesSeen.length} authorised requests; the flood made ${floodConnections} connections and got ${floodAnswers} answers`,
    );
  });
});

describe("one server on two addresses (as with --containers; 127.0.0.2 stands for 169.254.170.2)", () => {
  const OTHER = "127.0.0.2";
  let server: CredentialsServer;

  before(async () => {
    server = await startCredentialsServer({
      token: TOKEN,
      answer: () => ({ credentials: CREDENTIALS }),
      extraHosts: [OTHER],
    });
  });
  after(() => server.close());

  function ask(address: string, host: string): Promise<number> {
    return new Promise((resolve, reject) => {
      request(
        { host: address, port: server.port, headers: { Host: host, Authorization: TOKEN }, agent: false },
        (res) => {
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        },
      )
        .on("error", reject)
        .end();
    });
  }

  test("the same port, token and Host allow-list on both", async () => {
    assert.equal(await ask(OTHER, `${OTHER}:${server.port}`), 200);
    assert.equal(await ask("127.0.0.1", `127.0.0.1:${server.port}`), 200);
    assert.equal(await ask(OTHER, `evil.example:${server.port}`), 403);
  });

  test("the tokenless budget is shared: strangers on one address make way for connections on the other", async () => {
    const opened: { socket: Socket; closedAt: Promise<number> }[] = [];
    const open = async (address: string) => {
      const socket = connect({ host: address, port: server.port });
      socket.on("error", () => {});
      const closedAt = new Promise<number>((resolve) => {
        socket.once("close", () => resolve(Date.now()));
        setTimeout(() => resolve(0), 1_500).unref();
      });
      opened.push({ socket, closedAt });
      await new Promise((resolve) => socket.once("connect", resolve));
    };
    for (let index = 0; index < MAX_TOKENLESS; index++) await open(OTHER);
    for (let index = 0; index < 10; index++) await open("127.0.0.1");
    assert.equal(await ask("127.0.0.1", `127.0.0.1:${server.port}`), 200, "the client with the token");
    const closed = await Promise.all(opened.map((entry) => entry.closedAt));
    for (const entry of opened) entry.socket.destroy();
    // Within 1.5 s, so by eviction, not the 2 s deadline: the 11 oldest (10 + the client's), all on the other address.
    assert.deepEqual(
      closed.map((at) => at !== 0),
      opened.map((_, index) => index < 11),
    );
  });
});
