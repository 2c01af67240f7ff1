// Proves the strict STS/IAM server with the clients the product meets in the field: the AWS SDK
// for JavaScript v3 and the aws CLI. Every expectation here is what real AWS answers.
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { test } from "node:test";
import { promisify } from "node:util";
import {
  CreateAccessKeyCommand,
  DeleteAccessKeyCommand,
  GetUserCommand,
  IAMClient,
  ListAccessKeysCommand,
  ListMFADevicesCommand,
  UpdateAccessKeyCommand,
} from "@aws-sdk/client-iam";
import {
  AssumeRoleCommand,
  type AssumeRoleCommandInput,
  GetCallerIdentityCommand,
  GetSessionTokenCommand,
  STSClient,
} from "@aws-sdk/client-sts";
import { createIsolatedEnv } from "../support/env";
import { AWS_CLI_SKIP_REASON, awsCliAvailable } from "../support/moto";
import { expectedSignature, formatAmzDate, parseAuthorization } from "../support/sigv4";
import {
  randomBase32Seed,
  type StsServer,
  type StsServerOptions,
  startStsServer,
  totpCode,
} from "../support/sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const runFile = promisify(execFile);
const ACCOUNT = "111122223333";
const OTHER_ACCOUNT = "444455556666";
const ALICE_SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
const ALICE_SEED = randomBase32Seed();
const ALICE = {
  userName: "alice",
  accessKeyId: "AKIAALICE00000000001",
  secretAccessKey: "alice/secret/key/0000000000000000000000",
  mfaDevices: [{ serial: ALICE_SERIAL, seed: ALICE_SEED }],
};
const ALICE_ARN = `arn:aws:iam::${ACCOUNT}:user/alice`;
const BOB = {
  userName: "bob",
  accessKeyId: "AKIABOB0000000000001",
  secretAccessKey: "bob/secret/key/00000000000000000000000000",
};
const ROLES = {
  admin: `arn:aws:iam::${OTHER_ACCOUNT}:role/admin`,
  readonly: `arn:aws:iam::${ACCOUNT}:role/team/readonly`,
  partner: `arn:aws:iam::${OTHER_ACCOUNT}:role/partner`,
  aliceOnly: `arn:aws:iam::${ACCOUNT}:role/alice-only`,
};
const INVALID_MFA = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";

interface Credentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken?: string;
}

/** SDK v3 query-protocol errors: `Code` is the code on the wire; `name` is the modeled class name when there is one. */
interface AwsErrorShape {
  name: string;
  Code?: string;
  message: string;
  $metadata?: { httpStatusCode?: number };
}

const aliceKeys: Credentials = { accessKeyId: ALICE.accessKeyId, secretAccessKey: ALICE.secretAccessKey };
const bobKeys: Credentials = { accessKeyId: BOB.accessKeyId, secretAccessKey: BOB.secretAccessKey };

async function serverFor(
  t: { after(fn: () => Promise<void>): void },
  options: Partial<StsServerOptions> = {},
) {
  const server = await startStsServer({
    accountId: ACCOUNT,
    users: [ALICE, BOB],
    roles: [
      { arn: ROLES.admin, requireMfa: true, maxSessionDuration: 7200 },
      { arn: ROLES.readonly, maxSessionDuration: 43200 },
      { arn: ROLES.partner, requireExternalId: "partner-ext-id" },
      { arn: ROLES.aliceOnly, allowedUsers: ["alice"] },
    ],
    ...options,
  });
  t.after(() => server.close());
  return server;
}

function sts(server: StsServer, credentials: Credentials, maxAttempts = 1): STSClient {
  return new STSClient({ region: "us-east-1", endpoint: server.url, credentials, maxAttempts });
}

function iam(server: StsServer, credentials: Credentials): IAMClient {
  return new IAMClient({ region: "us-east-1", endpoint: server.url, credentials, maxAttempts: 1 });
}

