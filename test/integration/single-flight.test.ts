import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";
import { TOTP_STEP_SECONDS } from "../support/totp";

const ACCOUNT = "222222222222";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/bob`;
const SEED = randomBase32Seed();
const KEYS = { accessKeyId: "AKIABOBEXAMPLE000001", secretAccessKey: "bob/secret/key/EXAMPLE+000000001" };
/** Other keys, the same device: bob's CI profile. (The server holds a user to one key, so it is a second
 * user with bob's device; the server refuses a code per device, whoever sends it.) */
const CI_KEYS = { accessKeyId: "AKIABOBEXAMPLE000002", secretAccessKey: "bob/secret/key/EXAMPLE+000000002" };
const DEPLOY_ROLE = `arn:aws:iam::${ACCOUNT}:role/Deploy`;
const CONCURRENT = 50;

let server: StsServer;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [
      { userName: "bob", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] },
      { userName: "bob-ci", ...CI_KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] },
    ],
    roles: [{ arn: DEPLOY_ROLE, requireMfa: true }],
  });
});
after(() => server.close());

async function isolatedHome(): Promise<{ home: IsolatedEnv; runsFile: string }> {
  const home = await createIsolatedEnv({ endpointUrl: server.url });
  const script = writeCodeScript(home.home, SEED);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(
    home.configPath,
    ["bob", "bob-ci"]
      .map((name) => `[profile ${name}]\nmfa_serial = ${SERIAL}\nmfa_process = ${script.command}\n`)
      .join("") +
      // The code goes on the AssumeRole itself: it spends codes of the same device.
      `[profile bob-deploy]\nrole_arn = ${DEPLOY_ROLE}\nsource_profile = bob-ci\nawsmfa_session = false\n`,
  );
  writeFileSync(
    home.credentialsPath,
    [
      `[bob]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
      `[bob-ci]\naws_access_key_id = ${CI_KEYS.accessKeyId}\naws_secret_access_key = ${CI_KEYS.secretAccessKey}\n`,
    ].join(""),
    { mode: 0o600 },
  );
  return { home, runsFile: script.runsFile };
}

/**
 * Waits, if needed, until the current 30-second TOTP step has at least `leftMs` to run, so that
 * two codes read close together come from one step: sending both is then a reuse AWS refuses.
 */
async function earlyInStep(leftMs = 15_000): Promise<void> {
  const left = TOTP_STEP_SECONDS * 1000 - (Date.now() % (TOTP_STEP_SECONDS * 1000));
  if (left < leftMs) await new Promise((resolve) => setTimeout(resolve, left + 100));
}

/**
 * `perProfile` credential-process calls on each profile, all started at once early in a TOTP step;
 * every one must succeed. Their outputs, per profile.
 */
async function allSucceedAtOnce(
  home: IsolatedEnv,
  profiles: string[],
  perProfile: number,
): Promise<Map<string, string[]>> {
  await earlyInStep();
  const runs = profiles.flatMap((profile) => Array.from({ length: perProfile }, () => profile));
  const results = await Promise.all(
    runs.map((profile) =>
      runAwsmfa(["credential-process", "-p", profile], { env: home.env, timeoutMs: 58_000 }),
    ),
  );
  const outputs = new Map<string, string[]>(profiles.map((profile) => [profile, []]));
  for (const [index, result] of results.entries()) {
    const profile = runs[index] as string;
    assert.equal(result.status, 0, `${profile}: ${result.stderr}`);
    outputs.get(profile)?.push(result.stdout);
  }
  return outputs;
}

function codeRuns(runsFile: string): number {
  try {
    return readFileSync(runsFile, "utf8").trim().split("\n").filter(Boolean).length;
  } catch {
    return 0;
  }
}

