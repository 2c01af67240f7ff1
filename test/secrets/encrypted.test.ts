import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { type TestContext, test } from "node:test";
import fc from "fast-check";
import { AppError, ExitStatus } from "../../src/errors";
import { type SecretRef, secretsFilePath, storeNamed } from "../../src/secrets";

// The encrypted store on real files with real crypto: scrypt, AES-256-GCM, the lock, writeWhole.

const PASSPHRASE = "correct horse battery staple";
const KEYS: SecretRef = { kind: "secret_access_key", profile: "alice", accessKeyId: "AKIAALICEEXAMPLE0001" };
const SEED: SecretRef = { kind: "totp_seed", serial: "arn:aws:iam::111111111111:mfa/alice" };
const SECRET = "alice/secret/key/EXAMPLE+0001";
const store = storeNamed("encrypted");

function setup(t: TestContext): { path: string; env: NodeJS.ProcessEnv } {
  const home = mkdtempSync(join(tmpdir(), "awsmfa-secrets-"));
  t.after(() => rmSync(home, { recursive: true, force: true }));
  const path = join(home, "vault", "secrets.enc");
  return { path, env: { HOME: home, AWSMFA_SECRETS_FILE: path, AWSMFA_PASSPHRASE: PASSPHRASE } };
}

function isAppError(code: string | string[]) {
  const codes = Array.isArray(code) ? code : [code];
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `an AppError, not ${String(error)}`);
    assert.ok(codes.includes(error.code), `code ${error.code}, wanted ${codes.join(" or ")}`);
    assert.doesNotMatch(`${error.message} ${error.hint}`, /EXAMPLE\+0001/, "no secret in the message");
    return true;
  };
}

test("round trip: a secret written reads back; the file is 0600 in a 0700 directory and holds no plaintext", async (t) => {
  const { path, env } = setup(t);
  assert.equal(await store.read(KEYS, { env }), undefined, "no file: no secret, and no passphrase asked");
  await store.write(KEYS, SECRET, { env });
  await store.write(SEED, "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", { env });
  assert.equal(await store.read(KEYS, { env }), SECRET);
  assert.equal(await store.read(SEED, { env }), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.equal(statSync(dirname(path)).mode & 0o777, 0o700);
  const bytes = readFileSync(path);
  assert.equal(bytes.subarray(0, 8).toString("latin1"), "AWSMFAS\x02");
  for (const plain of [SECRET, "alice", "secret_access_key", "JBSWY3DP", "totp_seed"]) {
    assert.equal(bytes.includes(Buffer.from(plain)), false, `${plain} is not in the file`);
  }

  assert.equal(await store.remove(KEYS, { env }), true);
  assert.equal(await store.remove(KEYS, { env }), false, "nothing left to remove");
  assert.equal(await store.read(KEYS, { env }), undefined);
  assert.equal(await store.read(SEED, { env }), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP", "the other secret stays");
  assert.equal(statSync(path).mode & 0o777, 0o600, "still 0600 after a rewrite");
});

test("each write uses a new nonce: the same contents never encrypt to the same bytes", async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  const first = readFileSync(path);
  await store.write(SEED, "JBSWY3DPEHPK3PXP", { env });
  await store.remove(SEED, { env });
  const second = readFileSync(path);
  assert.equal(first.length, second.length);
  assert.deepEqual(first.subarray(11, 43), second.subarray(11, 43), "same salt and check: same key");
  assert.notDeepEqual(first.subarray(43, 55), second.subarray(43, 55), "new nonce");
  assert.notDeepEqual(first.subarray(55), second.subarray(55));
});

test("the default file is ~/.aws/awsmfa/secrets.enc", () => {
  assert.equal(
    secretsFilePath({ HOME: "/home/alice" }),
    join("/home/alice", ".aws", "awsmfa", "secrets.enc"),
  );
  assert.equal(secretsFilePath({ HOME: "/home/alice", AWSMFA_SECRETS_FILE: "/x/s.enc" }), "/x/s.enc");
});

test("a wrong passphrase fails clearly, naming the file, and reads nothing", async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  const wrong = { ...env, AWSMFA_PASSPHRASE: "correct horse battery stapler" };
  await assert.rejects(store.read(KEYS, { env: wrong }), (error: unknown) => {
    isAppError("secrets-passphrase")(error);
    const e = error as AppError;
    assert.equal(e.message, `Wrong passphrase for the encrypted secrets file ${path}.`);
    assert.equal(e.status, ExitStatus.config);
    return true;
  });
  await assert.rejects(
    store.write(SEED, "JBSWY3DPEHPK3PXP", { env: wrong }),
    isAppError("secrets-passphrase"),
  );
  assert.equal(await store.read(SEED, { env }), undefined, "nothing was written under the wrong passphrase");
});

