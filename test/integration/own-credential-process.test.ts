// The README's main-job config, as a user ends up using it: AWS_PROFILE=dev-cli, whose
// credential_process is awsmfa itself, then awsmfa exec/env/credential-process with that profile.
// awsmfa follows its own credential_process to the profile it names instead of refusing it.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { AWSMFA_COMMAND, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import { useStsWorld } from "../support/sts-world";

const SEED = randomBase32Seed();
const SERIAL = "arn:aws:iam::111111111111:mfa/alice";
const ROLE = "arn:aws:iam::222222222222:role/Admin";
const KEYS = { accessKeyId: "AKIAALICEEXAMPLE0001", secretAccessKey: "alice/secret/key/EXAMPLE+0001" };

/** The README's three profiles, with a region on the role profile. */
function readmeConfig(devCliExtra = ""): string {
  return `[profile dev]                 # your IAM user: keys in ~/.aws/credentials
mfa_serial = ${SERIAL}

[profile dev-admin]           # a role in another account, on top of the same MFA session
role_arn = ${ROLE}
source_profile = dev
region = eu-central-1

[profile dev-cli]             # what the aws CLI, terraform and the SDKs use
credential_process = awsmfa credential-process -p dev-admin
${devCliExtra}`;
}

const CREDENTIALS = `[dev]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const PRINT = "process.stdout.write(JSON.stringify([process.env.AWS_ACCESS_KEY_ID, process.env.AWS_REGION]))";

const sts = useStsWorld({
  start: {
    accountId: "111111111111",
    users: [{ userName: "alice", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    roles: [{ arn: ROLE, requireMfa: true }],
  },
  credentials: CREDENTIALS,
});

/** This test's home with `config`, logged in as dev; the environment to run awsmfa in. */
async function world(config: string): Promise<NodeJS.ProcessEnv> {
  writeFileSync(sts.home.configPath, config, { mode: 0o600 });
  const env = { ...sts.home.env, AWS_REGION: "" };
  const login = await runAwsmfa(["login", "-p", "dev", "--token-code", sts.server.totp(SEED)], { env });
  assert.equal(login.status, 0, login.stderr);
  return env;
}

describe("AWS_PROFILE=dev-cli (credential_process = awsmfa credential-process -p dev-admin)", () => {
  test("exec runs with dev-admin's role credentials and region, on the MFA session of login -p dev", async () => {
    const env = { ...(await world(readmeConfig())), AWS_PROFILE: "dev-cli" };
    const exec = await runAwsmfa(["exec", "--", process.execPath, "-e", PRINT], { env });
    assert.equal(exec.status, 0, exec.stderr);
    const [keyId, region] = JSON.parse(exec.stdout) as [string, string];
    const issued = sts.server.issued.find((credentials) => credentials.accessKeyId === keyId);
    assert.equal(issued?.kind, "AssumeRole");
    assert.equal(issued?.roleArn, ROLE);
    assert.equal(region, "eu-central-1", "dev-admin's region, dev-cli naming none");
    assert.equal(sts.server.calls.GetSessionToken, 1, "the session of login -p dev, no new code");

    const cp = await runAwsmfa(["credential-process"], { env });
    assert.equal(cp.status, 0, cp.stderr);
    assert.equal(JSON.parse(cp.stdout).AccessKeyId, keyId, "the same cached role credentials");
    const direct = await runAwsmfa(["credential-process", "-p", "dev-admin"], { env });
    assert.equal(JSON.parse(direct.stdout).AccessKeyId, keyId, "shared with dev-admin itself");
    assert.equal(sts.server.accepted.AssumeRole, 1);
  });

  test("the selected profile's own region wins", async () => {
    const env = { ...(await world(readmeConfig("region = us-west-2\n"))), AWS_PROFILE: "dev-cli" };
    const exec = await runAwsmfa(["exec", "--", process.execPath, "-e", PRINT], { env });
    assert.equal(exec.status, 0, exec.stderr);
    assert.equal((JSON.parse(exec.stdout) as string[])[1], "us-west-2");
  });

  test("a real loop through awsmfa's credential_process is still refused, naming the way round", async () => {
    const env = await world(
      `${readmeConfig()}\n[profile loop-a]\ncredential_process = awsmfa credential-process -p loop-b\n\n` +
        "[profile loop-b]\ncredential_process = awsmfa credential-process --profile=loop-a\n",
    );
    const exec = await runAwsmfa(["exec", "-p", "loop-a", "--", "true"], { env });
    assert.equal(exec.status, 3, exec.stderr);
    assert.match(exec.stderr, /'loop-a' leads back into awsmfa itself: loop-a → loop-b → loop-a/);
  });

  test("awsmfa's credential_process without a profile cannot be followed: it says to name one", async () => {
    const env = await world(
      `${readmeConfig()}\n[profile bare]\ncredential_process = awsmfa credential-process\n`,
    );
    const exec = await runAwsmfa(["exec", "-p", "bare", "--", "true"], { env });
    assert.equal(exec.status, 3, exec.stderr);
    assert.match(exec.stderr, /'bare' gets its credentials from awsmfa .* without naming a profile/);
    assert.match(exec.stderr, /credential_process = awsmfa credential-process -p <that profile>/);
  });

  test("a code source that calls awsmfa for the profile being resolved is refused there, not answered from the cache", async () => {
    const innerErrors = join(sts.home.home, "inner-errors.txt");
    const env = await world(
      readmeConfig().replace(
        `mfa_serial = ${SERIAL}\n`,
        `mfa_serial = ${SERIAL}\nmfa_process = ${AWSMFA_COMMAND} credential-process -p dev 2>"${innerErrors}"\n`,
      ),
    );
    // dev's session is cached by world(): only the mark of dev being resolved stops the inner call.
    const login = await runAwsmfa(["login", "-p", "dev", "--force"], { env });
    assert.notEqual(login.status, 0, "the code source printed no code");
    assert.match(readFileSync(innerErrors, "utf8"), /'dev' leads back into awsmfa itself \(a code source/);
    assert.equal(sts.server.calls.GetSessionToken, 1, "only world()'s login reached AWS");
  });
});
