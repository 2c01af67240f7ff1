// `awsmfa serve` as users run it: a child process that prints the variables for eval and serves
// until SIGINT/SIGTERM. The security checks go through raw HTTP, so that every header (Host
// included) is exactly what an attacker would send.
import assert from "node:assert/strict";
import { once } from "node:events";
import {
  chmodSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { Agent, request } from "node:http";
import { createConnection, createServer } from "node:net";
import { networkInterfaces } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWS_CLI_SKIP_REASON, awsCliAvailable, freeLoopbackPort } from "../support/moto";
import { AWSMFA, runAwsmfa, runProcess } from "../support/run-awsmfa";
import type { StsServer } from "../support/sts-server";
import {
  createServerHome,
  FIXTURES,
  getCredentials,
  httpRequest,
  KEYS,
  ROLE,
  ROLE_SESSION_ARN,
  SEED,
  SERIAL,
  type ServeProcess,
  sleep,
  startServe,
  startServerSts,
  waitFor,
} from "./helpers";

const skipAws = awsCliAvailable() ? false : AWS_CLI_SKIP_REASON;

let server: StsServer;

before(async () => {
  server = await startServerSts();
});
after(() => server.close());

function connectionRefused(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host, port, timeout: 2_000 });
    socket.once("connect", () => {
      socket.destroy();
      resolve(false);
    });
    socket.once("timeout", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(true));
  });
}

function hasCorsHeader(headers: Record<string, unknown>): boolean {
  return Object.keys(headers).some((name) => name.toLowerCase().startsWith("access-control-"));
}

