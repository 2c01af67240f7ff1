// Proof against cache and lock files that are not what they seem: a FIFO (or any file that is not
// a regular one) in place of an entry, the warm index, the step memory or a lock never hangs
// credential-process; an entry is served only for the step it was made for and with an expiry
// AWS could have granted; a lock stamped in the future (the clock was set back) does not hold
// every caller up forever.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { mkdirSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { AppError } from "../../src/errors";
import { acquireLock } from "../../src/fsio/lock";
import { type CacheEntry, type EntryTarget, readEntry, writeEntry } from "../../src/session/cache";
import { ALICE_CONFIG, KEYS, ROLE, SERIAL, useAliceWorld } from "../support/alice-world";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import { tempDir } from "./support";

const SEED = randomBase32Seed();
const world = useAliceWorld({
  seed: SEED,
  config: ALICE_CONFIG,
  credentials: `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
});

/** Long enough for a loaded machine, far shorter than a hang (the test would be killed as one). */
const RUN = { timeoutMs: 30_000 };

/** Logs alice in with one code, then gets admin's role from that session: both entries and a warm index cached. */
async function cachedAdmin(): Promise<{ roleKeyId: string; files: CacheFiles }> {
  const { home, server } = world;
  const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
    env: home.env,
  });
  assert.equal(login.status, 0, login.stderr);
  const admin = await runAwsmfa(["credential-process", "-p", "admin"], { env: home.env });
  assert.equal(admin.status, 0, admin.stderr);
  return { roleKeyId: JSON.parse(admin.stdout).AccessKeyId, files: cacheFiles() };
}

interface CacheFiles {
  session: string;
  role: string;
  warmIndex: string;
}

function cacheFiles(): CacheFiles {
  const dir = world.home.cacheDir;
  const found: Partial<CacheFiles> = {};
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (name.startsWith("warm-")) found.warmIndex = path;
    else if (/^[0-9a-f]{32}\.json$/.test(name)) {
      const kind = JSON.parse(readFileSync(path, "utf8")).kind;
      found[kind === "mfa-session" ? "session" : "role"] = path;
    }
  }
  assert.ok(found.session && found.role && found.warmIndex, `cached: ${readdirSync(dir).join(", ")}`);
  return found as CacheFiles;
}

function makeFifo(path: string): void {
  rmSync(path, { force: true });
  const made = spawnSync("mkfifo", ["-m", "600", path]);
  assert.equal(made.status, 0, `mkfifo: ${made.stderr}`);
}

function issuedKind(keyId: string): string | undefined {
  return world.server.issued.find((issued) => issued.accessKeyId === keyId)?.kind;
}

function credentialsOf(result: RunResult): { AccessKeyId: string } {
  assert.equal(result.status, 0, `exit ${result.status} (${result.signal ?? "no signal"}): ${result.stderr}`);
  return JSON.parse(result.stdout);
}

describe("files that are not regular files", () => {
  test("a FIFO in place of the role's entry is a miss on the warm and the full path: the role is assumed again", async () => {
    const { files, roleKeyId } = await cachedAdmin();
    makeFifo(files.role);
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env, ...RUN });
    const { AccessKeyId } = credentialsOf(result);
    assert.notEqual(AccessKeyId, roleKeyId);
    assert.equal(issuedKind(AccessKeyId), "AssumeRole");
    assert.equal(world.server.calls.GetSessionToken, 1, "the cached session served, no new code");
    assert.ok(statSync(files.role).isFile(), "the FIFO was replaced by the new entry");
  });

  test("a FIFO in place of the MFA session's entry is a miss (a new code is needed: exit 4 here), not a hang", async () => {
    const { files } = await cachedAdmin();
    makeFifo(files.session);
    const result = await runAwsmfa(["credential-process", "-p", "alice"], { env: world.home.env, ...RUN });
    assert.equal(
      result.status,
      4,
      `exit ${result.status} (${result.signal ?? "no signal"}): ${result.stderr}`,
    );
  });

  test("a FIFO in place of the warm index or the step memory is a miss: the cached role answers", async () => {
    const { files, roleKeyId } = await cachedAdmin();
    makeFifo(files.warmIndex);
    const stepMemory = readdirSync(world.home.cacheDir).filter((name) => name.startsWith("mfa-step-"));
    assert.equal(stepMemory.length, 1, "login remembered the code it spent");
    makeFifo(join(world.home.cacheDir, stepMemory[0] as string));
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env, ...RUN });
    assert.equal(credentialsOf(result).AccessKeyId, roleKeyId);
  });

  test("a FIFO in place of the step memory, read and written when a code is spent, remembers nothing: login goes on", async () => {
    await cachedAdmin();
    const [memory] = readdirSync(world.home.cacheDir).filter((name) => name.startsWith("mfa-step-"));
    const path = join(world.home.cacheDir, memory as string);
    makeFifo(path);
    // The next step's code: the server takes a code one step ahead, and the last one is spent.
    const code = world.server.totp(SEED, Date.now() + 30_000);
    const login = await runAwsmfa(["login", "-p", "alice", "--force", "--token-code", code], {
      env: world.home.env,
      ...RUN,
    });
    assert.equal(login.status, 0, `exit ${login.status} (${login.signal ?? "no signal"}): ${login.stderr}`);
    assert.equal(world.server.accepted.GetSessionToken, 2);
    assert.ok(statSync(path).isFile(), "the memory of the code just spent replaced the FIFO");
  });

  test("a FIFO in place of a lock is refused at once, with its path and what to do", async () => {
    const { files } = await cachedAdmin();
    rmSync(files.role);
    makeFifo(`${files.role}.lock`);
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env, ...RUN });
    assert.equal(
      result.status,
      1,
      `exit ${result.status} (${result.signal ?? "no signal"}): ${result.stderr}`,
    );
    assert.ok(result.stderr.includes(`The lock file ${files.role}.lock is a FIFO`), result.stderr);
    assert.match(result.stderr, /Remove it/);
    assert.doesNotMatch(result.stderr, /bug in awsmfa/);
  });
});

describe("entries served only for the step they were made for", () => {
  test("the session's entry copied over the role's: the role is assumed, not the session handed out as the role", async () => {
    const { files } = await cachedAdmin();
    writeFileSync(files.role, readFileSync(files.session));
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env, ...RUN });
    assert.equal(issuedKind(credentialsOf(result).AccessKeyId), "AssumeRole");
  });

  test("a role entry naming another role, or with an expiry years away, is a miss on the warm path", async () => {
    const { files, roleKeyId } = await cachedAdmin();
    const original = JSON.parse(readFileSync(files.role, "utf8"));
    const years = new Date(Date.now() + 5 * 365 * 86_400_000).toISOString();
    for (const changed of [
      { ...original, roleArn: `${ROLE}-other` },
      { ...original, credentials: { ...original.credentials, expiration: years } },
    ]) {
      writeFileSync(files.role, JSON.stringify(changed), { mode: 0o600 });
      const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env, ...RUN });
      const { AccessKeyId } = credentialsOf(result);
      assert.notEqual(AccessKeyId, roleKeyId, JSON.stringify(changed).slice(0, 80));
      assert.equal(issuedKind(AccessKeyId), "AssumeRole");
    }
  });

  test("readEntry: key, kind, device, role and a possible expiry all checked; an entry of an older version is a miss", () => {
    const work = tempDir("awsmfa-entries-");
    try {
      const dir = join(work.path, "cache");
      mkdirSync(dir, { mode: 0o700 });
      const now = Date.now();
      const session = (hours: number, createdAt = now): CacheEntry => ({
        version: 1,
        kind: "mfa-session",
        profile: "alice",
        serial: SERIAL,
        credentials: {
          accessKeyId: "ASIAEXAMPLE",
          secretAccessKey: "s",
          sessionToken: "t",
          expiration: new Date(createdAt + hours * 3600_000).toISOString(),
        },
        createdAt: new Date(createdAt).toISOString(),
      });
      const key = "a".repeat(32);
      const target: EntryTarget = { key, step: { type: "mfa-session", serial: SERIAL } };
      const served = (entry: CacheEntry, at: EntryTarget = target, writtenAs = key) => {
        writeEntry(dir, writtenAs, entry);
        if (writtenAs !== at.key)
          writeFileSync(join(dir, `${at.key}.json`), readFileSync(join(dir, `${writtenAs}.json`)));
        return readEntry(dir, at) !== undefined;
      };
      assert.equal(served(session(36)), true, "a 36-hour session, the longest AWS grants");
      assert.equal(served(session(12), target, "b".repeat(32)), false, "another step's entry copied here");
      assert.equal(served(session(12), { key, step: { type: "mfa-session", serial: `${SERIAL}-2` } }), false);
      assert.equal(served(session(12), { key, step: { type: "assume-role", roleArn: ROLE } }), false);
      assert.equal(
        served(
          { ...session(1), kind: "assume-role", roleArn: ROLE },
          { key, step: { type: "assume-role", roleArn: `${ROLE}2` } },
        ),
        false,
      );
      assert.equal(served(session(37)), false, "longer than GetSessionToken allows");
      assert.equal(
        served(
          { ...session(13), kind: "assume-role", roleArn: ROLE },
          { key, step: { type: "assume-role", roleArn: ROLE } },
        ),
        false,
        "longer than AssumeRole allows",
      );
      const future = now + 3 * 365 * 86_400_000;
      assert.equal(served(session(12, future)), false, "created and expiring years from now");
      writeFileSync(join(dir, `${key}.json`), JSON.stringify(session(12)), { mode: 0o600 });
      assert.equal(readEntry(dir, target), undefined, "no key: written by an older version");
    } finally {
      work.remove();
    }
  });
});

describe("locks stamped by another clock", () => {
  const options = { timeoutMs: 3000, staleMs: 60_000, what: "the test" };
  const work = tempDir("awsmfa-locks-");
  after(() => work.remove());

  const A_YEAR = 365 * 86_400_000;
  const monotonicNow = () => Number(process.hrtime.bigint() / 1_000_000n);

  /** A lock held by this (live) process, as if its pid had been reused, stamped as `stamps` say. */
  function heldLock(name: string, stamps: { startedAt: number; monotonicAt?: number }): string {
    const dir = join(work.path, name);
    mkdirSync(dir, { mode: 0o700 });
    const lock = join(dir, "x.json.lock");
    writeFileSync(lock, JSON.stringify({ pid: process.pid, host: hostname(), ...stamps, nonce: name }));
    return lock;
  }

  test("a lock of a live pid (reused) stamped a year ahead is stale, not held for ever", async () => {
    const lock = heldLock("future-old-format", { startedAt: Date.now() + A_YEAR });
    const held = await acquireLock(lock, options);
    held.release();
  });

  test("a lock taken before a reboot (its monotonic clock ahead of ours) is stale, whatever its wall clock says", async () => {
    const lock = heldLock("before-reboot", {
      startedAt: Date.now(),
      monotonicAt: monotonicNow() + 86_400_000,
    });
    const held = await acquireLock(lock, options);
    held.release();
  });

  test("a live holder is still waited for when the wall clock was set back under it (its monotonic age is small)", async () => {
    const lock = heldLock("clock-set-back", { startedAt: Date.now() + A_YEAR, monotonicAt: monotonicNow() });
    await assert.rejects(acquireLock(lock, { ...options, timeoutMs: 500 }), (error) => {
      assert.ok(error instanceof AppError && error.code === "lock-timeout", String(error));
      return true;
    });
  });

  test("an empty lock and a breaker file whose mtime lies in the future are taken over", async () => {
    const dir = join(work.path, "future-mtime");
    mkdirSync(dir, { mode: 0o700 });
    const lock = join(dir, "x.json.lock");
    const future = new Date(Date.now() + A_YEAR);
    writeFileSync(lock, "");
    utimesSync(lock, future, future);
    writeFileSync(`${lock}.break`, "");
    utimesSync(`${lock}.break`, future, future);
    const held = await acquireLock(lock, options);
    held.release();
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe("other files awsmfa reads that are not regular files", () => {
  // In a child: a blocking open of a FIFO would freeze this process's event loop, timeouts included.
  function runBounded(
    script: string,
    env: NodeJS.ProcessEnv,
  ): { status: number | null; stdout: string; stderr: string } {
    const result = spawnSync(process.execPath, ["--import", "tsx", "-e", script], {
      env: { ...process.env, ...env },
      encoding: "utf8",
      timeout: RUN.timeoutMs,
    });
    return { status: result.status, stdout: result.stdout, stderr: result.stderr };
  }
  const reportError = (call: string) =>
    `(async () => { try { await ${call}; console.log("no error"); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); } })()`;

  test("a FIFO as the encrypted secrets file is refused with its path, not read", () => {
    const dir = tempDir("awsmfa-fifo-secrets-");
    after(dir.remove);
    const path = join(dir.path, "secrets.enc");
    makeFifo(path);
    const store = join(__dirname, "../../src/secrets/index.ts");
    const script = `const { storeNamed } = require(${JSON.stringify(store)});\n${reportError(
      `storeNamed("encrypted").read({ kind: "secret_access_key", profile: "alice", accessKeyId: "AKIAEXAMPLE" }, { env: process.env })`,
    )}`;
    const result = runBounded(script, { AWSMFA_SECRETS_FILE: path, AWSMFA_PASSPHRASE: "p", HOME: dir.path });
    assert.equal(result.status, 0, `the child hung or crashed (${result.status}): ${result.stderr}`);
    const error = JSON.parse(result.stdout.trim());
    assert.equal(error.code, "secrets-read");
    assert.match(error.message, /secrets\.enc is a FIFO/);
  });

  test("a FIFO at a profile file being edited is refused with its path, not read", () => {
    const dir = tempDir("awsmfa-fifo-edit-");
    after(dir.remove);
    const path = join(dir.path, "credentials");
    makeFifo(path);
    const edit = join(__dirname, "../../src/config/edit.ts");
    const script = `const { editProfileFile } = require(${JSON.stringify(edit)});\n${reportError(
      `editProfileFile(${JSON.stringify(path)}, "credentials", (text) => text + "[x]\\n")`,
    )}`;
    const result = runBounded(script, { HOME: dir.path });
    assert.equal(result.status, 0, `the child hung or crashed (${result.status}): ${result.stderr}`);
    const error = JSON.parse(result.stdout.trim());
    assert.equal(error.code, "config-read");
    assert.match(error.message, /credentials is a FIFO, not a regular file/);
  });
});