/** `bytes` with `mask` xored into the byte at `offset`. */
function flipped(bytes: Buffer, offset: number, mask: number): Buffer {
  const altered = Buffer.from(bytes);
  altered[offset] = (altered[offset] as number) ^ mask;
  return altered;
}

/** `bytes` with its trailing SHA-256 made right again: what someone altering the file on purpose does. */
function rehashed(bytes: Buffer): Buffer {
  const sealed = bytes.subarray(0, bytes.length - 32);
  return Buffer.concat([sealed, createHash("sha256").update(sealed).digest()]);
}

const DAMAGED = ["secrets-tampered", "secrets-damaged"];

test("every bit of the file, flipped, is reported as damage: never a wrong passphrase, never a secret", async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  const bytes = readFileSync(path);
  const wrong = { ...env, AWSMFA_PASSPHRASE: "correct horse battery stapler" };
  const none = { ...env, AWSMFA_PASSPHRASE: undefined };
  const tryFlip = async (offset: number, mask: number) => {
    writeFileSync(path, flipped(bytes, offset, mask), { mode: 0o600 });
    // The right passphrase, a wrong one, and none (no terminal to ask on here, or not asked):
    // the damage is found first, whatever the passphrase.
    for (const given of [env, wrong, none]) {
      await assert.rejects(store.read(KEYS, { env: given }), (error: unknown) => {
        isAppError("secrets-tampered")(error);
        assert.equal(
          (error as AppError).message.startsWith(
            `The encrypted secrets file ${path} has been altered or damaged: `,
          ),
          true,
          (error as AppError).message,
        );
        return true;
      });
    }
  };
  // Every position, the passphrase check (27–42) included, and each of the eight bits of it; in
  // the bytes that say how to read the rest (magic, version, scrypt parameters), every value.
  for (let offset = 0; offset < bytes.length; offset++) {
    for (let bit = 0; bit < 8; bit++) await tryFlip(offset, 1 << bit);
  }
  for (let offset = 0; offset < 11; offset++) {
    for (let mask = 1; mask < 256; mask++) await tryFlip(offset, mask);
  }
  await fc.assert(fc.asyncProperty(fc.nat(bytes.length - 1), fc.integer({ min: 1, max: 255 }), tryFlip), {
    numRuns: 60,
  });
  // Cut short or lengthened, too.
  for (const altered of [
    bytes.subarray(0, bytes.length - 1),
    Buffer.concat([bytes, Buffer.from([0])]),
    bytes.subarray(0, 20),
    Buffer.alloc(0),
  ]) {
    writeFileSync(path, altered, { mode: 0o600 });
    await assert.rejects(store.read(KEYS, { env }), isAppError(DAMAGED));
  }
  writeFileSync(path, bytes, { mode: 0o600 });
  assert.equal(await store.read(KEYS, { env }), SECRET, "the intact file still reads");
  await assert.rejects(store.read(KEYS, { env: wrong }), isAppError("secrets-passphrase"));
});

test("altered on purpose, with the checksum made right again: no byte of it is ever used", async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  const bytes = readFileSync(path);
  const checksummed = bytes.length - 32;
  for (let offset = 0; offset < checksummed; offset++) {
    writeFileSync(path, rehashed(flipped(bytes, offset, 0x01)), { mode: 0o600 });
    await assert.rejects(store.read(KEYS, { env }), (error: unknown) => {
      // Salt, scrypt parameters and the check itself are what the passphrase is checked with, so
      // there a deliberate change is indistinguishable from a wrong passphrase: the README says so.
      const keyMaterial = offset >= 8 && offset < 43;
      isAppError(keyMaterial ? ["secrets-passphrase", "secrets-damaged"] : DAMAGED)(error);
      if (offset >= 43) assert.match((error as AppError).message, /its contents fail authentication/);
      return true;
    });
  }
});