describe("serve: what it prints, what it answers, and what it refuses", () => {
  let home: IsolatedEnv;
  let serve: ServeProcess;
  let token: string;
  let url: string;

  before(async () => {
    server.reset();
    home = await createServerHome(server);
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    serve = await startServe(["-p", "admin"], home.env);
    token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    url = serve.url;
  });
  after(async () => {
    await serve?.stop("SIGKILL");
    await home?.cleanup();
  });

  test("stdout: the endpoint and the token for eval; the keys and profiles that would win over them unset", () => {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/, "32 random bytes as base64url");
    assert.equal(Buffer.from(token, "base64url").length, 32);
    for (const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_PROFILE",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ]) {
      assert.ok(name in serve.variables && serve.variables[name] === undefined, `unset ${name}`);
    }
    assert.match(
      serve.stdout(),
      /^export AWS_CONTAINER_CREDENTIALS_FULL_URI='http:\/\/127\.0\.0\.1:\d+\/'$/m,
    );
  });

  test("200: the role's credentials as JSON, from memory", async () => {
    const response = await getCredentials(url, token);
    assert.equal(response.status, 200, response.body);
    assert.equal(response.headers["content-type"], "application/json");
    assert.equal(response.headers["cache-control"], "no-store");
    const body = response.json();
    assert.deepEqual(Object.keys(body), ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]);
    const role = server.issued.find((c) => c.accessKeyId === body.AccessKeyId);
    assert.equal(role?.kind, "AssumeRole");
    assert.equal(body.SecretAccessKey, role?.secretAccessKey);
    assert.equal(body.Token, role?.sessionToken);
    assert.equal(body.Expiration, role?.expiration.toISOString().replace(/\.\d{3}Z$/, "Z"));
    const calls = server.requests.length;
    for (let index = 0; index < 20; index++) assert.equal((await getCredentials(url, token)).status, 200);
    assert.equal(server.requests.length, calls, "no STS call per request");
  });

  test("403: no token, a wrong token of the same length, a token of another length", async () => {
    const sameLength = token.replace(/^./, (c) => (c === "A" ? "B" : "A"));
    for (const given of [undefined, "", sameLength, `${token}x`, token.slice(0, -1), token.toLowerCase()]) {
      if (given === token) continue;
      const response = await getCredentials(url, given);
      assert.equal(response.status, 403, `token ${given === undefined ? "missing" : `of ${given.length}`}`);
      assert.equal(response.json().Code, "AccessDenied");
      assert.ok(!response.body.includes(token));
      assert.ok(!("AccessKeyId" in response.json()));
    }
  });

  test("403: a Host other than 127.0.0.1 or localhost (DNS rebinding), even with the right token", async () => {
    const port = new URL(url).port;
    for (const host of [
      "evil.example",
      `evil.example:${port}`,
      `127.0.0.1.nip.io:${port}`,
      `localhost.evil:${port}`,
      `[::1]:${port}`,
      `127.0.0.2:${port}`,
    ]) {
      const response = await httpRequest(url, { headers: { Authorization: token, Host: host } });
      assert.equal(response.status, 403, `Host: ${host}`);
      assert.ok(!response.body.includes("SecretAccessKey"));
    }
    for (const host of [`127.0.0.1:${port}`, "127.0.0.1", `localhost:${port}`, `LOCALHOST:${port}`]) {
      const response = await httpRequest(url, { headers: { Authorization: token, Host: host } });
      assert.equal(response.status, 200, `Host: ${host}`);
    }
  });

  test("405: every method but GET, with Allow: GET; a body is never read", async () => {
    for (const method of ["POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"]) {
      const response = await httpRequest(url, { method, headers: { Authorization: token } });
      assert.equal(response.status, 405, method);
      assert.equal(response.headers.allow, "GET");
    }
    // A large body is answered at once and the connection closed, not read to the end.
    const big = "x".repeat(4 << 20);
    const started = Date.now();
    const response = await httpRequest(url, {
      method: "POST",
      headers: { Authorization: token, "Content-Type": "application/json" },
      body: big,
    }).catch((error: NodeJS.ErrnoException) => ({ status: -1, error }));
    assert.ok(response.status === 405 || response.status === -1, `status ${response.status}`);
    assert.ok(Date.now() - started < 5_000);
    assert.equal((await getCredentials(url, token)).status, 200, "still serving");
  });

  test("no CORS headers, on a GET with an Origin or on a preflight", async () => {
    const get = await httpRequest(url, { headers: { Authorization: token, Origin: "https://evil.example" } });
    assert.equal(get.status, 200);
    assert.equal(hasCorsHeader(get.headers), false);
    const preflight = await httpRequest(url, {
      method: "OPTIONS",
      headers: {
        Origin: "https://evil.example",
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization",
      },
    });
    assert.equal(preflight.status, 405);
    assert.equal(hasCorsHeader(preflight.headers), false);
    const denied = await httpRequest(url, { headers: { Origin: "https://evil.example" } });
    assert.equal(hasCorsHeader(denied.headers), false);
  });

  test("listens on 127.0.0.1 only", async () => {
    const port = Number(new URL(url).port);
    assert.equal(await connectionRefused("127.0.0.1", port), false);
    assert.equal(await connectionRefused("::1", port), true, "not on ::1");
    const others = Object.values(networkInterfaces())
      .flat()
      .filter((address) => address !== undefined && !address.internal)
      .map((address) => (address as { address: string }).address);
    for (const address of others) {
      assert.equal(await connectionRefused(address, port), true, `not on ${address}`);
    }
  });

  test("bounded: oversized headers refused; keep-alive works; other paths 404", async () => {
    const huge = await httpRequest(url, {
      headers: { Authorization: token, "X-Filler": "y".repeat(32 * 1024) },
    }).catch(() => ({ status: -1 }));
    assert.equal(huge.status, 431);

    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    const sockets = new Set<unknown>();
    for (let index = 0; index < 3; index++) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request(url, { agent, headers: { Authorization: token } }, (res) => {
          sockets.add(res.socket);
          res.resume();
          res.on("end", () => resolve(res.statusCode ?? 0));
        });
        req.on("error", reject);
        req.end();
      });
      assert.equal(status, 200);
    }
    agent.destroy();
    assert.equal(sockets.size, 1, "three requests on one connection");

    const other = await httpRequest(`${url}latest/meta-data`, { headers: { Authorization: token } });
    assert.equal(other.status, 404);
  });

  test("the token never reaches stderr; SIGINT closes cleanly", async () => {
    const port = Number(new URL(url).port);
    const exit = await serve.stop("SIGINT");
    assert.deepEqual(exit, { status: 0, signal: null });
    assert.ok(!serve.stderr().includes(token), "token not on stderr");
    assert.match(serve.stderr(), /Serving the credentials of profile 'admin' on http:\/\/127\.0\.0\.1:\d+\//);
    assert.equal(await connectionRefused("127.0.0.1", port), true, "port closed");
  });
});

