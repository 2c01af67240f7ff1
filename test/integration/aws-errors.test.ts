// Issue: "Every AWS error a user can meet becomes one line naming the profile and the next step".
// Each error is provoked for real against the strict STS/IAM server (no SDK mocks): the exit
// status, a message line that names the profile, a hint line that says what to do, no secret in
// the output, and no credentials written to the cache.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { cacheEntryFiles, createIsolatedEnv } from "../support/env";
import { freeLoopbackPort } from "../support/moto";
import { assertReportedError, type Reported } from "../support/reported";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";
import { useStsWorld } from "../support/sts-world";

const ACCOUNT = "333333333333";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const SEED = randomBase32Seed();
const BOB_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/bob`;
const KEYS = { accessKeyId: "AKIAALICEERRORS00001", secretAccessKey: "alice/errors/secret+EXAMPLE0000001" };
const BOB_KEYS = {
  accessKeyId: "AKIABOBERRORS0000001",
  secretAccessKey: "bob/errors/secret+EXAMPLE00000001",
};
const GHOST_KEY = "AKIAGHOSTERRORS00001";
const TEMPORARY_KEY = "ASIATEMPORARYERRORS1";
const WRONG_SECRET = "not/alice/secret+EXAMPLE000000000000";
const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
const BOB_ONLY_ROLE = `arn:aws:iam::${ACCOUNT}:role/BobOnly`;
const SECRETS = [KEYS.secretAccessKey, BOB_KEYS.secretAccessKey, WRONG_SECRET, SEED];

const CONFIG = `[profile alice]
mfa_serial = ${SERIAL}

[profile admin]
role_arn = ${ADMIN_ROLE}
source_profile = alice

[profile bob-only]
role_arn = ${BOB_ONLY_ROLE}
source_profile = alice
awsmfa_session = false

[profile long]
role_arn = ${ADMIN_ROLE}
source_profile = alice
duration_seconds = 7200
awsmfa_session = false

[profile wrong-device]
mfa_serial = arn:aws:iam::${ACCOUNT}:mfa/nobody

[profile ghost]
mfa_serial = ${SERIAL}

[profile temporary]
mfa_serial = ${SERIAL}

[profile wrong-secret]
mfa_serial = ${SERIAL}

