// Secret canaries: every command, with --debug, succeeding and failing (faults injected by the
// server, wrong codes, a wrong passphrase), run with recognisable fake secrets — long-term secret
// keys, the session secrets and tokens the server issues, TOTP seeds, the encrypted store's
// passphrase. None may appear on stderr, in a file other than the stores meant to hold it, or in
// the argv or environment of an mfa_process. Session secrets may appear only on the stdout of
// credential-process and env, and in the environment of exec's own child.
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { pythonJson } from "../../src/session/sources/cli-json";
import { loginTokenPath } from "../../src/session/sources/login-session";
import { ssoTokenPath } from "../../src/session/sources/sso-session";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import type { RunResult } from "../support/run-awsmfa";
import {
  type InjectedFailure,
  type StsServer,
  type StsServerBehaviour,
  startStsServer,
} from "../support/sts-server";
import { runAwsmfa, walk } from "./support";

const ACCOUNT = "555555555555";
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Canary`;
const ALICE = {
  userName: "alice",
  accessKeyId: "AKIACANARYALICE00001",
  secretAccessKey: "CanaryLongTermSecretA/0123456789+abcdefghijXYZ",
  serial: `arn:aws:iam::${ACCOUNT}:mfa/alice`,
  seed: `CANARYTOTPSEEDALICE${"A".repeat(45)}`,
};
const BOB = {
  userName: "bob",
  accessKeyId: "AKIACANARYBOB0000001",
  secretAccessKey: "CanaryLongTermSecretB/0123456789+abcdefghijXYZ",
  serial: `arn:aws:iam::${ACCOUNT}:mfa/bob`,
  seed: `CANARYTOTPSEEDBOB${"B".repeat(47)}`,
};
/** `mfa_process = oathtool --totp -b SEED` is common: the seed is on the command line in the config file. */
const COMMAND_LINE_SEED = `CANARYTOTPSEEDCMDLINE${"C".repeat(43)}`;
const PASSPHRASE = "CanaryPassphrase-Zq7xK2-correct";
const WRONG_PASSPHRASE = "CanaryPassphrase-Wrong-9f8e7d";

/** Secrets awsmfa holds for the user; never on any output, never in a file in the clear except the user's own credentials file for bob. */
const LONG_TERM = [ALICE.secretAccessKey, BOB.secretAccessKey];
const SEEDS = [ALICE.seed, BOB.seed];
const PASSPHRASES = [PASSPHRASE, WRONG_PASSPHRASE];

let server: StsServer;
let home: IsolatedEnv;
let dumpFile: string;
let testOwned: Set<string>;

interface Run {
  args: string[];
  result: RunResult;
  /** credential-process and env: their stdout is the session itself. */
  stdoutMayHoldSession: boolean;
}
const runs: Run[] = [];

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [ALICE, BOB].map(({ userName, accessKeyId, secretAccessKey, serial, seed }) => ({
      userName,
      accessKeyId,
      secretAccessKey,
      mfaDevices: [{ serial, seed }],
    })),
    roles: [{ arn: ROLE, maxSessionDuration: 3600 }],
  });
  home = await createIsolatedEnv({
    endpointUrl: server.url,
    credentials: [
      "[alice]",
      `aws_access_key_id = ${ALICE.accessKeyId}`,
      `aws_secret_access_key = ${ALICE.secretAccessKey}`,
      "[bob]",
      `aws_access_key_id = ${BOB.accessKeyId}`,
      `aws_secret_access_key = ${BOB.secretAccessKey}`,
      "",
    ].join("\n"),
    vars: { AWSMFA_PASSPHRASE: PASSPHRASE },
  });
  delete home.env.NODE_EXTRA_CA_CERTS;
  // bob's codes come from a program that first writes down everything it was given.
  const code = writeCodeScript(home.home, BOB.seed);
  const dumper = join(home.home, "dump-self.js");
  dumpFile = join(home.home, "mfa-process-dumps.jsonl");
  writeFileSync(
    dumper,
    `const fs = require("node:fs");
