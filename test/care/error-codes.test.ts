// One table says which exit status each error code has (src/error-codes.ts); README's exit-status
// table and `--help` list exactly the statuses there are, and a code exits with its status
// whichever module throws it: several-mfa-devices (login's device discovery here, setup's in
// setup.test.ts: 3), no-answer (the code prompt and the hidden seed prompt here: 4), no-terminal
// (totp add without a terminal, in totp.test.ts and hints.test.ts: 4, as the code prompt's).
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { errorCodes } from "../../src/error-codes";
import { ExitStatus } from "../../src/errors";
import { ACCOUNT, ALICE_CONFIG, KEYS, SERIAL, useAliceWorld } from "../support/alice-world";
import { createIsolatedEnv } from "../support/env";
import { AWSMFA, type RunResult, runAwsmfa, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed, startStsServer } from "../support/sts-server";

const README = readFileSync(join(__dirname, "../../README.md"), "utf8");
const DRIVE = join(__dirname, "../mfa/fixtures/pty_drive.py");
const SEED = randomBase32Seed();
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });
const hasPty = spawnSync("python3", ["-c", "import pty"]).status === 0 && process.platform !== "win32";

/** The statuses in README's "Exit status" table. */
function readmeStatuses(): number[] {
  const section = README.split(/^## Exit status$/m)[1]?.split(/^## /m)[0] ?? "";
  return [...section.matchAll(/^\| (\d+) \|/gm)].map((row) => Number(row[1]));
}

const allStatuses = () => [...new Set(Object.values(ExitStatus))].sort((a, b) => a - b);

describe("the table of error codes", () => {
  test("README's exit-status table lists every ExitStatus, and no other", () => {
    assert.deepEqual(readmeStatuses(), allStatuses());
  });

  test("every code's status is one README documents", () => {
    const documented = new Set(readmeStatuses());
    for (const [code, rule] of Object.entries(errorCodes())) {
      assert.ok(
        documented.has(ExitStatus[rule.status]),
        `${code}: exit ${ExitStatus[rule.status]} is not in README`,
      );
    }
  });

  test("--help lists every ExitStatus, and no other", async () => {
    const help = await runAwsmfa(["--help"], { env: { PATH: process.env.PATH } });
    assert.equal(help.status, 0, help.stderr);
    const list = help.stdout.split("Exit status:")[1]?.split("exec:")[0] ?? "";
    const listed = [...list.matchAll(/(?:^|[\s,])(\d+) /g)].map((match) => Number(match[1]));
    assert.deepEqual(listed, allStatuses(), list);
  });
});

/** `awsmfa ARGS` on a terminal of its own (pty_drive.py), typing each answer when its question shows. */
function onTerminal(args: string[], steps: [string, string][]): Promise<RunResult> {
  return runProcess("python3", [DRIVE, JSON.stringify(steps), process.execPath, AWSMFA, ...args], {
    env: world.home.env,
  });
}

describe("a code exits with the same status whichever module throws it", () => {
  test("several-mfa-devices: login's device discovery without a terminal exits 3 (setup's: setup.test.ts)", async () => {
    const several = await startStsServer({
      accountId: ACCOUNT,
      users: [
        {
          userName: "alice",
          ...KEYS,
          mfaDevices: [
            { serial: SERIAL, seed: SEED },
            { serial: `${SERIAL}-backup`, seed: randomBase32Seed() },
          ],
        },
      ],
    });
    const home = await createIsolatedEnv({
      endpointUrl: several.url,
      config: "[profile alice]\nregion = eu-central-1\n",
      credentials: CREDENTIALS,
    });
    try {
      const result = await runAwsmfa(["login", "-p", "alice"], { env: home.env });
      assert.equal(result.status, ExitStatus.config, result.stderr);
      assert.match(result.stderr, /has 2 MFA devices/);
    } finally {
      await home.cleanup();
      await several.close();
    }
  });

  test("no-answer: Ctrl-D at the hidden TOTP seed prompt exits 4, as at the code prompt", {
    skip: !hasPty && "needs python3 with pty",
  }, async () => {
    const seed = await onTerminal(["totp", "add", "-p", "alice"], [["TOTP secret key", "\x04"]]);
    // The terminal shows what awsmfa wrote to it, stderr included.
    assert.match(seed.stdout, /terminal closed before an answer was typed/);
    assert.equal(seed.status, ExitStatus.noCode, seed.stdout);

    const code = await onTerminal(["login", "-p", "alice"], [["MFA code for profile 'alice'", "\x04"]]);
    assert.match(code.stdout, /terminal closed before an answer was typed/);
    assert.equal(code.status, ExitStatus.noCode, code.stdout);
  });
});
