// Proof on a really full and a really read-only file system (a 64 KiB tmpfs, a read-only bind
// mount): the machine's state is not a bug. login --write-profile, keys move and
// credential-process exit 1 with the path and the cause, leave no lock or temp file behind, and
// credentials obtained with a code but impossible to cache are still handed out, with a warning.
// Needs root (mount); elsewhere each test says why it skipped, and fails under CI=true.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import {
  closeSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import { describe, type TestContext, test } from "node:test";
import { ExitStatus, machineStateError } from "../../src/errors";
import { ALICE_CONFIG, KEYS, useAliceWorld } from "../support/alice-world";
import { writeCodeScript } from "../support/code-script";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const SEED = randomBase32Seed();
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });
const PAGE = 4096;

/**
 * Mounts `args` on a new directory `dir` and returns it, or skips the test saying why (mount needs
 * root); the mount is undone when the test ends.
 */
function mounted(t: TestContext, dir: string, args: string[]): boolean {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const result = spawnSync("mount", [...args, dir], { encoding: "utf8" });
  if (result.status !== 0) {
    const why = `mount is not permitted here (${(result.stderr || result.error?.message || "").trim()})`;
    if (process.env.CI === "true") assert.fail(`${why}; CI must run this test`);
    t.skip(why);
    return false;
  }
  t.after(() => {
    spawnSync("umount", [dir]);
  });
  return true;
}

/** A 64 KiB tmpfs at `dir`, with its own 0700 `sub`directory (the cache directory must be private). */
function smallTmpfs(t: TestContext, dir: string): boolean {
  return mounted(t, dir, ["-t", "tmpfs", "-o", "size=64k,mode=0700", "tmpfs"]);
}

/** Fills the file system of `dir` to the last byte, then frees `freePages` pages of it. */
function fill(dir: string, freePages = 0): void {
  const spare = join(dir, "spare");
  if (freePages > 0) writeFileSync(spare, Buffer.alloc(freePages * PAGE));
  const fd = openSync(join(dir, "filler"), "w");
  try {
    const chunk = Buffer.alloc(PAGE);
    for (;;) writeSync(fd, chunk);
  } catch (error) {
    assert.equal((error as NodeJS.ErrnoException).code, "ENOSPC");
  } finally {
    closeSync(fd);
  }
  rmSync(spare, { force: true });
}

/** What awsmfa left half-made in `dir`: locks, lock breakers, temp files. */
function halfMade(dir: string): string[] {
  return readdirSync(dir).filter((name) => /\.(lock|break|tmp)$/.test(name));
}

function assertFailedOn(result: RunResult, path: string, errno: string): void {
  const shown = `exit ${result.status} (${result.signal ?? "no signal"}): ${result.stderr}`;
  assert.equal(result.status, 1, shown);
  assert.equal(result.stdout, "", shown);
  assert.ok(result.stderr.includes(path), `the message names ${path}; ${shown}`);
  assert.ok(result.stderr.includes(`(${errno})`), `the message names the cause; ${shown}`);
  assert.doesNotMatch(result.stderr, /bug in awsmfa/);
}

/** alice's profile gets its codes from a program, as with a password manager; returns the file it counts runs in. */
function withCodeProgram(before = ""): string {
  const { command, runsFile } = writeCodeScript(world.home.home, SEED);
  const config = readFileSync(world.home.configPath, "utf8");
  const line = `mfa_process = ${before}${command}\n`;
  writeFileSync(world.home.configPath, config.replace("[profile alice]\n", `[profile alice]\n${line}`));
  return runsFile;
}

function sessionsCached(dir: string): number {
  if (!existsSync(dir)) return 0;
  return readdirSync(dir).filter(
    (name) =>
      /^[0-9a-f]{32}\.json$/.test(name) &&
      JSON.parse(readFileSync(join(dir, name), "utf8")).kind === "mfa-session",
  ).length;
}

test("an errno of the machine's state that no caller put in words is still exit 1 with the path, never 'a bug'", () => {
  for (const [code, cause] of [
    ["ENOSPC", "no space left on the device"],
    ["EDQUOT", "disk quota exceeded"],
    ["EROFS", "read-only file system"],
    ["EIO", "input/output error"],
    ["EMFILE", "too many open files in this process"],
    ["ENFILE", "too many open files on the system"],
  ]) {
    const raw = Object.assign(new Error(`${code}: oops`), { code, syscall: "write", path: "/some/file" });
    const error = machineStateError(raw);
    assert.equal(error?.status, ExitStatus.failure, code);
    assert.equal(error?.message, `Cannot write /some/file: ${cause} (${code}).`);
    assert.ok(error?.hint, `${code} says what to do`);
  }
  assert.equal(
    machineStateError(Object.assign(new Error("x"), { code: "EINVAL" })),
    undefined,
    "a bug stays a bug",
  );
});