async function expectAwsError(
  call: Promise<unknown>,
  expected: { code: string; status: number; message?: string | RegExp },
): Promise<AwsErrorShape> {
  let error: AwsErrorShape | undefined;
  try {
    await call;
  } catch (caught) {
    error = caught as AwsErrorShape;
  }
  assert.ok(error, `expected ${expected.code}, but the call succeeded`);
  assert.equal(error.Code, expected.code, error.message);
  assert.equal(error.$metadata?.httpStatusCode, expected.status);
  if (typeof expected.message === "string") assert.equal(error.message, expected.message);
  if (expected.message instanceof RegExp) assert.match(error.message, expected.message);
  return error;
}

async function mfaSession(server: StsServer, durationSeconds = 3600): Promise<Credentials> {
  const output = await sts(server, aliceKeys).send(
    new GetSessionTokenCommand({
      DurationSeconds: durationSeconds,
      SerialNumber: ALICE_SERIAL,
      TokenCode: server.totp(ALICE_SEED),
    }),
  );
  return asCredentials(output.Credentials);
}

function asCredentials(
  credentials: { AccessKeyId?: string; SecretAccessKey?: string; SessionToken?: string } | undefined,
): Credentials {
  assert.ok(credentials?.AccessKeyId && credentials.SecretAccessKey && credentials.SessionToken);
  return {
    accessKeyId: credentials.AccessKeyId,
    secretAccessKey: credentials.SecretAccessKey,
    sessionToken: credentials.SessionToken,
  };
}

async function assumeRole(server: StsServer, caller: Credentials, input: Partial<AssumeRoleCommandInput>) {
  const output = await sts(server, caller).send(
    new AssumeRoleCommand({ RoleArn: ROLES.readonly, RoleSessionName: "test-session", ...input }),
  );
  return { output, credentials: asCredentials(output.Credentials) };
}

test("totpCode reproduces the RFC 6238 SHA-1 test vectors", () => {
  const rfcSeed = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"; // base32 of "12345678901234567890"
  assert.equal(totpCode(rfcSeed, 59_000), "287082");
  assert.equal(totpCode(rfcSeed, 1_111_111_109_000), "081804");
  assert.equal(totpCode(rfcSeed, 1_234_567_890_000), "005924");
  assert.equal(totpCode(rfcSeed, 20_000_000_000_000), "353130");
  assert.match(randomBase32Seed(), /^[A-Z2-7]{64}$/);
});

test("SigV4 verification reproduces the AWS test suite's get-vanilla signatures", () => {
  const headers = {
    host: "example.amazonaws.com",
    "x-amz-date": "20150830T123600Z",
    authorization:
      "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=x",
  };
  const auth = parseAuthorization(headers);
  const secret = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
  const request = { method: "GET", rawPath: "/", rawQuery: "", headers, body: Buffer.alloc(0) };
  assert.equal(
    expectedSignature(request, auth, secret),
    "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
  );
  assert.equal(
    expectedSignature({ ...request, rawQuery: "Param2=value2&Param1=value1" }, auth, secret),
    "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500",
  );
});

test("GetSessionToken with a valid code issues credentials that work for GetCallerIdentity", async (t) => {
  const server = await serverFor(t);
  const before = server.now();
  const output = await sts(server, aliceKeys).send(
    new GetSessionTokenCommand({
      DurationSeconds: 7200,
      SerialNumber: ALICE_SERIAL,
      TokenCode: server.totp(ALICE_SEED),
    }),
  );
  const credentials = asCredentials(output.Credentials);
  assert.match(credentials.accessKeyId, /^ASIA[A-Z0-9]{16}$/);
  const expiresIn = (output.Credentials?.Expiration?.getTime() ?? 0) - before;
  assert.ok(Math.abs(expiresIn - 7200_000) < 5_000, `expires in ${expiresIn} ms`);

  const identity = await sts(server, credentials).send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
  assert.equal(identity.Account, ACCOUNT);
  assert.match(identity.UserId ?? "", /^AIDA[A-Z0-9]{17}$/);

  assert.deepEqual(server.accepted, { GetSessionToken: 1, GetCallerIdentity: 1 });
  assert.equal(server.issued.length, 1);
  assert.equal(server.issued[0]?.kind, "GetSessionToken");
  assert.equal(server.issued[0]?.mfaAuthenticated, true);
  assert.equal(server.issued[0]?.sessionToken, credentials.sessionToken);
});

