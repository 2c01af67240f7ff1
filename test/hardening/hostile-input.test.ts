// Proof against hostile input: shell output that real shells read back exactly, whatever the
// values hold; profile files too large to be real refused quickly with an AppError; an mfa_process
// that floods its output cut off. (The parser's "nothing but AppError" and the editor's "no other
// byte changes" properties live in test/config/ini.test.ts and test/config/edit.test.ts.)
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import fc from "fast-check";
import { MAX_PROFILE_FILE_CHARS, MAX_PROFILE_FILE_LINES } from "../../src/config/ini";
import { credentialVariables, type Shell, shellLines, type Variables } from "../../src/output/shell";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { findOnPath } from "../support/moto";
import { AWSMFA } from "../support/run-awsmfa";
import { runProcess, tempDir } from "./support";

// ---------------------------------------------------------------------------------------------
// Shell output, evaluated by the real shells
// ---------------------------------------------------------------------------------------------

/** Characters that mean something to some shell, and text that is not ASCII. */
const SPECIAL = [
  "'",
  '"',
  " ",
  "\t",
  "\n",
  "\r",
  "$",
  "`",
  "\\",
  "!",
  "*",
  "?",
  "[",
  "]",
  "{",
  "}",
  "(",
  ")",
  "~",
  "#",
  ";",
  "&",
  "|",
  "<",
  ">",
  "^",
  "%",
  "=",
  ",",
  "-",
  "--",
  "$(",
  "${",
  "$((",
  "'\\''",
  "\\'",
  "\\n",
  "$HOME",
  "`id`",
  "$(id)",
  "%s",
  "\\0",
  "é",
  "ß",
  "中文",
  "😂",
  "👩‍👩‍👧",
  "\u00a0",
  "\u2028",
  "\u202e",
  "\u200b",
  "\ufeff",
  "\u0301",
  "\u2018",
  "\u2019",
  "\u201c",
  "\u001b[31m",
  "\u0007",
  "\u007f",
];

/** Any single code point but NUL, which no shell variable can hold, and lone surrogates, which UTF-8 cannot. */
const anyCodePoint = fc
  .integer({ min: 1, max: 0x10ffff })
  .filter((code) => code < 0xd800 || code > 0xdfff)
  .map((code) => String.fromCodePoint(code));

const value = fc.string({
  unit: fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...SPECIAL) },
    { weight: 1, arbitrary: anyCodePoint },
  ),
  maxLength: 24,
});

interface Creds {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: string;
  region: string | undefined;
}

/** What `env` sets: the session's four values and the region, each one hostile. */
const record: fc.Arbitrary<Creds> = fc.record({
  accessKeyId: value,
  secretAccessKey: value,
  sessionToken: value,
  expiration: value,
  region: fc.option(value, { nil: undefined }),
});

const NAMES = [
  "AWS_ACCESS_KEY_ID",
  "AWS_SECRET_ACCESS_KEY",
  "AWS_SESSION_TOKEN",
  "AWS_CREDENTIAL_EXPIRATION",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  "AWS_PROFILE",
  "AWS_DEFAULT_PROFILE",
];
const UNSET = "<unset>";
/** Records per shell run (up to; fast-check shrinks a failing batch to the record that fails). */
const BATCH = 100;
const BATCHES = 60;

/** Per shell: how to run it so that each argument is eval'ed and the variables come back NUL-separated. */
interface ShellRunner {
  shell: Shell;
  program: string;
  args(script: string): string[];
  script: string;
}

const posixScript = [
  'for lines in "$@"; do',
  "  export AWS_PROFILE=stale AWS_DEFAULT_PROFILE=stale AWS_REGION=stale AWS_DEFAULT_REGION=stale",
  '  eval "$lines"',
  `  printf '%s\\0' ${NAMES.map((name) => `"\${${name}-${UNSET}}"`).join(" ")}`,
  "done",
  // Exported, not only set: a child process sees the last record's values.
  `exec sh -c 'printf "%s\\0" "$AWS_SESSION_TOKEN" "\${AWS_PROFILE-${UNSET}}"'`,
].join("\n");