describe("a full disk", () => {
  test("credential-process with the cache on a full disk: exit 1 naming the lock, no code asked, nothing left", async (t) => {
    const disk = join(world.home.home, "disk");
    if (!smallTmpfs(t, disk)) return;
    const cacheDir = join(disk, "cache");
    mkdirSync(cacheDir, { mode: 0o700 });
    fill(disk);
    const runs = withCodeProgram();
    const result = await runAwsmfa(["credential-process", "-p", "admin"], {
      env: { ...world.home.env, AWSMFA_CACHE_DIR: cacheDir },
    });
    assertFailedOn(result, `${cacheDir}/`, "ENOSPC");
    assert.match(result.stderr, /\.json\.lock: no space left on the device/);
    assert.deepEqual(readdirSync(cacheDir), [], "no lock, no temp file");
    assert.equal(existsSync(runs), false, "no code was asked for");
    assert.equal(world.server.requests.length, 0);
  });

  test("credential-process when the disk fills while the code is fetched: the credentials are handed out, with a warning", async (t) => {
    const disk = join(world.home.home, "disk");
    if (!smallTmpfs(t, disk)) return;
    const cacheDir = join(disk, "cache");
    mkdirSync(cacheDir, { mode: 0o700 });
    // The code program fills the disk first: the lock is held, the code then spent, the cache full.
    withCodeProgram(`dd if=/dev/zero of=${join(disk, "filler")} bs=4k 2>/dev/null; `);
    const result = await runAwsmfa(["credential-process", "-p", "admin"], {
      env: { ...world.home.env, AWSMFA_CACHE_DIR: cacheDir },
    });
    assert.equal(result.status, 0, result.stderr);
    const json = JSON.parse(result.stdout);
    assert.equal(json.Version, 1);
    const issued = world.server.issued.find((credentials) => credentials.accessKeyId === json.AccessKeyId);
    assert.equal(issued?.kind, "AssumeRole", "admin's role credentials");
    assert.equal(json.SecretAccessKey, issued?.secretAccessKey);
    assert.match(result.stderr, /not cached/);
    assert.ok(result.stderr.includes(cacheDir), result.stderr);
    assert.match(result.stderr, /no space left on the device \(ENOSPC\)/);
    assert.equal(world.server.accepted.GetSessionToken, 1);
    assert.deepEqual(halfMade(cacheDir), [], "no lock, no temp file");
  });

  for (const [what, freePages, path] of [
    ["the lock", 0, "credentials.lock"],
    ["the file (the lock fits)", 1, "credentials"],
  ] as const) {
    test(`login --write-profile, the credentials file on a full disk, no room for ${what}: exit 1, file as it was, the session kept`, async (t) => {
      const disk = join(world.home.home, "disk");
      if (!smallTmpfs(t, disk)) return;
      const credentials = join(disk, "credentials");
      copyFileSync(world.home.credentialsPath, credentials);
      fill(disk, freePages);
      const env = { ...world.home.env, AWS_SHARED_CREDENTIALS_FILE: credentials };
      const code = world.server.totp(SEED);
      const login = await runAwsmfa(["login", "-p", "alice", "--token-code", code, "--write-profile", "s"], {
        env,
      });
      assertFailedOn(login, join(disk, path), "ENOSPC");
      assert.equal(readFileSync(credentials, "utf8"), CREDENTIALS);
      assert.deepEqual(halfMade(disk), [], "no lock, no temp file");
      assert.equal(sessionsCached(world.home.cacheDir), 1, "the session the code made is cached");

      rmSync(join(disk, "filler"));
      const again = await runAwsmfa(["login", "-p", "alice", "--write-profile", "s"], { env });
      assert.equal(again.status, 0, again.stderr);
      assert.match(readFileSync(credentials, "utf8"), /\[s\]\naws_access_key_id = ASIA/);
      assert.equal(world.server.calls.GetSessionToken, 1, "no second code");
    });

    test(`keys move --to encrypted, the store on a full disk, no room for ${what}: exit 1, the keys where they were`, async (t) => {
      const disk = join(world.home.home, "disk");
      if (!smallTmpfs(t, disk)) return;
      const secrets = join(disk, "secrets.enc");
      fill(disk, freePages);
      const config = readFileSync(world.home.configPath, "utf8");
      const move = await runAwsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], {
        env: { ...world.home.env, AWSMFA_SECRETS_FILE: secrets, AWSMFA_PASSPHRASE: "a long passphrase" },
      });
      assertFailedOn(move, `${secrets}${path === "credentials" ? "" : ".lock"}`, "ENOSPC");
      assert.deepEqual(halfMade(disk), [], "no lock, no temp file");
      assert.equal(existsSync(secrets), false, "no store");
      assert.equal(readFileSync(world.home.credentialsPath, "utf8"), CREDENTIALS, "the keys are still there");
      assert.equal(readFileSync(world.home.configPath, "utf8"), config);
    });
  }
});

describe("a read-only file system", () => {
  /** The cache directory, mounted read-only over itself after `prepare` filled it. */
  async function readOnlyCache(t: TestContext, prepare: () => Promise<void>): Promise<string | undefined> {
    const cacheDir = world.home.cacheDir;
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    await prepare();
    if (!mounted(t, cacheDir, ["--bind", cacheDir])) return undefined;
    const remount = spawnSync("mount", ["-o", "remount,bind,ro", cacheDir], { encoding: "utf8" });
    assert.equal(remount.status, 0, remount.stderr);
    return cacheDir;
  }

  test("credential-process on an empty read-only cache: exit 1 naming the lock (EROFS), no code asked", async (t) => {
    const runs = withCodeProgram();
    const cacheDir = await readOnlyCache(t, async () => {});
    if (!cacheDir) return;
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assertFailedOn(result, `${cacheDir}/`, "EROFS");
    assert.equal(existsSync(runs), false, "no code was asked for");
  });

  test("a role on a cached session in a read-only cache: assumed and handed out, with a warning", async (t) => {
    const cacheDir = await readOnlyCache(t, async () => {
      const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
        env: world.home.env,
      });
      assert.equal(login.status, 0, login.stderr);
    });
    if (!cacheDir) return;
    const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assert.equal(result.status, 0, result.stderr);
    const issued = world.server.issued.find((c) => c.accessKeyId === JSON.parse(result.stdout).AccessKeyId);
    assert.equal(issued?.kind, "AssumeRole");
    assert.match(result.stderr, /not cached.*read-only file system \(EROFS\)/);
  });
});
