// `awsmfa exec --server`: the child reaches its credentials through the container credentials
// endpoint, with real clients (the aws CLI, the AWS SDK for JavaScript v3) against the strict STS
// server, which checks every signature: "GetCallerIdentity signed with a role key" means the
// client really used what the server handed it. Role sessions of a few seconds
// (sessionDurationOverrideSeconds, set after the MFA session is made, so that one stays long)
// make a child outlive several of them.
import assert from "node:assert/strict";
import { appendFileSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach, describe, test } from "node:test";
import { writeCodeScript } from "../support/code-script";
import type { IsolatedEnv } from "../support/env";
import { AWS_CLI_SKIP_REASON, awsCliAvailable } from "../support/moto";
import { runAwsmfa } from "../support/run-awsmfa";
import type { StsServer } from "../support/sts-server";
import {
  createServerHome,
  FIXTURES,
  httpRequest,
  ROLE_SESSION_ARN,
  roleKeysThatCalled,
  SEED,
  startServerSts,
} from "./helpers";

const skipAws = awsCliAvailable() ? false : AWS_CLI_SKIP_REASON;
const SDK_CALLS = join(FIXTURES, "sdk-calls.cjs");

let server: StsServer;
let home: IsolatedEnv;

before(async () => {
  server = await startServerSts();
});
after(() => server.close());
beforeEach(async () => {
  server.reset();
  home = await createServerHome(server);
});
afterEach(() => home.cleanup());

/** A 12-hour MFA session in the cache; from here on STS issues sessions of `seconds`. */
async function loginThenShortSessions(seconds: number): Promise<void> {
  const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
    env: home.env,
  });
  assert.equal(login.status, 0, login.stderr);
  server.setOption({ sessionDurationOverrideSeconds: seconds });
}

describe("the child's environment", () => {
  test("the endpoint and token instead of keys; no profile; the server ends with the child", async () => {
    const script = `
      const names = ["AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_CREDENTIAL_EXPIRATION", "AWS_PROFILE", "AWS_DEFAULT_PROFILE",
        "AWS_REGION", "AWSMFA_EXEC_PROFILE"];
      const env = Object.fromEntries(names.map((n) => [n, process.env[n] ?? null]));
      fetch(env.AWS_CONTAINER_CREDENTIALS_FULL_URI, { headers: { Authorization: env.AWS_CONTAINER_AUTHORIZATION_TOKEN } })
        .then(async (r) => { env.status = r.status; env.body = await r.json(); })
        .finally(() => { process.stdout.write(JSON.stringify(env)); process.exitCode = 7; });`;
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const parentEnv = {
      ...home.env,
      AWS_ACCESS_KEY_ID: "AKIAPARENTEXAMPLE001",
      AWS_SECRET_ACCESS_KEY: "parent-secret",
      AWS_SESSION_TOKEN: "parent-token",
      AWS_PROFILE: "admin",
      AWS_DEFAULT_PROFILE: "admin",
      AWS_CONTAINER_CREDENTIALS_RELATIVE_URI: "/v2/credentials/ecs-task",
    };
    const run = await runAwsmfa(["exec", "--server", "--", process.execPath, "-e", script], {
      env: parentEnv,
    });
    assert.equal(run.status, 7, `exits with the child's status; stderr: ${run.stderr}`);
    const seen = JSON.parse(run.stdout);
    assert.match(seen.AWS_CONTAINER_CREDENTIALS_FULL_URI, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    assert.match(
      seen.AWS_CONTAINER_AUTHORIZATION_TOKEN,
      /^[A-Za-z0-9_-]{43,}$/,
      "32+ random bytes, base64url",
    );
    for (const name of [
      "AWS_ACCESS_KEY_ID",
      "AWS_SECRET_ACCESS_KEY",
      "AWS_SESSION_TOKEN",
      "AWS_CREDENTIAL_EXPIRATION",
      "AWS_PROFILE",
      "AWS_DEFAULT_PROFILE",
      "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
      "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
    ]) {
      assert.equal(seen[name], null, `${name} is not in the child's environment`);
    }
    assert.equal(seen.AWSMFA_EXEC_PROFILE, "admin");
    assert.equal(seen.status, 200);
    assert.deepEqual(Object.keys(seen.body), ["AccessKeyId", "SecretAccessKey", "Token", "Expiration"]);
    const role = server.issued.find((c) => c.accessKeyId === seen.body.AccessKeyId);
    assert.equal(role?.kind, "AssumeRole");
    assert.equal(seen.body.Token, role?.sessionToken);
    assert.match(seen.body.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(!run.stderr.includes(seen.AWS_CONTAINER_AUTHORIZATION_TOKEN), "the token is never on stderr");

    await assert.rejects(
      httpRequest(seen.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
        headers: { Authorization: seen.AWS_CONTAINER_AUTHORIZATION_TOKEN },
      }),
      /ECONNREFUSED/,
      "the server is gone with the child",
    );
  });
});

describe("a [default] profile with keys of its own", () => {
  test("is named on stderr: the SDKs would use it before the endpoint", async () => {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    appendFileSync(
      home.credentialsPath,
      "[default]\naws_access_key_id = AKIADEFAULTEXAMPLE01\naws_secret_access_key = x\n",
    );
    const run = await runAwsmfa(["exec", "--server", "-p", "admin", "--", process.execPath, "-e", ""], {
      env: home.env,
    });
    assert.equal(run.status, 0, run.stderr);
    assert.match(run.stderr, /Profile 'default' has credentials of its own \(aws_access_key_id\)/);
  });
});

describe("the AWS SDK for JavaScript v3 through the endpoint", () => {
  for (const mode of ["container", "chain"] as const) {
    const name = mode === "container" ? "fromContainerMetadata" : "the default chain (fromNodeProviderChain)";
    test(`${name}: GetCallerIdentity signed with the role's key`, async () => {
      const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
        env: home.env,
      });
      assert.equal(login.status, 0, login.stderr);
      const from = server.requests.length;
      const run = await runAwsmfa(
        ["exec", "--server", "-p", "admin", "--", process.execPath, SDK_CALLS, mode, "0"],
        {
          env: home.env,
        },
      );
      assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
      const summary = JSON.parse(run.stdout);
      assert.deepEqual(summary.failures, []);
      assert.deepEqual(summary.arns, [ROLE_SESSION_ARN]);
      assert.equal(roleKeysThatCalled(server, from).length, 1);
      assert.equal(server.calls.GetSessionToken, 1, "the MFA session from login, reused");
    });
  }

  test("a child that outlives several role sessions keeps working, with no prompt", async () => {
    await loginThenShortSessions(8);
    const from = server.requests.length;
    const started = Date.now();
    const run = await runAwsmfa(
      [
        "exec",
        "--server",
        "-p",
        "admin",
        "--min-ttl",
        "2s",
        "--",
        process.execPath,
        SDK_CALLS,
        "chain",
        "20",
        "200",
      ],
      { env: home.env, timeoutMs: 90_000 },
    );
    const elapsed = (Date.now() - started) / 1000;
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(summary.failures, [], "every call succeeded");
    assert.ok(summary.calls >= 40, `${summary.calls} calls`);
    assert.deepEqual(summary.arns, [ROLE_SESSION_ARN]);
    const keys = roleKeysThatCalled(server, from);
    assert.ok(
      keys.length >= 4,
      `${keys.length} role sessions used in ${elapsed.toFixed(1)} s (sessions of 8 s)`,
    );
    assert.equal(server.calls.GetSessionToken, 1, "no new MFA session: nothing asked for a code");
    assert.doesNotMatch(run.stderr, /Could not renew|MFA code/i, run.stderr);
  });
});

