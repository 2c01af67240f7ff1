// Proof of the file-mode rules: under umask 000 every file awsmfa creates is 0600 and every
// directory 0700; a cache file or directory that others could read or write, or that someone else
// owns, is refused with exit 9 and a message whose own fix, run as given, makes the command work.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, readdirSync, statSync, writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, type RunResult } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";
import { bundleFileWriter, runAwsmfa, runProcess, tempDir, walk } from "./support";

const ACCOUNT = "444444444444";
const DAVE = {
  userName: "dave",
  accessKeyId: "AKIADAVEEXAMPLE00001",
  secretAccessKey: "dave/secret/EXAMPLE+0001",
  serial: `arn:aws:iam::${ACCOUNT}:mfa/dave`,
  seed: randomBase32Seed(),
};
const ERIN = {
  userName: "erin",
  accessKeyId: "AKIAERINEXAMPLE00001",
  secretAccessKey: "erin/secret/EXAMPLE+0001",
  serial: `arn:aws:iam::${ACCOUNT}:mfa/erin`,
  seed: randomBase32Seed(),
};
const PASSPHRASE = "permissions-test-passphrase";
const isRoot = process.getuid?.() === 0;

let server: StsServer;
let dave: IsolatedEnv;
let erin: IsolatedEnv;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [DAVE, ERIN].map(({ userName, accessKeyId, secretAccessKey, serial, seed }) => ({
      userName,
      accessKeyId,
      secretAccessKey,
      mfaDevices: [{ serial, seed }],
    })),
  });
});
after(async () => {
  await dave?.cleanup();
  await erin?.cleanup();
  await server?.close();
});

