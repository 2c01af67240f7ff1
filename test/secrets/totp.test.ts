import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { describe, test } from "node:test";
import { storeNamed } from "../../src/secrets";
import { useAliceWorld } from "../support/alice-world";
import { AWSMFA, runAwsmfa } from "../support/run-awsmfa";
import { ACCOUNT, assertNowhere, CONFIG, CREDENTIALS, newSeed, PASSPHRASE, SERIAL } from "./helpers";

// `awsmfa totp add|remove` and the stored-seed code source, against the strict STS server, which
// checks each code against the same seed with its own RFC 6238 implementation.

const SEED = newSeed();
const DRIVE = resolve(__dirname, "../mfa/fixtures/pty_drive.py");
const world = useAliceWorld({ seed: SEED, config: CONFIG, credentials: CREDENTIALS });

function env(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...world.home.env, AWSMFA_PASSPHRASE: PASSPHRASE, ...extra };
}

const withMarker = (store: string) =>
  CONFIG.replace("region = eu-central-1\n", `region = eu-central-1\nawsmfa_totp = ${store}\n`);

describe("totp add, then codes from the stored seed", () => {
  test("add --stdin warns, keeps the seed in the encrypted file only; login needs no other code source", async () => {
    const add = await runAwsmfa(["totp", "add", "-p", "admin", "--stdin"], {
      env: env(),
      input: `${SEED}\n`,
    });
    assert.equal(add.status, 0, add.stderr);
    assert.equal(add.stdout, "");
    assert.match(
      add.stderr,
      /Warning: storing the TOTP seed of .* puts the second factor on the same machine as the first/,
    );
    assert.match(
      add.stderr,
      /Stored the TOTP seed of arn:aws:iam::111111111111:mfa\/alice in the encrypted file/,
    );
    assert.equal(
      readFileSync(world.home.configPath, "utf8"),
      withMarker("encrypted"),
      "only awsmfa_totp, on alice",
    );
    assert.equal(readFileSync(world.home.credentialsPath, "utf8"), CREDENTIALS);
    assertNowhere(world.home.home, SEED);
    assert.equal(
      await storeNamed("encrypted").read({ kind: "totp_seed", serial: SERIAL }, { env: env() }),
      SEED,
      "kept under the device ARN",
    );

    // No --token-code, no mfa_process, no terminal (run-awsmfa detaches): only the seed can answer.
    const login = await runAwsmfa(["login", "-p", "admin"], { env: env() });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(world.server.accepted.GetSessionToken, 1);
    assert.equal(world.server.accepted.AssumeRole, 1);
    assert.equal(world.server.calls.GetSessionToken, 1, "the first code was right");
  });

  test("an otpauth:// URI works too, lower-case and spaced base32 as well", async () => {
    const uri = `otpauth://totp/Amazon%20Web%20Services:alice@${ACCOUNT}?secret=${SEED}&issuer=Amazon%20Web%20Services`;
    const add = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], { env: env(), input: `${uri}\n` });
    assert.equal(add.status, 0, add.stderr);
    const store = storeNamed("encrypted");
    assert.equal(await store.read({ kind: "totp_seed", serial: SERIAL }, { env: env() }), SEED);

    const spaced = SEED.toLowerCase().replace(/(.{4})/g, "$1 ");
    const again = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], {
      env: env(),
      input: `\n${spaced}\n`,
    });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(await store.read({ kind: "totp_seed", serial: SERIAL }, { env: env() }), SEED);
  });

  test("what is not a seed is refused before anything is stored, without repeating it", async () => {
    for (const input of [
      "123456\n",
      "not base32 at all!\n",
      "\n",
      `otpauth://hotp/x?secret=${SEED}&counter=1\n`,
      `otpauth://totp/x?secret=${SEED}&digits=8\n`,
    ]) {
      const add = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], { env: env(), input });
      assert.equal(add.status, 2, `${input}: ${add.stderr}`);
      assert.match(add.stderr, /That is not a usable TOTP seed/);
      if (input.trim()) assert.equal(add.stderr.includes(input.trim()), false, "the input is not echoed");
    }
    assert.equal(readFileSync(world.home.configPath, "utf8"), CONFIG);
    assert.equal(existsSync(join(world.home.home, ".aws", "awsmfa", "secrets.enc")), false);
  });

  test("the credentials file is no store for seeds; a profile without a device is told how to get one", async () => {
    const file = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin", "--store", "file"], {
      env: env(),
      input: `${SEED}\n`,
    });
    assert.equal(file.status, 2);
    const noDevice = await runAwsmfa(["totp", "add", "-p", "bob", "--stdin"], {
      env: env(),
      input: `${SEED}\n`,
    });
    assert.equal(noDevice.status, 3, noDevice.stderr);
    assert.match(noDevice.stderr, /Profile 'bob' names no MFA device \(mfa_serial\) yet/);
    const noTerminal = await runAwsmfa(["totp", "add", "-p", "alice"], { env: env() });
    // no-terminal exits 4 wherever it is thrown (src/error-codes.ts), as when the code prompt has none.
    assert.equal(noTerminal.status, 4, noTerminal.stderr);
    assert.match(noTerminal.stderr, /--stdin/);
  });

  test("totp remove forgets the seed and the marker; codes are asked for again", async () => {
    const add = await runAwsmfa(["totp", "add", "-p", "alice", "--stdin"], {
      env: env(),
      input: `${SEED}\n`,
    });
    assert.equal(add.status, 0, add.stderr);
    const remove = await runAwsmfa(["totp", "remove", "-p", "admin"], { env: env() });
    assert.equal(remove.status, 0, remove.stderr);
    assert.match(remove.stderr, /Removed the TOTP seed of arn:aws:iam::111111111111:mfa\/alice/);
    assert.equal(readFileSync(world.home.configPath, "utf8"), CONFIG);
    assert.equal(
      await storeNamed("encrypted").read({ kind: "totp_seed", serial: SERIAL }, { env: env() }),
      undefined,
    );
    const login = await runAwsmfa(["login", "-p", "alice"], { env: env() });
    assert.equal(login.status, 4, "no way to get a code");
    assert.equal(world.server.requests.length, 0);
  });

  test("a marker whose seed is gone says what to do", async () => {
    writeFileSync(world.home.configPath, withMarker("encrypted"));
    const login = await runAwsmfa(["login", "-p", "alice"], { env: env() });
    assert.equal(login.status, 4, login.stderr);
    assert.match(login.stderr, /holds no TOTP seed for arn:aws:iam::111111111111:mfa\/alice/);
    assert.match(login.stderr, /awsmfa totp add -p alice/);
  });
});

