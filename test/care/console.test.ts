// `awsmfa console` against the strict STS server's federation endpoint (GET /federation on the
// same sts.server, AWSMFA_FEDERATION_URL): a role session becomes a sign-in token, then a login URL.
import assert from "node:assert/strict";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { beforeEach, describe, test } from "node:test";
import { freeLoopbackPort } from "../support/moto";
import { runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import { useStsWorld } from "../support/sts-world";

const ACCOUNT = "111111111111";
const SEED = randomBase32Seed();
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/grace`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const KEYS = { accessKeyId: "AKIAGRACEEXAMPLE0001", secretAccessKey: "grace/secret/key/EXAMPLE+0000000001" };
const CONFIG = `[profile grace]
mfa_serial = ${SERIAL}

[profile admin]
role_arn = ${ROLE}
source_profile = grace

[profile admin-direct]
role_arn = ${ROLE}
source_profile = grace
awsmfa_session = false
`;
const CREDENTIALS = `[grace]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;

const sts = useStsWorld({
  start: {
    accountId: ACCOUNT,
    users: [{ userName: "grace", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    roles: [{ arn: ROLE, maxSessionDuration: 43200 }],
  },
  config: CONFIG,
  credentials: CREDENTIALS,
});
let env: NodeJS.ProcessEnv;

beforeEach(() => {
  env = { ...sts.home.env, AWSMFA_FEDERATION_URL: `${sts.server.url}/federation` };
});

describe("console", () => {
  test("--print: a login URL with the token the federation endpoint granted for the role session", async () => {
    const result = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--token-code", sts.server.totp(SEED)],
      {
        env,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    const lines = result.stdout.trimEnd().split("\n");
    assert.equal(lines.length, 1, "one line: the URL");
    const url = new URL(lines[0] as string);
    assert.equal(`${url.origin}${url.pathname}`, `${sts.server.url}/federation`);
    assert.deepEqual([...url.searchParams.keys()], ["Action", "Issuer", "Destination", "SigninToken"]);
    assert.equal(url.searchParams.get("Action"), "login");
    assert.equal(url.searchParams.get("Issuer"), "awsmfa");
    assert.equal(url.searchParams.get("Destination"), "https://console.aws.amazon.com/");
    assert.equal(sts.server.signinTokens.length, 1);
    const grant = sts.server.signinTokens[0];
    assert.equal(url.searchParams.get("SigninToken"), grant?.signinToken);
    // A role assumed on the MFA session is role chaining: AWS allows a console session of an hour at most.
    assert.equal(grant?.sessionDuration, 3600);
    const roleSession = sts.server.issued.find((issued) => issued.accessKeyId === grant?.accessKeyId);
    assert.equal(roleSession?.kind, "AssumeRole");
    assert.equal(roleSession?.roleArn, ROLE);
    for (const issued of sts.server.issued) assert.ok(!result.stderr.includes(issued.sessionToken));
  });

  test("a role assumed directly with the code is not chained: a 12-hour console session by default", async () => {
    const result = await runAwsmfa(
      ["console", "-p", "admin-direct", "--print", "--token-code", sts.server.totp(SEED)],
      {
        env,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(sts.server.signinTokens[0]?.sessionDuration, 43200);
    assert.equal(sts.server.calls.GetSessionToken, undefined);
  });

  test("--duration: above an hour for a chained role is refused before any call, as AWS would refuse it", async () => {
    const refused = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--duration", "7200", "--token-code", "123456"],
      {
        env,
      },
    );
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, /role chaining/);
    assert.match(refused.stderr, /awsmfa_session = false/);
    assert.equal(sts.server.requests.length, 0);

    const ok = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--duration", "1800", "--token-code", sts.server.totp(SEED)],
      { env },
    );
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(sts.server.signinTokens[0]?.sessionDuration, 1800);
  });

  test("an IAM user's profile: why AWS does not allow it, and no call made", async () => {
    const result = await runAwsmfa(["console", "-p", "grace", "--print"], { env });
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, /GetSessionToken/);
    assert.match(result.stderr, /role/);
    assert.equal(result.stdout, "");
    assert.equal(sts.server.requests.length, 0);
  });

  test("a refusal from the federation endpoint is reported without the session's secrets", async () => {
    sts.server.setOption({
      failures: [
        { action: "getSigninToken", count: 1, status: 400, code: "FederationError", message: "nope" },
      ],
    });
    const result = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--token-code", sts.server.totp(SEED)],
      {
        env,
      },
    );
    assert.equal(result.status, 6, result.stderr);
    assert.match(result.stderr, /refused a console sign-in for profile 'admin': HTTP 400 \(nope\)/);
    for (const issued of sts.server.issued) {
      assert.ok(!result.stderr.includes(issued.sessionToken));
      assert.ok(!result.stderr.includes(issued.secretAccessKey));
    }
  });

  test("an unreachable federation endpoint is named, with AWSMFA_FEDERATION_URL, not STS's", async () => {
    const federation = `http://127.0.0.1:${await freeLoopbackPort()}/federation`;
    const result = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--token-code", sts.server.totp(SEED)],
      {
        env: { ...env, AWSMFA_FEDERATION_URL: federation },
      },
    );
    assert.equal(result.status, 7, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(`Could not reach ${federation} for profile 'admin': connection refused`),
    );
    assert.match(result.stderr, /AWSMFA_FEDERATION_URL/);
    assert.ok(!result.stderr.includes(sts.server.url), "the STS endpoint, which answered, is not blamed");
    assert.doesNotMatch(result.stderr, /AWS_ENDPOINT_URL/);
  });

  test("without --print the URL goes to the browser opener, not to stdout", async () => {
    const bin = mkdtempSync(join(tmpdir(), "awsmfa-opener-"));
    try {
      const record = join(bin, "opened");
      const opener = process.platform === "darwin" ? "open" : "xdg-open";
      writeFileSync(join(bin, opener), `#!/bin/sh\nprintf '%s' "$1" > '${record}'\n`);
      chmodSync(join(bin, opener), 0o755);
      const result = await runAwsmfa(["console", "-p", "admin", "--token-code", sts.server.totp(SEED)], {
        env: { ...env, PATH: `${bin}${delimiter}${env.PATH ?? ""}` },
      });
      assert.equal(result.status, 0, result.stderr);
      assert.equal(result.stdout, "");
      assert.match(result.stderr, /Opened the AWS console for profile 'admin'/);
      const opened = new URL(readFileSync(record, "utf8"));
      assert.equal(opened.searchParams.get("SigninToken"), sts.server.signinTokens[0]?.signinToken);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
