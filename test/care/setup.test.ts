// `awsmfa setup` run unattended (every answer a flag, the secret on stdin) against moto_server
// and the strict STS server: it must end with a working login, and the diff it shows must be
// exactly what it writes (checked by applying it with GNU patch to the files as they were).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, type TestContext, test } from "node:test";
import { unifiedDiff } from "../../src/commands/setup";
import { cacheEntryFiles, createIsolatedEnv, type IsolatedEnv } from "../support/env";
import {
  AWS_CLI_SKIP_REASON,
  awsCliAvailable,
  findOnPath,
  MOTO_SKIP_REASON,
  type MotoServer,
  startMoto,
} from "../support/moto";
import { createMfaUser, motoIam } from "../support/moto-iam";
import { runAwsmfa, runProcess, writeAwsmfaBin } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const homes: IsolatedEnv[] = [];
after(async () => {
  for (const home of homes) await home.cleanup();
});

async function newHome(endpointUrl: string, files: { config?: string; credentials?: string } = {}) {
  const home = await createIsolatedEnv({ endpointUrl, ...files });
  homes.push(home);
  return home;
}

/** The `--- a` … hunks of one file from setup's stderr, as a patch. */
function patchFor(stderr: string, path: string): string {
  const lines = stderr.split("\n");
  const start = lines.findIndex(
    (line, index) => line.startsWith("--- ") && lines[index + 1] === `+++ ${path}`,
  );
  assert.ok(start >= 0, `a diff for ${path} in:\n${stderr}`);
  const out = [lines[start], lines[start + 1]];
  for (let index = start + 2; index < lines.length; index++) {
    const line = lines[index] as string;
    if (!/^([ +\-@\\])/.test(line) || line.startsWith("--- ")) break;
    out.push(line);
  }
  return `${out.join("\n")}\n`;
}

