// The real aws CLI (v1: botocore) driving awsmfa the way users set it up: `credential_process`
// in ~/.aws/config, and `eval "$(awsmfa env …)"` in bash. The strict STS server checks every
// signature, so "the server saw GetCallerIdentity signed with the session's key" means the aws
// CLI really used what awsmfa handed it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";
import { cacheEntryFiles } from "../support/env";
import { AWS_CLI_SKIP_REASON, awsCliAvailable } from "../support/moto";
import { type RunResult, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import {
  ACCOUNT,
  assertCallerIdentityLast,
  assumeRoleRequest,
  codeRuns,
  describeRequests,
  issuedBy,
  KEYS,
  lastRequest,
  only,
  ROLE,
  ROLE_SESSION_ARN,
  requestsSince,
  SERIAL,
  USER_ARN,
  useE2eWorld,
} from "./profiles";

// Checked when the file loads: under CI=true a missing aws CLI throws here and fails the suite.
const skip = awsCliAvailable() ? false : AWS_CLI_SKIP_REASON;

const world = useE2eWorld(!skip);
const freshHome = world.freshHome;

function aws(args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return runProcess("aws", [...args, "--output", "json"], { env, timeoutMs: 60_000 });
}

describe("the aws CLI with credential_process = awsmfa credential-process", { skip }, () => {
  test("get-caller-identity is signed with the MFA session's key; a second call reuses it", async () => {
    const home = await freshHome();
    const first = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa"], home.env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).Arn, USER_ARN);

    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    assert.match(session.accessKeyId, /^ASIA/);
    assert.equal(session.mfaAuthenticated, true);
    assertCallerIdentityLast(world.server, session.accessKeyId);
    assert.equal(codeRuns(home), 1, "mfa_process ran once");
    assert.equal(cacheEntryFiles(home).length, 1, "the MFA session is cached");

    const seen = world.server.requests.length;
    const second = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa"], home.env);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(
      requestsSince(world.server, seen),
      [["GetCallerIdentity", session.accessKeyId]],
      `only the aws CLI's own call, with the cached session: ${describeRequests(world.server.requests.slice(seen))}`,
    );
    assert.equal(world.server.calls.GetSessionToken, 1, "no new GetSessionToken");
    assert.equal(codeRuns(home), 1, "no new code");
  });

  test("a role profile: the call is signed with the role session's key, assumed on the MFA session", async () => {
    const home = await freshHome();
    const first = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa-deploy"], home.env);
    assert.equal(first.status, 0, first.stderr);
    assert.equal(JSON.parse(first.stdout).Arn, ROLE_SESSION_ARN);

    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    const role = only(issuedBy(world.server, "AssumeRole"), "role session");
    assert.match(role.accessKeyId, /^ASIA/);
    assert.equal(role.roleArn, ROLE);
    assert.equal(role.mfaAuthenticated, true);
    const assumeRole = assumeRoleRequest(world.server);
    assert.equal(assumeRole.accessKeyId, session.accessKeyId, "the role was assumed with the MFA session");
    assertCallerIdentityLast(world.server, role.accessKeyId);
    assert.equal(codeRuns(home), 1);

    const seen = world.server.requests.length;
    const second = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa-deploy"], home.env);
    assert.equal(second.status, 0, second.stderr);
    assert.deepEqual(
      requestsSince(world.server, seen),
      [["GetCallerIdentity", role.accessKeyId]],
      describeRequests(world.server.requests.slice(seen)),
    );
    assert.equal(world.server.calls.GetSessionToken, 1);
    assert.equal(world.server.calls.AssumeRole, 1);

    // The user profile reuses the MFA session below the role: still one code.
    const user = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa"], home.env);
    assert.equal(user.status, 0, user.stderr);
    assert.equal(lastRequest(world.server).accessKeyId, session.accessKeyId);
    assert.equal(world.server.calls.GetSessionToken, 1);
    assert.equal(codeRuns(home), 1);
  });

  test("the aws CLI assumes a role itself with source_profile = the awsmfa profile", async () => {
    const home = await freshHome();
    const first = await aws(["sts", "get-caller-identity", "--profile", "cli-deploy"], home.env);
    assert.equal(first.status, 0, first.stderr);
    assert.match(JSON.parse(first.stdout).Arn, new RegExp(`^arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/`));

    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    const role = only(issuedBy(world.server, "AssumeRole"), "role session");
    assert.equal(role.mfaAuthenticated, true, "MFA carried from awsmfa's session to the aws CLI's role");
    const assumeRole = assumeRoleRequest(world.server);
    assert.equal(
      assumeRole.accessKeyId,
      session.accessKeyId,
      "the aws CLI signed AssumeRole with the session",
    );
    assert.equal(lastRequest(world.server).accessKeyId, role.accessKeyId);

    const second = await aws(["sts", "get-caller-identity", "--profile", "cli-deploy"], home.env);
    assert.equal(second.status, 0, second.stderr);
    assert.equal(world.server.calls.GetSessionToken, 1, "no new GetSessionToken");
    assert.equal(codeRuns(home), 1);
  });

  for (const [profile, named] of [
    ["via-awsmfa", "carol"],
    ["via-awsmfa-deploy", "deploy"],
  ] as const) {
    test(`a wrong code (--profile ${profile}): the aws CLI fails showing awsmfa's message naming '${named}'; nothing is cached`, async () => {
      // A fresh HOME each time: after a rejected code awsmfa waits for the next TOTP step.
      const home = await freshHome({ seed: randomBase32Seed() });
      const result = await aws(["sts", "get-caller-identity", "--profile", profile], home.env);
      assert.notEqual(result.status, 0);
      assert.equal(result.stdout, "");
      // botocore puts the process's stderr into its error: the user sees awsmfa's own words.
      assert.match(
        result.stderr,
        new RegExp(
          `Error when retrieving credentials from custom-process: awsmfa: AWS rejected the MFA code for profile '${named}'`,
        ),
      );
      // awsmfa's hint, on the line after its message, reaches the user as well.
      assert.match(result.stderr, /AWS rejected the MFA code for profile '[^']+'[^\n]*\n {2}\S/);
      assert.equal(codeRuns(home), 1, "a code from mfa_process is not retried");
      assert.equal(world.server.calls.GetSessionToken, 1);
      assert.equal(world.server.accepted.GetSessionToken, undefined);
      assert.equal(world.server.calls.AssumeRole, undefined);
      assert.deepEqual(
        world.server.requests.filter((r) => r.accessKeyId !== KEYS.accessKeyId),
        [],
        "the aws CLI made no call: it had no credentials",
      );
      assert.deepEqual(cacheEntryFiles(home), []);
    });
  }

  test("a profile without mfa_serial: awsmfa finds the device, records it, and the aws CLI call works", async () => {
    const home = await freshHome({ mfaSerial: false });
    const before = readFileSync(home.configPath, "utf8");
    const result = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa"], home.env);
    assert.equal(result.status, 0, result.stderr);
    assert.equal(JSON.parse(result.stdout).Arn, USER_ARN);
    assert.deepEqual(
      world.server.requests.filter((r) => r.action === "ListMFADevices").map((r) => [r.accessKeyId, r.ok]),
      [[KEYS.accessKeyId, true]],
      "one IAM lookup, with the user's own keys",
    );

    const after = readFileSync(home.configPath, "utf8");
    const added = after.split("\n").filter((line) => !before.split("\n").includes(line));
    assert.deepEqual(added, [`mfa_serial = ${SERIAL}`], `exactly one line added:\n${after}`);
    const carol = after.slice(after.indexOf("[profile carol]"), after.indexOf("[profile deploy]"));
    assert.ok(carol.includes(`mfa_serial = ${SERIAL}\n`), `mfa_serial went into [profile carol]:\n${after}`);
    assert.equal(after.replace(`mfa_serial = ${SERIAL}\n`, ""), before, "every other byte is kept");
    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    assert.equal(lastRequest(world.server).accessKeyId, session.accessKeyId);
    assert.equal(codeRuns(home), 1);

    // Next time the device is known: no IAM lookup, no code, the cached session.
    const seen = world.server.requests.length;
    const again = await aws(["sts", "get-caller-identity", "--profile", "via-awsmfa"], home.env);
    assert.equal(again.status, 0, again.stderr);
    assert.deepEqual(requestsSince(world.server, seen), [["GetCallerIdentity", session.accessKeyId]]);
  });
});