const read = (path) => { try { return fs.readFileSync(path, "latin1").split("\\0"); } catch { return []; } };
fs.appendFileSync(${JSON.stringify(dumpFile)}, JSON.stringify({
  argv: process.argv, env: process.env,
  parentArgv: read("/proc/" + process.ppid + "/cmdline"), parentEnv: read("/proc/" + process.ppid + "/environ"),
}) + "\\n");
`,
  );
  testOwned = new Set([code.runsFile, join(home.home, "print-code.js"), dumper, dumpFile]);
  writeFileSync(
    home.configPath,
    [
      "[profile alice]",
      `mfa_serial = ${ALICE.serial}`,
      "region = eu-west-1",
      "[profile admin]",
      `role_arn = ${ROLE}`,
      "source_profile = alice",
      "[profile bob]",
      `mfa_serial = ${BOB.serial}`,
      `mfa_process = "${process.execPath}" "${dumper}" && ${code.command}`,
      "[profile seedy]",
      "source_profile = bob",
      "role_arn = arn:aws:iam::555555555555:role/Canary",
      "awsmfa_session = false",
      `mfa_serial = ${BOB.serial}`,
      // An authenticator program that fails, as one does with a wrong seed or no token plugged in.
      `mfa_process = sh -c 'exit 3' ${COMMAND_LINE_SEED}`,
      "",
    ].join("\n"),
  );
});
after(async () => {
  await home?.cleanup();
  await server?.close();
});

/** Runs awsmfa with --debug, records the run for the checks at the end. */
async function awsmfa(
  args: string[],
  options: { status: number; input?: string; env?: NodeJS.ProcessEnv; stdoutMayHoldSession?: boolean },
): Promise<RunResult> {
  const full = ["--debug", ...args];
  const result = await runAwsmfa(full, { env: options.env ?? home.env, input: options.input });
  runs.push({ args: full, result, stdoutMayHoldSession: options.stdoutMayHoldSession ?? false });
  assert.equal(result.status, options.status, `awsmfa ${full.join(" ")}: ${result.stderr}`);
  return result;
}

function failing(action: string, status: number, code: string): InjectedFailure[] {
  return [{ action, count: 10, status, code, message: `${code} injected by the test` }];
}

/** Every session secret the server issued, whole and as the prefix a cut-off message would show. */
function sessionCanaries(): string[] {
  return server.issued.flatMap(({ secretAccessKey, sessionToken }) => [
    secretAccessKey,
    sessionToken,
    sessionToken.slice(0, 24),
    sessionToken.slice(300, 340),
  ]);
}

function userCanaries(): string[] {
  return [
    ...LONG_TERM,
    ...SEEDS,
    ...PASSPHRASES,
    "CanaryLongTermSecret",
    "CANARYTOTPSEED",
    "CanaryPassphrase",
  ];
}

function found(text: string, canaries: string[]): string[] {
  return canaries.filter((canary) => text.includes(canary));
}

/** A code the server would not accept now (nor in the neighbouring steps). */
function wrongCode(seed: string): string {
  const near = [-30_000, 0, 30_000].map((offset) => server.totp(seed, server.now() + offset));
  return ["000000", "111111", "222222", "333333"].find((code) => !near.includes(code)) as string;
}

/** exec's child: exit 0 with the session in its environment and without the store's passphrase. */
const quiet = [
  "-e",
  "process.exit(!process.env.AWS_SESSION_TOKEN ? 3 : process.env.AWSMFA_PASSPHRASE ? 4 : 0)",
];

/**
 * Every command, succeeding and failing, with --debug; each run is recorded in `runs`, and each
 * must end with the status it should. Run before the checks, so that each check works alone.
 */
async function runEveryCommand(): Promise<void> {
  // Keys into the encrypted store, the TOTP seed with them: passphrase and seed both in play.
  await awsmfa(["keys", "move", "-p", "alice", "--to", "encrypted"], { status: 0 });
  await awsmfa(["totp", "add", "-p", "alice", "--stdin", "--store", "encrypted"], {
    status: 0,
    input: `${ALICE.seed}\n`,
  });
  const credentials = readFileSync(home.credentialsPath, "utf8");
  assert.ok(!credentials.includes(ALICE.secretAccessKey), "keys move left no plaintext copy");

  // Faults before any code is spent: the server refuses before it checks the signature.
  for (const [args, failures, status] of [
    [["login", "-p", "bob"], failing("GetSessionToken", 500, "InternalFailure"), 6],
    [["credential-process", "-p", "bob"], failing("GetSessionToken", 400, "Throttling"), 6],
    [["env", "-p", "bob"], failing("GetSessionToken", 403, "InvalidClientTokenId"), 6],
    [
      ["exec", "-p", "bob", "--", process.execPath, ...quiet],
      failing("GetSessionToken", 403, "SignatureDoesNotMatch"),
      6,
    ],
  ] as const) {
    server.setOption({ failures: [...failures] });
    await awsmfa([...args], { status });
  }
  server.setOption({ failures: [] });
  const wrongKey = await awsmfa(["login", "-p", "admin"], {
    status: 3,
    env: { ...home.env, AWSMFA_PASSPHRASE: WRONG_PASSPHRASE },
  });
  assert.match(wrongKey.stderr, /passphrase/i);

  // The working paths.
  await awsmfa(["plan", "-p", "admin"], { status: 0 });
  await awsmfa(["plan", "-p", "admin", "--json"], { status: 0 });
  await awsmfa(["plan", "-p", "bob", "--json"], { status: 0 });
  await awsmfa(["login", "-p", "admin", "--write-profile", "admin-session"], { status: 0 });
  await awsmfa(["login", "-p", "bob"], { status: 0 });
  const json = await awsmfa(["credential-process", "-p", "admin"], {
    status: 0,
    stdoutMayHoldSession: true,
  });
  assert.equal(JSON.parse(json.stdout).Version, 1);
  await awsmfa(["credential-process", "-p", "bob"], { status: 0, stdoutMayHoldSession: true });
  await awsmfa(["env", "-p", "admin", "--shell", "bash"], { status: 0, stdoutMayHoldSession: true });
  await awsmfa(["env", "-p", "bob", "--shell", "fish"], { status: 0, stdoutMayHoldSession: true });
  const exec = await awsmfa(["exec", "-p", "admin", "--", process.execPath, ...quiet], { status: 0 });
  assert.equal(exec.stdout, "");
  await awsmfa(["status"], { status: 0 });
  await awsmfa(["status", "--json"], { status: 0 });
  assertFilesHoldOnlyTheirSecrets("with sessions cached");

  // Role renewals that fail: the MFA session stays cached, so no code is spent.
  const renew = ["-p", "admin"];
  const renewals: [string[], Partial<StsServerBehaviour>, number][] = [
    [["credential-process", ...renew], { failures: failing("AssumeRole", 403, "AccessDenied") }, 6],
    [["credential-process", ...renew], { failures: failing("AssumeRole", 400, "ExpiredToken") }, 6],
    [["env", ...renew], { failures: failing("AssumeRole", 500, "InternalFailure") }, 6],
    [
      ["exec", ...renew, "--", process.execPath, ...quiet],
      { failures: failing("AssumeRole", 400, "ValidationError") },
      6,
    ],
    [["credential-process", ...renew], { failures: [], malformed: "truncated" }, 7],
    [["login", ...renew], { malformed: "garbage" }, 7],
  ];
  for (const [args, patch, status] of renewals) {
    forgetRoleSessions();
    server.setOption(patch);
    await awsmfa(args, { status });
  }
  server.setOption({ failures: [], malformed: undefined });

  // Wrong codes, last: a rejected code makes the next generated one wait for a new 30-second step.
  const wrongA = wrongCode(ALICE.seed);
  const typed = await awsmfa(["login", "-p", "admin", "--force", "--token-code", "-"], {
    status: 5,
    input: `${wrongA}\n`,
  });
  assert.doesNotMatch(typed.stderr, new RegExp(`\\b${wrongA}\\b`), "the code is not echoed");
  const wrongB = wrongCode(BOB.seed);
  const flag = await awsmfa(["login", "-p", "bob", "--force", "--token-code", wrongB], { status: 5 });
  assert.doesNotMatch(flag.stderr, new RegExp(`\\b${wrongB}\\b`));

  await awsmfa(["logout", "-p", "admin", "--write-profile", "admin-session"], { status: 0 });
  await awsmfa(["logout", "--all"], { status: 0 });
  assertFilesHoldOnlyTheirSecrets("after logout --all");
  const left = walk(home.home).filter(({ path }) => !testOwned.has(path));
  for (const { path, isDirectory } of left) {
    if (isDirectory) continue;
    assert.deepEqual(
      found(readFileSync(path, "latin1"), sessionCanaries()),
      [],
      `logout --all left a session in ${path}`,
    );
  }
}

describe("a failing mfa_process", () => {
  test("a failing mfa_process whose command line holds a TOTP seed: the seed is not echoed on stderr", async () => {
    const result = await runAwsmfa(["--debug", "login", "-p", "seedy"], { env: home.env });
    assert.equal(result.status, 4, result.stderr);
    assert.deepEqual(found(result.stderr, [COMMAND_LINE_SEED, "CANARYTOTPSEED"]), [], result.stderr);
  });
});

describe("secrets stay where they belong", () => {
  before(runEveryCommand);

  test("every command ran as it should, and --debug printed the detail of the failures", () => {
    assert.ok(runs.length >= 25, `${runs.length} runs`);
    assert.ok(
      runs.some(({ result }) => /^ {2}\[[a-z-]+\] /m.test(result.stderr)),
      "debug detail was printed",
    );
  });

  test("no secret on stderr of any run; on stdout only the session, only from credential-process and env", () => {
    assert.ok(runs.length >= 25, `${runs.length} runs`);
    const session = sessionCanaries();
    const user = userCanaries();
    // The detector works: the session is where it is meant to be.
    assert.ok(session.length >= 8 && runs.some(({ result }) => found(result.stdout, session).length > 0));
    for (const { args, result, stdoutMayHoldSession } of runs) {
      const what = `awsmfa ${args.join(" ")}`;
      assert.deepEqual(found(result.stderr, [...session, ...user]), [], `${what}: stderr`);
      assert.deepEqual(found(result.stdout, user), [], `${what}: stdout`);
      if (!stdoutMayHoldSession) assert.deepEqual(found(result.stdout, session), [], `${what}: stdout`);
    }
  });

  test("mfa_process gets no key, session or seed in its argv or environment, nor does the shell that runs it", () => {
    const dumps = readDumps();
    assert.ok(dumps.length >= 2, `${dumps.length} runs of the mfa_process`);
    const canaries = [...sessionCanaries(), ...LONG_TERM, ...SEEDS, "CanaryLongTermSecret", "CANARYTOTPSEED"];
    for (const [index, dump] of dumps.entries()) {
      assert.deepEqual(found(dump.argv.join("\n"), canaries), [], `run ${index}: argv`);
      assert.deepEqual(found(dump.parentArgv.join("\n"), canaries), [], `run ${index}: the shell's argv`);
      assert.deepEqual(found(JSON.stringify(dump.env), canaries), [], `run ${index}: environment`);
      assert.deepEqual(
        found(dump.parentEnv.join("\n"), canaries),
        [],
        `run ${index}: the shell's environment`,
      );
    }
  });

  test("mfa_process does not get the passphrase of the encrypted store (AWSMFA_PASSPHRASE) in its environment", () => {
    const dumps = readDumps();
    assert.ok(dumps.length >= 2, `${dumps.length} runs of the mfa_process`);
    for (const dump of dumps) {
      assert.deepEqual(found(JSON.stringify(dump.env), PASSPHRASES), [], "environment");
      assert.deepEqual(found(dump.parentEnv.join("\n"), PASSPHRASES), [], "the shell's environment");
    }
  });
});

