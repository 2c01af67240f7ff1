// The warm path (credential-process or env with a valid cache) runs on every aws CLI call, so it
// must load nothing heavy: no SDK, no prompt or TOTP library, no commander, no full bundle, no
// child processes or HTTP. A warm exec loads child_process to start its command, and nothing else.
// `plan`, `status` and `completion --list-profiles` in their simple forms run without commander or
// the full bundle either, and print what the full CLI prints. The built CLI runs in a child process with a preload that records
// every module it loads; the cold run is the counter-check that the recording sees them at all.
import assert from "node:assert/strict";
import { readFileSync, utimesSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pythonJson } from "../../src/session/sources/cli-json";
import { loginTokenPath } from "../../src/session/sources/login-session";
import { ssoSessionSource, ssoTokenPath } from "../../src/session/sources/sso-session";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const ACCOUNT = "444444444444";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/dora`;
const SEED = randomBase32Seed();
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Reader`;
const KEYS = { accessKeyId: "AKIADORAEXAMPLE00001", secretAccessKey: "dora/secret/key/EXAMPLE+00001" };
const RECORDER = join(__dirname, "fixtures", "record-modules.cjs");

const CONFIG = `[profile dora]
mfa_serial = ${SERIAL}
region = eu-west-1

[profile reader]
role_arn = ${ROLE}
source_profile = dora
`;
const CREDENTIALS = `[dora]
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key = ${KEYS.secretAccessKey}
`;

/** Packages in node_modules the warm path must never load. */
const HEAVY_PACKAGES = [
  "@aws-sdk/",
  "@smithy/",
  "otpauth",
  "commander",
  "@clack/prompts",
  "@napi-rs/keyring",
];
/** Node built-ins the warm path must never load (names as in process.moduleLoadList). */
const HEAVY_BUILTINS = ["readline", "child_process", "http", "https"];

interface Recorded {
  requests: string[];
  files: string[];
  builtins: string[];
}

let server: StsServer;
let warm: IsolatedEnv;
let cold: IsolatedEnv;
/** dora signed in with `aws login`: a role over that session, and the session alone. */
let signedIn: IsolatedEnv;

function childEnv(home: IsolatedEnv, out: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...home.env, AWSMFA_TEST_MODULES_OUT: out };
  delete env.NODE_OPTIONS; // the test runner's loaders must not show up as the CLI's
  return env;
}

/** Runs the built CLI with the recorder preloaded; returns its result and what it loaded. */
async function recorded(home: IsolatedEnv, args: string[], name: string) {
  const out = join(home.home, `modules-${name}.json`);
  const result = await runProcess(process.execPath, ["--require", RECORDER, AWSMFA, ...args], {
    env: childEnv(home, out),
  });
  const modules = JSON.parse(readFileSync(out, "utf8")) as Recorded;
  return { result, modules };
}

/**
 * dora signed in with `aws login` (the token file as the CLI leaves it) under `config`, and one
 * credential-process on `profile` run cold, which fills awsmfa's cache.
 */
async function doraSignedIn(
  options: { accessTokenSeconds?: number },
  config: (loginSession: string) => string,
  profile: string,
): Promise<IsolatedEnv> {
  const { loginSession, token } = server.signin.signIn("dora", options);
  const home = await createIsolatedEnv({ endpointUrl: server.url, config: config(loginSession) });
  const tokenPath = loginTokenPath(loginSession, home.env);
  await mkdir(dirname(tokenPath), { recursive: true, mode: 0o700 });
  await writeFile(tokenPath, pythonJson(token), { mode: 0o600 });
  const first = await runProcess(process.execPath, [AWSMFA, "credential-process", "-p", profile], {
    env: childEnv(home, join(home.home, "unused.json")),
  });
  assert.equal(first.status, 0, first.stderr);
  return home;
}

/** credential-process on `profile` answers, and loads nothing heavy (`name` names the recording). */
async function assertWarmCredentials(home: IsolatedEnv, profile: string, name: string): Promise<Recorded> {
  const { result, modules } = await recorded(home, ["credential-process", "-p", profile], name);
  assert.equal(result.status, 0, result.stderr);
  assert.equal(JSON.parse(result.stdout).Version, 1);
  assertLight(modules);
  return modules;
}