describe('eval "$(awsmfa env)" in bash, then the aws CLI with no profile', { skip }, () => {
  test("the aws CLI uses the exported session keys and region; a left-over AWS_PROFILE is cleared", async () => {
    // A profile that does not exist would break the aws CLI were it not unset; no region in the
    // environment, so the aws CLI has only the one awsmfa exports from the profile.
    const home = await freshHome({ vars: { AWS_PROFILE: "left-over" } });
    const env: NodeJS.ProcessEnv = { ...home.env, PATH: `${home.bin}:${home.env.PATH ?? ""}` };
    delete env.AWS_REGION;
    delete env.AWS_DEFAULT_REGION;
    const script = [
      "set -euo pipefail",
      'lines="$(awsmfa env -p carol --shell bash)"',
      'eval "$lines"',
      'printf "%s\\n" "$AWS_ACCESS_KEY_ID" "$AWS_DEFAULT_REGION"',
      "printenv AWS_PROFILE || echo unset",
      "aws sts get-caller-identity --output json",
    ].join("\n");
    const result = await runProcess("bash", ["-c", script], { env, timeoutMs: 60_000 });
    assert.equal(result.status, 0, result.stderr);
    const [keyId, region, profile, ...json] = result.stdout.split("\n");
    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    assert.equal(keyId, session.accessKeyId);
    assert.equal(region, "eu-west-1", "the profile's region");
    assert.equal(profile, "unset");
    assert.equal(JSON.parse(json.join("\n")).Arn, USER_ARN);
    assertCallerIdentityLast(world.server, session.accessKeyId);
    assert.equal(codeRuns(home), 1);
  });
});