test("SDK clients find the server through AWS_ENDPOINT_URL_STS and AWS_ENDPOINT_URL_IAM", async (t) => {
  const server = await serverFor(t);
  const saved = { sts: process.env.AWS_ENDPOINT_URL_STS, iam: process.env.AWS_ENDPOINT_URL_IAM };
  process.env.AWS_ENDPOINT_URL_STS = server.url;
  process.env.AWS_ENDPOINT_URL_IAM = server.url;
  t.after(() => {
    for (const [name, value] of [
      ["AWS_ENDPOINT_URL_STS", saved.sts],
      ["AWS_ENDPOINT_URL_IAM", saved.iam],
    ] as const) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const identity = await new STSClient({ region: "eu-central-1", credentials: aliceKeys }).send(
    new GetCallerIdentityCommand({}),
  );
  assert.equal(identity.Arn, ALICE_ARN);
  const devices = await new IAMClient({ region: "us-east-1", credentials: aliceKeys }).send(
    new ListMFADevicesCommand({}),
  );
  assert.equal(devices.MFADevices?.[0]?.SerialNumber, ALICE_SERIAL);
});

test("a reused MFA code is refused like AWS does and counted apart from wrong codes", async (t) => {
  const server = await serverFor(t);
  const client = sts(server, aliceKeys);
  const code = server.totp(ALICE_SEED);
  await client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: code }));
  await expectAwsError(
    client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: code })),
    {
      code: "AccessDenied",
      status: 403,
      message: INVALID_MFA,
    },
  );
  assert.equal(server.rejectedReuses, 1);

  const wrongCode = code === "000000" ? "111111" : "000000";
  await expectAwsError(
    client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: wrongCode })),
    { code: "AccessDenied", status: 403, message: INVALID_MFA },
  );
  assert.equal(server.rejectedReuses, 1, "a wrong code is not a reuse");

  const nextStepCode = server.totp(ALICE_SEED, server.now() + 30_000);
  await client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: nextStepCode }));
  assert.equal(server.calls.GetSessionToken, 4);
  assert.equal(server.accepted.GetSessionToken, 2);
});

test("a serial that is not the caller's device is refused with AWS's wording", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(
    sts(server, bobKeys).send(
      new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: server.totp(ALICE_SEED) }),
    ),
    {
      code: "AccessDenied",
      status: 403,
      message:
        "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.",
    },
  );
});

test("GetSessionToken validates DurationSeconds and TokenCode with ValidationError text", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(sts(server, aliceKeys).send(new GetSessionTokenCommand({ DurationSeconds: 899 })), {
    code: "ValidationError",
    status: 400,
    message:
      "1 validation error detected: Value '899' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900",
  });
  await expectAwsError(
    sts(server, aliceKeys).send(
      new GetSessionTokenCommand({ DurationSeconds: 129601, SerialNumber: ALICE_SERIAL, TokenCode: "12345" }),
    ),
    {
      code: "ValidationError",
      status: 400,
      message:
        "2 validation errors detected: Value '129601' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to 129600; Value '12345' at 'tokenCode' failed to satisfy constraint: Member must have length greater than or equal to 6",
    },
  );
});

test("session credentials cannot call GetSessionToken", async (t) => {
  const server = await serverFor(t);
  const session = await mfaSession(server);
  await expectAwsError(sts(server, session).send(new GetSessionTokenCommand({})), {
    code: "AccessDenied",
    status: 403,
    message: "Cannot call GetSessionToken with session credentials",
  });
});

test("a wrong secret is SignatureDoesNotMatch; unknown keys and bad tokens are InvalidClientTokenId", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(
    sts(server, { ...aliceKeys, secretAccessKey: "not-alice-secret" }).send(new GetCallerIdentityCommand({})),
    {
      code: "SignatureDoesNotMatch",
      status: 403,
      message: /^The request signature we calculated does not match/,
    },
  );
  const invalid = {
    code: "InvalidClientTokenId",
    status: 403,
    message: "The security token included in the request is invalid.",
  };
  await expectAwsError(
    sts(server, { accessKeyId: "AKIANOBODY0000000000", secretAccessKey: "x" }).send(
      new GetCallerIdentityCommand({}),
    ),
    invalid,
  );
  const session = await mfaSession(server);
  await expectAwsError(
    sts(server, { ...session, sessionToken: `${session.sessionToken}x` }).send(
      new GetCallerIdentityCommand({}),
    ),
    invalid,
  );
  await expectAwsError(
    sts(server, { ...aliceKeys, sessionToken: "stray-token" }).send(new GetCallerIdentityCommand({})),
    invalid,
  );
  assert.deepEqual(
    server.requests.filter((r) => !r.ok).map((r) => [r.action, r.accessKeyId, r.errorCode]),
    [
      ["GetCallerIdentity", ALICE.accessKeyId, "SignatureDoesNotMatch"],
      ["GetCallerIdentity", "AKIANOBODY0000000000", "InvalidClientTokenId"],
      ["GetCallerIdentity", session.accessKeyId, "InvalidClientTokenId"],
      ["GetCallerIdentity", ALICE.accessKeyId, "InvalidClientTokenId"],
    ],
  );
});