const hasPty = spawnSync("python3", ["-c", "import pty"]).status === 0 && process.platform !== "win32";

test("on a terminal, the seed and a new passphrase are typed with echo off", {
  skip: !hasPty && "needs python3 with pty",
}, async () => {
  const passphrase = "a long enough passphrase";
  const out = mkdtempSync(join(tmpdir(), "awsmfa-totp-tty-"));
  try {
    const command = `exec "${process.execPath}" "${AWSMFA}" totp add -p alice 2>"${out}/stderr"`;
    const steps = [
      ["TOTP secret key (base32) or otpauth:// URI", `${SEED}\r`],
      ["New passphrase", `${passphrase}\r`],
      ["The same passphrase again: ", `${passphrase}\r`],
    ];
    const run = spawnSync("python3", [DRIVE, JSON.stringify(steps), "/bin/sh", "-c", command], {
      env: world.home.env,
      encoding: "utf8",
    });
    assert.equal(run.status, 0, `${run.stdout}\n${readFileSync(join(out, "stderr"), "utf8")}`);
    assert.match(run.stdout, /does not exist yet: choose a passphrase/);
    assert.equal(run.stdout.includes(SEED), false, "the seed is not echoed");
    assert.equal(run.stdout.includes(passphrase), false, "the passphrase is not echoed");
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
  const login = await runAwsmfa(["login", "-p", "alice"], { env: env({ AWSMFA_PASSPHRASE: passphrase }) });
  assert.equal(login.status, 0, login.stderr);
  assert.equal(world.server.accepted.GetSessionToken, 1);
});
