// IAM Identity Center sessions as a source of base credentials, against the strict test server's
// SSO-OIDC and portal endpoints and the AWS SDK's own fromSSO: many processes, one refresh; the
// token file stays the aws CLI's, so the SDK and awsmfa keep taking turns on it.
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { after, beforeEach, test } from "node:test";
import { fromSSO } from "@aws-sdk/credential-providers";
import { pythonJson } from "../../src/session/sources/cli-json";
import { type SsoSessionSource, ssoTokenPath } from "../../src/session/sources/sso-session";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import type { RunResult } from "../support/run-awsmfa";
import { ACCOUNT, asCliWouldWrite, callerArn, START_URL, useSignInServer } from "../support/sign-in-world";
import type { SsoTokenFile } from "../support/sso-server";
import { useSourceFixture } from "./fixture";

const PROCESSES = 50;
const ROLE_ARN = /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_Dev_[0-9a-f]+\/alice$/;

const signIns = useSignInServer();
const fixture = useSourceFixture();
let world: IsolatedEnv;

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
});
after(() => world?.cleanup());

const SOURCE: SsoSessionSource = {
  profile: "dev",
  ssoSession: "corp",
  startUrl: START_URL,
  ssoRegion: "us-east-1",
  accountId: ACCOUNT,
  roleName: "Dev",
};

/** `aws sso login` as the CLI leaves it: the token file, one line of Python's json.dumps, mode 0600. */
async function ssoLogin(
  options: { accessTokenSeconds?: number } = {},
): Promise<{ token: SsoTokenFile; path: string }> {
  const token = signIns.server.sso.login("alice", { startUrl: START_URL, ...options });
  const path = ssoTokenPath(SOURCE, world.env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pythonJson(token), { mode: 0o600 });
  return { token, path };
}

function readSso(extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return fixture.run("sso", SOURCE, { ...world.env, ...extraEnv });
}

test(`${PROCESSES} processes on an expired Identity Center session: all get role credentials, one CreateToken, no refresh token spent twice`, async () => {
  const { token, path } = await ssoLogin({ accessTokenSeconds: -60 });
  signIns.server.setOption({ latencyMs: 500 });
  const startAt = String(Date.now() + 3000);
  const results = await Promise.all(
    Array.from({ length: PROCESSES }, () => readSso({ FIXTURE_START_AT: startAt })),
  );
  signIns.server.setOption({ latencyMs: 0 });
  for (const result of results) {
    assert.equal(result.status, 0, result.stderr);
    for (const secret of [token.refreshToken, token.clientSecret, token.accessToken]) {
      assert.ok(
        !result.stdout.includes(secret) && !result.stderr.includes(secret),
        "a secret reached the output",
      );
    }
  }
  assert.equal(signIns.server.calls.CreateToken, 1);
  assert.equal(signIns.server.sso.reusedRefreshTokens, 0);
  assert.equal(signIns.server.accepted.GetRoleCredentials, PROCESSES);
  const credentials = JSON.parse(results[0]?.stdout ?? "{}") as {
    accessKeyId: string;
    secretAccessKey: string;
  };
  assert.match((await callerArn(signIns.server, credentials)) ?? "", ROLE_ARN);

  const text = await readFile(path, "utf8");
  assert.equal(text, asCliWouldWrite(text), "written exactly as the aws CLI writes it");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const written = JSON.parse(text) as SsoTokenFile;
  assert.deepEqual(Object.keys(written), Object.keys(token), "the aws CLI's fields, in its order");
  assert.notEqual(written.refreshToken, token.refreshToken);
  assert.notEqual(written.accessToken, token.accessToken);
  assert.equal(written.registrationExpiresAt, token.registrationExpiresAt);
  assert.match(written.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test("the SDK's fromSSO and awsmfa take turns on one file, each refreshing from what the other wrote", async () => {
  const { path } = await ssoLogin({ accessTokenSeconds: -60 });
  await writeFile(
    world.configPath,
    `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
      `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = us-east-1\n`,
  );
  // Every refresh from here on is already inside the 5-minute margin, so the next reader refreshes again.
  signIns.server.sso.refreshedLifetimeSeconds = 120;

  const first = await readSso();
  assert.equal(first.status, 0, first.stderr);
  assert.equal(signIns.server.accepted.CreateToken, 1);

  const saved = process.env;
  process.env = { ...world.env };
  try {
    const sdk = await fromSSO({ profile: "dev" })();
    assert.equal(signIns.server.accepted.CreateToken, 2, "the SDK refreshed with the token awsmfa wrote");
    assert.match((await callerArn(signIns.server, sdk)) ?? "", ROLE_ARN);
    assert.match(await readFile(path, "utf8"), /"expiresAt": "[^"]+\.\d{3}Z"/, "the SDK writes milliseconds");

    const second = await readSso();
    assert.equal(second.status, 0, second.stderr);
    assert.equal(signIns.server.accepted.CreateToken, 3, "awsmfa refreshed with the token the SDK wrote");
    const text = await readFile(path, "utf8");
    assert.equal(text, asCliWouldWrite(text));
    assert.equal(signIns.server.sso.reusedRefreshTokens, 0);
  } finally {
    process.env = saved;
  }
});

test("a session whose refresh token is no longer good: its own exit status and the aws sso login command", async () => {
  const { token } = await ssoLogin({ accessTokenSeconds: -60 });
  signIns.server.sso.revokeRefreshTokens("alice");
  const result = await readSso();
  assert.equal(result.status, 10, result.stderr);
  const error = JSON.parse(result.stderr) as { code: string; message: string; hint: string };
  assert.equal(error.code, "sso-session-ended");
  assert.match(error.message, /profile 'dev'/);
  assert.match(error.message, /`aws sso login --sso-session corp`/);
  assert.ok(!result.stderr.includes(token.refreshToken));
});
