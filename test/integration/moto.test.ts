// moto_server as a second, independent implementation of the STS and IAM wire protocol: its own
// request parsing and its own XML, so awsmfa's requests and its reading of the answers are not
// checked only against the project's own server.
//
// What moto 5 actually checks, and so what these tests can rely on (see moto/sts, moto/iam):
// - no authentication: signatures and access keys are not verified (any key is accepted);
// - GetSessionToken ignores SerialNumber and TokenCode (any code passes) and always returns the
//   same example credentials (AKIAIOSFODNN7EXAMPLE…), expiring DurationSeconds from now;
// - AssumeRole does not need the role to exist, returns fresh credentials expiring DurationSeconds
//   (default 3600) from now, and remembers them: GetCallerIdentity with them answers
//   arn:aws:sts::<account>:assumed-role/<role name>/<RoleSessionName>;
// - GetCallerIdentity with an IAM user's access key answers that user's ARN, and with a key it
//   does not know answers arn:aws:sts::<account>:user/moto;
// - ListMFADevices needs UserName: without it moto answers NoSuchEntity ("The user with name None
//   cannot be found."), where real IAM answers for the calling user.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, type TestContext, test } from "node:test";
import { CreateRoleCommand } from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, GetSessionTokenCommand, STSClient } from "@aws-sdk/client-sts";
import { cacheEntryFiles, createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { MOTO_SKIP_REASON, type MotoServer, startMoto } from "../support/moto";
import { createMfaUser, motoIam } from "../support/moto-iam";
import { type ProcessCredentials, processCredentials, runAwsmfa } from "../support/run-awsmfa";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const MOTO_ACCOUNT = "123456789012";
/** moto takes any code; awsmfa still wants six digits. */
const ANY_CODE = "123456";

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

let moto: MotoServer | undefined;
let alice: Keys;
let serial: string;
let roleArn: string;
const homes: IsolatedEnv[] = [];

function client<T>(make: new (config: object) => T, keys: Keys): T {
  return new make({ region: "us-east-1", endpoint: moto?.url, credentials: keys, maxAttempts: 1 });
}

before(async () => {
  moto = await startMoto();
  if (!moto) return;
  const admin = motoIam(moto.url);
  try {
    ({ keys: alice, serial } = await createMfaUser(admin, "alice"));
    const role = await admin.send(
      new CreateRoleCommand({
        RoleName: "Admin",
        AssumeRolePolicyDocument: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { AWS: `arn:aws:iam::${MOTO_ACCOUNT}:user/alice` },
              Action: "sts:AssumeRole",
              Condition: { Bool: { "aws:MultiFactorAuthPresent": "true" } },
            },
          ],
        }),
      }),
    );
    assert.ok(role.Role?.Arn);
    roleArn = role.Role.Arn;
  } finally {
    admin.destroy();
  }
});
after(async () => {
  for (const home of homes) await home.cleanup();
  await moto?.close();
});

function credentialsFile(): string {
  return `[alice]
aws_access_key_id = ${alice.accessKeyId}
aws_secret_access_key = ${alice.secretAccessKey}
`;
}

async function motoHome(config: string): Promise<IsolatedEnv> {
  const home = await createIsolatedEnv({
    endpointUrl: moto?.url ?? "",
    config,
    credentials: credentialsFile(),
  });
  homes.push(home);
  return home;
}

async function credentialProcess(home: IsolatedEnv, profile: string): Promise<ProcessCredentials> {
  return processCredentials(await runAwsmfa(["credential-process", "-p", profile], { env: home.env }));
}

/** Seconds from now to `expiration`, which moto sets to DurationSeconds after the call. */
function secondsLeft(expiration: string): number {
  return (Date.parse(expiration) - Date.now()) / 1000;
}

function assertAbout(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) < 120, `${what}: ${actual} s, expected about ${expected} s`);
}