[profile no-device]
region = us-east-1
`;
const keysOf = (profile: string, id: string, secret: string, extra = ""): string =>
  `[${profile}]\naws_access_key_id = ${id}\naws_secret_access_key = ${secret}\n${extra}`;
const CREDENTIALS = [
  keysOf("alice", KEYS.accessKeyId, KEYS.secretAccessKey),
  keysOf("wrong-device", KEYS.accessKeyId, KEYS.secretAccessKey),
  keysOf("no-device", KEYS.accessKeyId, KEYS.secretAccessKey),
  keysOf("ghost", GHOST_KEY, "ghost/secret+EXAMPLE000000000000000"),
  // What another MFA tool leaves behind when it writes its session over the user's own keys.
  keysOf(
    "temporary",
    TEMPORARY_KEY,
    "temporary/secret+EXAMPLE00000000000",
    "aws_session_token = FwoGZXIvYXdzEXAMPLE\n",
  ),
  keysOf("wrong-secret", KEYS.accessKeyId, WRONG_SECRET),
].join("\n");

const USERS = [
  { userName: "alice", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] },
  { userName: "bob", ...BOB_KEYS, mfaDevices: [{ serial: BOB_SERIAL, seed: randomBase32Seed() }] },
];
const ROLES = [
  { arn: ADMIN_ROLE, maxSessionDuration: 3600 },
  { arn: BOB_ONLY_ROLE, maxSessionDuration: 3600, allowedUsers: ["bob"] },
];

/** Reported as awsmfa reports an error, with no secret of this file's world in it. */
function assertReported(result: RunResult, expected: Reported): void {
  assertReportedError(result, expected, SECRETS);
}

/** A six-digit code the server refuses now: not the code of the previous, current or next step. */
function wrongCode(server: StsServer): string {
  const now = server.now();
  const valid = new Set([-30_000, 0, 30_000].map((shift) => server.totp(SEED, now + shift)));
  for (let n = 0; ; n++) {
    const candidate = String(n * 7919).padStart(6, "0");
    if (!valid.has(candidate)) return candidate;
  }
}

describe("every AWS error a user can meet", { concurrency: true }, () => {
  describe("errors STS and IAM answer with", { concurrency: 1 }, () => {
    const world = useStsWorld({
      start: { accountId: ACCOUNT, users: USERS, roles: ROLES },
      config: CONFIG,
      credentials: CREDENTIALS,
    });

    const login = (profile: string, code: string, vars: NodeJS.ProcessEnv = {}) =>
      runAwsmfa(["login", "-p", profile, "--token-code", code], { env: { ...world.home.env, ...vars } });

    test("a wrong MFA code: exit 5, wait for the next code", async () => {
      const result = await login("alice", wrongCode(world.server));
      assertReported(result, {
        status: 5,
        profile: "alice",
        message: /AWS rejected the MFA code/,
        hint: /next code/,
      });
      assert.equal(world.server.calls.GetSessionToken, 1, "a code from a flag is sent once");
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("a code used twice (login, logout, login with the same code): exit 5, AWS saw a reuse", async () => {
      const code = world.server.totp(SEED);
      const first = await login("alice", code);
      assert.equal(first.status, 0, first.stderr);
      const logout = await runAwsmfa(["logout", "-p", "alice"], { env: world.home.env });
      assert.equal(logout.status, 0, logout.stderr);
      assert.deepEqual(cacheEntryFiles(world.home), [], "logout forgot the session");

      const again = await login("alice", code);
      assertReported(again, {
        status: 5,
        profile: "alice",
        message: /rejected the MFA code.*already used/,
        hint: /works once.*next code/,
      });
      assert.equal(world.server.rejectedReuses, 1, "the server refused the code as a reuse, not as wrong");
      assert.equal(world.server.accepted.GetSessionToken, 1);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("an MFA serial that is not the user's device: exit 5, fix mfa_serial", async () => {
      const result = await login("wrong-device", world.server.totp(SEED));
      assertReported(result, {
        status: 5,
        profile: "wrong-device",
        message: /MFA device arn:aws:iam::333333333333:mfa\/nobody is not associated with the IAM user/,
        hint: /Fix mfa_serial for 'wrong-device'/,
      });
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("AssumeRole not authorised by the role's trust policy: exit 6, check role_arn", async () => {
      const result = await login("bob-only", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "bob-only",
        message:
          /not allowed to assume arn:aws:iam::333333333333:role\/BobOnly: User: arn:aws:iam::333333333333:user\/alice is not authorized/,
        hint: /Check role_arn, source_profile and external_id for 'bob-only'.*trust policy/,
      });
      assert.equal(world.server.accepted.AssumeRole ?? 0, 0);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("ExpiredToken: a cached session AWS holds expired (clock 4 min behind): exit 6, login --force", async () => {
      // The MFA session lasts 200 s; then AWS's clock moves 4 minutes ahead of this machine's
      // (still inside SigV4's 5-minute window). By this machine's clock the cached session has
      // more than the minute it needs for AssumeRole; by AWS's it has expired.
      world.server.setOption({ sessionDurationOverrideSeconds: 200 });
      const first = await login("alice", world.server.totp(SEED));
      assert.equal(first.status, 0, first.stderr);
      const cached = cacheEntryFiles(world.home);
      assert.equal(cached.length, 1, "the MFA session is cached");
      world.server.setOption({ clockOffsetMs: 240_000 });

      const result = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
      assertReported(result, {
        status: 6,
        profile: "admin",
        message: /AWS says the session awsmfa cached for profile 'admin' has expired/,
        hint: /awsmfa login -p admin --force.*clock/,
      });
      assert.deepEqual(
        world.server.requests.filter((r) => r.action === "AssumeRole").map((r) => r.errorCode),
        ["ExpiredToken"],
      );
      assert.deepEqual(cacheEntryFiles(world.home), cached, "no role credentials were cached");
    });

    test("InvalidClientTokenId: an access key AWS does not know: exit 6, replace the key", async () => {
      const result = await login("ghost", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "ghost",
        message: new RegExp(`does not recognise the access key ${GHOST_KEY} of profile 'ghost'`),
        hint: /aws_access_key_id.*IAM console/,
      });
      assert.doesNotMatch(result.stderr, /awsmfa setup/, "no hint at a command that does not exist");
      assert.deepEqual(
        world.server.requests.map((r) => r.errorCode),
        ["InvalidClientTokenId"],
      );
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("InvalidClientTokenId: temporary keys (ASIA…) where the user's own keys belong: exit 6", async () => {
      const result = await login("temporary", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "temporary",
        message: new RegExp(
          `${TEMPORARY_KEY} of profile 'temporary' is a temporary session key.*long-term key`,
        ),
        hint: /aws_access_key_id and aws_secret_access_key back in the credentials file/,
      });
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("SignatureDoesNotMatch: a wrong secret key: exit 6, check the secret and the clock, not retried", async () => {
      const result = await login("wrong-secret", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "wrong-secret",
        message: /refused the signature of profile 'wrong-secret': the secret access key does not match/,
        hint: /aws_secret_access_key for 'wrong-secret'.*clock.*date -u/,
      });
      assert.equal(world.server.calls.GetSessionToken, 1, "a bad secret is not retried");
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("clock skew: this machine a day ahead: the SDK re-signs (2 calls), the answer is already expired here: exit 6, fix the clock", async () => {
      // What a user meets: STS answers the first request "Signature expired", the SDK corrects
      // its clock from the Date header and retries, and STS accepts; but the session's
      // Expiration is in the past by this machine's clock.
      world.server.setOption({ clockOffsetMs: -25 * 3600_000 });
      const result = await login("alice", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "alice",
        message:
          /credentials AWS returned for profile 'alice' expire at .* already past by this machine's clock .*clock is probably wrong/,
        hint: /date -u.*next code/,
      });
      assert.deepEqual(
        world.server.requests.filter((r) => r.action === "GetSessionToken").map((r) => r.errorCode ?? "ok"),
        ["SignatureDoesNotMatch", "ok"],
        "the SDK corrected its clock and signed again",
      );
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("clock skew of 10 minutes: the SDK corrects it on its retry, login works (2 calls)", async () => {
      world.server.setOption({ clockOffsetMs: 10 * 60_000 });
      const result = await login("alice", world.server.totp(SEED));
      assert.equal(result.status, 0, result.stderr);
      assert.deepEqual(
        world.server.requests.filter((r) => r.action === "GetSessionToken").map((r) => r.errorCode ?? "ok"),
        ["SignatureDoesNotMatch", "ok"],
      );
      assert.equal(cacheEntryFiles(world.home).length, 1);
    });

    test("duration_seconds 7200 on a role whose maximum is 3600 (awsmfa_session = false): exit 6, lower it", async () => {
      const result = await login("long", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "long",
        message:
          /asked for a longer session than arn:aws:iam::333333333333:role\/Admin allows: The requested DurationSeconds exceeds the MaxSessionDuration/,
        hint: /Lower duration_seconds for 'long'/,
      });
      assert.deepEqual(
        world.server.requests.filter((r) => r.action === "AssumeRole").map((r) => r.errorCode),
        ["ValidationError"],
      );
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("Throttling on 4 calls, more than the SDK's 3 attempts: exit 6 after 3 calls", async () => {
      world.server.setOption({
        failures: [
          { action: "GetSessionToken", count: 4, status: 400, code: "Throttling", message: "Rate exceeded" },
        ],
      });
      const result = await login("alice", world.server.totp(SEED));
      assertReported(result, {
        status: 6,
        profile: "alice",
        message:
          /AWS throttled GetSessionToken for profile 'alice' \(Throttling: Rate exceeded\), still after 3 attempts/,
        hint: /Wait a minute/,
      });
      assert.equal(world.server.calls.GetSessionToken, 3);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("IAM AccessDenied on ListMFADevices while looking for the device: exit 6, set mfa_serial", async () => {
      world.server.setOption({
        failures: [
          {
            action: "ListMFADevices",
            count: 1,
            status: 403,
            code: "AccessDenied",
            message: `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: iam:ListMFADevices on resource: user alice`,
          },
        ],
      });
      const configBefore = readFileSync(world.home.configPath, "utf8");
      const result = await runAwsmfa(["login", "-p", "no-device"], { env: world.home.env });
      assertReported(result, {
        status: 6,
        profile: "no-device",
        message:
          /IAM refused to list the MFA devices .* cannot find its mfa_serial: User: .* not authorized to perform: iam:ListMFADevices/,
        hint: /Add mfa_serial = .*iam:ListMFADevices/,
      });
      assert.equal(readFileSync(world.home.configPath, "utf8"), configBefore, "the config file is untouched");
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });

    test("network unreachable (a closed loopback port): exit 7, names the endpoint", async () => {
      const port = await freeLoopbackPort();
      const closed = `http://127.0.0.1:${port}`;
      const result = await login("alice", world.server.totp(SEED), {
        AWS_ENDPOINT_URL: closed,
        AWS_ENDPOINT_URL_STS: closed,
        AWS_ENDPOINT_URL_IAM: closed,
      });
      assertReported(result, {
        status: 7,
        profile: "alice",
        message: new RegExp(`Could not reach ${closed} for profile 'alice': connection refused`),
        hint: /network connection.*AWS_ENDPOINT_URL_STS/,
      });
      assert.equal(world.server.requests.length, 0);
      assert.deepEqual(cacheEntryFiles(world.home), []);
    });
  });

  // Alone on its own server, next to the tests above: it takes the client's full timeout.
  test("timing out: STS answers after 11 s, past the 10 s request timeout, on each of 3 attempts: exit 7 within 35 s", async () => {
    const slow = await startStsServer({ accountId: ACCOUNT, users: USERS, roles: ROLES, latencyMs: 11_000 });
    const home = await createIsolatedEnv({ endpointUrl: slow.url, config: CONFIG, credentials: CREDENTIALS });
    try {
      const started = Date.now();
      const result = await runAwsmfa(["login", "-p", "alice", "--token-code", slow.totp(SEED)], {
        env: home.env,
        timeoutMs: 45_000,
      });
      const seconds = (Date.now() - started) / 1000;
      assertReported(result, {
        status: 7,
        profile: "alice",
        message: new RegExp(`Could not reach ${slow.url} for profile 'alice': timed out`),
        hint: /try again.*next code/,
      });
      assert.ok(seconds < 35, `gave up after ${seconds} s`);
      assert.deepEqual(cacheEntryFiles(home), []);
    } finally {
      await slow.close();
      await home.cleanup();
    }
  });
});
