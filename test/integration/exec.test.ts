// `awsmfa exec` as users of similar tools expect it: no command starts the user's shell with the
// credentials; a command that is not there exits 127, one that cannot run 126, as shells do.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ALICE_CONFIG, KEYS, useAliceWorld } from "../support/alice-world";
import { AWSMFA, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const SEED = randomBase32Seed();
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;

const DRIVE = join(__dirname, "../mfa/fixtures/pty_drive.py");
const hasPty = spawnSync("python3", ["-c", "import pty"]).status === 0 && process.platform !== "win32";
const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });

const VARIABLES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWSMFA_EXEC_PROFILE",
];

async function loggedIn(): Promise<void> {
  const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
    env: world.home.env,
  });
  assert.equal(login.status, 0, login.stderr);
}

/** A stand-in for $SHELL: prints which credential variables it got, then exits 42. */
function fakeShell(): string {
  const path = join(world.home.home, "fake-shell");
  const lines = VARIABLES.map((name) => `echo "${name}=\${${name}:+set}"`);
  writeFileSync(path, `#!/bin/sh\n${lines.join("\n")}\nexit 42\n`);
  chmodSync(path, 0o755);
  return path;
}

function presence(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout
      .trim()
      .split("\n")
      .map((line) => line.split("=") as [string, string]),
  );
}

/** What fakeShell prints when exactly `present` are set. */
function expectedPresence(present: string[]): Record<string, string> {
  return Object.fromEntries(VARIABLES.map((name) => [name, present.includes(name) ? "set" : ""]));
}

describe("exec", () => {
  test("no command: $SHELL with the credentials, told how to leave it; exits with the shell's status", async () => {
    await loggedIn();
    const shell = fakeShell();
    const result = await runAwsmfa(["exec", "-p", "alice"], { env: { ...world.home.env, SHELL: shell } });
    assert.equal(result.status, 42, result.stderr);
    assert.deepEqual(
      presence(result.stdout),
      expectedPresence([
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWSMFA_EXEC_PROFILE",
      ]),
    );
    assert.match(result.stderr, new RegExp(`Starting ${shell} with the credentials of profile 'alice'`));
    assert.match(result.stderr, /leave it with `exit` or Ctrl-D/);
  });

  test("no command with --server: $SHELL gets the endpoint instead of keys", async () => {
    await loggedIn();
    const shell = fakeShell();
    const result = await runAwsmfa(["exec", "-p", "alice", "--server"], {
      env: { ...world.home.env, SHELL: shell },
    });
    assert.equal(result.status, 42, result.stderr);
    assert.deepEqual(
      presence(result.stdout),
      expectedPresence(["AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWSMFA_EXEC_PROFILE"]),
    );
    assert.match(result.stderr, /Starting .* with a credentials endpoint of profile 'alice'.*Ctrl-D/);
  });

  test("no command, on a terminal: an interactive $SHELL that Ctrl-D leaves", {
    skip: !hasPty && "needs python3 with pty",
  }, async () => {
    await loggedIn();
    const steps = [
      ["Ctrl-D.", `echo "token=\${AWS_SESSION_TOKEN:+set} nested=$AWSMFA_EXEC_PROFILE"\r`],
      ["nested=alice", "\x04"],
    ];
    // The session is cached: no STS call, so blocking this process (and its STS server) is harmless.
    const run = spawnSync(
      "python3",
      [DRIVE, JSON.stringify(steps), process.execPath, AWSMFA, "exec", "-p", "alice"],
      {
        env: { ...world.home.env, SHELL: "/bin/sh", PS1: "$ " },
        encoding: "utf8",
      },
    );
    assert.equal(run.status, 0, run.stdout);
    assert.match(run.stdout, /token=set nested=alice/);
  });

  test("no command and no $SHELL: /bin/sh, which reads its commands from stdin here", async () => {
    await loggedIn();
    const env = { ...world.home.env };
    delete env.SHELL;
    const result = await runAwsmfa(["exec", "-p", "alice"], {
      env,
      input: `echo "token=\${AWS_SESSION_TOKEN:+set}"\nexit 3\n`,
    });
    assert.equal(result.status, 3, result.stderr);
    assert.equal(result.stdout, "token=set\n");
    assert.match(result.stderr, /Starting \/bin\/sh with the credentials of profile 'alice'/);
  });

  test("a command that is not there: 127 and one line naming it", async () => {
    await loggedIn();
    const result = await runAwsmfa(["exec", "-p", "alice", "--", "no-such-command-awsmfa", "plan"], {
      env: world.home.env,
    });
    assert.equal(result.status, 127, result.stderr);
    assert.equal(result.stderr, "awsmfa: no-such-command-awsmfa: command not found\n");
    const path = join(world.home.home, "no-such-script");
    const byPath = await runAwsmfa(["exec", "-p", "alice", "--", path], { env: world.home.env });
    assert.equal(byPath.status, 127, byPath.stderr);
    assert.equal(byPath.stderr, `awsmfa: ${path}: no such file\n`);
  });

  test("a command that cannot be run (not executable): 126 and one line naming it", async () => {
    await loggedIn();
    const script = join(world.home.home, "not-executable.sh");
    writeFileSync(script, "#!/bin/sh\nexit 0\n");
    chmodSync(script, 0o644);
    const result = await runAwsmfa(["exec", "-p", "alice", "--", script], { env: world.home.env });
    assert.equal(result.status, 126, result.stderr);
    assert.equal(result.stderr, `awsmfa: ${script}: cannot run it (permission denied)\n`);
  });

  test("the nesting guard holds for the shell too", async () => {
    const result = await runAwsmfa(["exec", "-p", "alice"], {
      env: { ...world.home.env, SHELL: fakeShell(), AWSMFA_EXEC_PROFILE: "alice" },
    });
    assert.equal(result.status, 2);
    assert.equal(result.stdout, "", "no shell started");
    assert.match(result.stderr, /Already inside `awsmfa exec`/);
  });
});
