// `awsmfa plan` over sessions the aws CLI signed in: the source is named, the sign-in command given,
// the one-hour cap shown for a role assumed with a role's session; nothing is called.
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";

const CONFIG = `[profile dev]
login_session = arn:aws:iam::111122223333:user/alice
region = eu-west-1

[profile admin]
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = dev
duration_seconds = 7200

[profile corp-dev]
sso_session = corp
sso_account_id = 111122223333
sso_role_name = Dev

[profile corp-admin]
role_arn = arn:aws:iam::111122223333:role/Admin
source_profile = corp-dev

[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
`;

let world: IsolatedEnv;
before(async () => {
  // Nothing listens there: plan calls nobody.
  world = await createIsolatedEnv({ endpointUrl: "http://127.0.0.1:9", config: CONFIG });
});
after(() => world.cleanup());

test("a role over an aws login session: the session named, no code, the role's own duration (an IAM user's session is not chained)", async () => {
  const result = await runAwsmfa(["plan", "-p", "admin"], { env: world.env });
  assert.equal(result.status, 0, result.stderr);
  assert.match(
    result.stdout,
    /^ {2}1\. aws login session arn:aws:iam::111122223333:user\/alice from profile 'dev' — not cached$/m,
  );
  assert.match(result.stdout, /^ {2}2\. assume \S+ for profile 'admin' \(7200 s\) — not cached$/m);
  assert.match(result.stdout, /no code.*`aws login --profile dev( --remote)?`/);
  const json = JSON.parse((await runAwsmfa(["plan", "-p", "admin", "--json"], { env: world.env })).stdout);
  assert.deepEqual(json.steps[0], {
    type: "login-session",
    profile: "dev",
    login_session: "arn:aws:iam::111122223333:user/alice",
    region: "eu-west-1",
    cache: null,
  });
  assert.equal(json.steps[1].maxDurationSeconds, undefined);
  assert.equal(json.asksForCode, false);
});

test("a role over an Identity Center session: capped at an hour (role chaining), in text and JSON", async () => {
  const result = await runAwsmfa(["plan", "-p", "corp-admin"], { env: world.env });
  assert.equal(result.status, 0, result.stderr);
  assert.match(result.stdout, /IAM Identity Center role Dev in account 111122223333 \(sso-session 'corp'\)/);
  assert.match(result.stdout, /for profile 'corp-admin' \(at most 3600 s: role chaining\)/);
  assert.match(result.stdout, /`aws sso login --sso-session corp`/);
  const json = JSON.parse(
    (await runAwsmfa(["plan", "-p", "corp-admin", "--json"], { env: world.env })).stdout,
  );
  assert.equal(json.steps[0].type, "sso");
  assert.equal(json.steps[1].maxDurationSeconds, 3600);
  assert.equal(json.asksForCode, false);
});