/** Applies `patch` to `before` with GNU patch (an independent reader of the format). */
function applyPatch(before: string | undefined, patch: string): string {
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-patch-"));
  try {
    const file = join(dir, "file");
    writeFileSync(file, before ?? "");
    writeFileSync(join(dir, "change.diff"), patch);
    execFileSync("patch", ["--quiet", "--force", "--no-backup-if-mismatch", file, join(dir, "change.diff")], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    return readFileSync(file, "utf8");
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("setup against moto_server", () => {
  let moto: MotoServer | undefined;
  let keys: { accessKeyId: string; secretAccessKey: string };
  let serial: string;

  before(async () => {
    moto = await startMoto();
    if (!moto) return;
    const admin = motoIam(moto.url);
    try {
      // A fresh IAM user, a virtual MFA device and an access key, as a person makes them in the console.
      ({ keys, serial } = await createMfaUser(admin, "carol"));
    } finally {
      admin.destroy();
    }
  });
  after(() => moto?.close());

  function skipWithoutMoto(t: TestContext): boolean {
    if (moto) return false;
    t.skip(MOTO_SKIP_REASON);
    return true;
  }

  test("unattended setup finds the device, shows the exact diff, writes it, and ends logged in", async (t) => {
    if (skipWithoutMoto(t)) return;
    if (!findOnPath("patch")) return t.skip("GNU patch not installed");
    const config = "# my settings\n[default]\nregion = eu-west-1\n";
    const home = await newHome(moto?.url ?? "", { config });
    const result = await runAwsmfa(
      [
        "setup",
        "-p",
        "carol",
        "--access-key-id",
        keys.accessKeyId,
        "--secret-access-key-stdin",
        "--role",
        "carol-admin=arn:aws:iam::123456789012:role/Admin",
        "--credential-process-profile",
        "carol-cli",
        "--yes",
        "--token-code",
        "-",
      ],
      // The secret, then the code for the final login: neither ever in argv.
      { env: home.env, input: `${keys.secretAccessKey}\n123456\n` },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.ok(!result.stderr.includes(keys.secretAccessKey), "the secret never shows");
    assert.match(result.stderr, /belongs to arn:aws:iam::123456789012:user\/carol/);
    assert.match(result.stderr, new RegExp(`MFA device: ${serial.replace(/[/]/g, "\\/")}`));
    assert.match(result.stderr, /aws_secret_access_key = \*{8}$/m, "the shown diff masks the secret");

    // What was shown is what was written.
    const writtenConfig = readFileSync(home.configPath, "utf8");
    assert.equal(applyPatch(config, patchFor(result.stderr, home.configPath)), writtenConfig);
    const writtenCredentials = readFileSync(home.credentialsPath, "utf8");
    assert.equal(
      applyPatch(undefined, patchFor(result.stderr, home.credentialsPath)),
      writtenCredentials.replace(keys.secretAccessKey, "********"),
    );
    assert.equal(statSync(home.credentialsPath).mode & 0o777, 0o600);
    assert.ok(writtenConfig.startsWith(config), "the config file's own lines are kept");
    assert.match(
      writtenConfig,
      new RegExp(`\\[profile carol\\]\\nmfa_serial = ${serial.replace(/[/]/g, "\\/")}\\n`),
    );
    assert.match(
      writtenConfig,
      /\[profile carol-admin\]\nrole_arn = arn:aws:iam::123456789012:role\/Admin\nsource_profile = carol\n/,
    );
    assert.match(
      writtenConfig,
      /\[profile carol-cli\]\ncredential_process = awsmfa credential-process -p carol\n/,
    );
    assert.match(
      writtenCredentials,
      new RegExp(`\\[carol\\]\\naws_access_key_id = ${keys.accessKeyId}\\naws_secret_access_key = `),
    );

    // The login at the end is real: a session in the cache, and credential-process serves it.
    assert.match(result.stderr, /Logged in: profile 'carol'/);
    assert.match(result.stderr, /^ {2}account {2}123456789012$/m);
    assert.match(result.stderr, /^ {2}expires {2}.+\(in 1[12] h/m);
    assert.equal(cacheEntryFiles(home).length, 1);
    const served = await runAwsmfa(["credential-process", "-p", "carol"], { env: home.env });
    assert.equal(served.status, 0, served.stderr);
    assert.equal(JSON.parse(served.stdout).Version, 1);

    // Run again with the keys already there: nothing to change, and it still proves the login.
    const again = await runAwsmfa(
      [
        "setup",
        "-p",
        "carol",
        "--import-from-credentials",
        "--mfa-serial",
        serial,
        "--yes",
        "--token-code",
        "654321",
      ],
      { env: home.env },
    );
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /nothing to change/);
    assert.equal(readFileSync(home.configPath, "utf8"), writtenConfig);
  });

  test("--region goes into the --credential-process-profile too: the aws CLI finds it there", async (t) => {
    if (skipWithoutMoto(t)) return;
    if (!awsCliAvailable()) return t.skip(AWS_CLI_SKIP_REASON);
    const home = await newHome(moto?.url ?? "");
    // Nothing but the profile may give the region, as on a machine without AWS_REGION set.
    delete home.env.AWS_REGION;
    home.env.PATH = `${writeAwsmfaBin(home.home)}${delimiter}${home.env.PATH ?? ""}`;
    const result = await runAwsmfa(
      [
        "setup",
        "-p",
        "carol",
        "--access-key-id",
        keys.accessKeyId,
        "--secret-access-key-stdin",
        "--credential-process-profile",
        "carol-cli",
        "--region",
        "eu-west-1",
        "--yes",
        "--token-code",
        "123456",
      ],
      { env: home.env, input: `${keys.secretAccessKey}\n` },
    );
    assert.equal(result.status, 0, result.stderr);
    // The real aws CLI, with only the profile setup said to use.
    const caller = await runProcess(
      "aws",
      ["--profile", "carol-cli", "sts", "get-caller-identity", "--output", "json"],
      { env: home.env },
    );
    assert.doesNotMatch(caller.stderr, /must specify a region/);
    assert.equal(caller.status, 0, caller.stderr);
    assert.equal(JSON.parse(caller.stdout).Account, "123456789012");
    assert.match(
      readFileSync(home.configPath, "utf8"),
      /\[profile carol-cli\]\ncredential_process = awsmfa credential-process -p carol\nregion = eu-west-1\n/,
    );
  });
});

describe("setup against the strict STS server", () => {
  const ACCOUNT = "111111111111";
  const SEED = randomBase32Seed();
  const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/dave`;
  const SECOND = `arn:aws:iam::${ACCOUNT}:mfa/dave-backup`;
  const KEYS = {
    accessKeyId: "AKIADAVEEXAMPLE00001",
    secretAccessKey: "dave/secret/key/EXAMPLE+00000000001",
  };
  let server: StsServer;

  before(async () => {
    server = await startStsServer({
      accountId: ACCOUNT,
      users: [{ userName: "dave", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    });
  });
  after(() => server.close());

  test("--import-from-credentials copies another profile's keys; a CRLF file keeps its endings", async () => {
    server.reset();
    const credentials = `[old]\r\naws_access_key_id = ${KEYS.accessKeyId}\r\naws_secret_access_key = ${KEYS.secretAccessKey}\r\n`;
    const home = await newHome(server.url, { credentials });
    const result = await runAwsmfa(
      ["setup", "-p", "dave", "--import-from-credentials", "old", "--yes", "--token-code", server.totp(SEED)],
      { env: home.env },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.ok(!result.stderr.includes(KEYS.secretAccessKey));
    const written = readFileSync(home.credentialsPath, "utf8");
    assert.equal(
      written,
      `${credentials}\r\n[dave]\r\naws_access_key_id = ${KEYS.accessKeyId}\r\naws_secret_access_key = ${KEYS.secretAccessKey}\r\n`,
    );
    assert.equal(readFileSync(home.configPath, "utf8"), `[profile dave]\nmfa_serial = ${SERIAL}\n`);
    assert.match(result.stderr, /Logged in: profile 'dave' as arn:aws:iam::111111111111:user\/dave/);
    assert.match(result.stderr, /^ {2}user {5}dave$/m);
    assert.match(result.stderr, new RegExp(`^ {2}device {3}${SERIAL.replace(/[/]/g, "\\/")}$`, "m"));
    assert.equal(server.accepted.GetCallerIdentity !== undefined, true);
    assert.equal(server.accepted.ListMFADevices, 1);
    assert.equal(server.accepted.GetSessionToken, 1);
  });

  test("keys kept in the encrypted store stay there: setup checks them and writes only the config", async () => {
    server.reset();
    const credentials = `[dave]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
    const home = await newHome(server.url, { credentials });
    const env = { ...home.env, AWSMFA_PASSPHRASE: "correct horse battery staple" };
    const move = await runAwsmfa(["keys", "move", "-p", "dave", "--to", "encrypted"], { env });
    assert.equal(move.status, 0, move.stderr);
    const credentialsBefore = readFileSync(home.credentialsPath, "utf8");
    const configBefore = readFileSync(home.configPath, "utf8");

    const result = await runAwsmfa(
      ["setup", "-p", "dave", "--import-from-credentials", "--yes", "--token-code", server.totp(SEED)],
      { env },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(
      readFileSync(home.credentialsPath, "utf8"),
      credentialsBefore,
      "no key goes back into the file",
    );
    assert.equal(
      readFileSync(home.configPath, "utf8"),
      configBefore.replace(/\n?$/, `\nmfa_serial = ${SERIAL}\n`),
    );
    assert.match(result.stderr, /Logged in: profile 'dave'/);

    const refused = await runAwsmfa(
      ["setup", "-p", "dave", "--access-key-id", KEYS.accessKeyId, "--secret-access-key-stdin", "--yes"],
      { env, input: `${KEYS.secretAccessKey}\n` },
    );
    assert.equal(refused.status, 3, refused.stderr);
    assert.match(refused.stderr, /keys move -p dave --to file/);
  });

  test("without --yes and without a terminal nothing is written; --dry-run only shows", async () => {
    server.reset();
    const home = await newHome(server.url);
    for (const extra of [[], ["--dry-run"]]) {
      const result = await runAwsmfa(
        ["setup", "-p", "dave", "--access-key-id", KEYS.accessKeyId, "--secret-access-key-stdin", ...extra],
        { env: home.env, input: `${KEYS.secretAccessKey}\n` },
      );
      // Without a terminal to confirm on: the no-terminal status; --yes is the way to write.
      assert.equal(result.status, extra.length ? 0 : 4, result.stderr);
      assert.match(result.stderr, /^\+aws_secret_access_key = \*{8}$/m);
      assert.ok(!result.stderr.includes(KEYS.secretAccessKey));
      assert.equal(existsSync(home.configPath), false);
      assert.equal(existsSync(home.credentialsPath), false);
    }
    assert.equal(server.calls.GetSessionToken, undefined, "no login without the files");
  });

  test("--credential-process-profile NAME=ROLE points the profile for the aws CLI at a --role profile", async () => {
    server.reset();
    const home = await newHome(server.url);
    const args = ["setup", "-p", "dave", "--access-key-id", KEYS.accessKeyId, "--secret-access-key-stdin"];
    const role = ["--role", `dave-admin=arn:aws:iam::${ACCOUNT}:role/Admin`, "--mfa-serial", SERIAL];
    const result = await runAwsmfa(
      [...args, ...role, "--credential-process-profile", "dave-cli=dave-admin", "--dry-run"],
      {
        env: home.env,
        input: `${KEYS.secretAccessKey}\n`,
      },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(
      result.stderr,
      /^\+\[profile dave-cli\]\n\+credential_process = awsmfa credential-process -p dave-admin$/m,
    );
    const unknown = await runAwsmfa(
      [...args, ...role, "--credential-process-profile", "dave-cli=nobody", "--yes"],
      {
        env: home.env,
        input: `${KEYS.secretAccessKey}\n`,
      },
    );
    assert.equal(unknown.status, 2, unknown.stderr);
    assert.match(unknown.stderr, /'nobody' is neither the keys profile 'dave' nor a --role name/);
  });

  test("a wrong secret is caught by GetCallerIdentity before anything is written", async () => {
    server.reset();
    const home = await newHome(server.url);
    const result = await runAwsmfa(
      ["setup", "-p", "dave", "--access-key-id", KEYS.accessKeyId, "--secret-access-key-stdin", "--yes"],
      { env: home.env, input: "not/the/right/secret/at/all/0000000001\n" },
    );
    assert.equal(result.status, 6, result.stderr);
    assert.match(result.stderr, /signature/i);
    assert.equal(existsSync(home.credentialsPath), false);
  });

  test("several MFA devices: unattended setup names them and asks for --mfa-serial", async () => {
    const several = await startStsServer({
      accountId: ACCOUNT,
      users: [
        {
          userName: "dave",
          ...KEYS,
          mfaDevices: [
            { serial: SERIAL, seed: SEED },
            { serial: SECOND, seed: randomBase32Seed() },
          ],
        },
      ],
    });
    try {
      const home = await newHome(several.url);
      const result = await runAwsmfa(
        ["setup", "-p", "dave", "--access-key-id", KEYS.accessKeyId, "--secret-access-key-stdin", "--yes"],
        { env: home.env, input: `${KEYS.secretAccessKey}\n` },
      );
      // A configuration problem, as at login's device discovery (error-codes.test.ts).
      assert.equal(result.status, 3, result.stderr);
      assert.match(result.stderr, /has 2 MFA devices/);
      assert.match(result.stderr, /--mfa-serial/);
      assert.equal(existsSync(home.credentialsPath), false);
    } finally {
      await several.close();
    }
  });

  test("flags are checked before stdin is read or AWS is called", async () => {
    server.reset();
    const home = await newHome(server.url);
    for (const args of [
      ["--role", "admin"],
      ["--role", "admin=arn:aws:iam::1:role/x"],
      ["--access-key-id", "ASIATEMPORARYKEY0001"],
      ["--mfa-serial", "x"],
      ["--credential-process-profile", "dave", "--mfa-serial", SERIAL],
    ]) {
      const result = await runAwsmfa(["setup", "-p", "dave", "--import-from-credentials", "--yes", ...args], {
        env: home.env,
      });
      assert.equal(result.status, 2, `${args.join(" ")}: ${result.stderr}`);
    }
    assert.equal(server.requests.length, 0);
  });
});

describe("the diff setup shows", () => {
  test("reads as diff -u does: context, hunks, no final newline, masked secrets", () => {
    const before = "a\nb\nc\nd\ne\nf\ng\nh\ni\nj\nk";
    const after = "a\nb\nC\nd\ne\nf\ng\nh\ni\nj\nk\nl";
    const diff = unifiedDiff(before, after, "x", "x");
    assert.equal(
      diff,
      "--- x\n+++ x\n@@ -1,6 +1,6 @@\n a\n b\n-c\n+C\n d\n e\n f\n@@ -8,4 +8,5 @@\n h\n i\n j\n-k\n\\ No newline at end of file\n+k\n+l\n\\ No newline at end of file\n",
    );
    assert.equal(unifiedDiff("same\n", "same\n", "x", "x"), "");
    const masked = unifiedDiff(
      "",
      "[p]\naws_secret_access_key = abc\naws_session_token=xyz\nregion = x\n",
      "/dev/null",
      "c",
      {
        mask: true,
      },
    );
    assert.match(masked, /^\+aws_secret_access_key = \*{8}$/m);
    assert.match(masked, /^\+aws_session_token=\*{8}$/m);
    assert.match(masked, /^\+region = x$/m);
  });
});