function loadedPackages(modules: Recorded): string[] {
  return HEAVY_PACKAGES.filter(
    (name) =>
      modules.requests.some((request) => request === name || request.startsWith(name)) ||
      modules.files.some((file) => file.includes(`/node_modules/${name}`)),
  );
}

function loadedBuiltins(modules: Recorded, names: string[]): string[] {
  return names.filter((name) => modules.builtins.includes(`NativeModule ${name}`));
}

function loadedFullBundle(modules: Recorded): boolean {
  return (
    modules.files.some((file) => file.endsWith("awsmfa-full.cjs")) ||
    modules.requests.some((request) => request.endsWith("awsmfa-full.cjs"))
  );
}

function assertLight(modules: Recorded): void {
  assert.ok(
    modules.files.some((file) => file === AWSMFA),
    "the recorder saw the CLI itself load",
  );
  assert.deepEqual(loadedPackages(modules), [], "no heavy package");
  assert.deepEqual(loadedBuiltins(modules, HEAVY_BUILTINS), [], "no heavy built-in module");
  assert.equal(loadedFullBundle(modules), false, "the full bundle stays unloaded");
}

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "dora", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    roles: [{ arn: ROLE, maxSessionDuration: 3600 }],
  });
  const files = { endpointUrl: server.url, config: CONFIG, credentials: CREDENTIALS };
  warm = await createIsolatedEnv(files);
  cold = await createIsolatedEnv(files);
  const login = await runProcess(
    process.execPath,
    [AWSMFA, "login", "-p", "reader", "--token-code", server.totp(SEED)],
    { env: childEnv(warm, join(warm.home, "unused.json")) },
  );
  assert.equal(login.status, 0, login.stderr);
});
after(async () => {
  await warm?.cleanup();
  await cold?.cleanup();
  await signedIn?.cleanup();
  await server?.close();
});