test("expired temporary credentials are ExpiredToken", async (t) => {
  const server = await serverFor(t, { expirationInPast: true });
  const output = await sts(server, aliceKeys).send(new GetSessionTokenCommand({}));
  assert.ok((output.Credentials?.Expiration?.getTime() ?? Infinity) < Date.now());
  await expectAwsError(
    sts(server, asCredentials(output.Credentials)).send(new GetCallerIdentityCommand({})),
    {
      code: "ExpiredToken",
      status: 403,
      message: "The security token included in the request is expired",
    },
  );
});

test("sessionDurationOverrideSeconds makes credentials expire early whatever was asked", async (t) => {
  const server = await serverFor(t, { sessionDurationOverrideSeconds: 1 });
  const output = await sts(server, aliceKeys).send(new GetSessionTokenCommand({ DurationSeconds: 3600 }));
  const credentials = asCredentials(output.Credentials);
  assert.ok((output.Credentials?.Expiration?.getTime() ?? 0) - server.now() <= 1_000);
  await new Promise((resolve) => setTimeout(resolve, 1_100));
  await expectAwsError(sts(server, credentials).send(new GetCallerIdentityCommand({})), {
    code: "ExpiredToken",
    status: 403,
  });
});

test("a request signed more than 5 minutes off the server clock is refused, and the SDK corrects its clock", async (t) => {
  const server = await serverFor(t, { clockOffsetMs: 20 * 60_000 });
  await expectAwsError(sts(server, aliceKeys).send(new GetCallerIdentityCommand({})), {
    code: "SignatureDoesNotMatch",
    status: 403,
    message: /^Signature expired: \d{8}T\d{6}Z is now earlier than \d{8}T\d{6}Z \(\d{8}T\d{6}Z - 5 min\.\)$/,
  });
  server.reset();
  server.setOption({ clockOffsetMs: -20 * 60_000 });
  const client = sts(server, aliceKeys, 2);
  const identity = await client.send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
  assert.deepEqual(
    server.requests.map((r) => r.errorCode ?? "ok"),
    ["SignatureDoesNotMatch", "ok"],
    "first attempt refused as not yet current, the retry signed with the server's Date",
  );
});

test("AssumeRole returns the assumed-role identity; GetCallerIdentity reports it", async (t) => {
  const server = await serverFor(t);
  const { output, credentials } = await assumeRole(server, aliceKeys, { RoleSessionName: "alice@laptop" });
  assert.equal(output.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice@laptop`);
  assert.match(output.AssumedRoleUser?.AssumedRoleId ?? "", /^AROA[A-Z0-9]{17}:alice@laptop$/);
  const identity = await sts(server, credentials).send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/readonly/alice@laptop`);
  assert.equal(identity.UserId, output.AssumedRoleUser?.AssumedRoleId);
  assert.equal(identity.Account, ACCOUNT);
});

