// Advice that can be followed: every hint that suggests an awsmfa command line is triggered here
// as a user meets it (no terminal: detached, stdin a pipe), the command line it suggests is taken
// from the message and run as it is (a valid code for 123456), and it must not be a usage error.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ALICE_CONFIG, KEYS, SERIAL, useAliceWorld } from "../support/alice-world";
import { AWSMFA, type RunResult, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import { suggestedCommands } from "../support/suggested-commands";

const SEED = randomBase32Seed();
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const USAGE = 2;
const PASSPHRASE = "correct horse battery staple";
const DRIVE = join(__dirname, "../mfa/fixtures/pty_drive.py");

const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });

/**
 * Runs a suggested command line: 123456 stands for a valid code, `--token-code -` gets one on
 * stdin. `totp add` asks for the seed with echo off, as it should: it runs on a terminal of its own.
 */
async function follow(
  commandLine: string,
  env: NodeJS.ProcessEnv,
  code = world.server.totp(SEED),
): Promise<RunResult> {
  // The one redirect hints use: a file that holds the TOTP seed.
  const [line = "", redirect] = commandLine.split(" < ");
  if (redirect !== undefined) assert.equal(redirect, "seed.txt");
  const [program, ...args] = line.split(/\s+/).map((word) => (word === "123456" ? code : word));
  assert.equal(program, "awsmfa");
  if (redirect !== undefined) return runAwsmfa(args, { env, input: `${SEED}\n` });
  if (args[0] === "totp" && args[1] === "add") {
    const steps = [["TOTP secret key", `${SEED}\r`]];
    const run = spawnSync("python3", [DRIVE, JSON.stringify(steps), process.execPath, AWSMFA, ...args], {
      env: { ...env, AWSMFA_PASSPHRASE: PASSPHRASE },
      encoding: "utf8",
    });
    return { status: run.status, signal: run.signal, stdout: "", stderr: run.stdout };
  }
  const fromStdin = args.join(" ").includes("--token-code -");
  return runAwsmfa(args, { env, input: fromStdin ? `${code}\n` : "" });
}

/** A suggested command that takes --token-code, run as written (no code here: not a usage error), then with a code. */
async function followWithCode(commandLine: string, env: NodeJS.ProcessEnv): Promise<void> {
  assertNotUsage(await follow(commandLine, env), commandLine);
  // A code of the next 30-second step: the one of this step may have been spent already.
  const next = world.server.totp(SEED, world.server.now() + 30_000);
  const withCode = await follow(`${commandLine} --token-code 123456`, env, next);
  assert.equal(withCode.status, 0, `${commandLine} --token-code: ${withCode.stderr}`);
}

function assertNotUsage(result: RunResult, commandLine: string): void {
  assert.notEqual(result.status, USAGE, `\`${commandLine}\` is a usage error:\n${result.stderr}`);
  assert.doesNotMatch(result.stderr, /unknown option|too many arguments|missing required/i, commandLine);
}

/** No code source here: the hint names a login that takes the code; it works, then so does the command. */
async function codeHintFor(args: string[], env: NodeJS.ProcessEnv): Promise<void> {
  const first = await runAwsmfa(args, { env });
  assert.equal(first.status, 4, first.stderr);
  const suggested = suggestedCommands(first.stderr);
  assert.deepEqual(suggested, [
    "awsmfa login -p alice --token-code 123456",
    "awsmfa login -p alice --token-code -",
    "awsmfa totp add -p alice",
  ]);
  assert.doesNotMatch(first.stderr, /^\s+--token-code/m, "no flag this command rejects");
  for (const commandLine of suggested) {
    const result = await follow(commandLine, env);
    assertNotUsage(result, commandLine);
    assert.equal(result.status, 0, `${commandLine}: ${result.stderr}`);
  }
  const again = await runAwsmfa(args, { env });
  assert.equal(again.status, 0, `then the command again: ${again.stderr}`);
}