describe("serve --token-file and --port", () => {
  let home: IsolatedEnv;

  beforeEach(async () => {
    server.reset();
    home = await createServerHome(server);
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
  });
  afterEach(() => home.cleanup());

  test("the token goes to a 0600 file, never to stdout; the file is removed on SIGTERM", async () => {
    const tokenFile = join(home.home, "serve-token");
    const port = await freeLoopbackPort();
    const serve = await startServe(
      ["-p", "admin", "--token-file", tokenFile, "--port", String(port)],
      home.env,
    );
    const token = readFileSync(tokenFile, "utf8");
    try {
      assert.equal(serve.url, `http://127.0.0.1:${port}/`);
      assert.equal(serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, tokenFile);
      assert.ok("AWS_CONTAINER_AUTHORIZATION_TOKEN" in serve.variables);
      assert.equal(
        serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN,
        undefined,
        "unset, so a stale one cannot win",
      );
      assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
      assert.match(token, /^[A-Za-z0-9_-]{43}$/);
      assert.ok(!serve.stdout().includes(token));
      assert.equal((await getCredentials(serve.url, token)).status, 200);

      // The SDK's default chain reads the token from the file.
      const sdk = await runProcess(process.execPath, [join(FIXTURES, "sdk-calls.cjs"), "chain", "0"], {
        env: { ...home.env, ...definedOnly(serve.variables) },
      });
      assert.equal(sdk.status, 0, `${sdk.stdout}\n${sdk.stderr}`);
      assert.deepEqual(JSON.parse(sdk.stdout).arns, [ROLE_SESSION_ARN]);

      const second = await startServe(["-p", "admin", "--port", String(port)], home.env).catch(
        (error: Error) => error,
      );
      assert.ok(second instanceof Error);
      assert.match(second.message, /Port \d+ on 127\.0\.0\.1 is in use/);
    } finally {
      const exit = await serve.stop("SIGTERM");
      assert.deepEqual(exit, { status: 0, signal: null });
    }
    assert.equal(existsSync(tokenFile), false, "token file removed");
    assert.ok(!serve.stderr().includes(token));
  });

  test("a path that holds anything but awsmfa's own token file is refused before a code is asked, and kept byte for byte", async () => {
    const tokenShaped = join(home.home, "readable-token");
    writeFileSync(tokenShaped, "a".repeat(43), { mode: 0o644 });
    chmodSync(tokenShaped, 0o644);
    for (const path of [home.credentialsPath, home.configPath, tokenShaped]) {
      const before = readFileSync(path);
      const mode = statSync(path).mode;
      const calls = server.requests.length;
      const run = await runAwsmfa(["serve", "-p", "admin", "--token-file", path], {
        env: home.env,
        timeoutMs: 20_000,
      });
      assert.equal(run.status, 1, `${path}: ${run.stderr}`);
      assert.match(
        run.stderr,
        new RegExp(
          `^awsmfa: --token-file ${path} already exists and is not a token file of awsmfa's; it was left as it is\\.\n  Give --token-file a path where nothing is yet`,
        ),
      );
      assert.deepEqual(readFileSync(path), before, `${path} unchanged`);
      assert.equal(statSync(path).mode, mode);
      assert.equal(server.requests.length, calls, "refused before any STS call");
    }
  });

  test("a directory others can write is refused (exit 9); nothing is created there", async () => {
    const open = join(home.home, "shared");
    mkdirSync(open);
    chmodSync(open, 0o777);
    const run = await runAwsmfa(["serve", "-p", "admin", "--token-file", join(open, "token")], {
      env: home.env,
      timeoutMs: 20_000,
    });
    assert.equal(run.status, 9, run.stderr);
    assert.match(run.stderr, /Refusing --token-file in .*shared: others can write to that directory/);
    assert.deepEqual(readdirSync(open), []);
  });

  test("an earlier serve's token file is replaced; on exit serve removes only the file it made", async () => {
    const dir = join(home.home, ".aws", "awsmfa");
    const tokenFile = join(dir, "token");
    mkdirSync(dir, { mode: 0o700 });
    writeFileSync(tokenFile, "b".repeat(43), { mode: 0o600 }); // left by a serve that was SIGKILLed
    const serve = await startServe(["-p", "admin", "--token-file", tokenFile], home.env);
    try {
      const token = readFileSync(tokenFile, "utf8");
      assert.notEqual(token, "b".repeat(43));
      assert.equal((await getCredentials(serve.url, token)).status, 200);
      assert.match(
        serve.stderr(),
        /Replaced .*token, a token file left behind by an earlier serve of awsmfa/,
      );
      // Someone puts another file at the path, even with the same bytes: it is not serve's to remove.
      writeFileSync(`${tokenFile}.new`, token, { mode: 0o600 });
      renameSync(`${tokenFile}.new`, tokenFile);
    } finally {
      assert.equal((await serve.stop("SIGTERM")).status, 0);
    }
    assert.equal(existsSync(tokenFile), true, "the other file stays");

    // And the file serve made itself is removed on exit.
    rmSync(tokenFile);
    const again = await startServe(["-p", "admin", "--token-file", tokenFile], home.env);
    assert.equal(existsSync(tokenFile), true);
    assert.equal((await again.stop("SIGTERM")).status, 0);
    assert.deepEqual(readdirSync(dir), []);
  });

  test("the aws CLI, with the variables serve printed", { skip: skipAws }, async () => {
    const serve = await startServe(["-p", "admin"], home.env);
    try {
      const aws = await runProcess("aws", ["sts", "get-caller-identity", "--output", "json"], {
        env: { ...home.env, ...definedOnly(serve.variables) },
      });
      assert.equal(aws.status, 0, aws.stderr);
      assert.equal(JSON.parse(aws.stdout).Arn, ROLE_SESSION_ARN);
    } finally {
      await serve.stop();
    }
  });

  test("a bad --port is a usage error", async () => {
    const run = await runAwsmfa(["serve", "-p", "admin", "--port", "70000"], { env: home.env });
    assert.equal(run.status, 2);
    assert.match(run.stderr, /--port '70000' is not a port number/);
  });
});