test("a file of the first format (no checksum) still reads, and is written in the new one on the next save", async (t) => {
  const { path, env } = setup(t);
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  // Made by the awsmfa before the checksum, with PASSPHRASE: alice's key and her TOTP seed.
  const legacy = readFileSync(join(__dirname, "fixtures", "secrets-v1.enc"));
  assert.equal(legacy.subarray(0, 8).toString("latin1"), "AWSMFAS\x01");
  writeFileSync(path, legacy, { mode: 0o600 });
  assert.equal(await store.read(KEYS, { env }), SECRET);
  assert.equal(await store.read(SEED, { env }), "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP");
  assert.deepEqual(readFileSync(path), legacy, "reading changes nothing");

  // Its limit, said in the hint: a damaged passphrase check looks like a wrong passphrase.
  writeFileSync(path, flipped(legacy, 30, 0x01), { mode: 0o600 });
  await assert.rejects(store.read(KEYS, { env }), (error: unknown) => {
    isAppError("secrets-passphrase")(error);
    assert.match((error as AppError).hint ?? "", /this older format cannot tell/);
    return true;
  });
  writeFileSync(path, flipped(legacy, 60, 0x01), { mode: 0o600 });
  await assert.rejects(store.read(KEYS, { env }), isAppError("secrets-tampered"));

  writeFileSync(path, legacy, { mode: 0o600 });
  await store.write(SEED, "JBSWY3DPEHPK3PXP", { env });
  const saved = readFileSync(path);
  assert.equal(saved.subarray(0, 8).toString("latin1"), "AWSMFAS\x02");
  assert.deepEqual(
    saved.subarray(8, 43),
    legacy.subarray(8, 43),
    "same salt and scrypt parameters: same key",
  );
  assert.equal(await store.read(KEYS, { env }), SECRET);
  assert.equal(await store.read(SEED, { env }), "JBSWY3DPEHPK3PXP");
  writeFileSync(path, flipped(saved, 30, 0x01), { mode: 0o600 });
  await assert.rejects(store.read(KEYS, { env }), isAppError("secrets-tampered"), "now damage is told apart");
});

test("a file that is not an awsmfa secrets file says so", async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  writeFileSync(path, "[default]\naws_access_key_id = x\n", { mode: 0o600 });
  await assert.rejects(store.read(KEYS, { env }), (error: unknown) => {
    isAppError("secrets-damaged")(error);
    assert.match((error as AppError).message, /cannot be read: it is not an awsmfa secrets file/);
    return true;
  });
});

test("a secrets file others can read or write is refused", {
  skip: process.platform === "win32",
}, async (t) => {
  const { path, env } = setup(t);
  await store.write(KEYS, SECRET, { env });
  chmodSync(path, 0o644);
  await assert.rejects(store.read(KEYS, { env }), (error: unknown) => {
    isAppError("unsafe-secrets")(error);
    assert.equal((error as AppError).status, ExitStatus.unsafeFile);
    return true;
  });
});

test("a new file wants a passphrase of at least 8 characters", async (t) => {
  const { path, env } = setup(t);
  await assert.rejects(
    store.write(KEYS, SECRET, { env: { ...env, AWSMFA_PASSPHRASE: "short" } }),
    isAppError("bad-passphrase"),
  );
  assert.throws(() => statSync(path), /ENOENT/);
});

test("two writers at once both keep their secret (the lock, and a re-read under it)", async (t) => {
  const { env } = setup(t);
  const refs = Array.from(
    { length: 4 },
    (_, index): SecretRef => ({
      kind: "totp_seed",
      serial: `arn:aws:iam::111111111111:mfa/user${index}`,
    }),
  );
  await Promise.all(refs.map((ref, index) => store.write(ref, `SEED${index}AAAAAAAAAAAA`, { env })));
  for (const [index, ref] of refs.entries())
    assert.equal(await store.read(ref, { env }), `SEED${index}AAAAAAAAAAAA`);
});