describe("the warm path loads nothing heavy", () => {
  test("credential-process from the warm index: no heavy module, and not even node:crypto", async () => {
    const modules = await assertWarmCredentials(warm, "reader", "index-hit");
    assert.deepEqual(loadedBuiltins(modules, ["crypto", "os"]), [], "the index hit needs no hash or os");
  });

  test("env from the warm index: no heavy module", async () => {
    const { result, modules } = await recorded(warm, ["env", "-p", "reader", "--shell", "bash"], "env");
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stdout, /^export AWS_SESSION_TOKEN='/m);
    assertLight(modules);
  });

  test("exec -- CMD from the warm index: the child gets the session, and no SDK, commander or full bundle loads", async () => {
    const script =
      "process.stdout.write(JSON.stringify([process.env.AWS_SESSION_TOKEN ? 'token' : 'none', process.env.AWSMFA_EXEC_PROFILE, process.env.AWS_REGION])); process.exit(7)";
    const { result, modules } = await recorded(
      warm,
      ["exec", "-p", "reader", "--", process.execPath, "-e", script],
      "exec",
    );
    assert.equal(result.status, 7, `the child's own status: ${result.stderr}`);
    assert.deepEqual(JSON.parse(result.stdout), ["token", "reader", "us-east-1"]);
    assert.deepEqual(loadedPackages(modules), [], "no heavy package");
    assert.equal(loadedFullBundle(modules), false, "the full bundle stays unloaded");
    assert.deepEqual(loadedBuiltins(modules, ["readline", "http", "https"]), [], "no prompt or HTTP module");
  });

  test("exec with stdin from a file: the terminal check builds no stdin stream (no fs streams, no readline)", async () => {
    const out = join(warm.home, "modules-exec-file-stdin.json");
    // sh gives awsmfa a file on fd 0, which process.stdin would wrap in an fs stream.
    const result = await runProcess(
      "/bin/sh",
      [
        "-c",
        '"$0" "$@" < /dev/null',
        process.execPath,
        "--require",
        RECORDER,
        AWSMFA,
        "exec",
        "-p",
        "reader",
        "--",
        "true",
      ],
      { env: childEnv(warm, out) },
    );
    assert.equal(result.status, 0, result.stderr);
    const modules = JSON.parse(readFileSync(out, "utf8")) as Recorded;
    assert.deepEqual(loadedBuiltins(modules, ["internal/fs/streams", "internal/readline/interface"]), []);
    assert.deepEqual(
      loadedBuiltins(modules, ["child_process"]),
      ["child_process"],
      "the counter-check: it did start the child",
    );
  });

  test("exec of a command that cannot be started falls through to the full exec, which says why", async () => {
    const missing = join(warm.home, "no-such-command");
    const { result, modules } = await recorded(warm, ["exec", "-p", "reader", "--", missing], "exec-missing");
    assert.notEqual(result.status, 0);
    assert.match(result.stderr, /no-such-command/);
    assert.equal(loadedFullBundle(modules), true, "the full exec reported it");
  });

  test("credential-process after a config change (index miss, config parsed): still no heavy module", async () => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(warm.configPath, later, later);
    const { result, modules } = await recorded(warm, ["credential-process", "-p", "reader"], "index-miss");
    assert.equal(result.status, 0, result.stderr);
    assertLight(modules);
    assert.equal(server.calls.GetSessionToken, 1, "answered from the cache");
    assert.equal(server.calls.AssumeRole, 1, "answered from the cache");
    assert.ok(
      modules.requests.some((request) => request.endsWith("awsmfa-direct.cjs")),
      "the plan was resolved by the direct bundle's code",
    );
  });

  test("the entry compiles no config parser or plan resolver: an index hit does not pay for them", () => {
    const entry = readFileSync(AWSMFA, "utf8");
    // Words of messages that only config/ini.ts, config/plan.ts and config/parsed-config.ts hold.
    for (const words of ["leads back into awsmfa itself", "source_profile of", "[sso-session"]) {
      assert.ok(!entry.includes(words), `dist/awsmfa.cjs holds "${words}"`);
    }
    assert.match(
      readFileSync(join(dirname(AWSMFA), "awsmfa-direct.cjs"), "utf8"),
      /leads back into awsmfa itself/,
    );
  });

  test("counter-check: a cold exec (empty cache) loads the full bundle and commander", async () => {
    const { modules } = await recorded(cold, ["exec", "-p", "reader", "--", "true"], "cold-exec");
    assert.equal(loadedFullBundle(modules), true, "the full bundle is loaded on a miss");
    assert.ok(loadedPackages(modules).includes("commander"), "the recorder sees packages");
  });

  test("counter-check: a cold credential-process (empty cache) loads the full bundle and commander", async () => {
    const { modules } = await recorded(cold, ["credential-process", "-p", "reader"], "cold");
    assert.equal(loadedFullBundle(modules), true, "the full bundle is loaded on a miss");
    assert.ok(loadedPackages(modules).includes("commander"), "the recorder sees packages");
  });
});

describe("over an aws login session", () => {
  // After the tests above, which count the server's calls.
  before(async () => {
    signedIn = await doraSignedIn(
      {},
      (loginSession) =>
        `[profile dora-login]\nlogin_session = ${loginSession}\nregion = eu-west-1\n\n` +
        `[profile login-reader]\nrole_arn = ${ROLE}\nsource_profile = dora-login\n`,
      "login-reader",
    );
  });

  test("a cached role over the session, from the warm index: no heavy module", async () => {
    await assertWarmCredentials(signedIn, "login-reader", "login-hit");
  });

  test("the same after a config change (index miss: the cache key from the session's identity): no heavy module", async () => {
    const later = new Date(Date.now() + 5_000);
    utimesSync(signedIn.configPath, later, later);
    const { result, modules } = await recorded(
      signedIn,
      ["credential-process", "-p", "login-reader"],
      "login-miss",
    );
    assert.equal(result.status, 0, result.stderr);
    assertLight(modules);
    assert.equal(server.calls.CreateOAuth2Token, undefined, "the session was never refreshed");
  });

  test("the session alone, from awsmfa's copy of it (made under the role above): no heavy module", async () => {
    await assertWarmCredentials(signedIn, "dora-login", "login-leaf");
  });
});

describe("over an aws login session awsmfa has just refreshed", () => {
  let refreshed: IsolatedEnv;
  before(async () => {
    refreshed = await doraSignedIn(
      { accessTokenSeconds: -60 },
      (loginSession) => `[profile dora-login]\nlogin_session = ${loginSession}\nregion = eu-west-1\n`,
      "dora-login",
    );
  });
  after(() => refreshed?.cleanup());

  test("the session alone, from the copy of the token file awsmfa rewrote: no heavy module", async () => {
    await assertWarmCredentials(refreshed, "dora-login", "login-refreshed");
  });
});

