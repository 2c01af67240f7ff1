// `awsmfa login` on a profile whose aws login / Identity Center session has ended: on a terminal it
// runs the aws CLI's own sign-in command, then carries on (the role assumed and cached); without a
// terminal it fails at once with exit 10 and the command. The `aws` here is a stand-in for the
// external aws CLI v2 (a shell script first on PATH that writes the token file as the CLI v2 does,
// 0600, one line of Python's json.dumps, from a sign-in the strict test server made): awsmfa's side
// of the exchange is a child process and a file, and no SDK is stubbed. The real aws CLI v1 of this
// machine is used where a CLI too old for `aws login` is the point.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { chmod, mkdir, readFile, stat, symlink, writeFile } from "node:fs/promises";
import { delimiter, dirname, join } from "node:path";
import { after, beforeEach, type TestContext, test } from "node:test";
import { pythonJson } from "../../src/session/sources/cli-json";
import { loginTokenPath } from "../../src/session/sources/login-session";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { findOnPath } from "../support/moto";
import { runAwsmfa, runAwsmfaOnTerminal } from "../support/run-awsmfa";
import {
  ACCOUNT,
  ADMIN_ROLE,
  START_URL,
  useSignInServer,
  writeLoginToken,
  writeSsoToken,
} from "../support/sign-in-world";

/** Where the stand-in finds what it writes, and where it notes how it was run. */
const STAGED = "staged-token.json";
const RAN = "aws-ran.log";

const signIns = useSignInServer();
let world: IsolatedEnv;