function skipWithoutMoto(t: TestContext): boolean {
  if (moto) return false;
  t.skip(MOTO_SKIP_REASON);
  return true;
}

describe("moto_server: an independent STS and IAM", () => {
  test("login with mfa_serial: moto's session, with the asked duration, is what credential-process hands out", async (t) => {
    if (skipWithoutMoto(t)) return;
    const home = await motoHome(`[profile alice]\nmfa_serial = ${serial}\nregion = us-east-1\n`);
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", ANY_CODE, "--duration", "7200"], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, "");
    assert.match(login.stderr, /Logged in: profile 'alice' as arn:aws:/);
    assert.equal(cacheEntryFiles(home).length, 1);

    const json = await credentialProcess(home, "alice");
    // moto hands every GetSessionToken the same credentials: ask it directly and compare.
    const sts = client(STSClient, alice);
    try {
      const direct = (
        await sts.send(new GetSessionTokenCommand({ SerialNumber: serial, TokenCode: ANY_CODE }))
      ).Credentials;
      assert.equal(json.AccessKeyId, direct?.AccessKeyId);
      assert.equal(json.SecretAccessKey, direct?.SecretAccessKey);
      assert.equal(json.SessionToken, direct?.SessionToken);
    } finally {
      sts.destroy();
    }
    assertAbout(secondsLeft(json.Expiration), 7200, "--duration reached moto as DurationSeconds");

    // From the cache: the same answer again.
    const again = await credentialProcess(home, "alice");
    assert.deepEqual(again, json);
  });

  test("a role profile: awsmfa's AssumeRole reaches moto with the role, session name and duration", async (t) => {
    if (skipWithoutMoto(t)) return;
    const home = await motoHome(
      `[profile alice]\nmfa_serial = ${serial}\n\n[profile admin]\nrole_arn = ${roleArn}\nsource_profile = alice\nduration_seconds = 1800\n`,
    );
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", ANY_CODE], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(cacheEntryFiles(home).length, 2, "the MFA session and the role");

    const json = await credentialProcess(home, "admin");
    assert.match(json.AccessKeyId, /^ASIA/);
    assertAbout(secondsLeft(json.Expiration), 1800, "duration_seconds reached moto");
    // moto remembers the role sessions it issued: their key tells who they are.
    const sts = client(STSClient, {
      accessKeyId: json.AccessKeyId,
      secretAccessKey: json.SecretAccessKey,
    });
    try {
      const identity = await sts.send(new GetCallerIdentityCommand({}));
      assert.match(
        identity.Arn ?? "",
        new RegExp(`^arn:aws:sts::${MOTO_ACCOUNT}:assumed-role/Admin/awsmfa-[\\w+=,.@-]+$`),
      );
    } finally {
      sts.destroy();
    }

    const session = await credentialProcess(home, "alice");
    assert.notEqual(session.AccessKeyId, json.AccessKeyId, "alice gets the MFA session below the role");
    assertAbout(secondsLeft(session.Expiration), 43200, "the default MFA session of 12 hours");
  });

  test("a profile without mfa_serial: awsmfa finds the device through IAM and records it in the config file", async (t) => {
    if (skipWithoutMoto(t)) return;
    const config = `# alice's settings
[profile alice]
region = us-east-1   ; kept as written

[profile other]
output = json
`;
    const home = await motoHome(config);
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", ANY_CODE], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stderr, new RegExp(`Found MFA device ${serial.replace(/[/]/g, "\\/")}`));
    const after = readFileSync(home.configPath, "utf8");
    const line = `mfa_serial = ${serial}\n`;
    const section = after.slice(after.indexOf("[profile alice]"), after.indexOf("[profile other]"));
    assert.ok(section.includes(line), `mfa_serial recorded in [profile alice]:\n${after}`);
    assert.equal(after.replace(line, ""), config, "every other byte of the file is kept");

    const json = await credentialProcess(home, "alice");
    assert.ok(json.SessionToken.length > 0);
  });
});