/** awsmfa as a shell with `umask 000` starts it. */
function withUmask000(args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<RunResult> {
  return runProcess("/bin/sh", ["-c", 'umask 000; exec "$0" "$@"', process.execPath, AWSMFA, ...args], {
    env,
    input,
  });
}

function mode(path: string): string {
  return (statSync(path).mode & 0o777).toString(8).padStart(4, "0");
}

/** Every file under `root` is 0600 and every directory 0700; returns the paths, relative to root. */
function assertPrivateTree(root: string): string[] {
  const found = walk(root);
  for (const { path, isDirectory } of found) {
    assert.equal(
      mode(path),
      isDirectory ? "0700" : "0600",
      `${path} (${isDirectory ? "directory" : "file"})`,
    );
  }
  return found.map(({ path }) => path.slice(root.length + 1));
}

/** Polls `dirs` for lock files while `work` runs and records each one's mode as first seen. */
async function watchLocks<T>(
  dirs: string[],
  work: Promise<T>,
): Promise<{ result: T; locks: Map<string, string> }> {
  const locks = new Map<string, string>();
  const poll = () => {
    for (const dir of dirs) {
      let names: string[];
      try {
        names = readdirSync(dir);
      } catch {
        continue;
      }
      for (const name of names.filter((entry) => /\.lock(\.break)?$/.test(entry))) {
        const path = join(dir, name);
        try {
          if (!locks.has(path)) locks.set(path, mode(path));
        } catch {
          // released between readdir and stat
        }
      }
    }
  };
  const timer = setInterval(poll, 2);
  try {
    return { result: await work, locks };
  } finally {
    clearInterval(timer);
  }
}

describe("umask 000: what awsmfa creates is 0600 / 0700", () => {
  test("device discovery writing a new config file, the default cache (entries, locks, warm index, step memory), the encrypted secrets file", async () => {
    dave = await createIsolatedEnv({
      endpointUrl: server.url,
      credentials: `[dave]\naws_access_key_id = ${DAVE.accessKeyId}\naws_secret_access_key = ${DAVE.secretAccessKey}\n`,
    });
    const configPath = join(dave.home, "conf.d", "config");
    dave.env.AWS_CONFIG_FILE = configPath;
    dave.env.AWSMFA_PASSPHRASE = PASSPHRASE;
    delete dave.env.AWSMFA_CACHE_DIR; // the default, ~/.aws/awsmfa/cache, with its parent made too
    delete dave.env.NODE_EXTRA_CA_CERTS;
    const cacheDir = join(dave.home, ".aws", "awsmfa", "cache");
    server.setOption({ latencyMs: 300 }); // long enough to see the session's lock held

    const { result: login, locks } = await watchLocks(
      [cacheDir, join(dave.home, "conf.d")],
      withUmask000(["login", "-p", "dave", "--token-code", server.totp(DAVE.seed)], dave.env),
    );
    server.setOption({ latencyMs: 0 });
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stderr, /Found MFA device .*saved it as mfa_serial/);
    assert.ok(
      [...locks.keys()].some((path) => path.startsWith(cacheDir)),
      "a cache lock was seen while held",
    );
    for (const [path, lockMode] of locks) assert.equal(lockMode, "0600", path);

    const warm = await withUmask000(["credential-process", "-p", "dave"], dave.env);
    assert.equal(warm.status, 0, warm.stderr);
    const totp = await withUmask000(
      ["totp", "add", "-p", "dave", "--stdin", "--store", "encrypted"],
      dave.env,
      `${DAVE.seed}\n`,
    );
    assert.equal(totp.status, 0, totp.stderr);

    const created = assertPrivateTree(dave.home);
    const expect = [
      /^conf\.d$/,
      /^conf\.d\/config$/,
      /^\.aws\/awsmfa$/,
      /^\.aws\/awsmfa\/cache$/,
      /^\.aws\/awsmfa\/cache\/[0-9a-f]{32}\.json$/,
      /^\.aws\/awsmfa\/cache\/warm-[0-9a-f]{32}\.json$/,
      /^\.aws\/awsmfa\/cache\/mfa-step-[0-9a-f]{64}\.json$/,
      /^\.aws\/awsmfa\/secrets\.enc$/,
    ];
    for (const pattern of expect)
      assert.ok(
        created.some((path) => pattern.test(path)),
        `created ${pattern}`,
      );
  });

  test("login --write-profile creating the credentials file and its directory", async () => {
    erin = await createIsolatedEnv({
      endpointUrl: server.url,
      config: `[profile erin]\naws_access_key_id = ${ERIN.accessKeyId}\naws_secret_access_key = ${ERIN.secretAccessKey}\nmfa_serial = ${ERIN.serial}\n`,
    });
    const credentialsPath = join(erin.home, "creds.d", "credentials");
    erin.env.AWS_SHARED_CREDENTIALS_FILE = credentialsPath;
    delete erin.env.NODE_EXTRA_CA_CERTS;
    const login = await withUmask000(
      ["login", "-p", "erin", "--token-code", server.totp(ERIN.seed), "--write-profile", "erin-session"],
      erin.env,
    );
    assert.equal(login.status, 0, login.stderr);
    const created = assertPrivateTree(erin.home);
    assert.ok(created.includes("creds.d/credentials"));
    assert.deepEqual(readdirSync(join(erin.home, "creds.d")), ["credentials"], "no lock or temp file left");
  });

  test("the lock files of the credentials file and of a cache entry, seen while held", async () => {
    const scratch = tempDir("awsmfa-perm-");
    try {
      const writer = await bundleFileWriter(scratch.path);
      const spec = join(scratch.path, "probe.json");
      writeFileSync(
        spec,
        JSON.stringify({
          credentials: join(scratch.path, "new", "credentials"),
          cacheDir: join(scratch.path, "cache"),
          key: "0123456789abcdef0123456789abcdef",
          entry: {
            version: 1,
            kind: "mfa-session",
            profile: "probe",
            credentials: {
              accessKeyId: "ASIA",
              secretAccessKey: "s",
              sessionToken: "t",
              expiration: "2099-01-01T00:00:00Z",
            },
            createdAt: "2024-01-01T00:00:00Z",
          },
        }),
      );
      const run = spawnSync(
        "/bin/sh",
        ["-c", 'umask 000; exec "$0" "$@"', process.execPath, writer, "probe", spec],
        {
          encoding: "utf8",
        },
      );
      assert.equal(run.status, 0, run.stderr);
      assert.deepEqual(JSON.parse(run.stdout), {
        credentialsLock: 0o600,
        credentials: 0o600,
        cacheDir: 0o700,
        entryLock: 0o600,
        entry: 0o600,
      });
      assert.equal(mode(join(scratch.path, "new")), "0700");
    } finally {
      scratch.remove();
    }
  });
});

