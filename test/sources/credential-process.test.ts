// credential-process, env and exec over sessions the aws CLI signed in, against the strict test
// server (sign-in, Identity Center, STS) and the AWS SDK's own providers: many processes on an
// expired session, one refresh and one AssumeRole; the token file stays shared with the SDK.
import assert from "node:assert/strict";
import { readFile, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { fromLoginCredentials, fromSSO } from "@aws-sdk/credential-providers";
import { pythonJson } from "../../src/session/sources/cli-json";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWS_CLI_SKIP_REASON, awsCliAvailable } from "../support/moto";
import { AWSMFA_COMMAND, type RunResult, runAwsmfa, runProcess } from "../support/run-awsmfa";
import {
  ACCOUNT,
  ADMIN_ROLE,
  asCliWouldWrite,
  callerArn,
  START_URL,
  useSignInServer,
  writeLoginToken,
  writeSsoToken,
} from "../support/sign-in-world";
import type { LoginTokenFile } from "../support/signin-server";
import type { SsoTokenFile } from "../support/sso-server";

const PROCESSES = 50;

const signIns = useSignInServer();
let world: IsolatedEnv;

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  world.env.AWS_LOGIN_CACHE_DIRECTORY = join(world.home, ".aws", "login", "cache");
  signIns.server.setOption({ roles: [{ arn: ADMIN_ROLE, maxSessionDuration: 7200 }] });
});
after(() => world?.cleanup());

/** `aws login` as the CLI leaves it, and profiles on it: dev (the session), admin (a role on it). */
async function loginWorld(
  options: { accessTokenSeconds?: number; durationSeconds?: number } = {},
): Promise<{ token: LoginTokenFile; path: string }> {
  const { loginSession, token, path } = await writeLoginToken(signIns.server, world.env, "alice", options);
  await writeFile(
    world.configPath,
    `[profile dev]\nlogin_session = ${loginSession}\nregion = us-east-1\n\n` +
      `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = dev\n` +
      (options.durationSeconds ? `duration_seconds = ${options.durationSeconds}\n` : ""),
  );
  return { token, path };
}

