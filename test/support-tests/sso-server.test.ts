// Proves the IAM Identity Center endpoints of the strict test server with the AWS SDK's own SSO
// provider, and that they refuse what AWS refuses: a spent refresh token, a wrong client secret,
// an expired or unknown bearer token.
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromSSO } from "@aws-sdk/credential-providers";
import { ACCOUNT, useSignInServer } from "../support/sign-in-world";
import type { SsoTokenFile } from "../support/sso-server";

const world = useSignInServer();

async function createToken(token: SsoTokenFile, overrides: Record<string, string> = {}) {
  const response = await fetch(`${world.server.url}/token`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      clientId: token.clientId,
      clientSecret: token.clientSecret,
      grantType: "refresh_token",
      refreshToken: token.refreshToken,
      ...overrides,
    }),
  });
  return {
    status: response.status,
    type: response.headers.get("x-amzn-errortype"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

async function roleCredentials(accessToken: string) {
  const response = await fetch(
    `${world.server.url}/federation/credentials?role_name=Dev&account_id=${ACCOUNT}`,
    {
      headers: { "x-amz-sso_bearer_token": accessToken },
    },
  );
  return { status: response.status, type: response.headers.get("x-amzn-errortype") };
}

test("CreateToken rotates refresh tokens, each good once; a wrong secret and a stale bearer token are refused", async () => {
  const token = world.server.sso.login("alice");
  const first = await createToken(token);
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.notEqual(first.body.refreshToken, token.refreshToken);
  assert.equal((await roleCredentials(first.body.accessToken as string)).status, 200);

  const reused = await createToken(token);
  assert.equal(reused.status, 400);
  assert.equal(reused.type, "InvalidGrantException");
  assert.equal(reused.body.error, "invalid_grant");
  assert.equal(world.server.sso.reusedRefreshTokens, 1);

  const wrongSecret = await createToken(
    { ...token, refreshToken: first.body.refreshToken as string },
    {
      clientSecret: "not-the-secret",
    },
  );
  assert.equal(wrongSecret.status, 401);
  assert.equal(wrongSecret.type, "InvalidClientException");

  const expired = world.server.sso.login("alice", { accessTokenSeconds: -60 });
  assert.deepEqual(await roleCredentials(expired.accessToken), {
    status: 401,
    type: "UnauthorizedException",
  });
  assert.deepEqual(await roleCredentials("aoa-unknown"), { status: 401, type: "UnauthorizedException" });
});

test("the SDK's fromSSO refreshes through AWS_ENDPOINT_URL_SSO_OIDC and gets role credentials through AWS_ENDPOINT_URL_SSO", async () => {
  const home = await mkdtemp(join(tmpdir(), "awsmfa-sso-"));
  const saved = process.env;
  try {
    const token = world.server.sso.login("alice", { accessTokenSeconds: -60 });
    const dir = join(home, ".aws", "sso", "cache");
    await mkdir(dir, { recursive: true });
    const file = join(dir, `${createHash("sha1").update("corp").digest("hex")}.json`);
    await writeFile(file, JSON.stringify(token), { mode: 0o600 });
    await writeFile(
      join(home, "config"),
      `[profile dev]\nsso_session = corp\nsso_account_id = ${ACCOUNT}\nsso_role_name = Dev\nregion = us-east-1\n\n` +
        `[sso-session corp]\nsso_start_url = ${token.startUrl}\nsso_region = us-east-1\n`,
    );
    process.env = {
      ...saved,
      HOME: home,
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWS_ENDPOINT_URL_SSO: world.server.url,
      AWS_ENDPOINT_URL_SSO_OIDC: world.server.url,
    };
    const credentials = await fromSSO({ profile: "dev" })();
    assert.equal(world.server.accepted.CreateToken, 1);
    assert.equal(world.server.accepted.GetRoleCredentials, 1);
    const written = JSON.parse(await readFile(file, "utf8")) as SsoTokenFile;
    assert.notEqual(written.refreshToken, token.refreshToken);

    const sts = new STSClient({ region: "us-east-1", endpoint: world.server.url, credentials });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    assert.match(
      identity.Arn ?? "",
      /^arn:aws:sts::111122223333:assumed-role\/AWSReservedSSO_Dev_[0-9a-f]+\/alice$/,
    );
    sts.destroy();
  } finally {
    process.env = saved;
    await rm(home, { recursive: true, force: true });
  }
});