describe("the aws CLI through the endpoint", { skip: skipAws }, () => {
  test("aws sts get-caller-identity is signed with the role's key, also across role renewals", async () => {
    await loginThenShortSessions(6);
    const from = server.requests.length;
    const loop = "for i in 1 2 3 4 5; do aws sts get-caller-identity --output json || exit 1; sleep 1; done";
    const run = await runAwsmfa(
      ["exec", "--server", "-p", "admin", "--min-ttl", "2s", "--", "sh", "-c", loop],
      {
        env: home.env,
        timeoutMs: 120_000,
      },
    );
    assert.equal(run.status, 0, run.stderr);
    const answers = run.stdout.split(/(?<=\})\s*(?=\{)/).map((text) => JSON.parse(text));
    assert.equal(answers.length, 5);
    for (const answer of answers) assert.equal(answer.Arn, ROLE_SESSION_ARN);
    assert.ok(
      roleKeysThatCalled(server, from).length >= 2,
      "calls more than 5 s apart used renewed role sessions",
    );
    assert.equal(server.calls.GetSessionToken, 1);
  });
});

describe("a child that outlives the MFA session itself", () => {
  test("mfa_process is asked for the next code ahead of time; the child never sees a gap", async () => {
    await home.cleanup();
    const scriptDir = mkdtempSync(join(tmpdir(), "awsmfa-code-"));
    const code = writeCodeScript(scriptDir, SEED);
    home = await createServerHome(server, `mfa_process = ${code.command}\n`);
    // MFA sessions (the credentials handed out, for this profile) of 40 s: a new code is needed
    // every session, and the code source gives one new code per 30-second window.
    server.setOption({ sessionDurationOverrideSeconds: 40 });
    const run = await runAwsmfa(
      [
        "exec",
        "--server",
        "-p",
        "alice",
        "--min-ttl",
        "2s",
        "--",
        process.execPath,
        SDK_CALLS,
        "container",
        "45",
        "250",
      ],
      { env: home.env, timeoutMs: 120_000 },
    );
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const summary = JSON.parse(run.stdout);
    assert.deepEqual(summary.failures, []);
    const sessions = server.issued.filter((c) => c.kind === "GetSessionToken");
    assert.ok(sessions.length >= 2, `${sessions.length} MFA sessions`);
    const runs = readFileSync(code.runsFile, "utf8").trim().split("\n").length;
    assert.equal(runs, sessions.length, "one code per session");
    for (let index = 1; index < sessions.length; index++) {
      const before = sessions[index - 1] as (typeof sessions)[number];
      const next = sessions[index] as (typeof sessions)[number];
      const issuedAt = next.expiration.getTime() - 40_000;
      assert.ok(
        issuedAt < before.expiration.getTime() - 2_000,
        "the new session came before the old one ended",
      );
    }
    rmSync(scriptDir, { recursive: true, force: true });
  });
});
