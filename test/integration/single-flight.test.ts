import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const ACCOUNT = "222222222222";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/bob`;
const SEED = randomBase32Seed();
const KEYS = { accessKeyId: "AKIABOBEXAMPLE000001", secretAccessKey: "bob/secret/key/EXAMPLE+000000001" };
const CONCURRENT = 50;

let server: StsServer;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "bob", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
  });
});
after(() => server.close());

async function isolatedHome(): Promise<{ home: IsolatedEnv; runsFile: string }> {
  const home = await createIsolatedEnv({ endpointUrl: server.url });
  const script = writeCodeScript(home.home, SEED);
  const { writeFileSync } = await import("node:fs");
  writeFileSync(home.configPath, `[profile bob]\nmfa_serial = ${SERIAL}\nmfa_process = ${script.command}\n`);
  writeFileSync(
    home.credentialsPath,
    `[bob]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
    {
      mode: 0o600,
    },
  );
  return { home, runsFile: script.runsFile };
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

  test(`the lock holder killed by SIGKILL mid-call: the other ${CONCURRENT - 1} still succeed`, async () => {
    server.reset();
    server.setOption({ latencyMs: 1500 });
    const { home } = await isolatedHome();
    try {
      // The first process takes the lock and is killed while STS is still answering it.
      const holder = spawn(process.execPath, [AWSMFA, "credential-process", "-p", "bob"], {
        env: home.env,
        stdio: "ignore",
        detached: true,
      });
      const deadline = Date.now() + 10_000;
      while (!server.calls.GetSessionToken && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 20));
      assert.equal(server.calls.GetSessionToken, 1, "the holder reached STS");
      const others = Array.from({ length: CONCURRENT - 1 }, () =>
        runAwsmfa(["credential-process", "-p", "bob"], { env: home.env, timeoutMs: 58_000 }),
      );
      await new Promise((r) => setTimeout(r, 300));
      holder.kill("SIGKILL");
      const results = await Promise.all(others);
      for (const result of results) assert.equal(result.status, 0, result.stderr);
      assert.equal(new Set(results.map((result) => JSON.parse(result.stdout).AccessKeyId)).size, 1);
      assert.ok(
        server.calls.GetSessionToken <= 2,
        `at most one more GetSessionToken, saw ${server.calls.GetSessionToken}`,
      );
      assert.equal(
        server.rejectedReuses,
        0,
        "the next process waited for a new TOTP step instead of reusing the code",
      );
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