describe("over an IAM Identity Center session", () => {
  let ssoHome: IsolatedEnv;
  before(async () => {
    const startUrl = "https://d-1234567890.awsapps.com/start";
    ssoHome = await createIsolatedEnv({
      endpointUrl: server.url,
      config:
        `[profile dora-sso]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Reader\nregion = eu-west-1\n\n` +
        `[sso-session corp]\nsso_start_url = ${startUrl}\nsso_region = eu-west-1\n`,
    });
    const tokenPath = ssoTokenPath(
      ssoSessionSource(
        "dora-sso",
        { sso_session: "corp" },
        { sso_start_url: startUrl, sso_region: "eu-west-1" },
      ),
      ssoHome.env,
    );
    await mkdir(dirname(tokenPath), { recursive: true, mode: 0o700 });
    await writeFile(tokenPath, pythonJson(server.sso.login("dora", { startUrl })), { mode: 0o600 });
    const first = await runProcess(process.execPath, [AWSMFA, "credential-process", "-p", "dora-sso"], {
      env: childEnv(ssoHome, join(ssoHome.home, "unused.json")),
    });
    assert.equal(first.status, 0, first.stderr);
  });
  after(() => ssoHome?.cleanup());

  test("the Identity Center role alone, from awsmfa's copy of its credentials: no heavy module", async () => {
    await assertWarmCredentials(ssoHome, "dora-sso", "sso-leaf");
  });
});

describe("plan, status and completion's profile list run without commander or the full bundle", () => {
  /** Time left moves between two runs: "11 h 59 min", "59 min", "secondsLeft":3541. */
  const withoutTimeLeft = (text: string) =>
    text.replace(/\d+ h \d+ min|\d+ min|\d+ s\b/g, "<left>").replace(/"secondsLeft":\d+/g, '"secondsLeft":0');

  for (const args of [
    ["plan", "-p", "reader"],
    ["plan", "--profile=reader", "--json"],
    ["status"],
    ["status", "--json"],
    // What the completion scripts run at each Tab.
    ["completion", "--list-profiles"],
  ]) {
    test(`${args.join(" ")}: no commander, full bundle or SDK, and the full CLI's output`, async () => {
      const name = args.join("-").replace(/\W+/g, "-");
      const direct = await recorded(warm, args, `direct-${name}`);
      assert.equal(direct.result.status, 0, direct.result.stderr);
      assertLight(direct.modules);
      // `--` ends the options: the same command, which only the full CLI's parser takes.
      const full = await recorded(warm, [...args, "--"], `full-${name}`);
      assert.equal(full.result.status, 0, full.result.stderr);
      assert.equal(loadedFullBundle(full.modules), true, "the counter-check ran the full CLI");
      assert.equal(withoutTimeLeft(direct.result.stdout), withoutTimeLeft(full.result.stdout));
      assert.match(direct.result.stdout, args[0] === "plan" ? /reader/ : /dora/);
    });
  }

  test("plan of an unknown profile: the full CLI's error and exit status", async () => {
    const direct = await recorded(warm, ["plan", "-p", "nobody"], "direct-unknown");
    assertLight(direct.modules);
    const full = await recorded(warm, ["plan", "-p", "nobody", "--"], "full-unknown");
    assert.equal(loadedFullBundle(full.modules), true, "the counter-check ran the full CLI");
    assert.equal(direct.result.status, 3);
    assert.equal(direct.result.status, full.result.status);
    assert.equal(direct.result.stderr, full.result.stderr);
    assert.match(direct.result.stderr, /'nobody'/);
  });

  test("forms the direct path does not take go to commander, which explains them", async () => {
    for (const args of [
      ["status", "-p", "reader"],
      ["plan", "-p"],
      ["plan", "--json=yes"],
      ["status", "extra"],
      ["completion", "--list-profiles", "bash", "zsh"],
    ]) {
      const { result, modules } = await recorded(warm, args, `usage-${args.join("-")}`);
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
      assert.match(result.stderr, /^error: /, args.join(" "));
      assert.equal(loadedFullBundle(modules), true, args.join(" "));
    }
  });
});