beforeEach(async () => {
  await world?.cleanup();
  world = await createIsolatedEnv({ endpointUrl: signIns.server.url });
  signIns.server.setOption({ roles: [{ arn: ADMIN_ROLE, maxSessionDuration: 7200 }] });
  await writeFile(
    world.configPath,
    `[profile dev]\nlogin_session = arn:aws:iam::${ACCOUNT}:user/alice\nregion = us-east-1\n\n` +
      `[profile admin]\nrole_arn = ${ADMIN_ROLE}\nsource_profile = dev\n\n` +
      `[profile corp-dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
      `[sso-session corp]\nsso_start_url = ${START_URL}\nsso_region = us-east-1\n`,
  );
});
after(() => world?.cleanup());

/**
 * A stand-in `aws` first on PATH: `--version` answers `version`; any other command line is noted
 * (with whether stdin and stdout are a terminal, and AWS_PROFILE), then the staged token goes to
 * `tokenPath` as the CLI v2 writes it (O_CREAT, 0600), and it exits with `status`.
 */
async function fakeAws(
  tokenPath: string,
  options: { version?: string; status?: number } = {},
): Promise<string> {
  const bin = join(world.home, "fake-bin");
  await mkdir(bin, { recursive: true });
  const staged = join(world.home, STAGED);
  const ran = join(world.home, RAN);
  await writeFile(
    join(bin, "aws"),
    `#!/bin/sh
if [ "$1" = "--version" ]; then echo "aws-cli/${options.version ?? "2.32.3"} Python/3.13.7 Linux/6.1.0 exe/x86_64.debian.12"; exit 0; fi
stdin=other; [ -t 0 ] && stdin=terminal
stdout=other; [ -t 1 ] && stdout=terminal
{
  echo "argv: $*"
  echo "stdin: $stdin"
  echo "stdout: $stdout"
  echo "AWS_PROFILE: \${AWS_PROFILE-unset}"
} >> '${ran}'
echo "Updated profile to use the new credentials."
mkdir -p '${dirname(tokenPath)}'
(umask 077; cat '${staged}' > '${tokenPath}')
exit ${options.status ?? 0}
`,
  );
  await chmod(join(bin, "aws"), 0o755);
  return bin;
}

function ranLog(): string {
  const path = join(world.home, RAN);
  return existsSync(path) ? readFileSync(path, "utf8") : "";
}

function skipWithoutScript(t: TestContext): boolean {
  if (findOnPath("script")) return false;
  t.skip("util-linux script not installed");
  return true;
}

test("on a terminal, a role over an aws login session whose refresh window is over: runs `aws login --profile dev --remote` on the terminal, then assumes the role", async (t) => {
  if (skipWithoutScript(t)) return;
  const { path } = await writeLoginToken(signIns.server, world.env, "alice", { accessTokenSeconds: -60 });
  signIns.server.signin.endRefreshWindow("alice");
  // What the browser sign-in gives the CLI: a new session of alice's.
  const fresh = signIns.server.signin.signIn("alice");
  await writeFile(join(world.home, STAGED), pythonJson(fresh.token));
  const bin = await fakeAws(path);
  const env = { ...world.env, PATH: `${bin}${delimiter}${world.env.PATH}`, AWS_PROFILE: "elsewhere" };

  const login = await runAwsmfaOnTerminal(["login", "-p", "admin"], { env });
  assert.equal(login.status, 0, login.stdout);
  assert.match(
    login.stdout,
    /The aws login session of profile 'dev' cannot be refreshed: .*; sign in again with `aws login --profile dev --remote`\. Running `aws login --profile dev --remote`…/,
  );
  assert.match(
    login.stdout,
    /Updated profile to use the new credentials\./,
    "the CLI's own output on the terminal",
  );
  assert.match(login.stdout, /Logged in: profile 'admin' as arn:aws:sts::111122223333:assumed-role\/Admin\//);
  assert.match(login.stdout, /session {2}aws login, refreshable for 1[12] h/);
  assert.equal(
    ranLog(),
    "argv: login --profile dev --remote\nstdin: terminal\nstdout: terminal\nAWS_PROFILE: unset\n",
    "run once, on the terminal, with the profile on its command line only",
  );
  assert.equal(signIns.server.accepted.AssumeRole, 1);
  assert.equal(signIns.server.signin.reusedRefreshTokens, 0);

  // Carried on as for an MFA login: the role is cached, served without another sign-in or call.
  const served = await runAwsmfa(["credential-process", "-p", "admin"], { env });
  assert.equal(served.status, 0, served.stderr);
  assert.equal(signIns.server.accepted.AssumeRole, 1);
  assert.equal((await readFile(path, "utf8")).length > 0, true);
});

test("never signed in, with a display: `aws login --profile dev` (no --remote) creates the file, and the session alone is the login", async (t) => {
  if (skipWithoutScript(t)) return;
  const fresh = signIns.server.signin.signIn("alice");
  world.env.AWS_LOGIN_CACHE_DIRECTORY = join(world.home, ".aws", "login", "cache");
  const path = loginTokenPath(fresh.loginSession, world.env);
  await writeFile(join(world.home, STAGED), pythonJson(fresh.token));
  const bin = await fakeAws(path);
  const env = { ...world.env, PATH: `${bin}${delimiter}${world.env.PATH}`, DISPLAY: ":0" };
  const login = await runAwsmfaOnTerminal(["login", "-p", "dev"], { env });
  assert.equal(login.status, 0, login.stdout);
  assert.match(login.stdout, /there is no aws login session for it .* Running `aws login --profile dev`…/);
  assert.match(login.stdout, /Logged in: profile 'dev' as arn:aws:iam::111122223333:user\/alice\./);
  assert.equal(ranLog().split("\n")[0], "argv: login --profile dev");
  assert.equal((await stat(path)).mode & 0o777, 0o600);
});

test("without a terminal: exit 10 at once, one line naming the profile and the command; the aws CLI is not run", async () => {
  const { path } = await writeLoginToken(signIns.server, world.env, "alice", { accessTokenSeconds: -60 });
  signIns.server.signin.endRefreshWindow("alice");
  const bin = await fakeAws(path);
  const env = { ...world.env, PATH: `${bin}${delimiter}${world.env.PATH}`, DISPLAY: ":0" };
  const login = await runAwsmfa(["login", "-p", "admin"], { env });
  assert.equal(login.status, 10, login.stderr);
  assert.match(login.stderr, /profile 'dev'/);
  assert.match(login.stderr, /`aws login --profile dev`/);
  assert.equal(ranLog(), "", "nothing was run");
});

test("a session that is still good needs no sign-in; --token-code and --duration are refused, not ignored", async () => {
  const { path } = await writeLoginToken(signIns.server, world.env, "alice");
  const bin = await fakeAws(path);
  const env = { ...world.env, PATH: `${bin}${delimiter}${world.env.PATH}` };
  const login = await runAwsmfa(["login", "-p", "dev"], { env });
  assert.equal(login.status, 0, login.stderr);
  assert.match(login.stderr, /Logged in: profile 'dev' as arn:aws:iam::111122223333:user\/alice\./);
  assert.match(login.stderr, /user {5}alice/);
  assert.equal(ranLog(), "");
  for (const flag of [
    ["--token-code", "123456"],
    ["--duration", "3600"],
  ]) {
    const refused = await runAwsmfa(["login", "-p", "admin", ...flag], { env });
    assert.equal(refused.status, 2, refused.stderr);
    assert.match(refused.stderr, new RegExp(`${flag[0]} does not apply`));
  }
});

test("Identity Center on a terminal: `aws sso login --sso-session corp`, then the role's credentials", async (t) => {
  if (skipWithoutScript(t)) return;
  const { path, token } = await writeSsoToken(signIns.server, world.env, "alice", "corp", {
    startUrl: START_URL,
    accessTokenSeconds: -60,
  });
  signIns.server.sso.revokeRefreshTokens("alice");
  await writeFile(
    join(world.home, STAGED),
    pythonJson(signIns.server.sso.login("alice", { startUrl: START_URL })),
  );
  const bin = await fakeAws(path, { version: "2.15.0" });
  const env = { ...world.env, PATH: `${bin}${delimiter}${world.env.PATH}`, DISPLAY: ":0" };
  const login = await runAwsmfaOnTerminal(["login", "-p", "corp-dev"], { env });
  assert.equal(login.status, 0, login.stdout);
  assert.match(login.stdout, /Running `aws sso login --sso-session corp`/);
  assert.match(login.stdout, /Logged in: profile 'corp-dev' as role Dev in account 111122223333/);
  assert.equal(ranLog().split("\n")[0], "argv: sso login --sso-session corp");
  assert.equal(signIns.server.accepted.GetRoleCredentials, 1);
  assert.ok(!login.stdout.includes(token.refreshToken));
});

test("an aws CLI that cannot sign in: v1 (the real one here) and an old v2 are named with what to install; none at all; a sign-in that fails", async (t) => {
  if (skipWithoutScript(t)) return;
  const { path } = await writeLoginToken(signIns.server, world.env, "alice", { accessTokenSeconds: -60 });
  signIns.server.signin.endRefreshWindow("alice");
  const system = ["/usr/bin", "/bin"].join(delimiter);

  const realAws = findOnPath("aws");
  if (realAws) {
    const v1 = await runAwsmfaOnTerminal(["login", "-p", "dev"], {
      env: { ...world.env, PATH: `${dirname(realAws)}${delimiter}${world.env.PATH}` },
    });
    if (/aws-cli\/1\./.test(await awsVersion(realAws))) {
      assert.equal(v1.status, 10, v1.stdout);
      assert.match(v1.stdout, /needs the aws CLI 2\.32 or later; the aws CLI here is version 1\./);
      assert.match(
        v1.stdout,
        /Install the aws CLI v2 \(https:\/\/docs\.aws\.amazon\.com\/cli\/.*\), then run `aws login --profile dev --remote`/,
      );
    }
  }

  const oldV2 = await fakeAws(path, { version: "2.31.9" });
  const old = await runAwsmfaOnTerminal(["login", "-p", "dev"], {
    env: { ...world.env, PATH: `${oldV2}${delimiter}${system}` },
  });
  assert.equal(old.status, 10, old.stdout);
  assert.match(old.stdout, /version 2\.31\.9/);
  assert.match(old.stdout, /Update the aws CLI to 2\.32 or later/);
  assert.equal(ranLog(), "");

  // No aws anywhere on PATH (the system directories may have one): only `script`, which runs awsmfa on a terminal.
  const noAws = join(world.home, "no-aws-bin");
  await mkdir(noAws);
  await symlink(findOnPath("script") as string, join(noAws, "script"));
  const none = await runAwsmfaOnTerminal(["login", "-p", "dev"], { env: { ...world.env, PATH: noAws } });
  assert.equal(none.status, 10, none.stdout);
  assert.match(none.stdout, /there is no aws CLI here to run it/);
  assert.match(none.stdout, /Install the aws CLI v2/);

  await writeFile(join(world.home, STAGED), "");
  const failing = await fakeAws(path, { status: 1 });
  const failed = await runAwsmfaOnTerminal(["login", "-p", "dev"], {
    env: { ...world.env, PATH: `${failing}${delimiter}${system}` },
  });
  assert.equal(failed.status, 10, failed.stdout);
  assert.match(
    failed.stdout,
    /`aws login --profile dev --remote` failed \(exit status 1\), so profile 'dev' is still signed out/,
  );
});

async function awsVersion(aws: string): Promise<string> {
  const { execFileSync } = await import("node:child_process");
  try {
    return execFileSync(aws, ["--version"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
  } catch {
    return "";
  }
}