function killGroup(pid: number | undefined): void {
  try {
    if (pid !== undefined) process.kill(-pid, "SIGKILL");
  } catch {
    // gone already
  }
}

function definedOnly(variables: Record<string, string | undefined>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(variables).filter((entry): entry is [string, string] => entry[1] !== undefined),
  );
}

describe("when renewing fails: 503 that says why, never expired keys", () => {
  let home: IsolatedEnv;

  beforeEach(async () => {
    server.reset();
    home = await createServerHome(server);
  });
  afterEach(() => home.cleanup());

  test("a role that cannot be renewed: 503 RefreshFailed, reported once on stderr, then served again", async () => {
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    server.setOption({ sessionDurationOverrideSeconds: 5 });
    const serve = await startServe(["-p", "admin", "--min-ttl", "1s"], home.env);
    const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    try {
      const first = (await getCredentials(serve.url, token)).json();
      server.setOption({
        failures: [
          { action: "AssumeRole", count: 1000, status: 403, code: "AccessDenied", message: "Not today." },
        ],
      });
      const refused = await waitFor("a 503", 25_000, async () => {
        const response = await getCredentials(serve.url, token);
        if (response.status === 200) {
          const expiry = Date.parse(String(response.json().Expiration));
          assert.ok(expiry > Date.now(), "never an expired key");
          return undefined;
        }
        return response;
      });
      assert.equal(refused.status, 503);
      assert.equal(refused.headers["content-type"], "application/json");
      const body = refused.json();
      assert.deepEqual(Object.keys(body), ["Code", "Message"]);
      assert.equal(body.Code, "RefreshFailed");
      assert.match(String(body.Message), /profile 'admin'/);
      await sleep(4_000); // several more failed attempts
      assert.ok((server.calls.AssumeRole ?? 0) >= 3, `${server.calls.AssumeRole} attempts`);
      const reports = serve.stderr().match(/Could not renew/g) ?? [];
      assert.equal(reports.length, 1, `reported once:\n${serve.stderr()}`);

      server.setOption({ failures: [] });
      const again = await waitFor("200 again", 20_000, async () => {
        const response = await getCredentials(serve.url, token);
        return response.status === 200 ? response.json() : undefined;
      });
      assert.notEqual(again.AccessKeyId, first.AccessKeyId);
      assert.match(serve.stderr(), /Renewed the credentials of profile 'admin' again/);
      assert.ok(!serve.stderr().includes(token));
      assert.ok(!serve.stderr().includes(String(again.SecretAccessKey)));
    } finally {
      await serve.stop();
    }
  });

  test("an MFA session that ends with no code source: 503 that names the reason", async () => {
    server.setOption({ sessionDurationOverrideSeconds: 10 });
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const serve = await startServe(["-p", "alice", "--min-ttl", "1s"], home.env);
    const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    try {
      assert.equal((await getCredentials(serve.url, token)).status, 200);
      const refused = await waitFor("a 503", 25_000, async () => {
        const response = await getCredentials(serve.url, token);
        return response.status === 503 ? response.json() : undefined;
      });
      assert.equal(refused.Code, "RefreshFailed");
      assert.match(String(refused.Message), /MFA code/);
      assert.equal((serve.stderr().match(/Could not renew/g) ?? []).length, 1, serve.stderr());
      assert.ok(!serve.stderr().includes(token));
    } finally {
      await serve.stop();
    }
  });

  test("a code source that does not answer: 503 MfaCodeNeeded; SIGTERM still ends serve at once", async () => {
    await home.cleanup();
    home = await createServerHome(server, "mfa_process = sleep 50\n");
    server.setOption({ sessionDurationOverrideSeconds: 8 });
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const serve = await startServe(["-p", "alice", "--min-ttl", "1s"], home.env);
    const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    let stopped = false;
    try {
      const refused = await waitFor("a 503", 25_000, async () => {
        const response = await getCredentials(serve.url, token);
        return response.status === 503 ? response.json() : undefined;
      });
      assert.equal(refused.Code, "MfaCodeNeeded");
      assert.match(String(refused.Message), /waiting for an MFA code/);
      const started = Date.now();
      const exit = await serve.stop("SIGTERM");
      stopped = true;
      assert.equal(exit.status, 0);
      assert.ok(Date.now() - started < 3_000, "not held open by the pending code source");
    } finally {
      if (!stopped) await serve.stop("SIGKILL");
      killGroup(serve.child.pid); // the `sleep` that serve left behind
    }
  });
});