test("AssumeRole checks RoleSessionName and the role's MaxSessionDuration", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(assumeRole(server, aliceKeys, { RoleSessionName: "a b" }), {
    code: "ValidationError",
    status: 400,
    message:
      "1 validation error detected: Value 'a b' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w+=,.@-]*",
  });
  await expectAwsError(assumeRole(server, aliceKeys, { RoleSessionName: "x" }), {
    code: "ValidationError",
    status: 400,
    message:
      "1 validation error detected: Value 'x' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2",
  });
  await expectAwsError(assumeRole(server, aliceKeys, { RoleArn: ROLES.aliceOnly, DurationSeconds: 3601 }), {
    code: "ValidationError",
    status: 400,
    message: "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
  });
  const { output } = await assumeRole(server, aliceKeys, { DurationSeconds: 43200 });
  const lifetime = (output.Credentials?.Expiration?.getTime() ?? 0) - server.now();
  assert.ok(lifetime > 43190_000 && lifetime <= 43200_000, `lifetime ${lifetime}`);
});

test("role chaining: a role session may not ask for more than an hour", async (t) => {
  const server = await serverFor(t);
  const { credentials: roleSession } = await assumeRole(server, aliceKeys, {});
  await expectAwsError(assumeRole(server, roleSession, { RoleArn: ROLES.aliceOnly, DurationSeconds: 3601 }), {
    code: "ValidationError",
    status: 400,
    message:
      "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
  });
  const { output } = await assumeRole(server, roleSession, {
    RoleArn: ROLES.readonly,
    DurationSeconds: 3600,
  });
  assert.equal(output.AssumedRoleUser?.Arn, `arn:aws:sts::${ACCOUNT}:assumed-role/readonly/test-session`);
});

test("AssumeRole refuses callers the role does not trust, and wants its ExternalId", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(assumeRole(server, bobKeys, { RoleArn: ROLES.aliceOnly }), {
    code: "AccessDenied",
    status: 403,
    message: `User: arn:aws:iam::${ACCOUNT}:user/bob is not authorized to perform: sts:AssumeRole on resource: ${ROLES.aliceOnly}`,
  });
  await expectAwsError(assumeRole(server, bobKeys, { RoleArn: `arn:aws:iam::${ACCOUNT}:role/nope` }), {
    code: "AccessDenied",
    status: 403,
  });
  await expectAwsError(assumeRole(server, bobKeys, { RoleArn: ROLES.partner, ExternalId: "wrong-id" }), {
    code: "AccessDenied",
    status: 403,
  });
  const { output } = await assumeRole(server, bobKeys, {
    RoleArn: ROLES.partner,
    ExternalId: "partner-ext-id",
  });
  assert.equal(
    output.AssumedRoleUser?.Arn,
    `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/partner/test-session`,
  );
});

test("a role that requires MFA takes an MFA session or a code passed to AssumeRole", async (t) => {
  const server = await serverFor(t);
  await expectAwsError(assumeRole(server, aliceKeys, { RoleArn: ROLES.admin }), {
    code: "AccessDenied",
    status: 403,
    message: `User: arn:aws:iam::${ACCOUNT}:user/alice is not authorized to perform: sts:AssumeRole on resource: ${ROLES.admin}`,
  });
  const plainSession = asCredentials(
    (await sts(server, aliceKeys).send(new GetSessionTokenCommand({}))).Credentials,
  );
  await expectAwsError(assumeRole(server, plainSession, { RoleArn: ROLES.admin }), {
    code: "AccessDenied",
    status: 403,
  });

  const session = await mfaSession(server);
  const viaSession = await assumeRole(server, session, { RoleArn: ROLES.admin, DurationSeconds: 7200 });
  assert.equal(
    viaSession.output.AssumedRoleUser?.Arn,
    `arn:aws:sts::${OTHER_ACCOUNT}:assumed-role/admin/test-session`,
  );

  const withCode = await assumeRole(server, aliceKeys, {
    RoleArn: ROLES.admin,
    SerialNumber: ALICE_SERIAL,
    TokenCode: server.totp(ALICE_SEED, server.now() + 30_000),
  });
  assert.equal(server.issued.at(-1)?.mfaAuthenticated, true);
  assert.equal(server.issued.at(-1)?.accessKeyId, withCode.credentials.accessKeyId);
});

