// The AWS SDK for JavaScript v3 using awsmfa through `credential_process`: fromProcess and
// fromIni from @aws-sdk/credential-providers, then a real STSClient call to the strict STS
// world.server. The SDK runs in a child process (sdk-client.ts) whose whole environment is the test's
// isolated HOME, so nothing of this process's environment or the developer's ~/.aws leaks in.
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import { pathToFileURL } from "node:url";
import { cacheEntryFiles } from "../support/env";
import { runProcess } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";
import {
  assertCallerIdentityLast,
  assumeRoleRequest,
  codeRuns,
  describeRequests,
  type E2eHome,
  issuedBy,
  KEYS,
  lastRequest,
  only,
  ROLE,
  ROLE_SESSION_ARN,
  requestsSince,
  USER_ARN,
  useE2eWorld,
} from "./profiles";

const SDK_CLIENT = join(__dirname, "sdk-client.ts");
const TSX = pathToFileURL(require.resolve("tsx")).href;

type Provider = "fromProcess" | "fromIni";

type SdkResult =
  | { ok: true; arn: string; accessKeyId: string; expiration: string | undefined }
  | { ok: false; name: string; message: string };

const world = useE2eWorld();
const freshHome = world.freshHome;

/** Runs the SDK in a child with `home`'s environment; its one line of JSON, and its status. */
async function sdk(provider: Provider, profile: string, home: E2eHome): Promise<SdkResult> {
  const env = {
    ...home.env,
    AWS_CONFIG_FILE: home.configPath,
    AWS_SHARED_CREDENTIALS_FILE: home.credentialsPath,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  };
  const result = await runProcess(process.execPath, ["--import", TSX, SDK_CLIENT, provider, profile], {
    env,
    timeoutMs: 60_000,
  });
  const lines = result.stdout.trim().split("\n");
  assert.equal(lines.length, 1, `one line of JSON from the SDK child:\n${result.stdout}\n${result.stderr}`);
  const parsed = JSON.parse(lines[0] ?? "") as SdkResult;
  assert.equal(result.status, parsed.ok ? 0 : 1, result.stderr);
  return parsed;
}

function succeeded(result: SdkResult): Extract<SdkResult, { ok: true }> {
  assert.ok(result.ok, `the SDK failed: ${result.ok ? "" : `${result.name}: ${result.message}`}`);
  return result;
}

describe("@aws-sdk/credential-providers with credential_process = awsmfa credential-process", () => {
  for (const provider of ["fromProcess", "fromIni"] as const) {
    test(`${provider}: GetCallerIdentity is signed with the MFA session's key; a second program reuses it`, async () => {
      const home = await freshHome();
      const first = succeeded(await sdk(provider, "via-awsmfa", home));
      assert.equal(first.arn, USER_ARN);
      const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
      assert.equal(first.accessKeyId, session.accessKeyId);
      assert.equal(first.expiration, session.expiration.toISOString(), "the SDK knows when to refresh");
      assertCallerIdentityLast(world.server, session.accessKeyId);
      assert.equal(codeRuns(home), 1);

      const seen = world.server.requests.length;
      const second = succeeded(await sdk(provider, "via-awsmfa", home));
      assert.equal(second.accessKeyId, session.accessKeyId);
      assert.deepEqual(
        requestsSince(world.server, seen),
        [["GetCallerIdentity", session.accessKeyId]],
        describeRequests(world.server.requests.slice(seen)),
      );
      assert.equal(world.server.calls.GetSessionToken, 1, "no new GetSessionToken");
      assert.equal(codeRuns(home), 1);
    });
  }

  test("fromIni, role profile resolved by awsmfa: signed with the role session's key", async () => {
    const home = await freshHome();
    const result = succeeded(await sdk("fromIni", "via-awsmfa-deploy", home));
    assert.equal(result.arn, ROLE_SESSION_ARN);
    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    const role = only(issuedBy(world.server, "AssumeRole"), "role session");
    assert.equal(role.roleArn, ROLE);
    assert.equal(result.accessKeyId, role.accessKeyId);
    assert.equal(assumeRoleRequest(world.server).accessKeyId, session.accessKeyId);
    assertCallerIdentityLast(world.server, role.accessKeyId);

    const seen = world.server.requests.length;
    succeeded(await sdk("fromProcess", "via-awsmfa-deploy", home));
    assert.deepEqual(requestsSince(world.server, seen), [["GetCallerIdentity", role.accessKeyId]]);
  });

  test("fromIni, the SDK assumes the role itself on awsmfa's MFA session (source_profile)", async () => {
    const home = await freshHome();
    const result = succeeded(await sdk("fromIni", "cli-deploy", home));
    assert.match(result.arn, /:assumed-role\/Deploy\//);
    const session = only(issuedBy(world.server, "GetSessionToken"), "GetSessionToken session");
    const role = only(issuedBy(world.server, "AssumeRole"), "role session");
    assert.equal(role.mfaAuthenticated, true, "MFA carried from awsmfa's session to the SDK's role");
    assert.equal(result.accessKeyId, role.accessKeyId);
    assert.equal(
      assumeRoleRequest(world.server).accessKeyId,
      session.accessKeyId,
      "the SDK signed AssumeRole with awsmfa's session",
    );
    assert.equal(lastRequest(world.server).accessKeyId, role.accessKeyId);
    assert.equal(codeRuns(home), 1);
  });

  for (const provider of ["fromProcess", "fromIni"] as const) {
    test(`${provider}, a wrong code: the SDK's error carries awsmfa's message naming the profile; nothing cached`, async () => {
      const home = await freshHome({ seed: randomBase32Seed() });
      const result = await sdk(provider, "via-awsmfa", home);
      assert.equal(result.ok, false);
      assert.match(result.ok ? "" : result.message, /awsmfa: AWS rejected the MFA code for profile 'carol'/);
      assert.equal(world.server.calls.GetSessionToken, 1);
      assert.equal(world.server.accepted.GetSessionToken, undefined);
      assert.deepEqual(
        world.server.requests.filter((r) => r.accessKeyId !== KEYS.accessKeyId),
        [],
        "the SDK made no call: it had no credentials",
      );
      assert.equal(codeRuns(home), 1);
      assert.deepEqual(cacheEntryFiles(home), []);
    });
  }
});
