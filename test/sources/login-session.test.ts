// `aws login` sessions as a source of base credentials, against the strict test server's sign-in
// endpoint and the AWS SDK's own login provider: many processes, one refresh; the token file stays
// the aws CLI's, so the SDK and awsmfa keep taking turns on it.
import assert from "node:assert/strict";
import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { dirname, join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { fromLoginCredentials } from "@aws-sdk/credential-providers";
import { pythonJson } from "../../src/session/sources/cli-json";
import { loginTokenPath } from "../../src/session/sources/login-session";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import type { RunResult } from "../support/run-awsmfa";
import { ACCOUNT, asCliWouldWrite, callerArn, useSignInServer } from "../support/sign-in-world";
import type { LoginSignIn, LoginTokenFile } from "../support/signin-server";
import { useSourceFixture } from "./fixture";

const PROFILE = "dev";
const PROCESSES = 50;

const signIns = useSignInServer();
let world: IsolatedEnv;
const fixture = useSourceFixture();

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  world.env.AWS_LOGIN_CACHE_DIRECTORY = join(world.home, ".aws", "login", "cache");
});
after(() => world?.cleanup());

/** `aws login` as the CLI leaves it: the token file, one line of Python's json.dumps, mode 0600. */
async function signIn(
  options: { accessTokenSeconds?: number } = {},
): Promise<LoginSignIn & { path: string }> {
  const signedIn = signIns.server.signin.signIn("alice", options);
  const path = loginTokenPath(signedIn.loginSession, world.env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pythonJson(signedIn.token), { mode: 0o600 });
  return { ...signedIn, path };
}

function readLogin(loginSession: string, extraEnv: NodeJS.ProcessEnv = {}): Promise<RunResult> {
  return fixture.run(
    "login",
    { profile: PROFILE, loginSession, region: "us-east-1" },
    { ...world.env, ...extraEnv },
  );
}

function assertNoSecrets(result: RunResult, token: LoginTokenFile): void {
  for (const secret of [
    token.refreshToken,
    token.dpopKey.split("\n")[1] ?? "",
    token.accessToken.secretAccessKey,
  ]) {
    assert.ok(
      !result.stdout.includes(secret) && !result.stderr.includes(secret),
      "a secret reached the output",
    );
  }
}

test("a session with time left is read as it is: no call to Sign-In, the file untouched", async () => {
  const { loginSession, token, path } = await signIn();
  const before = await readFile(path, "utf8");
  const result = await readLogin(loginSession);
  assert.equal(result.status, 0, result.stderr);
  const credentials = JSON.parse(result.stdout) as { accessKeyId: string; expiration: string };
  assert.equal(credentials.accessKeyId, token.accessToken.accessKeyId);
  assert.equal(credentials.expiration, token.accessToken.expiresAt);
  assert.equal(signIns.server.calls.CreateOAuth2Token, undefined);
  assert.equal(await readFile(path, "utf8"), before);
});

test(`${PROCESSES} processes on an expired session: all get credentials, one refresh, no refresh token spent twice; the file stays the CLI's`, async () => {
  const { loginSession, token, path } = await signIn({ accessTokenSeconds: -60 });
  // The refresh takes a while, so that the others arrive while it is under way.
  signIns.server.setOption({ latencyMs: 500 });
  const startAt = String(Date.now() + 3000);
  const results = await Promise.all(
    Array.from({ length: PROCESSES }, () => readLogin(loginSession, { FIXTURE_START_AT: startAt })),
  );
  signIns.server.setOption({ latencyMs: 0 });
  for (const result of results) {
    assert.equal(result.status, 0, result.stderr);
    assertNoSecrets(result, token);
  }
  const keys = new Set(
    results.map((result) => (JSON.parse(result.stdout) as { accessKeyId: string }).accessKeyId),
  );
  assert.equal(keys.size, 1, "every process got the one refreshed session");
  assert.equal(signIns.server.calls.CreateOAuth2Token, 1);
  assert.equal(signIns.server.accepted.CreateOAuth2Token, 1);
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);

  const text = await readFile(path, "utf8");
  assert.equal(text, asCliWouldWrite(text), "written exactly as the aws CLI writes it");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
  const written = JSON.parse(text) as LoginTokenFile;
  assert.deepEqual(Object.keys(written), Object.keys(token), "every field kept, in its order");
  assert.deepEqual(Object.keys(written.accessToken), Object.keys(token.accessToken));
  assert.notEqual(written.refreshToken, token.refreshToken);
  assert.equal(written.dpopKey, token.dpopKey);
  assert.equal(written.idToken, token.idToken);
  assert.match(written.accessToken.expiresAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  assert.equal(written.accessToken.accessKeyId, [...keys][0]);
  assert.equal(await callerArn(signIns.server, written.accessToken), `arn:aws:iam::${ACCOUNT}:user/alice`);
});