describe("unsafe modes and owners are refused with exit 9 and the fix", () => {
  const cacheDir = () => join(dave.home, ".aws", "awsmfa", "cache");
  const entries = () =>
    readdirSync(cacheDir())
      .filter((name) => /^[0-9a-f]{32}\.json$/.test(name))
      .map((name) => join(cacheDir(), name));
  const warmIndex = () =>
    join(cacheDir(), readdirSync(cacheDir()).find((name) => name.startsWith("warm-")) as string);

  /** Exit 9 naming `path`; then the command in the message's hint, run as given, makes `args` work again. */
  async function refusedThenFixed(args: string[], path: string, pattern: RegExp, input?: string) {
    const refused = await runAwsmfa(args, { env: dave.env, input });
    assert.equal(refused.status, 9, `${args.join(" ")}: ${refused.stderr}`);
    assert.equal(refused.stdout, "", "no credentials handed out");
    assert.match(refused.stderr, pattern);
    assert.ok(refused.stderr.includes(path), refused.stderr);
    const fix = /`((?:chmod|rm -r) [^`]+)`/.exec(refused.stderr)?.[1];
    assert.ok(fix, `the message says what to run: ${refused.stderr}`);
    execFileSync("/bin/sh", ["-c", fix]);
    const fixed = await runAwsmfa(args, { env: dave.env, input });
    assert.equal(fixed.status, 0, `after \`${fix}\`: ${fixed.stderr}`);
    return fix;
  }

  for (const [label, unsafe] of [
    ["644", 0o644],
    ["640", 0o640],
    ["604", 0o604],
  ] as const) {
    test(`a cache entry with mode ${label}: credential-process and env refuse it`, async () => {
      const [entry] = entries();
      assert.ok(entry);
      for (const args of [
        ["credential-process", "-p", "dave"],
        ["env", "-p", "dave"],
      ]) {
        chmodSync(entry, unsafe);
        const fix = await refusedThenFixed(
          args,
          entry,
          /The cache file .* is open to other users \(mode 6[04][04]\)/,
        );
        assert.equal(fix, `chmod 600 ${entry}`);
      }
    });
  }

  for (const [label, unsafe] of [
    ["755", 0o755],
    ["750", 0o750],
    ["777", 0o777],
  ] as const) {
    test(`the cache directory with mode ${label}: refused on the warm path too`, async () => {
      for (const args of [["credential-process", "-p", "dave"], ["env", "-p", "dave"], ["status"]]) {
        chmodSync(cacheDir(), unsafe);
        const fix = await refusedThenFixed(args, cacheDir(), /The cache directory .* is open to other users/);
        assert.equal(fix, `chmod 700 ${cacheDir()}`);
      }
    });
  }

  test("the warm index with mode 644", async () => {
    chmodSync(warmIndex(), 0o644);
    await refusedThenFixed(
      ["credential-process", "-p", "dave"],
      warmIndex(),
      /is open to other users \(mode 644\)/,
    );
  });

  test("the encrypted secrets file with mode 644", async () => {
    const secrets = join(dave.home, ".aws", "awsmfa", "secrets.enc");
    chmodSync(secrets, 0o644);
    await refusedThenFixed(
      ["totp", "add", "-p", "dave", "--stdin", "--store", "encrypted"],
      secrets,
      /The secrets file .* is open to other users \(mode 644\)/,
      `${DAVE.seed}\n`,
    );
  });

  test("a cache entry or directory owned by another user", {
    skip: isRoot ? false : "needs root to chown",
  }, async () => {
    const dir = cacheDir();
    chownSync(dir, 65534, 65534);
    const refusedDir = await runAwsmfa(["credential-process", "-p", "dave"], { env: dave.env });
    chownSync(dir, 0, 0);
    assert.equal(refusedDir.status, 9, refusedDir.stderr);
    assert.match(
      refusedDir.stderr,
      /The cache directory .* belongs to another user \(uid 65534\); not using it\./,
    );
    assert.match(refusedDir.stderr, /set AWSMFA_CACHE_DIR to a directory you own/);

    const [entry] = entries();
    assert.ok(entry);
    chownSync(entry, 65534, 65534);
    const fix = await refusedThenFixed(
      ["status"],
      entry,
      /The cache file .* belongs to another user \(uid 65534\)/,
    );
    assert.equal(fix, `rm -r ${entry}`);
    assert.equal(existsSync(entry), false);
    assert.equal(basename(entry).length, 37);
  });
});
