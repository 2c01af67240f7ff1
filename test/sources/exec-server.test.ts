// `awsmfa exec --server` over an aws login session: a job that outlives several access tokens is
// kept supplied, the session refreshed in the background (no code, no prompt), each refresh token
// spent once. The job is the AWS SDK for JavaScript through its default chain (the container endpoint).
import assert from "node:assert/strict";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, beforeEach, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";
import {
  ACCOUNT,
  ADMIN_ROLE,
  useSignInServer,
  writeLoginToken,
  writeSsoToken,
} from "../support/sign-in-world";

const SDK_CALLS = join(__dirname, "..", "server", "fixtures", "sdk-calls.cjs");
/** Seconds each access token (and each role session) lives: the job outlives several. */
const LIFETIME = 10;

const signIns = useSignInServer();
let world: IsolatedEnv;

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  signIns.server.setOption({ roles: [{ arn: ADMIN_ROLE }] });
  const { loginSession } = await writeLoginToken(signIns.server, world.env, "alice", {
    accessTokenSeconds: LIFETIME,
  });
  signIns.server.signin.refreshedLifetimeSeconds = LIFETIME;
  await writeFile(
    world.configPath,
    `[profile dev]\nlogin_session = ${loginSession}\nregion = us-east-1\n\n` +
      `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = dev\n`,
  );
});
after(() => world?.cleanup());

async function execServer(profile: string, seconds: number) {
  const run = await runAwsmfa(
    [
      "exec",
      "--server",
      "-p",
      profile,
      "--min-ttl",
      "2s",
      "--",
      process.execPath,
      SDK_CALLS,
      "chain",
      String(seconds),
      "250",
    ],
    { env: world.env, timeoutMs: 90_000 },
  );
  assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
  const summary = JSON.parse(run.stdout) as { calls: number; failures: string[]; arns: string[] };
  assert.deepEqual(summary.failures, [], "every call succeeded");
  assert.doesNotMatch(run.stderr, /Could not renew|MFA code/i, run.stderr);
  return summary;
}

test("the session alone: the job keeps working across access-token refreshes, each refresh token spent once", async () => {
  const summary = await execServer("dev", 3 * LIFETIME);
  assert.deepEqual(summary.arns, [`arn:aws:iam::${ACCOUNT}:user/alice`]);
  assert.ok(
    (signIns.server.accepted.CreateOAuth2Token ?? 0) >= 3,
    "refreshed in the background, several times",
  );
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);
});

test("a role over the session: re-minted from refreshed sessions, no gap", async () => {
  signIns.server.setOption({ sessionDurationOverrideSeconds: LIFETIME });
  const summary = await execServer("admin", 3 * LIFETIME);
  assert.equal(summary.arns.length, 1);
  assert.match(summary.arns[0] ?? "", /:assumed-role\/Admin\/awsmfa-alice$/);
  assert.ok((signIns.server.accepted.AssumeRole ?? 0) >= 3, "the role renewed several times");
  assert.ok((signIns.server.accepted.CreateOAuth2Token ?? 0) >= 2, "on refreshed sessions");
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);
});

test("an Identity Center role alone: its credentials renewed from refreshed access tokens, each refresh token spent once", async () => {
  const startUrl = "https://d-1234567890.awsapps.com/start";
  await writeSsoToken(signIns.server, world.env, "alice", "corp", { startUrl, accessTokenSeconds: LIFETIME });
  signIns.server.sso.refreshedLifetimeSeconds = LIFETIME;
  signIns.server.setOption({ sessionDurationOverrideSeconds: LIFETIME });
  await writeFile(
    world.configPath,
    `[profile corp-dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
      `[sso-session corp]\nsso_start_url = ${startUrl}\nsso_region = us-east-1\n`,
  );
  const summary = await execServer("corp-dev", 3 * LIFETIME);
  assert.equal(summary.arns.length, 1);
  assert.match(summary.arns[0] ?? "", /:assumed-role\/AWSReservedSSO_Dev_\w+\/alice$/);
  assert.ok(
    (signIns.server.accepted.GetRoleCredentials ?? 0) >= 3,
    "the role's credentials renewed several times",
  );
  assert.ok((signIns.server.accepted.CreateToken ?? 0) >= 2, "from refreshed access tokens");
  assert.equal(signIns.server.sso.reusedRefreshTokens, 0);
});