describe("the ways to give an MFA code, from a command without --token-code", () => {
  for (const args of [
    ["credential-process", "-p", "alice"],
    ["env", "-p", "alice"],
    ["exec", "-p", "alice", "--", "true"],
  ]) {
    test(args.join(" "), () => codeHintFor(args, world.home.env));
  }

  test("exec with AWS_PROFILE only: the hint names the profile", () =>
    codeHintFor(["exec", "--", "true"], { ...world.home.env, AWS_PROFILE: "alice" }));

  test("serve", async () => {
    const result = await runAwsmfa(["serve", "-p", "alice"], { env: world.home.env });
    assert.equal(result.status, 4, result.stderr);
    assert.deepEqual(suggestedCommands(result.stderr).slice(0, 2), [
      "awsmfa login -p alice --token-code 123456",
      "awsmfa login -p alice --token-code -",
    ]);
  });
});

describe("the ways to give an MFA code, from a command with --token-code", () => {
  for (const args of [
    ["login", "-p", "alice"],
    ["console", "-p", "admin", "--print"],
  ]) {
    test(args.join(" "), async () => {
      const env = { ...world.home.env, AWSMFA_FEDERATION_URL: `${world.server.url}/federation` };
      const first = await runAwsmfa(args, { env });
      assert.equal(first.status, 4, first.stderr);
      const profile = args[2];
      const suggested = suggestedCommands(first.stderr);
      assert.deepEqual(suggested, [`awsmfa totp add -p ${profile}`]);
      assert.match(first.stderr, /^\s+--token-code 123456 +the code on the command line$/m);
      const result = await runAwsmfa([...args, "--token-code", world.server.totp(SEED)], { env });
      assert.equal(result.status, 0, result.stderr);
      const totp = await follow(suggested[0] as string, env);
      assert.equal(totp.status, 0, totp.stderr);
    });
  }
});

