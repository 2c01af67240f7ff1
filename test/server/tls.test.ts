// `--containers tls` on the host side, no namespaces needed: the install's CA (container-ca.ts,
// x509.ts) and the endpoint answering https and plain http on one loopback port (server-wire.ts).
// test/containers/tls.test.ts runs the SDKs against it from a container's namespace.
import assert from "node:assert/strict";
import { execFile, spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import {
  chmodSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from "node:fs";
import { connect as connectTcp } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { connect as connectTls } from "node:tls";
import { type ContainerAuthority, loadContainerAuthority } from "../../src/output/container-ca";
import { type CredentialsServer, startCredentialsServer } from "../../src/output/server";
import { TOKENLESS_DEADLINE_MS } from "../../src/output/server-wire";
import type { IsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";
import type { StsServer } from "../support/sts-server";
import { createServerHome, FIXTURES, ROLE_SESSION_ARN, SEED, startServerSts } from "./helpers";

const TOKEN = "t".repeat(43);
const CREDENTIALS = {
  accessKeyId: "ASIATLSTEST",
  secretAccessKey: "secret",
  sessionToken: "session",
  expiration: "2099-01-01T00:00:00Z",
};
const DAY_MS = 86_400_000;

function tempHome(): { env: NodeJS.ProcessEnv; home: string; remove(): void } {
  const home = mkdtempSync(join(tmpdir(), "awsmfa-ca-test-"));
  return { env: { HOME: home }, home, remove: () => rmSync(home, { recursive: true, force: true }) };
}

const caDirOf = (home: string) => join(home, ".aws", "awsmfa", "container-ca");

/** One https request to 127.0.0.1:port with SNI `servername`, trusting `ca`: the status, or the error's code. */
function httpsStatus(
  port: number,
  options: { ca: string; host: string; token?: string; servername?: string },
): Promise<{ status: number | string; peer?: X509Certificate }> {
  return new Promise((resolve) => {
    const socket = connectTls({
      host: "127.0.0.1",
      port,
      ca: options.ca,
      servername: options.servername ?? "host.docker.internal",
    });
    let text = "";
    let peer: X509Certificate | undefined;
    socket.on("secureConnect", () => {
      peer = socket.getPeerX509Certificate();
      const authorization = options.token === undefined ? "" : `Authorization: ${options.token}\r\n`;
      socket.write(`GET / HTTP/1.1\r\nHost: ${options.host}\r\n${authorization}Connection: close\r\n\r\n`);
    });
    socket.setEncoding("latin1").on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0), peer }));
    socket.on("error", (error: NodeJS.ErrnoException) => resolve({ status: error.code ?? error.message }));
  });
}

function plainStatus(port: number, host: string, token: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: "127.0.0.1", port });
    let text = "";
    socket.on("connect", () =>
      socket.write(`GET / HTTP/1.1\r\nHost: ${host}\r\nAuthorization: ${token}\r\nConnection: close\r\n\r\n`),
    );
    socket.setEncoding("latin1").on("data", (chunk: string) => {
      text += chunk;
    });
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