test("injected failures fail the first N matching calls; the SDK retries 5xx", async (t) => {
  const server = await serverFor(t, {
    failures: [{ action: "GetCallerIdentity", count: 2, status: 503, code: "ServiceUnavailable" }],
  });
  const identity = await sts(server, aliceKeys, 3).send(new GetCallerIdentityCommand({}));
  assert.equal(identity.Account, ACCOUNT);
  assert.equal(server.calls.GetCallerIdentity, 3);
  assert.equal(server.accepted.GetCallerIdentity, 1);

  server.setOption({ failures: [{ count: 1, status: 400, code: "Throttling", message: "Rate exceeded" }] });
  await expectAwsError(sts(server, aliceKeys).send(new GetCallerIdentityCommand({})), {
    code: "Throttling",
    status: 400,
    message: "Rate exceeded",
  });
  await sts(server, aliceKeys).send(new GetCallerIdentityCommand({}));
});

test("an injected failure of GetSessionToken does not spend the MFA code", async (t) => {
  const server = await serverFor(t, {
    failures: [{ action: "GetSessionToken", count: 1, status: 500, code: "InternalFailure" }],
  });
  const code = server.totp(ALICE_SEED);
  const client = sts(server, aliceKeys);
  await expectAwsError(
    client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: code })),
    {
      code: "InternalFailure",
      status: 500,
    },
  );
  await client.send(new GetSessionTokenCommand({ SerialNumber: ALICE_SERIAL, TokenCode: code }));
});

test("latencyMs delays every answer; `arrived` counts a call while it is delayed, `calls` once answered", async (t) => {
  const server = await serverFor(t, { latencyMs: 300 });
  const started = performance.now();
  const call = sts(server, aliceKeys).send(new GetCallerIdentityCommand({}));
  while (!server.arrived.GetCallerIdentity) await new Promise((resolve) => setTimeout(resolve, 5));
  assert.equal(server.calls.GetCallerIdentity, undefined);
  await call;
  assert.ok(performance.now() - started >= 290);
  assert.deepEqual([server.arrived.GetCallerIdentity, server.calls.GetCallerIdentity], [1, 1]);
});

test("malformed answers make the SDK call fail with a parse error on a 200, not yield credentials", async (t) => {
  const server = await serverFor(t, { malformed: "truncated" });
  const parseFailure = (error: AwsErrorShape) =>
    /^@aws-sdk XML parse error/.test(error.message) && error.$metadata?.httpStatusCode === 200;
  await assert.rejects(sts(server, aliceKeys).send(new GetSessionTokenCommand({})), parseFailure);
  server.setOption({ malformed: "garbage" });
  await assert.rejects(sts(server, aliceKeys).send(new GetSessionTokenCommand({})), parseFailure);
  assert.equal(
    server.accepted.GetSessionToken,
    2,
    "the server did issue both times; only the answer was broken",
  );
});

test("ListMFADevices and GetUser answer for the caller, or for UserName", async (t) => {
  const server = await serverFor(t);
  const devices = await iam(server, aliceKeys).send(new ListMFADevicesCommand({}));
  assert.deepEqual(
    devices.MFADevices?.map((d) => [d.UserName, d.SerialNumber]),
    [["alice", ALICE_SERIAL]],
  );
  assert.equal(devices.IsTruncated, false);
  const bobDevices = await iam(server, aliceKeys).send(new ListMFADevicesCommand({ UserName: "bob" }));
  assert.deepEqual(bobDevices.MFADevices, []);
  const missing = await expectAwsError(
    iam(server, aliceKeys).send(new ListMFADevicesCommand({ UserName: "carol" })),
    {
      code: "NoSuchEntity",
      status: 404,
      message: "The user with name carol cannot be found.",
    },
  );
  assert.equal(missing.name, "NoSuchEntityException", "the SDK names modeled IAM errors after their shape");
  const user = await iam(server, bobKeys).send(new GetUserCommand({}));
  assert.equal(user.User?.Arn, `arn:aws:iam::${ACCOUNT}:user/bob`);
  assert.equal(user.User?.UserName, "bob");
});

test("IAM refuses GetSessionToken credentials made without MFA, accepts those made with it", async (t) => {
  const server = await serverFor(t);
  const plain = asCredentials(
    (await sts(server, aliceKeys).send(new GetSessionTokenCommand({}))).Credentials,
  );
  await expectAwsError(iam(server, plain).send(new ListMFADevicesCommand({})), {
    code: "InvalidClientTokenId",
    status: 403,
  });
  const withMfa = await mfaSession(server);
  const devices = await iam(server, withMfa).send(new ListMFADevicesCommand({}));
  assert.equal(devices.MFADevices?.length, 1);

  const { credentials: roleSession } = await assumeRole(server, aliceKeys, {});
  await expectAwsError(iam(server, roleSession).send(new GetUserCommand({})), {
    code: "ValidationError",
    status: 400,
    message: "Must specify userName when calling with non-User credentials",
  });
});

