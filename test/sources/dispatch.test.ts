// The dispatcher over session sources: the SSO leaf config/plan.ts makes today, and a login leaf,
// reach the right token file, the right sign-in command and, against the test server, credentials.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { parseProfileFiles } from "../../src/config/ini";
import { resolvePlan } from "../../src/config/plan";
import { pythonJson } from "../../src/session/sources/cli-json";
import {
  identityParts,
  readSessionCredentials,
  type SessionLeaf,
  signInCommand,
  tokenFilePath,
} from "../../src/session/sources/index";
import { cacheableSteps } from "../../src/session/steps";
import { createIsolatedEnv } from "../support/env";
import { ACCOUNT, callerArn, useSignInServer } from "../support/sign-in-world";

const signIns = useSignInServer();

const CONFIG = `[profile corp-dev]
sso_session = corp
sso_account_id = ${ACCOUNT}
sso_role_name = Dev

[profile legacy]
sso_start_url = https://d-legacy.awsapps.com/start
sso_region = eu-west-1
sso_account_id = ${ACCOUNT}
sso_role_name = Dev

[sso-session corp]
sso_start_url = https://d-1234567890.awsapps.com/start
sso_region = us-east-1
`;

function ssoLeafOf(profile: string): SessionLeaf {
  const plan = resolvePlan(parseProfileFiles({ path: "config", text: CONFIG }), profile);
  assert.equal(plan.leaf.type, "sso");
  return plan.leaf as SessionLeaf;
}

test("the SSO leaves of today's plan name the CLI's file and command: by session name, or by start URL in the older form", () => {
  const env = { HOME: "/home/alice" };
  const sha1 = (text: string) => createHash("sha1").update(text).digest("hex");
  const corp = ssoLeafOf("corp-dev");
  assert.equal(tokenFilePath(corp, env), `/home/alice/.aws/sso/cache/${sha1("corp")}.json`);
  assert.equal(signInCommand(corp, env), "aws sso login --sso-session corp");
  const legacy = ssoLeafOf("legacy");
  assert.equal(
    tokenFilePath(legacy, env),
    `/home/alice/.aws/sso/cache/${sha1("https://d-legacy.awsapps.com/start")}.json`,
  );
  assert.equal(signInCommand(legacy, env), "aws sso login --profile legacy");
  assert.notDeepEqual(identityParts(corp), identityParts(legacy));
});

test("a login leaf: the file by SHA-256 of login_session under AWS_LOGIN_CACHE_DIRECTORY; credentials through the dispatcher", async () => {
  const world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  try {
    const { loginSession, token } = signIns.server.signin.signIn("alice", { accessTokenSeconds: -60 });
    world.env.AWS_LOGIN_CACHE_DIRECTORY = join(world.home, "login-cache");
    const leaf: SessionLeaf = {
      type: "login-session",
      profile: "dev",
      detail: { login_session: loginSession },
    };
    const path = tokenFilePath(leaf, world.env);
    assert.equal(
      path,
      join(world.home, "login-cache", `${createHash("sha256").update(loginSession).digest("hex")}.json`),
    );
    assert.equal(signInCommand(leaf, { DISPLAY: ":0" }), "aws login --profile dev");
    assert.deepEqual(identityParts(leaf), ["login-session", loginSession]);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, pythonJson(token), { mode: 0o600 });
    const { credentials } = await readSessionCredentials(leaf, world.env, { region: "us-east-1" });
    assert.equal(signIns.server.accepted.CreateOAuth2Token, 1);
    assert.equal(await callerArn(signIns.server, credentials), `arn:aws:iam::${ACCOUNT}:user/alice`);
  } finally {
    await world.cleanup();
  }
});

test("roles over one session share awsmfa's cache entry whatever profile names the session; another session, another entry", () => {
  const user = `arn:aws:iam::${ACCOUNT}:user/alice`;
  const config = (session: string) =>
    `[profile a]\nlogin_session = ${user}\n\n[profile b]\nlogin_session = ${session}\n\n` +
    `[profile ra]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Admin\nsource_profile = a\n\n` +
    `[profile rb]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Admin\nsource_profile = b\n`;
  const key = (text: string, profile: string) =>
    cacheableSteps(resolvePlan(parseProfileFiles({ path: "config", text }), profile))?.at(-1)?.key;
  const same = config(user);
  assert.ok(key(same, "ra"));
  assert.equal(key(same, "ra"), key(same, "rb"));
  const other = config(`arn:aws:iam::${ACCOUNT}:user/bob`);
  assert.notEqual(key(other, "ra"), key(other, "rb"));
  const alone = cacheableSteps(resolvePlan(parseProfileFiles({ path: "config", text: same }), "a"));
  assert.deepEqual(
    alone?.map(({ step }) => step.type),
    ["login-session"],
    "the session alone: awsmfa's copy of it, for the warm path",
  );
});