describe("the containers' CA", () => {
  test("made once: key 0600 in a 0700 directory, the public directory holds the certificate alone; a second load (even at once) reuses it", async () => {
    const home = tempHome();
    try {
      // A strict umask must not keep the certificate from a container's user (not the host's uid).
      const umask = process.umask(0o077);
      let loads: ContainerAuthority[];
      try {
        loads = await Promise.all([loadContainerAuthority(home.env), loadContainerAuthority(home.env)]);
      } finally {
        process.umask(umask);
      }
      const [first, second] = loads as [ContainerAuthority, ContainerAuthority];
      const third = await loadContainerAuthority(home.env);
      assert.equal(first.certificate, second.certificate, "two loads at once: one CA (the lock)");
      assert.equal(first.certificate, third.certificate);
      const dir = caDirOf(home.home);
      assert.equal(statSync(dir).mode & 0o777, 0o700);
      assert.equal(statSync(join(dir, "key.pem")).mode & 0o777, 0o600);
      assert.equal(first.publicDir, join(dir, "public"));
      assert.equal(statSync(first.publicDir).mode & 0o777, 0o755);
      assert.equal(statSync(join(first.publicDir, "ca.pem")).mode & 0o777, 0o644);
      assert.equal(spawnSync("ls", ["-A", first.publicDir], { encoding: "utf8" }).stdout, "ca.pem\n");
      assert.equal(readFileSync(join(first.publicDir, "ca.pem"), "utf8"), first.certificate);
      const ca = new X509Certificate(first.certificate);
      assert.ok(ca.ca);
      assert.ok(Date.parse(ca.validTo) - Date.now() > 9 * 365 * DAY_MS);
    } finally {
      home.remove();
    }
  });

  test("a key others may read is refused, naming it; a certificate that does not match the key is made anew", async () => {
    const home = tempHome();
    try {
      const made = await loadContainerAuthority(home.env);
      const keyPath = join(caDirOf(home.home), "key.pem");
      chmodSync(keyPath, 0o644);
      await assert.rejects(loadContainerAuthority(home.env), (error: Error) => {
        assert.match(error.message, new RegExp(`${keyPath}.*open to other users \\(mode 644\\)`));
        return true;
      });
      chmodSync(keyPath, 0o600);
      const other = tempHome();
      try {
        writeFileSync(join(made.publicDir, "ca.pem"), (await loadContainerAuthority(other.env)).certificate);
      } finally {
        other.remove();
      }
      const remade = await loadContainerAuthority(home.env);
      assert.notEqual(remade.certificate, made.certificate);
      assert.equal(readFileSync(join(made.publicDir, "ca.pem"), "utf8"), remade.certificate);
    } finally {
      home.remove();
    }
  });

  test("the server certificate: host.docker.internal, localhost, 127.0.0.1, signed by the CA; OpenSSL's strict check passes", async (t) => {
    const home = tempHome();
    let server: CredentialsServer | undefined;
    try {
      const authority = await loadContainerAuthority(home.env);
      server = await serverWith(authority);
      const { status, peer } = await httpsStatus(server.port, {
        ca: authority.certificate,
        host: `host.docker.internal:${server.port}`,
        token: TOKEN,
      });
      assert.equal(status, 200);
      assert.ok(peer);
      const ca = new X509Certificate(authority.certificate);
      assert.ok(peer.checkIssued(ca) && peer.verify(ca.publicKey));
      assert.equal(peer.checkHost("host.docker.internal"), "host.docker.internal");
      assert.equal(peer.checkHost("localhost"), "localhost");
      assert.equal(peer.checkIP("127.0.0.1"), "127.0.0.1");
      assert.equal(peer.checkHost("example.com"), undefined);
      assert.ok(!peer.ca);
      if (spawnSync("openssl", ["version"]).status !== 0) {
        t.diagnostic("openssl not installed: its check skipped");
        return;
      }
      const caPath = join(home.home, "ca-check.pem");
      const leafPath = join(home.home, "leaf-check.pem");
      writeFileSync(caPath, authority.certificate);
      writeFileSync(leafPath, peer.toString());
      const verified = spawnSync(
        "openssl",
        ["verify", "-x509_strict", "-purpose", "sslserver", "-CAfile", caPath, leafPath],
        { encoding: "utf8" },
      );
      assert.equal(verified.status, 0, `${verified.stdout}${verified.stderr}`);
      const text = spawnSync("openssl", ["x509", "-in", caPath, "-noout", "-text"], {
        encoding: "utf8",
      }).stdout;
      assert.match(
        text,
        /Name Constraints: critical\s+Permitted:\s+DNS:host\.docker\.internal\s+DNS:localhost\s+IP:127\.0\.0\.0\/255\.0\.0\.0/,
      );
    } finally {
      await server?.close();
      home.remove();
    }
  });

  test("a CA 30 days from its end is replaced; before that it is kept", async () => {
    const home = tempHome();
    try {
      const made = await loadContainerAuthority(home.env);
      const ends = Date.parse(new X509Certificate(made.certificate).validTo);
      const kept = await loadContainerAuthority(home.env, () => ends - 31 * DAY_MS);
      assert.equal(kept.certificate, made.certificate);
      const replaced = await loadContainerAuthority(home.env, () => ends - 29 * DAY_MS);
      assert.notEqual(replaced.certificate, made.certificate);
      assert.equal(readFileSync(join(replaced.publicDir, "ca.pem"), "utf8"), replaced.certificate);
    } finally {
      home.remove();
    }
  });

  test("the server certificate is made again a day before its 7 days end, not before", async () => {
    const home = tempHome();
    try {
      let now = Date.now();
      const authority = await loadContainerAuthority(home.env, () => now);
      const first = authority.serverContext();
      now += 5 * DAY_MS;
      assert.equal(authority.serverContext(), first, "kept while more than a day is left");
      now += 1.5 * DAY_MS;
      const renewed = authority.serverContext();
      assert.notEqual(renewed, first, "renewed with less than a day left");
      now += 1 * DAY_MS;
      assert.equal(authority.serverContext(), renewed);
    } finally {
      home.remove();
    }
  });
});