test("access keys can be created, deactivated and deleted, within the two-key quota", async (t) => {
  const server = await serverFor(t);
  const created = await iam(server, aliceKeys).send(new CreateAccessKeyCommand({}));
  const newKeys = {
    accessKeyId: created.AccessKey?.AccessKeyId ?? "",
    secretAccessKey: created.AccessKey?.SecretAccessKey ?? "",
  };
  assert.match(newKeys.accessKeyId, /^AKIA[A-Z0-9]{16}$/);
  assert.equal((await sts(server, newKeys).send(new GetCallerIdentityCommand({}))).Arn, ALICE_ARN);
  await expectAwsError(iam(server, aliceKeys).send(new CreateAccessKeyCommand({})), {
    code: "LimitExceeded",
    status: 409,
    message: "Cannot exceed quota for AccessKeysPerUser: 2",
  });

  await iam(server, newKeys).send(
    new UpdateAccessKeyCommand({ AccessKeyId: ALICE.accessKeyId, Status: "Inactive" }),
  );
  const listed = await iam(server, newKeys).send(new ListAccessKeysCommand({}));
  assert.deepEqual(
    listed.AccessKeyMetadata?.map((k) => [k.AccessKeyId, k.Status]),
    [
      [ALICE.accessKeyId, "Inactive"],
      [newKeys.accessKeyId, "Active"],
    ],
  );
  await expectAwsError(sts(server, aliceKeys).send(new GetCallerIdentityCommand({})), {
    code: "InvalidClientTokenId",
    status: 403,
  });

  await iam(server, newKeys).send(new DeleteAccessKeyCommand({ AccessKeyId: ALICE.accessKeyId }));
  await expectAwsError(
    iam(server, newKeys).send(new DeleteAccessKeyCommand({ AccessKeyId: ALICE.accessKeyId })),
    {
      code: "NoSuchEntity",
      status: 404,
      message: `The Access Key with id ${ALICE.accessKeyId} cannot be found.`,
    },
  );
  server.reset();
  assert.equal((await sts(server, aliceKeys).send(new GetCallerIdentityCommand({}))).Arn, ALICE_ARN);
});