describe("one prompt for many processes", () => {
  test(`${CONCURRENT} concurrent credential-process calls, empty cache, 1.5 s STS latency: one GetSessionToken, one code`, async () => {
    server.reset();
    server.setOption({ latencyMs: 1500 });
    const { home, runsFile } = await isolatedHome();
    try {
      const results = await Promise.all(
        Array.from({ length: CONCURRENT }, () =>
          runAwsmfa(["credential-process", "-p", "bob"], { env: home.env, timeoutMs: 58_000 }),
        ),
      );
      for (const result of results) assert.equal(result.status, 0, result.stderr);
      const keys = new Set(results.map((result) => JSON.parse(result.stdout).AccessKeyId));
      assert.equal(keys.size, 1, "all got the same session");
      assert.equal(server.calls.GetSessionToken, 1);
      assert.equal(codeRuns(runsFile), 1, "the code source ran once");
      assert.equal(server.rejectedReuses, 0);
    } finally {
      await home.cleanup();
    }
  });

  test(`the lock holder killed by SIGKILL while its GetSessionToken is in flight: the other ${CONCURRENT - 1} succeed, its code is not sent again`, async () => {
    server.reset();
    server.setOption({ latencyMs: 1500 });
    const { home, runsFile } = await isolatedHome();
    try {
      await earlyInStep();
      // The first process takes the lock and is killed while STS is still answering it; STS takes its code.
      const holder = spawn(process.execPath, [AWSMFA, "credential-process", "-p", "bob"], {
        env: home.env,
        stdio: "ignore",
        detached: true,
      });
      const deadline = Date.now() + 10_000;
      while (!server.arrived.GetSessionToken && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 10));
      assert.equal(server.arrived.GetSessionToken, 1, "the holder's call reached STS");
      holder.kill("SIGKILL");
      assert.equal(server.calls.GetSessionToken ?? 0, 0, "killed before STS answered");
      const results = await Promise.all(
        Array.from({ length: CONCURRENT - 1 }, () =>
          runAwsmfa(["credential-process", "-p", "bob"], { env: home.env, timeoutMs: 58_000 }),
        ),
      );
      for (const result of results) assert.equal(result.status, 0, result.stderr);
      assert.equal(new Set(results.map((result) => JSON.parse(result.stdout).AccessKeyId)).size, 1);
      assert.equal(server.accepted.GetSessionToken, 2, "the holder's call and one more");
      assert.equal(server.calls.GetSessionToken, 2);
      assert.equal(codeRuns(runsFile), 2);
      assert.equal(
        server.rejectedReuses,
        0,
        "the next process waited for a new TOTP step instead of sending the killed holder's code",
      );
    } finally {
      await home.cleanup();
    }
  });

  test("10 + 10 concurrent credential-process calls on two profiles with other keys and one MFA device, 1 s STS latency: 20 succeed, no code sent twice", async () => {
    server.reset();
    server.setOption({ latencyMs: 1000 });
    const { home, runsFile } = await isolatedHome();
    try {
      const results = await allSucceedAtOnce(home, ["bob", "bob-ci"], 10);
      for (const [profile, outputs] of results) {
        const keys = new Set(outputs.map((stdout) => JSON.parse(stdout).AccessKeyId));
        assert.equal(keys.size, 1, `every ${profile} call got the same session`);
      }
      assert.equal(server.rejectedReuses, 0, "no code was sent twice");
      assert.equal(server.calls.GetSessionToken, 2, "one GetSessionToken per profile");
      assert.equal(server.accepted.GetSessionToken, 2);
      assert.equal(codeRuns(runsFile), 2, "one code per profile, read in two TOTP steps");
    } finally {
      await home.cleanup();
    }
  });

  test("an MFA session and a role assumed with the code (awsmfa_session = false) on one device, 5 + 5 at once: all succeed, no code sent twice", async () => {
    server.reset();
    server.setOption({ latencyMs: 1000 });
    const { home, runsFile } = await isolatedHome();
    try {
      await allSucceedAtOnce(home, ["bob", "bob-deploy"], 5);
      assert.equal(server.rejectedReuses, 0, "no code was sent twice");
      assert.equal(server.accepted.GetSessionToken, 1);
      assert.equal(server.accepted.AssumeRole, 1);
      assert.equal(codeRuns(runsFile), 2);
    } finally {
      await home.cleanup();
    }
  });
});

describe("never waste a code", () => {
  test("two logins in the same 30-second window with a generator: the second waits for the next step, no reuse sent", async () => {
    server.reset();
    server.setOption({ latencyMs: 0 });
    const { home, runsFile } = await isolatedHome();
    try {
      const first = await runAwsmfa(["login", "-p", "bob"], { env: home.env });
      assert.equal(first.status, 0, first.stderr);
      const second = await runAwsmfa(["login", "-p", "bob", "--force"], { env: home.env, timeoutMs: 45_000 });
      assert.equal(second.status, 0, second.stderr);
      assert.equal(server.accepted.GetSessionToken, 2);
      assert.equal(server.rejectedReuses, 0, "no code was ever sent to AWS twice");
      assert.equal(server.calls.GetSessionToken, 2);
      assert.equal(codeRuns(runsFile), 2);
    } finally {
      await home.cleanup();
    }
  });
});