describe('serve --detach: the README\'s `eval "$(…)"`, verbatim, in bash', () => {
  // The README's profile names, so that its lines run as they are written there.
  const README_SERVE = 'eval "$(awsmfa serve -p dev-admin --detach)"';
  const README_STOP = 'kill "$AWSMFA_SERVE_PID"';
  let home: IsolatedEnv;
  let env: NodeJS.ProcessEnv;

  beforeEach(async () => {
    server.reset();
    home = await createIsolatedEnv({
      endpointUrl: server.url,
      config: `[profile dev]\nmfa_serial = ${SERIAL}\n\n[profile dev-admin]\nrole_arn = ${ROLE}\nsource_profile = dev\n`,
      credentials: `[dev]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
    });
    const bin = join(home.home, "bin");
    mkdirSync(bin);
    writeFileSync(join(bin, "awsmfa"), `#!/bin/sh\nexec "${process.execPath}" "${AWSMFA}" "$@"\n`, {
      mode: 0o755,
    });
    env = { ...home.env, PATH: `${bin}:${home.env.PATH ?? ""}` };
    const login = await runAwsmfa(["login", "-p", "dev", "--token-code", server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
  });
  afterEach(() => home.cleanup());

  test("returns once listening; the aws CLI in the same shell gets credentials from it; the pid stops it", {
    skip: skipAws,
  }, async () => {
    const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
    assert.ok(readme.includes(README_SERVE), "the README's serve line");
    assert.ok(readme.includes(README_STOP), "the README's stop line");
    const script = [
      "set -eu",
      README_SERVE,
      // The token is in this shell's environment, never on the server's command line.
      'if tr "\\0" " " < "/proc/$AWSMFA_SERVE_PID/cmdline" | grep -qF -- "$AWS_CONTAINER_AUTHORIZATION_TOKEN"; then echo "token in argv"; exit 9; fi',
      "aws sts get-caller-identity --output json",
      // Ctrl-C, Ctrl-\ and Ctrl-Z at the shell's prompt reach the shell's process group, the server
      // included. Whether they would end or stop it cannot be seen here (a test's process group is
      // orphaned, and SIGINT may be ignored by whoever started the tests), so ask the kernel whether
      // it catches them.
      'echo "caught $(sed -n "s/^SigCgt:[[:space:]]*//p" "/proc/$AWSMFA_SERVE_PID/status")"',
      README_STOP,
      'while kill -0 "$AWSMFA_SERVE_PID" 2>/dev/null; do sleep 0.1; done',
      'echo "stopped $AWS_CONTAINER_CREDENTIALS_FULL_URI"',
    ].join("\n");
    const result = await runProcess("bash", ["-c", script], { env, timeoutMs: 60_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const [identity, caught, stopped] = result.stdout.split(/\n(?=caught |stopped )/);
    assert.equal(JSON.parse(identity ?? "").Arn, ROLE_SESSION_ARN);
    const mask = BigInt(`0x${/^caught ([0-9a-f]+)$/.exec(caught ?? "")?.[1] ?? "0"}`);
    for (const [name, number] of [
      ["SIGINT", 2],
      ["SIGQUIT", 3],
      ["SIGTSTP", 20],
    ] as const) {
      assert.ok((mask >> BigInt(number - 1)) & 1n, `${name} caught, so it neither ends nor stops the server`);
    }
    assert.equal(server.calls.GetSessionToken, 1, "the session from login, no code asked again");
    assert.match(
      result.stderr,
      /Serving the credentials of profile 'dev-admin' on .* in the background \(pid \d+\)/,
    );
    const url = /^stopped (\S+)$/m.exec(stopped ?? "")?.[1] ?? "";
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.equal(await connectionRefused("127.0.0.1", Number(new URL(url).port)), true, "stopped");
  });

  test("a server that cannot start: exit with its status and its one error; nothing for eval on stdout", async () => {
    const port = await freeLoopbackPort();
    const holder = createServer().listen(port, "127.0.0.1");
    await once(holder, "listening");
    try {
      const run = await runAwsmfa(["serve", "-p", "dev-admin", "--detach", "--port", String(port)], {
        env,
        timeoutMs: 30_000,
      });
      assert.equal(run.status, 1, run.stderr);
      assert.equal(run.stdout, "");
      assert.match(run.stderr, new RegExp(`^awsmfa: Port ${port} on 127\\.0\\.0\\.1 is in use\\.\\n`));
      const refused = await runAwsmfa(
        ["serve", "-p", "dev-admin", "--detach", "--token-file", home.credentialsPath],
        {
          env,
          timeoutMs: 30_000,
        },
      );
      assert.equal(refused.status, 1, refused.stderr);
      assert.equal(refused.stdout, "");
      assert.match(refused.stderr, /already exists and is not a token file of awsmfa's/);
    } finally {
      holder.close();
    }
  });
});