/** Removes the cached role sessions, so that the next call assumes the role again from the cached MFA session. */
function forgetRoleSessions(): void {
  const dir = home.cacheDir;
  for (const name of readdirSync(dir).filter((entry) => /^[0-9a-f]{32}\.json$/.test(entry))) {
    const entry = JSON.parse(readFileSync(join(dir, name), "utf8")) as { kind?: string };
    if (entry.kind === "assume-role") rmSync(join(dir, name));
  }
}

interface Dump {
  argv: string[];
  env: Record<string, string>;
  parentArgv: string[];
  parentEnv: string[];
}

function readDumps(): Dump[] {
  return readFileSync(dumpFile, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Dump);
}

/**
 * The credentials file may hold bob's own long-term key (the user put it there) and the session
 * written by --write-profile; a cache entry may hold a session; the encrypted store holds
 * ciphertext; nothing else holds anything.
 */
function assertFilesHoldOnlyTheirSecrets(when: string): void {
  const session = sessionCanaries();
  const user = userCanaries();
  for (const { path, isDirectory } of walk(home.home)) {
    if (isDirectory || testOwned.has(path)) continue;
    const text = readFileSync(path, "latin1");
    const name = basename(path);
    let allowed: string[] = [];
    if (path === home.credentialsPath) allowed = [BOB.secretAccessKey, "CanaryLongTermSecret", ...session];
    else if (path === home.configPath)
      allowed = [COMMAND_LINE_SEED, "CANARYTOTPSEED"]; // the user wrote it there
    else if (/^[0-9a-f]{32}\.json$/.test(name)) allowed = session;
    const leaked = found(text, [...session, ...user]).filter((canary) => !allowed.includes(canary));
    assert.deepEqual(leaked, [], `${when}: ${path}`);
  }
}

