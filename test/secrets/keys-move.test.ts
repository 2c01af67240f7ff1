import assert from "node:assert/strict";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeEach, describe, test } from "node:test";
import { useAliceWorld } from "../support/alice-world";
import { runAwsmfa } from "../support/run-awsmfa";
import {
  assertNowhere,
  CONFIG,
  CREDENTIALS,
  CREDENTIALS_WITHOUT_ALICE_KEYS,
  KEYS,
  newSeed,
  PASSPHRASE,
} from "./helpers";

// `awsmfa keys move` with the built CLI, then `login` against the strict STS server: the secret
// key must reach STS from the encrypted file, and only when a call needs it.

const SEED = newSeed();
const world = useAliceWorld({ seed: SEED, config: CONFIG, credentials: CREDENTIALS });
let secretsPath: string;

beforeEach(() => {
  secretsPath = join(world.home.home, ".aws", "awsmfa", "secrets.enc");
});

function withPassphrase(passphrase = PASSPHRASE): NodeJS.ProcessEnv {
  return { ...world.home.env, AWSMFA_PASSPHRASE: passphrase };
}

function read(path: string): string {
  return readFileSync(path, "utf8");
}

describe("keys move --to encrypted", () => {
  test("takes the keys out of the credentials file, every other byte unchanged", async () => {
    const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(move.status, 0, move.stderr);
    assert.equal(move.stdout, "");
    assert.match(
      move.stderr,
      /Moved the keys of profile 'alice' \(AKIAALICEEXAMPLE0001\) from the credentials file/,
    );
    assert.match(move.stderr, /credential_process = awsmfa credential-process -p alice/);

    assert.equal(read(world.home.credentialsPath), CREDENTIALS_WITHOUT_ALICE_KEYS);
    assert.equal(
      read(world.home.configPath),
      CONFIG.replace(
        "region = eu-central-1\n",
        `region = eu-central-1\nawsmfa_keys = encrypted\nawsmfa_access_key_id = ${KEYS.accessKeyId}\n`,
      ),
    );
    assert.equal(statSync(secretsPath).mode & 0o777, 0o600);
    assertNowhere(world.home.home, KEYS.secretAccessKey);
    assert.equal(world.server.requests.length, 0, "moving keys calls nobody");

    const plan = await runAwsmfa(["plan", "-p", "admin", "--json"], { env: world.home.env });
    assert.equal(plan.status, 0, plan.stderr);
    assert.deepEqual(JSON.parse(plan.stdout).steps[0], {
      type: "keys",
      profile: "alice",
      accessKeyId: KEYS.accessKeyId,
    });
  });

  test("then login works with AWSMFA_PASSPHRASE, and the cached session needs no passphrase", async () => {
    const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(move.status, 0, move.stderr);

    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
      env: withPassphrase(),
    });
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stderr, /Logged in: profile 'alice' as arn:aws:iam::111111111111:user\/alice/);
    assert.equal(world.server.accepted.GetSessionToken, 1);

    // Warm path and a role on top of the MFA session: the long-term keys are not needed, so the
    // store is never opened (no passphrase given, no terminal to ask on).
    const warm = await runAwsmfa(["credential-process", "-p", "alice"], { env: world.home.env });
    assert.equal(warm.status, 0, warm.stderr);
    assert.match(JSON.parse(warm.stdout).AccessKeyId, /^ASIA/);
    const role = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assert.equal(role.status, 0, role.stderr);
    assert.equal(world.server.accepted.AssumeRole, 1);
    assert.equal(world.server.calls.GetSessionToken, 1);
  });

  test("a new session without the passphrase, or with a wrong one, fails clearly before any AWS call", async () => {
    const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(move.status, 0, move.stderr);

    const none = await runAwsmfa(["login", "-p", "alice", "--token-code", "123456"], { env: world.home.env });
    assert.equal(none.status, 3, none.stderr);
    assert.match(none.stderr, /passphrase of .*secrets\.enc is needed, but there is no terminal/);
    assert.match(none.stderr, /AWSMFA_PASSPHRASE/);

    const wrong = await runAwsmfa(["login", "-p", "alice", "--token-code", "123456"], {
      env: withPassphrase("not the passphrase"),
    });
    assert.equal(wrong.status, 3, wrong.stderr);
    assert.match(wrong.stderr, /Wrong passphrase for the encrypted secrets file .*secrets\.enc\./);
    assert.doesNotMatch(wrong.stderr, /EXAMPLE\+0001/);

    // One byte damaged: said so, before any passphrase is wanted, and with the right one too.
    const bytes = readFileSync(secretsPath);
    bytes[30] = (bytes[30] as number) ^ 0x04;
    writeFileSync(secretsPath, bytes, { mode: 0o600 });
    for (const env of [world.home.env, withPassphrase()]) {
      const damaged = await runAwsmfa(["login", "-p", "alice", "--token-code", "123456"], { env });
      assert.equal(damaged.status, 3, damaged.stderr);
      assert.match(
        damaged.stderr,
        /The encrypted secrets file .*secrets\.enc has been altered or damaged: its SHA-256 checksum does not match/,
      );
      assert.match(damaged.stderr, /Restore it from a backup/);
    }
    assert.equal(world.server.requests.length, 0);
  });

  test("a section that held only the keys goes with them; the keys come back in a new one", async () => {
    const onlyKeys = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
    writeFileSync(world.home.credentialsPath, `${CREDENTIALS.split("[alice]")[0]}${onlyKeys}`);
    const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(move.status, 0, move.stderr);
    assert.equal(read(world.home.credentialsPath), `${CREDENTIALS.split("\n\n[alice]")[0]}\n`);
    const back = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "file"], { env: withPassphrase() });
    assert.equal(back.status, 0, back.stderr);
    assert.equal(read(world.home.credentialsPath), `${CREDENTIALS.split("[alice]")[0]}${onlyKeys}`);
  });

  test("back to the file puts the keys back in their section, the config file as it was", async () => {
    const there = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(there.status, 0, there.stderr);
    const again = await runAwsmfa(["keys", "move", "-p", "admin", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already; nothing to move/);

    const back = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "file"], { env: withPassphrase() });
    assert.equal(back.status, 0, back.stderr);
    // Added after the section's last line, in the usual spelling; nothing else touched.
    assert.equal(
      read(world.home.credentialsPath),
      CREDENTIALS_WITHOUT_ALICE_KEYS.replace(
        "output = json\n",
        `output = json\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
      ),
    );
    assert.equal(read(world.home.configPath), CONFIG);
    assert.ok(existsSync(secretsPath), "the file stays (it may hold other secrets)");
    assertNowhere(join(world.home.home, ".aws", "awsmfa"), KEYS.secretAccessKey);

    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
  });

  test("a secret missing from the store is a configuration error naming the profile", async () => {
    const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(move.status, 0, move.stderr);
    // The same passphrase, a different (empty) store.
    const other = { ...withPassphrase(), AWSMFA_SECRETS_FILE: join(world.home.home, "other.enc") };
    const seed = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], {
      env: other,
      input: `${SEED}\n`,
    });
    assert.equal(seed.status, 0, seed.stderr);
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", "123456"], { env: other });
    assert.equal(login.status, 3, login.stderr);
    assert.match(
      login.stderr,
      /Profile 'alice' keeps its keys in encrypted \(awsmfa_keys\), but .*other\.enc has no secret access key/,
    );
    assert.equal(world.server.requests.length, 0);
  });

  test("bad uses: an unknown store, a profile without keys", async () => {
    const bogus = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "vault"], {
      env: withPassphrase(),
    });
    assert.equal(bogus.status, 2);
    assert.match(bogus.stderr, /Allowed choices are file, keyring, encrypted/);
    const missing = await runAwsmfa(["keys", "move", "-p", "alice"], { env: withPassphrase() });
    assert.equal(missing.status, 2);
    const nobody = await runAwsmfa(["keys", "move", "-p", "nobody", "--to", "encrypted"], {
      env: withPassphrase(),
    });
    assert.equal(nobody.status, 3);
    assert.equal(read(world.home.credentialsPath), CREDENTIALS);
    assert.equal(existsSync(secretsPath), false);
  });
});