async function serverWith(authority: ContainerAuthority): Promise<CredentialsServer> {
  return startCredentialsServer({
    token: TOKEN,
    answer: () => ({ credentials: CREDENTIALS }),
    tls: {
      context: () => authority.serverContext(),
      hostNames: ["host.docker.internal", "localhost", "127.0.0.1"],
    },
  });
}

describe("https and plain http on one loopback port", () => {
  let home: ReturnType<typeof tempHome>;
  let authority: ContainerAuthority;
  let server: CredentialsServer;
  before(async () => {
    home = tempHome();
    authority = await loadContainerAuthority(home.env);
    server = await serverWith(authority);
  });
  after(async () => {
    await server?.close();
    home?.remove();
  });

  test("over TLS: the token and the Host are checked as over http; host.docker.internal only over TLS", async () => {
    const port = server.port;
    const ca = authority.certificate;
    const statuses = await Promise.all([
      httpsStatus(port, { ca, host: `host.docker.internal:${port}`, token: TOKEN }),
      httpsStatus(port, { ca, host: "host.docker.internal", token: TOKEN }),
      httpsStatus(port, { ca, host: `localhost:${port}`, token: TOKEN, servername: "localhost" }),
      httpsStatus(port, { ca, host: `host.docker.internal:${port}` }),
      httpsStatus(port, { ca, host: `host.docker.internal:${port}`, token: "x".repeat(43) }),
      httpsStatus(port, { ca, host: `evil.example:${port}`, token: TOKEN }),
    ]);
    assert.deepEqual(
      statuses.map((s) => s.status),
      [200, 200, 200, 403, 403, 403],
    );
    assert.equal(
      await plainStatus(port, `127.0.0.1:${port}`, TOKEN),
      200,
      "the host's plain http, same port",
    );
    assert.equal(
      await plainStatus(port, `host.docker.internal:${port}`, TOKEN),
      403,
      "a container's name over plain http",
    );
  });

  test("another install's CA does not vouch for this endpoint", async () => {
    const other = tempHome();
    try {
      const otherCa = (await loadContainerAuthority(other.env)).certificate;
      const { status } = await httpsStatus(server.port, {
        ca: otherCa,
        host: `host.docker.internal:${server.port}`,
        token: TOKEN,
      });
      assert.match(String(status), /SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER/);
    } finally {
      other.remove();
    }
  });

  test("a TLS handshake that never finishes holds its slot no longer than the tokenless deadline", async () => {
    const socket = connectTcp({ host: "127.0.0.1", port: server.port });
    const started = Date.now();
    await new Promise((resolve) => socket.once("connect", resolve));
    socket.write(Buffer.from([0x16, 0x03, 0x01])); // the start of a ClientHello, and no more
    const closedAt = await new Promise<number>((resolve) => {
      const timer = setTimeout(() => resolve(0), 9_000);
      socket.on("close", () => {
        clearTimeout(timer);
        resolve(Date.now());
      });
      socket.on("error", () => {});
    });
    socket.destroy();
    assert.notEqual(closedAt, 0, "still open after 9 s");
    assert.ok(closedAt - started < 4_500, `closed only after ${closedAt - started} ms`);
    assert.ok(closedAt - started >= TOKENLESS_DEADLINE_MS - 100);
  });
});