describe("other hints that name an awsmfa command line", () => {
  test("AWS says the cached session expired: `awsmfa login -p P --force`", async () => {
    const env = world.home.env;
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
    world.server.setOption({
      failures: [{ action: "AssumeRole", count: 1, status: 400, code: "ExpiredToken" }],
    });
    const role = await runAwsmfa(["credential-process", "-p", "admin"], { env });
    assert.equal(role.status, 6, role.stderr);
    const suggested = suggestedCommands(role.stderr);
    assert.deepEqual(suggested, ["awsmfa login -p admin --force"]);
    await followWithCode(suggested[0] as string, env);
  });

  test("the federation endpoint refuses the sign-in: `awsmfa login -p P --force` names the profile", async () => {
    world.server.setOption({
      failures: [{ action: "getSigninToken", count: 1, status: 400, code: "FederationError", message: "no" }],
    });
    const env = { ...world.home.env, AWSMFA_FEDERATION_URL: `${world.server.url}/federation` };
    const console = await runAwsmfa(
      ["console", "-p", "admin", "--print", "--token-code", world.server.totp(SEED)],
      {
        env,
      },
    );
    assert.equal(console.status, 6, console.stderr);
    const suggested = suggestedCommands(console.stderr);
    assert.deepEqual(suggested, ["awsmfa login -p admin --force"]);
    await followWithCode(suggested[0] as string, env);
  });

  test("a device AWS does not know for the user: `awsmfa login -p P` once mfa_serial is removed", async () => {
    const wrong = ALICE_CONFIG.replace(SERIAL, SERIAL.replace("alice", "mallory"));
    writeFileSync(world.home.configPath, wrong);
    const env = world.home.env;
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 5, login.stderr);
    const suggested = suggestedCommands(login.stderr);
    assert.deepEqual(suggested, ["awsmfa login -p admin"]);
    writeFileSync(world.home.configPath, wrong.replace(/^mfa_serial = .*\n/m, ""));
    await followWithCode(suggested[0] as string, env);
  });

  test("keys missing from their store: put them back, then `awsmfa keys move -p P --to STORE`", async () => {
    const inStore = ALICE_CONFIG.replace(
      "[profile alice]\n",
      `[profile alice]\nawsmfa_keys = encrypted\nawsmfa_access_key_id = ${KEYS.accessKeyId}\n`,
    );
    writeFileSync(world.home.configPath, inStore);
    writeFileSync(world.home.credentialsPath, "");
    const env = { ...world.home.env, AWSMFA_PASSPHRASE: PASSPHRASE };
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 3, login.stderr);
    const suggested = suggestedCommands(login.stderr);
    assert.deepEqual(suggested, ["awsmfa keys move -p alice --to encrypted"]);
    writeFileSync(world.home.configPath, ALICE_CONFIG);
    writeFileSync(world.home.credentialsPath, CREDENTIALS);
    const move = await follow(suggested[0] as string, env);
    assert.equal(move.status, 0, move.stderr);
    const again = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(again.status, 0, again.stderr);
  });

  test("a stored TOTP seed that is not there: `awsmfa totp add -p P`, then codes come from it", async () => {
    writeFileSync(
      world.home.configPath,
      ALICE_CONFIG.replace("[profile alice]\n", "[profile alice]\nawsmfa_totp = encrypted\n"),
    );
    const env = { ...world.home.env, AWSMFA_PASSPHRASE: PASSPHRASE };
    const first = await runAwsmfa(["credential-process", "-p", "admin"], { env });
    assert.equal(first.status, 4, first.stderr);
    const suggested = suggestedCommands(first.stderr);
    assert.deepEqual(suggested, ["awsmfa totp add -p admin"]);
    const add = await follow(suggested[0] as string, env);
    assert.equal(add.status, 0, add.stderr);
    const again = await runAwsmfa(["credential-process", "-p", "admin"], { env });
    assert.equal(again.status, 0, again.stderr);
  });

  test("totp add with no terminal: `awsmfa totp add -p P --stdin < seed.txt`", async () => {
    const env = { ...world.home.env, AWSMFA_PASSPHRASE: PASSPHRASE };
    const add = await runAwsmfa(["totp", "add", "-p", "alice"], { env });
    assert.equal(add.status, 4, add.stderr);
    const suggested = suggestedCommands(add.stderr);
    assert.deepEqual(suggested, ["awsmfa totp add -p alice --stdin < seed.txt"]);
    const result = await follow(suggested[0] as string, env);
    assert.equal(result.status, 0, result.stderr);
  });

  test("a profile with no keys: `awsmfa setup -p P`, which with no terminal names the flags that answer", async () => {
    writeFileSync(world.home.configPath, `${ALICE_CONFIG}\n[profile bob]\nregion = eu-west-1\n`);
    const env = world.home.env;
    const login = await runAwsmfa(["login", "-p", "bob", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 3, login.stderr);
    const suggested = suggestedCommands(login.stderr);
    assert.deepEqual(suggested, ["awsmfa setup -p bob"]);
    const setup = await follow(suggested[0] as string, env);
    assertNotUsage(setup, suggested[0] as string);
    assert.equal(setup.status, 4, setup.stderr);
    assert.match(setup.stderr, /no terminal to ask for the access key on/);
    assert.match(setup.stderr, /--import-from-credentials \[profile\].*--dry-run.*--yes/);
    // What the hint says, with alice's keys: bob is set up and logged in.
    const given = ["--import-from-credentials", "alice", "--yes", "--token-code", world.server.totp(SEED)];
    const done = await runAwsmfa(["setup", "-p", "bob", ...given], { env });
    assert.equal(done.status, 0, done.stderr);
    assert.match(done.stderr, /Logged in: profile 'bob'/);
  });

  test("totp add before the device is known: `awsmfa login -p P` finds it", async () => {
    writeFileSync(world.home.configPath, ALICE_CONFIG.replace(/^mfa_serial = .*\n/m, ""));
    const env = { ...world.home.env, AWSMFA_PASSPHRASE: PASSPHRASE };
    const add = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], { env, input: `${SEED}\n` });
    assert.equal(add.status, 3, add.stderr);
    const suggested = suggestedCommands(add.stderr);
    assert.deepEqual(suggested, ["awsmfa login -p alice"]);
    await followWithCode(suggested[0] as string, env);
    const again = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], { env, input: `${SEED}\n` });
    assert.equal(again.status, 0, again.stderr);
  });
});
