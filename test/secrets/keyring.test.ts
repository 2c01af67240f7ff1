import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { useAliceWorld } from "../support/alice-world";
import { AWSMFA, type RunResult, runAwsmfa, runProcess } from "../support/run-awsmfa";
import { suggestedCommands } from "../support/suggested-commands";
import { assertNowhere, CONFIG, CREDENTIALS, CREDENTIALS_WITHOUT_ALICE_KEYS, KEYS, newSeed } from "./helpers";

// The keyring store against a real Secret Service: each awsmfa runs in its own D-Bus session
// with GNOME Keyring started and its login keyring unlocked with a password on stdin. The keyring
// lives in the test's HOME (~/.local/share/keyrings), so it outlives each session, as a desktop's
// does. Needs dbus-run-session and gnome-keyring-daemon (Debian/Ubuntu: apt-get install dbus
// gnome-keyring); skipped, saying so, where they are missing or the OS is not Linux (there the
// store is the OS keychain itself, which a test must not write to).

const KEYRING_PASSWORD = "keyring-test-password";
const SEED = newSeed();

function missingTools(): string | undefined {
  if (process.platform !== "linux")
    return `the Secret Service test runs on Linux only (this is ${process.platform})`;
  const missing = ["dbus-run-session", "gnome-keyring-daemon"].filter(
    (tool) => spawnSync("sh", ["-c", `command -v ${tool}`]).status !== 0,
  );
  return missing.length === 0
    ? undefined
    : `${missing.join(" and ")} not installed (apt-get install dbus gnome-keyring)`;
}

const skip = missingTools();

const world = useAliceWorld({ seed: SEED, config: CONFIG, credentials: CREDENTIALS });

/** awsmfa in a fresh D-Bus session whose Secret Service is GNOME Keyring, unlocked. */
function inKeyringSession(args: string[], input?: string): Promise<RunResult> {
  const script =
    'printf %s "$AWSMFA_TEST_KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || exit 90; exec "$@"';
  const env: NodeJS.ProcessEnv = { ...world.home.env, AWSMFA_TEST_KEYRING_PASSWORD: KEYRING_PASSWORD };
  delete env.DBUS_SESSION_BUS_ADDRESS;
  return runProcess("dbus-run-session", ["--", "sh", "-c", script, "sh", process.execPath, AWSMFA, ...args], {
    env,
    input,
  }).then((result) => ({
    ...result,
    // dbus-daemon's own complaints (fd limits in containers) are not awsmfa's.
    stderr: result.stderr
      .split("\n")
      .filter((line) => !line.startsWith("dbus-daemon["))
      .join("\n"),
  }));
}

describe("keyring store (Secret Service)", { skip }, () => {
  test("keys move --to keyring, totp add (the keys' store by default), login with neither a code nor a passphrase", async () => {
    const move = await inKeyringSession(["keys", "move", "-p", "alice", "--to", "keyring"]);
    assert.equal(move.status, 0, move.stderr);
    assert.match(
      move.stderr,
      /Moved the keys of profile 'alice' \(AKIAALICEEXAMPLE0001\) from the credentials file .* to the OS keyring/,
    );
    assert.equal(readFileSync(world.home.credentialsPath, "utf8"), CREDENTIALS_WITHOUT_ALICE_KEYS);
    assert.equal(
      readFileSync(world.home.configPath, "utf8"),
      CONFIG.replace(
        "region = eu-central-1\n",
        `region = eu-central-1\nawsmfa_keys = keyring\nawsmfa_access_key_id = ${KEYS.accessKeyId}\n`,
      ),
    );

    const add = await inKeyringSession(["totp", "add", "-p", "admin", "--stdin"], `${SEED}\n`);
    assert.equal(add.status, 0, add.stderr);
    assert.match(
      add.stderr,
      /Stored the TOTP seed of arn:aws:iam::111111111111:mfa\/alice in the OS keyring/,
    );
    assert.match(readFileSync(world.home.configPath, "utf8"), /^awsmfa_totp = keyring$/m);
    // GNOME Keyring encrypts its file with the login password: neither secret is in the clear.
    assertNowhere(world.home.home, KEYS.secretAccessKey);
    assertNowhere(world.home.home, SEED);

    const login = await inKeyringSession(["login", "-p", "admin"]);
    assert.equal(login.status, 0, login.stderr);
    assert.equal(world.server.accepted.GetSessionToken, 1);
    assert.equal(world.server.accepted.AssumeRole, 1);

    const back = await inKeyringSession(["keys", "move", "-p", "alice", "--to", "file"]);
    assert.equal(back.status, 0, back.stderr);
    assert.match(
      readFileSync(world.home.credentialsPath, "utf8"),
      /^aws_secret_access_key = alice\/secret\/key\/EXAMPLE\+0001$/m,
    );
    const removed = await inKeyringSession(["totp", "remove", "-p", "alice"]);
    assert.equal(removed.status, 0, removed.stderr);
    assert.match(removed.stderr, /Removed the TOTP seed/);
    assert.equal(readFileSync(world.home.configPath, "utf8"), CONFIG);

    // Nothing of awsmfa's is left in the keyring.
    const left = await inKeyringSession(["keys", "move", "-p", "alice", "--to", "keyring"]);
    assert.equal(left.status, 0, left.stderr);
    const again = await inKeyringSession(["totp", "remove", "-p", "alice", "--store", "keyring"]);
    assert.match(again.stderr, /held no TOTP seed/);
  });
});

test("without a Secret Service, keyring says so and suggests the encrypted file", {
  skip: process.platform !== "linux" && "Linux only",
}, async () => {
  const env = { ...world.home.env, DBUS_SESSION_BUS_ADDRESS: "unix:path=/nonexistent/awsmfa-test-bus" };
  const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "keyring"], { env });
  assert.equal(move.status, 3, move.stderr);
  assert.match(move.stderr, /No keyring service is running here/);
  assert.equal(readFileSync(world.home.credentialsPath, "utf8"), CREDENTIALS, "nothing moved");
  assert.equal(readFileSync(world.home.configPath, "utf8"), CONFIG);
  // The suggestion is a whole command line, and it works as written.
  const suggested = suggestedCommands(move.stderr);
  assert.deepEqual(suggested, ["awsmfa keys move -p alice --to encrypted"]);
  const encrypted = await runAwsmfa(suggested[0]?.split(" ").slice(1) ?? [], {
    env: { ...env, AWSMFA_PASSPHRASE: "correct horse battery staple" },
  });
  assert.equal(encrypted.status, 0, encrypted.stderr);
});