describe("aws login and IAM Identity Center sessions: their tokens and keys stay in the aws CLI's files", () => {
  const START_URL = "https://d-5555555555.awsapps.com/start";
  let signedIn: IsolatedEnv;
  /** The exec child writes its argv and environment here. */
  let childDump: string;
  const tokenRuns: RunResult[] = [];
  let loginPath = "";
  let ssoPath = "";
  const spent: string[] = [];

  before(async () => {
    signedIn = await createIsolatedEnv({ endpointUrl: server.url });
    delete signedIn.env.NODE_EXTRA_CA_CERTS;
    childDump = join(signedIn.home, "child.json");
    const { loginSession, token } = server.signin.signIn("alice", { accessTokenSeconds: -60 });
    loginPath = loginTokenPath(loginSession, signedIn.env);
    const sso = server.sso.login("alice", { startUrl: START_URL, accessTokenSeconds: -60 });
    ssoPath = ssoTokenPath(
      {
        profile: "corp",
        ssoSession: "corp",
        startUrl: START_URL,
        ssoRegion: "us-east-1",
        accountId: ACCOUNT,
        roleName: "Dev",
      },
      signedIn.env,
    );
    for (const [path, file] of [
      [loginPath, token],
      [ssoPath, sso],
    ] as const) {
      mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
      writeFileSync(path, pythonJson(file), { mode: 0o600 });
    }
    spent.push(
      token.refreshToken,
      ...pemBody(token.dpopKey),
      sso.refreshToken,
      sso.clientSecret,
      sso.accessToken,
    );
    writeFileSync(
      signedIn.configPath,
      [
        "[profile dev]",
        `login_session = ${loginSession}`,
        "region = eu-west-1",
        "[profile dev-admin]",
        `role_arn = ${ROLE}`,
        "source_profile = dev",
        "[profile corp]",
        "sso_session = corp",
        `sso_account_id = ${ACCOUNT}`,
        "sso_role_name = Dev",
        "[profile corp-admin]",
        `role_arn = ${ROLE}`,
        "source_profile = corp",
        "[sso-session corp]",
        `sso_start_url = ${START_URL}`,
        "sso_region = us-east-1",
        "",
      ].join("\n"),
    );
  });
  after(() => signedIn?.cleanup());

  async function run(
    args: string[],
    status: number,
    env: NodeJS.ProcessEnv = signedIn.env,
  ): Promise<RunResult> {
    const result = await runAwsmfa(["--debug", ...args], { env });
    tokenRuns.push(result);
    assert.equal(result.status, status, `awsmfa ${args.join(" ")}: ${result.stderr}`);
    return result;
  }

  /** Every secret of the token files: the first ones, and what the refreshes wrote there. */
  function tokenCanaries(): string[] {
    const login = JSON.parse(readFileSync(loginPath, "utf8")) as { refreshToken: string; dpopKey: string };
    const sso = JSON.parse(readFileSync(ssoPath, "utf8")) as { refreshToken: string; accessToken: string };
    return [...spent, login.refreshToken, ...pemBody(login.dpopKey), sso.refreshToken, sso.accessToken];
  }

  test("every output and failure, with --debug: the session's tokens and key on no output, argv or child environment", async () => {
    const dump = `require("node:fs").writeFileSync(${JSON.stringify(childDump)}, JSON.stringify({ argv: process.argv, env: process.env }))`;
    for (const profile of ["dev-admin", "corp-admin", "dev", "corp"]) {
      await run(["credential-process", "-p", profile], 0);
      await run(["env", "-p", profile, "--shell", "bash"], 0);
      await run(["plan", "-p", profile, "--json"], 0);
      await run(["exec", "-p", profile, "--", process.execPath, "-e", dump], 0);
      const child = readFileSync(childDump, "utf8");
      assert.deepEqual(
        found(child, tokenCanaries()),
        [],
        `exec -p ${profile}: the child's argv and environment`,
      );
    }
    assert.ok(
      server.accepted.CreateOAuth2Token === 1 && server.accepted.CreateToken === 1,
      "both were refreshed",
    );
    await run(["status"], 0);

    // Failures: a refresh that cannot reach its endpoint, then sessions that have ended.
    const expire = (path: string, edit: (json: Record<string, unknown>) => void) => {
      const json = JSON.parse(readFileSync(path, "utf8")) as Record<string, unknown>;
      edit(json);
      writeFileSync(path, pythonJson(json));
    };
    expire(loginPath, (json) => {
      (json.accessToken as { expiresAt: string }).expiresAt = "2020-01-01T00:00:00Z";
    });
    expire(ssoPath, (json) => {
      json.expiresAt = "2020-01-01T00:00:00Z";
    });
    // awsmfa's copies of the sessions were made from the files as they were: every run reads the files.
    const unreachable = {
      ...signedIn.env,
      AWS_ENDPOINT_URL_SIGNIN: "http://127.0.0.1:9",
      AWS_ENDPOINT_URL_SSO_OIDC: "http://127.0.0.1:9",
    };
    await run(["credential-process", "-p", "dev"], 7, unreachable);
    await run(["credential-process", "-p", "corp"], 7, unreachable);
    server.signin.endRefreshWindow("alice");
    server.sso.revokeRefreshTokens("alice");
    const ended = await run(["credential-process", "-p", "dev"], 10);
    assert.match(ended.stderr, /^ {2}\[[a-z-]+\] /m, "the debug detail was printed");
    await run(["exec", "-p", "corp", "--", process.execPath, "-e", "0"], 10);
    await run(["env", "-p", "corp"], 10);
  });

  test("no token, refresh token, DPoP key or client secret on the stdout or stderr of any run", () => {
    assert.ok(tokenRuns.length >= 20, `${tokenRuns.length} runs`);
    const canaries = tokenCanaries();
    assert.ok(canaries.length >= 8);
    for (const result of tokenRuns) {
      assert.deepEqual(found(result.stderr, canaries), [], `stderr: ${result.stderr}`);
      assert.deepEqual(found(result.stdout, canaries), [], "stdout");
    }
  });
});

/** The lines of a PEM key between its armour: what a leak of the key would show. */
function pemBody(pem: string): string[] {
  return pem
    .split("\n")
    .filter((line) => line && !line.startsWith("-----"))
    .map((line) => line.slice(0, 40));
}
