// `status` and `logout` for profiles over sessions the aws CLI signed in (`aws login`, IAM Identity
// Center), against the strict test server: status reads the CLI's token file and spends nothing;
// logout forgets awsmfa's role credentials and keeps the CLI's file unless --sign-out asks.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { chmod, readFile, symlink, unlink, writeFile } from "node:fs/promises";
import { dirname } from "node:path";
import { after, beforeEach, test } from "node:test";
import { pythonJson } from "../../src/session/sources/cli-json";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import {
  ACCOUNT,
  ADMIN_ROLE,
  START_URL,
  useSignInServer,
  writeLoginToken,
  writeSsoToken,
} from "../support/sign-in-world";

const signIns = useSignInServer();
let world: IsolatedEnv;

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  signIns.server.setOption({ roles: [{ arn: ADMIN_ROLE, maxSessionDuration: 7200 }] });
});
after(() => world?.cleanup());

/** dev: an aws login session; admin: a role on it; corp-dev: an Identity Center role; keys: an MFA user. */
async function writeConfig(loginSession: string): Promise<void> {
  await writeFile(
    world.configPath,
    `[profile dev]\nlogin_session = ${loginSession}\nregion = us-east-1\n\n` +
      `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = dev\n\n` +
      `[profile corp-dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
      `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = us-east-1\n`,
  );
}

interface SessionJson {
  type: string;
  profile: string;
  tokenFile: string;
  signInCommand: string;
  state: string;
  accessToken: { expiration: string; secondsLeft: number } | null;
  refreshToken: boolean;
  refreshUntil: { expiration: string; secondsLeft: number; basis: string } | null;
  problem?: string;
}
interface StatusJson {
  profiles: {
    profile: string;
    device: string | null;
    session?: SessionJson;
    steps: { type: string; profile: string; secondsLeft: number | null }[];
  }[];
}

async function status(): Promise<{ text: RunResult; json: StatusJson }> {
  const text = await runAwsmfa(["status"], { env: world.env });
  assert.equal(text.status, 0, text.stderr);
  const json = await runAwsmfa(["status", "--json"], { env: world.env });
  assert.equal(json.status, 0, json.stderr);
  return { text, json: JSON.parse(json.stdout) as StatusJson };
}

function rowOf(json: StatusJson, profile: string) {
  const row = json.profiles.find((candidate) => candidate.profile === profile);
  assert.ok(row, `no row for ${profile}`);
  return row;
}

function assertNoSecrets(result: RunResult, secrets: string[]): void {
  for (const secret of secrets) {
    assert.ok(
      !result.stdout.includes(secret) && !result.stderr.includes(secret),
      "a secret reached the output",
    );
  }
}

test("status over an aws login session whose access token has ended: refreshed on next use, the 12 h window from the sign-in, nothing spent", async () => {
  const { loginSession, token, path } = await writeLoginToken(signIns.server, world.env, "alice", {
    accessTokenSeconds: -60,
  });
  await writeConfig(loginSession);
  const before = await readFile(path, "utf8");
  const { text, json } = await status();

  const dev = rowOf(json, "dev").session;
  assert.ok(dev);
  assert.equal(dev.type, "login-session");
  assert.equal(dev.state, "refreshable");
  assert.equal(dev.tokenFile, path);
  assert.equal(dev.accessToken?.secondsLeft, 0);
  assert.equal(dev.refreshToken, true);
  const window = dev.refreshUntil?.secondsLeft ?? 0;
  assert.ok(window > 11 * 3600 && window <= 12 * 3600, `refresh window: ${window} s`);
  assert.deepEqual(rowOf(json, "admin").session, dev, "the role's row names the session under it");
  assert.deepEqual(
    rowOf(json, "admin").steps.map((step) => [step.type, step.secondsLeft]),
    [["assume-role", null]],
  );
  assert.match(text.stdout, /^admin {2}\(aws login session\)$/m);
  assert.match(
    text.stdout,
    /^ {2}session {6}dev {18}access token expired, refreshed on next use; refreshable for 1[01] h \d+ min \(12 h from the sign-in at /m,
  );
  assert.ok(!/No session for|one code|Signed out: 'admin'/.test(text.stdout), text.stdout);

  // Reading is all it did: no call, the file as it was, no lock left beside it.
  assert.equal(signIns.server.requests.length, 0);
  assert.equal(await readFile(path, "utf8"), before);
  assert.deepEqual(readdirSync(dirname(path)), [path.split("/").at(-1)]);
  assertNoSecrets(text, [
    token.refreshToken,
    token.accessToken.secretAccessKey,
    token.dpopKey,
    token.idToken,
  ]);

  // Once a role is used, status shows it and the refreshed access token.
  const used = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env });
  assert.equal(used.status, 0, used.stderr);
  const later = (await status()).json;
  assert.equal(rowOf(later, "dev").session?.state, "valid");
  assert.ok((rowOf(later, "dev").session?.accessToken?.secondsLeft ?? 0) > 600);
  assert.ok((rowOf(later, "admin").steps[0]?.secondsLeft ?? 0) > 3000, "the role, cached");
});

test("status over an Identity Center session: the access token, the refresh token and the registration; a spent one without refresh says how to sign in", async () => {
  const { loginSession } = await writeLoginToken(signIns.server, world.env, "alice");
  await writeConfig(loginSession);
  const { token, path } = await writeSsoToken(signIns.server, world.env, "alice", "corp", {
    startUrl: START_URL,
  });
  const { text, json } = await status();
  const corp = rowOf(json, "corp-dev").session;
  assert.ok(corp);
  assert.equal(corp.type, "sso");
  assert.equal(corp.state, "valid");
  assert.equal(corp.tokenFile, path);
  assert.equal(corp.signInCommand, "aws sso login --sso-session corp");
  assert.ok((corp.accessToken?.secondsLeft ?? 0) > 3000);
  assert.equal(corp.refreshToken, true);
  assert.ok((corp.refreshUntil?.secondsLeft ?? 0) > 89 * 86400, "the 90-day client registration");
  assert.match(text.stdout, /^corp-dev {2}\(IAM Identity Center session\)$/m);
  assert.match(
    text.stdout,
    /access token (59|60) min left; refreshable for (89|90) days \(until the client registration ends\)/,
  );
  assertNoSecrets(text, [token.accessToken, token.refreshToken, token.clientSecret]);

  // The older form of the file: no refresh token, and the access token has ended.
  const { refreshToken: _, clientId: __, clientSecret: ___, registrationExpiresAt: ____, ...legacy } = token;
  await writeFile(path, pythonJson({ ...legacy, expiresAt: new Date(Date.now() - 60_000).toISOString() }));
  const ended = await status();
  assert.equal(rowOf(ended.json, "corp-dev").session?.state, "ended");
  assert.equal(rowOf(ended.json, "corp-dev").session?.refreshToken, false);
  assert.match(ended.text.stdout, /ended: access token expired; no refresh token$/m);
  assert.match(
    ended.text.stdout,
    /^Signed out: 'corp-dev'\. `aws sso login --sso-session corp` signs in again \(`awsmfa login -p corp-dev` runs it for you\)\.$/m,
  );
  assert.equal(signIns.server.requests.length, 0);
});

test("status with no token file, one past its 12 hours, and one that is a FIFO: each says so and names the sign-in command, without hanging", async () => {
  const loginSession = `arn:aws:iam::${ACCOUNT}:user/alice`;
  await writeConfig(loginSession);
  world.env.DISPLAY = ":0";
  const missing = await status();
  const dev = rowOf(missing.json, "dev").session;
  assert.equal(dev?.state, "missing");
  assert.match(dev?.problem ?? "", /there is no aws login session for it/);
  assert.match(missing.text.stdout, /^ {2}session {6}dev {18}not signed in: /m);
  assert.match(
    missing.text.stdout,
    /^Signed out: 'admin', 'dev'\. `aws login --profile dev` signs in again \(`awsmfa login -p dev` runs it for you\)\.$/m,
  );

  // Signed in 13 hours ago (the ID token's iat): the access token is over and so is refreshing.
  const { token, path } = await writeLoginToken(signIns.server, world.env, "alice", {
    accessTokenSeconds: -60,
  });
  const iat = Math.floor(Date.now() / 1000) - 13 * 3600;
  const idToken = `${Buffer.from('{"alg":"none"}').toString("base64url")}.${Buffer.from(JSON.stringify({ sub: loginSession, iat })).toString("base64url")}.`;
  await writeFile(path, pythonJson({ ...token, idToken }));
  const over = await status();
  assert.equal(rowOf(over.json, "dev").session?.state, "ended");
  assert.equal(rowOf(over.json, "dev").session?.refreshUntil?.secondsLeft, 0);
  assert.match(over.text.stdout, /Signed out: 'admin', 'dev'\. `aws login --profile dev` signs in again/);
  assert.match(
    over.text.stdout,
    /ended: access token expired; no longer refreshable \(12 h from the sign-in at /,
  );

  // Without a display (and over SSH) the command is the one for a browser elsewhere.
  delete world.env.DISPLAY;
  world.env.SSH_CONNECTION = "192.0.2.1 50000 192.0.2.2 22";
  const remote = await status();
  assert.equal(rowOf(remote.json, "dev").session?.signInCommand, "aws login --profile dev --remote");

  await unlink(path);
  execFileSync("mkfifo", ["-m", "600", path]);
  const fifo = await status();
  assert.equal(rowOf(fifo.json, "dev").session?.state, "missing");
  assert.match(rowOf(fifo.json, "dev").session?.problem ?? "", /is a FIFO, not a regular file/);
});

test("logout over an aws login session forgets awsmfa's role credentials and its copy of the session and keeps the aws CLI's file; --sign-out deletes it under the refresh lock", async () => {
  const { loginSession, path } = await writeLoginToken(signIns.server, world.env, "alice");
  await writeConfig(loginSession);
  world.env.DISPLAY = ":0";
  assert.equal((await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env })).status, 0);

  const kept = await runAwsmfa(["logout", "-p", "admin"], { env: world.env });
  assert.equal(kept.status, 0, kept.stderr);
  assert.match(
    kept.stderr,
    /Forgot 2 cached steps of profile 'admin':\n.*the role arn:aws:iam::111122223333:role\/Admin of profile 'admin'\n.*awsmfa's copy of the aws login session of profile 'dev' \(the aws CLI's token file stays\)\n/,
  );
  assert.match(
    kept.stderr,
    /The aws login session of profile 'dev' stays signed in: its token file belongs to the aws CLI \(`awsmfa logout -p admin --sign-out` deletes it\)/,
  );
  assert.ok(existsSync(path), "the aws CLI's token file is kept");

  // A role cached again, then signed out: the file goes, the role's credentials too, and the other profile is named.
  assert.equal((await runAwsmfa(["credential-process", "-p", "admin"], { env: world.env })).status, 0);
  const signedOut = await runAwsmfa(["logout", "-p", "dev", "--sign-out"], { env: world.env });
  assert.equal(signedOut.status, 0, signedOut.stderr);
  assert.ok(!existsSync(path), "the token file is deleted");
  assert.match(
    signedOut.stderr,
    /awsmfa's copy of the aws login session of profile 'dev'\n/,
    "not said to stay",
  );
  assert.deepEqual(readdirSync(dirname(path)), [], "and no lock left beside it");
  assert.match(
    signedOut.stderr,
    /Signed out of the aws login session of profile 'dev': deleted .*, so `aws` is signed out of it too/,
  );
  assert.match(signedOut.stderr, /`aws login --profile dev` signs in again/);
  assert.match(
    signedOut.stderr,
    /'admin' keeps its cached role credentials until .*, then needs `aws login --profile dev`/,
  );

  const again = await runAwsmfa(["logout", "-p", "dev", "--sign-out"], { env: world.env });
  assert.equal(again.status, 0, again.stderr);
  assert.match(again.stderr, /was already signed out/);
});

test("logout --sign-out refuses what it may not delete, and what has no session", async () => {
  const { loginSession, token, path } = await writeLoginToken(signIns.server, world.env, "alice");
  await writeConfig(loginSession);
  await writeFile(
    world.configPath,
    `${await readFile(world.configPath, "utf8")}\n[profile keys]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = secret\nmfa_serial = arn:aws:iam::${ACCOUNT}:mfa/alice\n`,
  );
  // A link in the token file's place: refused, the link and its target left as they are.
  const target = `${path}.elsewhere`;
  await writeFile(target, pythonJson(token), { mode: 0o600 });
  await unlink(path);
  await symlink(target, path);
  const link = await runAwsmfa(["logout", "-p", "dev", "--sign-out"], { env: world.env });
  assert.equal(link.status, 9, link.stderr);
  assert.match(link.stderr, /is not a regular file; it was left in place/);
  assert.ok(existsSync(path) && existsSync(target));
  await chmod(target, 0o600);

  const keys = await runAwsmfa(["logout", "-p", "keys", "--sign-out"], { env: world.env });
  assert.equal(keys.status, 2, keys.stderr);
  assert.match(keys.stderr, /Profile 'keys' has no aws login or IAM Identity Center session to sign out of/);
  for (const args of [
    ["logout", "--all", "--sign-out"],
    ["logout", "-p", "dev", "--sign-out", "--role-only"],
  ]) {
    const refused = await runAwsmfa(args, { env: world.env });
    assert.equal(refused.status, 2, `${args.join(" ")}: ${refused.stderr}`);
  }
  const roleOnly = await runAwsmfa(["logout", "-p", "dev", "--role-only"], { env: world.env });
  assert.equal(roleOnly.status, 2, roleOnly.stderr);
  assert.match(
    roleOnly.stderr,
    /Profile 'dev' has no role of its own: its cached step is awsmfa's copy of the aws login session\./,
  );
  assert.ok(existsSync(target));
});