const fishScript = [
  "for lines in $argv",
  "  set -gx AWS_PROFILE stale; set -gx AWS_DEFAULT_PROFILE stale; set -gx AWS_REGION stale; set -gx AWS_DEFAULT_REGION stale",
  // As `awsmfa env --shell fish | source` does.
  "  printf '%s' $lines | source",
  `  for name in ${NAMES.join(" ")}`,
  `    if set -q $name; printf '%s\\0' "$$name"; else; printf '%s\\0' '${UNSET}'; end`,
  "  end",
  "end",
  `sh -c 'printf "%s\\0" "$AWS_SESSION_TOKEN" "\${AWS_PROFILE-${UNSET}}"'`,
].join("\n");

const runners: Record<string, ShellRunner & { missing?: string }> = Object.fromEntries(
  (
    [
      ["bash", "bash", posixScript],
      ["dash", "bash", posixScript],
      ["zsh", "zsh", posixScript],
      ["fish", "fish", fishScript],
    ] as const
  ).map(([program, shell, script]) => {
    const path = findOnPath(program);
    const args = program === "fish" ? (s: string) => ["-c", s] : (s: string) => ["-c", s, program];
    return [
      program,
      {
        shell,
        program: path ?? program,
        args,
        script,
        ...(path ? {} : { missing: `${program} is not installed` }),
      },
    ];
  }),
);

/** The lines `env --shell` prints for `creds`, as `eval "$(awsmfa env)"` gets them (trailing newlines cut). */
function linesFor(creds: Creds, shell: Shell): string {
  const variables: Variables = credentialVariables(creds, creds.region);
  return shellLines(variables, shell).replace(/\n+$/, "");
}

function expectedFor(creds: Creds): string[] {
  const region = creds.region === undefined || creds.region === "" ? "stale" : creds.region;
  return [
    creds.accessKeyId,
    creds.secretAccessKey,
    creds.sessionToken,
    creds.expiration,
    region,
    region,
    UNSET,
    UNSET,
  ];
}

function evaluate(runner: ShellRunner, batch: Creds[]): string[] {
  const args = [...runner.args(runner.script), ...batch.map((creds) => linesFor(creds, runner.shell))];
  const result = spawnSync(runner.program, args, {
    encoding: "utf8",
    // The whole environment: bash here takes 0.7 s to start without SHLVL.
    env: { ...process.env, LC_ALL: "C.UTF-8" },
    maxBuffer: 64 * 1024 * 1024,
    timeout: 20_000,
  });
  assert.equal(result.status, 0, `${runner.program} failed: ${result.stderr}`);
  assert.equal(result.stderr, "", `${runner.program} complained`);
  const values = result.stdout.split("\0");
  assert.equal(values.pop(), "", "NUL-terminated");
  return values;
}

describe("shell output read back by real shells", () => {
  for (const [name, runner] of Object.entries(runners)) {
    test(
      `${name}: eval of \`env\` lines gives back every value exactly (${BATCHES} shell runs, ~${(BATCHES * BATCH) / 2} records of 5 hostile values)`,
      runner.missing ? { skip: runner.missing } : {},
      () => {
        fc.assert(
          fc.property(fc.array(record, { minLength: 1, maxLength: BATCH, size: "max" }), (batch) => {
            const got = evaluate(runner, batch);
            const expected = batch.flatMap(expectedFor);
            const last = batch.at(-1) as Creds;
            expected.push(last.sessionToken, UNSET);
            assert.deepEqual(got, expected);
          }),
          { numRuns: BATCHES },
        );
      },
    );
  }
});

// ---------------------------------------------------------------------------------------------
// Oversized profile files and flooding mfa_process output, through the CLI
// ---------------------------------------------------------------------------------------------