test("a Query request sent as GET with a query string is verified and answered", async (t) => {
  const server = await serverFor(t);
  const amzDate = formatAmzDate(server.now());
  const host = new URL(server.url).host;
  const rawQuery = "Action=GetCallerIdentity&Version=2011-06-15";
  const scope = `${amzDate.slice(0, 8)}/eu-west-3/sts/aws4_request`;
  const headers = {
    host,
    "x-amz-date": amzDate,
    authorization: `AWS4-HMAC-SHA256 Credential=${BOB.accessKeyId}/${scope}, SignedHeaders=host;x-amz-date, Signature=pending`,
  };
  const auth = parseAuthorization(headers);
  const signature = expectedSignature(
    { method: "GET", rawPath: "/", rawQuery, headers, body: Buffer.alloc(0) },
    auth,
    BOB.secretAccessKey,
  );
  const response = await fetch(`${server.url}/?${rawQuery}`, {
    headers: { ...headers, authorization: headers.authorization.replace("pending", signature) },
  });
  const body = await response.text();
  assert.equal(response.status, 200, body);
  assert.match(body, /^<GetCallerIdentityResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">/);
  assert.match(body, /<Arn>arn:aws:iam::111122223333:user\/bob<\/Arn>/);
  assert.match(response.headers.get("x-amzn-requestid") ?? "", /^[0-9a-f-]{36}$/);
});

test("errors come back as AWS's ErrorResponse XML, and non-Query protocols are refused", async (t) => {
  const server = await serverFor(t);
  const response = await fetch(server.url, {
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: "Action=GetCallerIdentity&Version=2011-06-15",
  });
  assert.equal(response.status, 403);
  assert.match(
    await response.text(),
    /^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/">\n {2}<Error>\n {4}<Type>Sender<\/Type>\n {4}<Code>MissingAuthenticationToken<\/Code>\n {4}<Message>Request is missing Authentication Token<\/Message>\n {2}<\/Error>\n {2}<RequestId>[0-9a-f-]{36}<\/RequestId>\n<\/ErrorResponse>\n$/,
  );
  const json = await fetch(server.url, {
    method: "POST",
    headers: {
      "content-type": "application/x-amz-json-1.0",
      "x-amz-target": "AWSSecurityTokenServiceV20110615.GetCallerIdentity",
    },
    body: "{}",
  });
  assert.equal(json.status, 400);
  assert.match(await json.text(), /<Code>UnsupportedProtocol<\/Code>/);
});

test("the federation endpoint gives a SigninToken for role sessions only", async (t) => {
  const server = await serverFor(t);
  const signin = (credentials: Credentials, duration?: number) => {
    const query = new URLSearchParams({
      Action: "getSigninToken",
      ...(duration === undefined ? {} : { SessionDuration: String(duration) }),
      Session: JSON.stringify({
        sessionId: credentials.accessKeyId,
        sessionKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      }),
    });
    return fetch(`${server.url}/federation?${query}`);
  };
  const { credentials: roleSession } = await assumeRole(server, aliceKeys, {});
  const granted = await signin(roleSession, 3600);
  assert.equal(granted.status, 200);
  const { SigninToken } = (await granted.json()) as { SigninToken: string };
  assert.deepEqual(server.signinTokens, [
    { signinToken: SigninToken, accessKeyId: roleSession.accessKeyId, sessionDuration: 3600 },
  ]);

  assert.equal((await signin({ ...roleSession, secretAccessKey: "wrong" })).status, 400);
  assert.equal((await signin(roleSession, 60)).status, 400);
  assert.equal((await signin(await mfaSession(server))).status, 400);
  assert.equal(server.calls.getSigninToken, 4);
  assert.equal(server.accepted.getSigninToken, 1);
});

test("the aws CLI v1 works against the server through AWS_ENDPOINT_URL_STS", async (t) => {
  if (!awsCliAvailable()) return t.skip(AWS_CLI_SKIP_REASON);
  const server = await serverFor(t);
  const isolated = await createIsolatedEnv({
    endpointUrl: server.url,
    config: "[default]\nregion = us-east-1\n",
    credentials: `[default]\naws_access_key_id = ${ALICE.accessKeyId}\naws_secret_access_key = ${ALICE.secretAccessKey}\n`,
    vars: { AWS_ENDPOINT_URL: "http://127.0.0.1:9" },
  });
  t.after(() => isolated.cleanup());
  const aws = async (args: string[], extraEnv: Record<string, string> = {}) => {
    const { stdout } = await runFile("aws", [...args, "--output", "json"], {
      env: { ...isolated.env, ...extraEnv },
    });
    return JSON.parse(stdout) as Record<string, unknown>;
  };

  assert.deepEqual(await aws(["sts", "get-caller-identity"]), {
    UserId: (await sts(server, aliceKeys).send(new GetCallerIdentityCommand({}))).UserId,
    Account: ACCOUNT,
    Arn: ALICE_ARN,
  });

  const issued = (await aws([
    "sts",
    "get-session-token",
    "--serial-number",
    ALICE_SERIAL,
    "--token-code",
    server.totp(ALICE_SEED),
  ])) as { Credentials: { AccessKeyId: string; SecretAccessKey: string; SessionToken: string } };
  const sessionEnv = {
    AWS_ACCESS_KEY_ID: issued.Credentials.AccessKeyId,
    AWS_SECRET_ACCESS_KEY: issued.Credentials.SecretAccessKey,
    AWS_SESSION_TOKEN: issued.Credentials.SessionToken,
  };
  const devices = (await aws(["iam", "list-mfa-devices"], sessionEnv)) as {
    MFADevices: Array<{ SerialNumber: string }>;
  };
  assert.deepEqual(
    devices.MFADevices.map((d) => d.SerialNumber),
    [ALICE_SERIAL],
  );
  assert.equal(server.accepted.GetSessionToken, 1);
  assert.equal(server.accepted.ListMFADevices, 1);
});