describe("exec --server --containers tls", () => {
  let sts: StsServer;
  let home: IsolatedEnv;
  before(async () => {
    sts = await startServerSts();
    home = await createServerHome(sts);
  });
  after(async () => {
    await home?.cleanup();
    await sts?.close();
  });

  test("the command gets the env file and the CA's directory; https with the CA answers the session's role", async () => {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", sts.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    // What a container would do with the two, here on the host: https://localhost:PORT with the mounted CA.
    const script = `
      echo "$AWSMFA_CONTAINER_CA"
      cat "$AWSMFA_CONTAINER_ENV"
      port=\${AWS_CONTAINER_CREDENTIALS_FULL_URI##*:}
      AWS_CONTAINER_CREDENTIALS_FULL_URI="https://localhost:$port" NODE_EXTRA_CA_CERTS="$AWSMFA_CONTAINER_CA/ca.pem" \\
        "$NODE" "$SDK_CALLS" http 0`;
    const run = await runAwsmfa(
      ["exec", "--server", "--containers", "tls", "-p", "admin", "--", "sh", "-c", script],
      {
        env: { ...home.env, NODE: process.execPath, SDK_CALLS: join(FIXTURES, "sdk-calls.cjs") },
      },
    );
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const lines = run.stdout.trim().split("\n");
    assert.equal(lines[0], join(home.home, ".aws", "awsmfa", "container-ca", "public"));
    assert.match(
      lines[1] ?? "",
      /^AWS_CONTAINER_CREDENTIALS_FULL_URI=https:\/\/host\.docker\.internal:\d+\/$/,
    );
    assert.ok(lines.includes("NODE_EXTRA_CA_CERTS=/run/awsmfa/ca.pem"));
    assert.deepEqual(JSON.parse(lines.at(-1) ?? "").arns, [ROLE_SESSION_ARN]);
  });
});

/** Debian's packaged SDK, in GOPATH mode: no module proxy needed. */
const GO_SDK_SOURCES = "/usr/share/gocode";
const goSkip =
  spawnSync("go", ["version"]).status !== 0
    ? "skipped: no Go toolchain (apt-get install golang-go golang-github-aws-aws-sdk-go-v2-dev)"
    : !existsSync(join(GO_SDK_SOURCES, "src/github.com/aws/aws-sdk-go-v2/config"))
      ? "skipped: no AWS SDK for Go v2 sources (apt-get install golang-github-aws-aws-sdk-go-v2-dev)"
      : false;

describe("the Go SDK v2 and the CA", { skip: goSkip }, () => {
  test("its container provider trusts the CA through SSL_CERT_DIR, not AWS_CA_BUNDLE", async () => {
    const home = tempHome();
    let server: CredentialsServer | undefined;
    try {
      const gopath = join(home.home, "gopath");
      const source = join(gopath, "src", "go-credentials");
      cpSync(join(FIXTURES, "go-credentials"), source, { recursive: true });
      const binary = join(home.home, "go-credentials");
      const built = spawnSync("go", ["build", "-o", binary, "."], {
        cwd: source,
        env: { ...process.env, GO111MODULE: "off", GOPATH: `${gopath}:${GO_SDK_SOURCES}` },
        encoding: "utf8",
      });
      assert.equal(built.status, 0, built.stderr);
      const authority = await loadContainerAuthority(home.env);
      server = await serverWith(authority);
      // localhost: the SDK packaged in Debian 12 (1.17) takes only a loopback host, https or not.
      const env = {
        PATH: process.env.PATH,
        HOME: home.home,
        AWS_REGION: "us-east-1",
        AWS_CONTAINER_CREDENTIALS_FULL_URI: `https://localhost:${server.port}/`,
        AWS_CONTAINER_AUTHORIZATION_TOKEN: TOKEN,
      };
      const run = (extra: NodeJS.ProcessEnv) =>
        new Promise<{ status: number; stdout: string }>((resolve) =>
          execFile(binary, [], { env: { ...env, ...extra }, timeout: 60_000 }, (error, stdout) =>
            resolve({ status: error ? Number(error.code) : 0, stdout }),
          ),
        );
      const trusted = await run({ SSL_CERT_DIR: authority.publicDir });
      assert.equal(trusted.status, 0, trusted.stdout);
      assert.match(trusted.stdout, new RegExp(`^${CREDENTIALS.accessKeyId} `));
      for (const extra of [{}, { AWS_CA_BUNDLE: join(authority.publicDir, "ca.pem") }]) {
        const refused = await run(extra);
        assert.notEqual(refused.status, 0, JSON.stringify(extra));
        assert.match(refused.stdout, /x509: certificate signed by unknown authority/);
      }
    } finally {
      await server?.close();
      home.remove();
    }
  });
});