describe("bounded against oversized input", () => {
  let home: IsolatedEnv;
  const scratch = tempDir("awsmfa-hostile-");

  before(async () => {
    // No AWS call is ever made here: the endpoint is a closed port.
    home = await createIsolatedEnv({
      endpointUrl: "http://127.0.0.1:9",
      config: "[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/dev\n",
      credentials: "[dev]\naws_access_key_id = AKIADEVEXAMPLE000001\naws_secret_access_key = dev/secret\n",
    });
    delete home.env.NODE_EXTRA_CA_CERTS;
  });
  after(async () => {
    await home?.cleanup();
    scratch.remove();
  });

  /** awsmfa with a heap too small for a 20 MB file parsed line by line (that took 3 GB). */
  function runSmall(args: string[], env: NodeJS.ProcessEnv) {
    return runProcess(process.execPath, ["--max-old-space-size=128", AWSMFA, ...args], {
      env,
      timeoutMs: 20_000,
    });
  }

  const cases: [string, () => string][] = [
    ["a 20 MB config file of `a=` lines", () => `[profile dev]\n${"a=\n".repeat(Math.ceil(20e6 / 3))}`],
    ["a 20 MB config file that is one line", () => `[profile dev]\nk = ${"v".repeat(20e6)}\n`],
    [
      `a 2 MB config file of ${MAX_PROFILE_FILE_LINES + 1} lines`,
      () => `[profile dev]\n${"\n".repeat(MAX_PROFILE_FILE_LINES + 1)}`,
    ],
  ];
  for (const [what, make] of cases) {
    test(`${what}: refused with a clear AppError (exit 3) in seconds, within a 128 MB heap`, async () => {
      const path = join(scratch.path, "config");
      writeFileSync(path, make());
      for (const args of [["plan", "-p", "dev"], ["credential-process", "-p", "dev"], ["status"]]) {
        const started = Date.now();
        const result = await runSmall(args, { ...home.env, AWS_CONFIG_FILE: path });
        assert.equal(result.status, 3, `${args[0]}: ${result.stderr}`);
        assert.match(result.stderr, new RegExp(`^awsmfa: ${path} is too large to be a profile file \\(`));
        assert.match(result.stderr, /AWS_CONFIG_FILE/);
        assert.equal(result.stdout, "");
        assert.ok(Date.now() - started < 10_000, `${args[0]} took ${Date.now() - started} ms`);
      }
    });
  }

  test("a credentials file over the bound is refused the same way, and the bound is 16 MB", async () => {
    assert.equal(MAX_PROFILE_FILE_CHARS, 16 * 1024 * 1024);
    const path = join(scratch.path, "credentials");
    writeFileSync(path, `[dev]\n${"# padding\n".repeat(1_700_000)}`);
    const result = await runSmall(["plan", "-p", "dev"], { ...home.env, AWS_SHARED_CREDENTIALS_FILE: path });
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, /is too large to be a profile file \(16\.2 MB, more than 16 MB\)/);
  });

  test("an mfa_process that floods its output is cut off at 4096 bytes: exit 4 in seconds, nothing left running", async () => {
    const marker = `awsmfa-flood-${process.pid}-${Date.now()}`;
    const config = `[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/dev\nmfa_process = sh -c 'yes 123456 ${marker}'\n`;
    writeFileSync(home.configPath, config);
    const started = Date.now();
    const result = await runProcess(
      process.execPath,
      ["--max-old-space-size=128", AWSMFA, "login", "-p", "dev"],
      { env: home.env, timeoutMs: 30_000 },
    );
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /mfa_process of profile 'dev' printed more than 4096 bytes/);
    assert.ok(Date.now() - started < 10_000);
    // The flood is not echoed, and no process of it outlives awsmfa.
    assert.ok(!result.stderr.includes(`${marker}\n123456`) && result.stderr.length < 1000);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const survivors = readdirSync("/proc")
      .filter((entry) => /^\d+$/.test(entry))
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(marker);
        } catch {
          return false;
        }
      });
    for (const pid of survivors) process.kill(Number(pid), "SIGKILL");
    assert.deepEqual(survivors, [], "the flooding program was killed with awsmfa's child");
  });
});