/** `aws sso login` as the CLI leaves it, and profiles on it: corp-dev (the Identity Center role), corp-admin. */
async function ssoWorld(
  options: { accessTokenSeconds?: number } = {},
): Promise<{ token: SsoTokenFile; path: string }> {
  const { token, path } = await writeSsoToken(signIns.server, world.env, "alice", "corp", {
    startUrl: START_URL,
    ...options,
  });
  await writeFile(
    world.configPath,
    `[profile corp-dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
      `[profile corp-admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = corp-dev\nduration_seconds = 7200\n\n` +
      `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = us-east-1\n`,
  );
  return { token, path };
}

interface ProcessCredentials {
  Version: number;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

function credentialsOf(result: RunResult): {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
} {
  const json = JSON.parse(result.stdout) as ProcessCredentials;
  assert.equal(json.Version, 1);
  return {
    accessKeyId: json.AccessKeyId,
    secretAccessKey: json.SecretAccessKey,
    sessionToken: json.SessionToken,
  };
}

function assertNoSecrets(results: RunResult[], secrets: string[]): void {
  for (const result of results) {
    for (const secret of secrets) {
      assert.ok(
        !result.stdout.includes(secret) && !result.stderr.includes(secret),
        "a secret reached the output",
      );
    }
  }
}

/** All at once, each a credential-process as the aws CLI and the SDKs start it. */
function manyAtOnce(profile: string): Promise<RunResult[]> {
  return Promise.all(
    Array.from({ length: PROCESSES }, () =>
      runAwsmfa(["credential-process", "-p", profile], { env: world.env, timeoutMs: 110_000 }),
    ),
  );
}

async function withEnv<T>(env: NodeJS.ProcessEnv, work: () => Promise<T>): Promise<T> {
  const saved = process.env;
  process.env = { ...env };
  try {
    return await work();
  } finally {
    process.env = saved;
  }
}

test(`${PROCESSES} credential-process on a role over an expired aws login session: ${PROCESSES}/${PROCESSES}, one refresh, one AssumeRole; then the SDK and awsmfa take turns on the file`, async () => {
  const { token, path } = await loginWorld({ accessTokenSeconds: -60, durationSeconds: 7200 });
  signIns.server.setOption({ latencyMs: 300 });
  const results = await manyAtOnce("admin");
  signIns.server.setOption({ latencyMs: 0 });
  for (const result of results) assert.equal(result.status, 0, result.stderr);
  assertNoSecrets(results, [
    token.refreshToken,
    token.dpopKey.split("\n")[1] ?? "",
    token.accessToken.secretAccessKey,
  ]);
  assert.equal(new Set(results.map((result) => credentialsOf(result).accessKeyId)).size, 1);
  assert.equal(signIns.server.calls.CreateOAuth2Token, 1);
  assert.equal(signIns.server.calls.AssumeRole, 1);
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);
  const role = credentialsOf(results[0] as RunResult);
  assert.equal(
    await callerArn(signIns.server, role),
    `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/awsmfa-alice`,
  );
  const expiresIn =
    Date.parse((JSON.parse(results[0]?.stdout ?? "") as ProcessCredentials).Expiration) - Date.now();
  assert.ok(expiresIn > 3700_000, "an IAM user's aws login session is not chained: the role's own 2 hours");
  const text = await readFile(path, "utf8");
  assert.equal(text, asCliWouldWrite(text), "the token file as the aws CLI writes it");

  // The SDK's own provider reads what awsmfa wrote, and refreshes from it.
  signIns.server.signin.refreshedLifetimeSeconds = 120;
  const expire = JSON.parse(text) as LoginTokenFile;
  expire.accessToken.expiresAt = "2020-01-01T00:00:00Z";
  await writeFile(path, pythonJson(expire));
  const sdk = await withEnv(world.env, () => fromLoginCredentials({ profile: "dev" })());
  assert.equal(signIns.server.accepted.CreateOAuth2Token, 2, "the SDK refreshed with the token awsmfa wrote");
  assert.equal(await callerArn(signIns.server, sdk), `arn:aws:iam::${ACCOUNT}:user/alice`);
  // ...and awsmfa reads what the SDK wrote (milliseconds in expiresAt), refreshing in turn.
  assert.match(await readFile(path, "utf8"), /"expiresAt": "[^"]+\.\d{3}Z"/);
  // awsmfa's copy of the session from the runs above is of the file before the SDK rewrote it: not served.
  const leaf = await runAwsmfa(["credential-process", "-p", "dev"], { env: world.env });
  assert.equal(leaf.status, 0, leaf.stderr);
  assert.equal(signIns.server.accepted.CreateOAuth2Token, 3, "awsmfa refreshed with the token the SDK wrote");
  assert.equal(await callerArn(signIns.server, credentialsOf(leaf)), `arn:aws:iam::${ACCOUNT}:user/alice`);
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);
});

test(`${PROCESSES} credential-process on a role over an expired Identity Center session: one CreateToken, one GetRoleCredentials, one AssumeRole (capped at an hour); then fromSSO and awsmfa take turns`, async () => {
  const { token, path } = await ssoWorld({ accessTokenSeconds: -60 });
  signIns.server.setOption({ latencyMs: 300 });
  const results = await manyAtOnce("corp-admin");
  signIns.server.setOption({ latencyMs: 0 });
  for (const result of results) assert.equal(result.status, 0, result.stderr);
  assertNoSecrets(results, [token.refreshToken, token.clientSecret, token.accessToken]);
  assert.equal(new Set(results.map((result) => credentialsOf(result).accessKeyId)).size, 1);
  assert.equal(signIns.server.calls.CreateToken, 1);
  assert.equal(signIns.server.calls.GetRoleCredentials, 1);
  assert.equal(signIns.server.calls.AssumeRole, 1, "asked for 7200 s, took AWS's hour: no refused first try");
  assert.equal(signIns.server.sso.reusedRefreshTokens, 0);
  const role = credentialsOf(results[0] as RunResult);
  assert.match((await callerArn(signIns.server, role)) ?? "", /:assumed-role\/Admin\/awsmfa-alice$/);
  const text = await readFile(path, "utf8");
  assert.equal(text, asCliWouldWrite(text));

  signIns.server.sso.refreshedLifetimeSeconds = 120;
  const expire = JSON.parse(text) as SsoTokenFile;
  expire.expiresAt = "2020-01-01T00:00:00Z";
  await writeFile(path, pythonJson(expire));
  const sdk = await withEnv(world.env, () => fromSSO({ profile: "corp-dev" })());
  assert.equal(signIns.server.accepted.CreateToken, 2, "the SDK refreshed with the token awsmfa wrote");
  assert.match((await callerArn(signIns.server, sdk)) ?? "", /AWSReservedSSO_Dev_/);
  assert.match(await readFile(path, "utf8"), /"expiresAt": "[^"]+\.\d{3}Z"/);
  const leaf = await runAwsmfa(["credential-process", "-p", "corp-dev"], { env: world.env });
  assert.equal(leaf.status, 0, leaf.stderr);
  assert.equal(signIns.server.accepted.CreateToken, 3, "awsmfa refreshed with the token the SDK wrote");
  assert.match((await callerArn(signIns.server, credentialsOf(leaf))) ?? "", /AWSReservedSSO_Dev_/);
  assert.equal(signIns.server.sso.reusedRefreshTokens, 0);
});

test("a cached role over a session is answered from awsmfa's cache: no call at all, the token file untouched", async () => {
  const { path } = await loginWorld();
  const first = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env });
  assert.equal(first.status, 0, first.stderr);
  const calls = signIns.server.requests.length;
  const before = await readFile(path, "utf8");
  const again = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(again.stdout, first.stdout);
  assert.equal(signIns.server.requests.length, calls);
  assert.equal(await readFile(path, "utf8"), before);
});

test("env and exec hand out a role over an aws login session, and the session alone", async () => {
  await loginWorld();
  const env = await runAwsmfa(["env", "-p", "admin", "--shell", "bash"], { env: world.env });
  assert.equal(env.status, 0, env.stderr);
  assert.match(env.stdout, /^export AWS_ACCESS_KEY_ID='ASIA/m);
  assert.match(env.stdout, /^export AWS_REGION='us-east-1'$/m);
  const script =
    "process.stdout.write(process.env.AWS_ACCESS_KEY_ID + ' ' + process.env.AWS_SESSION_TOKEN.length)";
  for (const profile of ["admin", "dev"]) {
    const run = await runAwsmfa(["exec", "-p", profile, "--", process.execPath, "-e", script], {
      env: world.env,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stdout, /^ASIA\w+ \d+$/);
  }
});

test("a session that cannot be refreshed: one line naming the profile and the aws CLI command, exit 10", async () => {
  await loginWorld({ accessTokenSeconds: -60 });
  signIns.server.signin.endRefreshWindow("alice");
  const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env });
  assert.equal(result.status, 10, result.stderr);
  assert.equal(result.stdout, "");
  const [first] = result.stderr.split("\n");
  assert.match(
    first ?? "",
    /^awsmfa: .*profile 'dev'.*`aws login --profile dev( --remote)?`/,
    "one line names both",
  );

  await ssoWorld({ accessTokenSeconds: -60 });
  signIns.server.sso.revokeRefreshTokens("alice");
  const sso = await runAwsmfa(["credential-process", "-p", "corp-admin"], { env: world.env });
  assert.equal(sso.status, 10, sso.stderr);
  assert.match(
    sso.stderr.split("\n")[0] ?? "",
    /^awsmfa: .*profile 'corp-dev'.*`aws sso login --sso-session corp`/,
  );
});

test("the aws CLI v1, which cannot read login_session, signs with a role over it and with the session itself through credential_process", {
  skip: awsCliAvailable() ? false : AWS_CLI_SKIP_REASON,
}, async () => {
  await loginWorld({ accessTokenSeconds: -60 });
  const config = await readFile(world.configPath, "utf8");
  await writeFile(
    world.configPath,
    `${config}\n[profile tf-admin]\ncredential_process = ${AWSMFA_COMMAND} credential-process -p admin\nregion = us-east-1\n\n` +
      `[profile tf-dev]\ncredential_process = ${AWSMFA_COMMAND} credential-process -p dev\nregion = us-east-1\n`,
  );
  const expected = {
    "tf-admin": `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/awsmfa-alice`,
    "tf-dev": `arn:aws:iam::${ACCOUNT}:user/alice`,
  };
  for (const [profile, arn] of Object.entries(expected)) {
    const result = await runProcess(
      "aws",
      ["sts", "get-caller-identity", "--profile", profile, "--output", "json"],
      {
        env: world.env,
        timeoutMs: 60_000,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).Arn, arn);
  }
  assert.equal(signIns.server.accepted.CreateOAuth2Token, 1, "one refresh served both");
});

test("an Identity Center profile that names no account and role (a token profile) is refused with what it lacks", async () => {
  await writeFile(
    world.configPath,
    `[profile tok]\nsso_session = corp\n\n[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = us-east-1\n`,
  );
  const result = await runAwsmfa(["credential-process", "-p", "tok"], { env: world.env });
  assert.equal(result.status, 3, result.stderr);
  assert.match(result.stderr, /Profile 'tok' .*sso_account_id, sso_role_name/);
  assert.equal(signIns.server.requests.length, 0);
});

test("awsmfa's copy of an aws login session holds only while the aws CLI's token file is as it was read: a new sign-in is served from the new file, a sign-out at once ends it", async () => {
  const { path } = await loginWorld();
  const first = await runAwsmfa(["credential-process", "-p", "dev"], { env: world.env });
  assert.equal(first.status, 0, first.stderr);
  const again = await runAwsmfa(["credential-process", "-p", "dev"], { env: world.env });
  assert.equal(again.stdout, first.stdout, "answered from the copy");

  // `aws login` again (the same principal, a new session): the copy of the old file is not served.
  const { token } = await writeLoginToken(signIns.server, world.env, "alice");
  const signedIn = await runAwsmfa(["credential-process", "-p", "dev"], { env: world.env });
  assert.equal(signedIn.status, 0, signedIn.stderr);
  assert.equal(credentialsOf(signedIn).accessKeyId, token.accessToken.accessKeyId);
  assert.notEqual(credentialsOf(signedIn).accessKeyId, credentialsOf(first).accessKeyId);
  assert.equal(signIns.server.requests.length, 0, "read from the file: nothing to refresh");

  // `aws logout` deletes the file: signed out now, not when the copy would have expired.
  await unlink(path);
  const signedOut = await runAwsmfa(["credential-process", "-p", "dev"], { env: world.env });
  assert.equal(signedOut.status, 10, signedOut.stderr);
  assert.equal(signedOut.stdout, "");
  assert.match(
    signedOut.stderr,
    /^awsmfa: Profile 'dev' cannot be used: there is no aws login session for it/,
  );
});

test("awsmfa's copy of an Identity Center role's credentials holds only while the token file is as it was read: `aws sso logout` ends it at once", async () => {
  const { path } = await ssoWorld();
  const first = await runAwsmfa(["credential-process", "-p", "corp-dev"], { env: world.env });
  assert.equal(first.status, 0, first.stderr);
  const again = await runAwsmfa(["credential-process", "-p", "corp-dev"], { env: world.env });
  assert.equal(again.stdout, first.stdout);
  assert.equal(signIns.server.calls.GetRoleCredentials, 1, "the second answered from the copy");

  await unlink(path);
  const signedOut = await runAwsmfa(["credential-process", "-p", "corp-dev"], { env: world.env });
  assert.equal(signedOut.status, 10, signedOut.stderr);
  assert.equal(signedOut.stdout, "");
  assert.match(signedOut.stderr, /`aws sso login --sso-session corp`/);
});
