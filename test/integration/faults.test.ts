// Faults from AWS and from the network, provoked on the strict STS server: server errors and
// throttling on the first N calls (the SDK makes 3 attempts in all), a response slower than the
// client's timeout, a refused connection, a cut-off and a garbage body, credentials that arrive
// already expired. A fault the SDK's retries absorb costs exactly N + 1 calls and succeeds; any
// other ends in a clear message, the right exit status and nothing written to the cache.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { cacheEntryFiles, createIsolatedEnv } from "../support/env";
import { freeLoopbackPort } from "../support/moto";
import { assertReportedError, type Reported } from "../support/reported";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import {
  randomBase32Seed,
  type StsServer,
  type StsServerOptions,
  startStsServer,
} from "../support/sts-server";
import { useStsWorld } from "../support/sts-world";

const ACCOUNT = "444444444444";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/carol`;
const SEED = randomBase32Seed();
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Deploy`;
const KEYS = { accessKeyId: "AKIACAROLFAULTS00001", secretAccessKey: "carol/faults/secret+EXAMPLE000001" };

const CONFIG = `[profile carol]
mfa_serial = ${SERIAL}

[profile deploy]
role_arn = ${ROLE}
source_profile = carol
`;
const CREDENTIALS = `[carol]
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key = ${KEYS.secretAccessKey}
`;
const SERVER: StsServerOptions = {
  accountId: ACCOUNT,
  users: [{ userName: "carol", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
  roles: [{ arn: ROLE, maxSessionDuration: 3600 }],
};

/** Reported as awsmfa reports an error, with no secret of this file's world in it. */
function assertReported(result: RunResult, expected: Reported): void {
  assertReportedError(result, expected, [KEYS.secretAccessKey]);
}

const outcomes = (server: StsServer, action: string): string[] =>
  server.requests.filter((r) => r.action === action).map((r) => r.errorCode ?? "ok");

describe("faults from AWS and the network", { concurrency: true }, () => {
  describe("answered faults", { concurrency: 1 }, () => {
    const world = useStsWorld({ start: SERVER, config: CONFIG, credentials: CREDENTIALS });

    const login = (profile = "carol", vars: NodeJS.ProcessEnv = {}) =>
      runAwsmfa(["login", "-p", profile, "--token-code", world.server.totp(SEED)], {
        env: { ...world.home.env, ...vars },
      });
    const failFirst = (count: number, status: number, code: string, message?: string) =>
      world.server.setOption({ failures: [{ action: "GetSessionToken", count, status, code, message }] });

    for (const n of [1, 2]) {
      test(`HTTP 500 on the first ${n} of 3 attempts: succeeds with exactly ${n + 1} calls, one code`, async () => {
        failFirst(n, 500, "InternalFailure", "An internal error occurred.");
        const result = await login();
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(outcomes(world.server, "GetSessionToken"), [
          ...Array(n).fill("InternalFailure"),
          "ok",
        ]);
        assert.equal(cacheEntryFiles(world.home).length, 1, "the session is cached");
      });
    }

    test("HTTP 500 on the first 4 calls, past the 3 attempts: exit 6 after 3 calls, AWS's side", async () => {
      failFirst(4, 500, "InternalFailure", "An internal error occurred.");
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message:
          /STS failed GetSessionToken for profile 'carol' on its side \(HTTP 500 InternalFailure: An internal error occurred\), still after 3 attempts/,
        hint: /AWS's problem.*try again in a few minutes/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3, "no fourth attempt");
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("HTTP 503 ServiceUnavailable on the first 3 of 3 attempts: exit 6 after 3 calls", async () => {
      failFirst(3, 503, "ServiceUnavailable", "Service is unavailable.");
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message:
          /on its side \(HTTP 503 ServiceUnavailable: Service is unavailable\), still after 3 attempts/,
        hint: /try again in a few minutes/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("Throttling on the first 2 of 3 attempts: succeeds with exactly 3 calls", async () => {
      failFirst(2, 400, "Throttling", "Rate exceeded");
      const result = await login();
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(outcomes(world.server, "GetSessionToken"), ["Throttling", "Throttling", "ok"]);
      assert.equal(cacheEntryFiles(world.home).length, 1);
    });

    test("Throttling on the first 5 calls, past the 3 attempts: exit 6 after 3 calls", async () => {
      failFirst(5, 400, "Throttling", "Rate exceeded");
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message: /throttled GetSessionToken for profile 'carol'.*still after 3 attempts/,
        hint: /Wait a minute/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3, "no fourth attempt");
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    // The kinds of failure that a call carrying an MFA code may try again are the ones the
    // messages call throttling and clock skew: one classifier (sts/error-kind.ts) for both.
    for (const [status, code] of [
      [400, "SlowDown"],
      [429, "TooManyRequests"],
      [403, "RequestInTheFuture"],
    ] as const) {
      test(`${code} (HTTP ${status}) on the first 2 of 3 attempts: AWS did not take the code, succeeds with exactly 3 calls`, async () => {
        failFirst(2, status, code, "Please reduce your request rate or check your clock.");
        const result = await login();
        assert.equal(result.status, 0, result.stderr);
        assert.deepEqual(outcomes(world.server, "GetSessionToken"), [code, code, "ok"]);
        assert.equal(cacheEntryFiles(world.home).length, 1);
      });
    }

    test("SlowDown on the first 5 calls, past the 3 attempts: exit 6, throttled, after 3 calls", async () => {
      failFirst(5, 400, "SlowDown", "Please reduce your request rate.");
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message:
          /AWS throttled GetSessionToken for profile 'carol' \(SlowDown: Please reduce your request rate\), still after 3 attempts/,
        hint: /Wait a minute/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3, "no fourth attempt");
    });

    test("RequestInTheFuture on the first 5 calls, past the 3 attempts: exit 6, the clock, after 3 calls", async () => {
      failFirst(5, 403, "RequestInTheFuture", "Request is not yet valid.");
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message: /AWS refused the request for profile 'carol' as signed at the wrong time/,
        hint: /Check this machine's clock/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3, "no fourth attempt");
    });

    test("connection refused (nothing listens on the port): exit 7 after 3 attempts", async () => {
      const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
      const result = await login("carol", {
        AWS_ENDPOINT_URL: closed,
        AWS_ENDPOINT_URL_STS: closed,
        AWS_ENDPOINT_URL_IAM: closed,
      });
      assertReported(result, {
        status: 7,
        profile: "carol",
        message: new RegExp(
          `Could not reach ${closed} for profile 'carol': connection refused \\(3 attempts\\)`,
        ),
        hint: /network connection.*then try again\.$/,
      });
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    for (const malformed of ["truncated", "garbage"] as const) {
      test(`a ${malformed} XML body with HTTP 200 on GetSessionToken (1 call, not retried): exit 7, a new code`, async () => {
        world.server.setOption({ malformed });
        const result = await login();
        assertReported(result, {
          status: 7,
          profile: "carol",
          message:
            /STS answered GetSessionToken for profile 'carol' with something that is not a valid AWS response \(HTTP 200\)/,
          hint: /proxy.*HTTPS_PROXY.*new code/,
        });
        assert.doesNotMatch(result.stderr, /\$response|@aws-sdk/, "no SDK internals");
        assert.equal(world.server.calls.GetSessionToken, 1);
        assert.equal(
          world.server.accepted.GetSessionToken,
          1,
          "the server took the code: the hint is right to ask for a new one",
        );
        assert.deepEqual(cacheEntryFiles(world.home), []);
      });
    }

    test("a well-formed answer without Credentials on GetSessionToken (1 call): exit 7, not a valid AWS response", async () => {
      world.server.setOption({ malformed: "no-credentials" });
      const result = await login();
      assertReported(result, {
        status: 7,
        profile: "carol",
        message:
          /STS answered a request for profile 'carol' with something that is not a valid AWS response\.$/,
        hint: /proxy.*HTTPS_PROXY/,
      });
      assert.equal(world.server.calls.GetSessionToken, 1);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("a garbage XML body on AssumeRole over a cached session: exit 7, no role cached, no code asked for", async () => {
      const first = await login();
      assert.equal(first.status, 0, first.stderr);
      const cached = cacheEntryFiles(world.home);
      world.server.setOption({ malformed: "garbage" });
      const result = await runAwsmfa(["credential-process", "-p", "deploy"], { env: world.home.env });
      assertReported(result, {
        status: 7,
        profile: "deploy",
        message:
          /STS answered AssumeRole for profile 'deploy' with something that is not a valid AWS response/,
        hint: /then try again\.$/,
      });
      assert.deepEqual(cacheEntryFiles(world.home), cached, "only the MFA session from before");
    });

    test("an Expiration in the past (1 call): exit 6, check the clock, nothing cached", async () => {
      world.server.setOption({ expirationInPast: true });
      const result = await login();
      assertReported(result, {
        status: 6,
        profile: "carol",
        message:
          /credentials AWS returned for profile 'carol' expire at \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ, which is already past/,
        hint: /clock.*next code/,
      });
      assert.equal(world.server.calls.GetSessionToken, 1);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });
  });

  // On a server of its own, beside the tests above: it waits out the client's timeout 3 times.
  test("AssumeRole answered after 11 s, past the 10 s request timeout, on each of 3 attempts: exit 7 within 35 s, stdout empty", async () => {
    const slow = await startStsServer(SERVER);
    const home = await createIsolatedEnv({ endpointUrl: slow.url, config: CONFIG, credentials: CREDENTIALS });
    try {
      const first = await runAwsmfa(["login", "-p", "carol", "--token-code", slow.totp(SEED)], {
        env: home.env,
      });
      assert.equal(first.status, 0, first.stderr);
      const cached = cacheEntryFiles(home);
      slow.setOption({ latencyMs: 11_000 });
      const started = Date.now();
      const result = await runAwsmfa(["credential-process", "-p", "deploy"], {
        env: home.env,
        timeoutMs: 45_000,
      });
      const seconds = (Date.now() - started) / 1000;
      assertReported(result, {
        status: 7,
        profile: "deploy",
        message: new RegExp(`Could not reach ${slow.url} for profile 'deploy': timed out \\(3 attempts\\)`),
        hint: /network connection.*then try again\.$/,
      });
      assert.ok(seconds < 35, `gave up after ${seconds} s`);
      assert.deepEqual(cacheEntryFiles(home), cached, "only the MFA session from before");
    } finally {
      await slow.close();
      await home.cleanup();
    }
  });
});