test("the SDK's fromLoginCredentials and awsmfa take turns on one file, each refreshing from what the other wrote", async () => {
  const { loginSession, path } = await signIn({ accessTokenSeconds: -60 });
  await writeFile(
    world.configPath,
    `[profile ${PROFILE}]\nlogin_session = ${loginSession}\nregion = us-east-1\n`,
  );
  // Every refresh from here on is already inside the 5-minute margin, so the next reader refreshes again.
  signIns.server.signin.refreshedLifetimeSeconds = 120;

  const first = await readLogin(loginSession);
  assert.equal(first.status, 0, first.stderr);
  assert.equal(signIns.server.accepted.CreateOAuth2Token, 1);

  const saved = process.env;
  process.env = { ...world.env };
  try {
    const sdk = await fromLoginCredentials({ profile: PROFILE })();
    assert.equal(
      signIns.server.accepted.CreateOAuth2Token,
      2,
      "the SDK refreshed with the token awsmfa wrote",
    );
    assert.equal(await callerArn(signIns.server, sdk), `arn:aws:iam::${ACCOUNT}:user/alice`);
    const sdkText = await readFile(path, "utf8");
    assert.match(sdkText, /"expiresAt": "[^"]+\.\d{3}Z"/, "the SDK writes milliseconds");

    const second = await readLogin(loginSession);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(
      signIns.server.accepted.CreateOAuth2Token,
      3,
      "awsmfa refreshed with the token the SDK wrote",
    );
    const credentials = JSON.parse(second.stdout) as {
      accessKeyId: string;
      secretAccessKey: string;
      sessionToken: string;
    };
    assert.equal(await callerArn(signIns.server, credentials), `arn:aws:iam::${ACCOUNT}:user/alice`);
    const text = await readFile(path, "utf8");
    assert.equal(text, asCliWouldWrite(text));
    assert.equal(signIns.server.signin.reusedRefreshTokens, 0);
  } finally {
    process.env = saved;
  }
});

test("a session whose refresh window is over: its own exit status, the command that signs in again, no secret shown", async () => {
  const { loginSession, token } = await signIn({ accessTokenSeconds: -60 });
  signIns.server.signin.endRefreshWindow("alice");
  const result = await readLogin(loginSession);
  assert.equal(result.status, 10, result.stderr);
  const error = JSON.parse(result.stderr) as { code: string; message: string; hint?: string };
  assert.equal(error.code, "login-session-ended");
  assert.match(error.message, /profile 'dev'/);
  assert.match(
    error.message,
    /`aws login --profile dev( --remote)?`/,
    "one line: the profile and the command",
  );
  // The --remote form for a browser elsewhere: in the message where awsmfa sees no browser, else in the hint.
  if (error.message.includes("--remote`")) assert.equal(error.hint, undefined);
  else assert.match(error.hint ?? "", /`aws login --profile dev --remote`/);
  assertNoSecrets(result, token);
});

test("no token file: told to sign in, with the same exit status", async () => {
  const result = await readLogin(`arn:aws:iam::${ACCOUNT}:user/nobody`);
  assert.equal(result.status, 10, result.stderr);
  const error = JSON.parse(result.stderr) as { code: string; message: string };
  assert.equal(error.code, "session-missing");
  assert.match(error.message, /^Profile 'dev' .*`aws login --profile dev( --remote)?`/);
});

test("Sign-In unreachable: the access credentials still left are used; once they have ended, a network error (exit 7)", async () => {
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as AddressInfo;
      probe.close(() => resolve(port));
    });
  });
  const unreachable = { AWS_ENDPOINT_URL_SIGNIN: `http://127.0.0.1:${closed}` };
  const { loginSession, token } = await signIn({ accessTokenSeconds: 120 });
  const kept = await readLogin(loginSession, unreachable);
  assert.equal(kept.status, 0, kept.stderr);
  assert.equal(
    (JSON.parse(kept.stdout) as { accessKeyId: string }).accessKeyId,
    token.accessToken.accessKeyId,
  );

  const expired = await signIn({ accessTokenSeconds: -60 });
  const failed = await readLogin(expired.loginSession, unreachable);
  assert.equal(failed.status, 7, failed.stderr);
  assertNoSecrets(failed, expired.token);
});
