// Proves the sign-in token endpoint of the strict test server with the AWS SDK's own login provider,
// and that it refuses what AWS refuses: a proof signed by another key, a wrong htu or htm, an old
// iat, a replayed proof, a refresh token spent before.
import assert from "node:assert/strict";
import { createHash, createPrivateKey, generateKeyPairSync, randomUUID, sign } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromLoginCredentials } from "@aws-sdk/credential-providers";
import { ACCOUNT, useSignInServer } from "../support/sign-in-world";
import type { LoginTokenFile } from "../support/signin-server";

const world = useSignInServer();

interface ProofClaims {
  htm?: string;
  htu?: string;
  iat?: number;
  jti?: string;
}

/** A DPoP proof made here, independently of awsmfa's, so that each can catch the other's mistakes. */
function proof(pem: string, claims: ProofClaims = {}): string {
  const key = createPrivateKey(pem);
  const { x, y } = key.export({ format: "jwk" });
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: "EC", x, y, crv: "P-256" } });
  const payload = encode({
    htm: claims.htm ?? "POST",
    htu: claims.htu ?? `${world.server.url}/v1/token`,
    iat: claims.iat ?? Math.floor(Date.now() / 1000),
    jti: claims.jti ?? randomUUID(),
  });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key, dsaEncoding: "ieee-p1363" });
  return `${header}.${payload}.${signature.toString("base64url")}`;
}

async function refresh(token: LoginTokenFile, dpop: string) {
  const response = await fetch(`${world.server.url}/v1/token`, {
    method: "POST",
    headers: { "content-type": "application/json", DPoP: dpop },
    body: JSON.stringify({
      clientId: token.clientId,
      grantType: "refresh_token",
      refreshToken: token.refreshToken,
    }),
  });
  return {
    status: response.status,
    type: response.headers.get("x-amzn-errortype"),
    body: (await response.json()) as Record<string, unknown>,
  };
}

test("a good proof with the bound key refreshes; the new refresh token works once, the old one never again", async () => {
  const { token } = world.server.signin.signIn("alice");
  const first = await refresh(token, proof(token.dpopKey));
  assert.equal(first.status, 200, JSON.stringify(first.body));
  assert.equal(first.body.expiresIn, 900);
  assert.equal(first.body.tokenType, "aws_sigv4");
  const rotated = first.body.refreshToken as string;
  assert.notEqual(rotated, token.refreshToken);

  const reused = await refresh(token, proof(token.dpopKey));
  assert.equal(reused.status, 401);
  assert.equal(reused.type, "AccessDeniedException");
  assert.equal(reused.body.error, "TOKEN_EXPIRED");
  assert.equal(world.server.signin.reusedRefreshTokens, 1);

  const second = await refresh({ ...token, refreshToken: rotated }, proof(token.dpopKey));
  assert.equal(second.status, 200);
  assert.deepEqual(world.server.accepted.CreateOAuth2Token, 2);
  assert.deepEqual(world.server.calls.CreateOAuth2Token, 3);
});

test("proofs that AWS refuses are refused, and do not spend the refresh token", async () => {
  const { token } = world.server.signin.signIn("alice");
  const otherKey = generateKeyPairSync("ec", { namedCurve: "P-256" })
    .privateKey.export({ type: "sec1", format: "pem" })
    .toString();
  const now = Math.floor(Date.now() / 1000);
  const replayed = proof(token.dpopKey);
  await refresh({ ...token, refreshToken: "rt.unknown" }, replayed); // spends the proof's jti only
  const refused: Array<[string, string]> = [
    ["signed by another key", proof(otherKey)],
    ["wrong htu", proof(token.dpopKey, { htu: `${world.server.url}/v1/other` })],
    ["wrong host in htu", proof(token.dpopKey, { htu: "https://us-east-1.signin.aws.amazon.com/v1/token" })],
    ["wrong htm", proof(token.dpopKey, { htm: "GET" })],
    ["iat too old", proof(token.dpopKey, { iat: now - 3600 })],
    ["iat in the future", proof(token.dpopKey, { iat: now + 3600 })],
    ["replayed jti", replayed],
    ["no signature", `${proof(token.dpopKey).split(".").slice(0, 2).join(".")}.`],
  ];
  for (const [what, dpop] of refused) {
    const answer = await refresh(token, dpop);
    assert.equal(answer.status, 400, what);
    assert.equal(answer.type, "ValidationException", what);
    assert.match(String(answer.body.message), /^invalid_dpop_proof: /, what);
  }
  const good = await refresh(token, proof(token.dpopKey));
  assert.equal(good.status, 200, "the refresh token is still unspent after refused proofs");
});

test("a refresh window that is over is answered TOKEN_EXPIRED", async () => {
  const { token } = world.server.signin.signIn("alice");
  world.server.signin.endRefreshWindow("alice");
  const answer = await refresh(token, proof(token.dpopKey));
  assert.equal(answer.status, 401);
  assert.equal(answer.body.error, "TOKEN_EXPIRED");
});

test("the SDK's fromLoginCredentials refreshes through AWS_ENDPOINT_URL_SIGNIN; STS accepts what it got", async () => {
  const dir = await mkdtemp(join(tmpdir(), "awsmfa-signin-"));
  const saved = { ...process.env };
  try {
    const { loginSession, token } = world.server.signin.signIn("alice", { accessTokenSeconds: -60 });
    const file = join(dir, `${createHash("sha256").update(loginSession).digest("hex")}.json`);
    await writeFile(file, JSON.stringify(token), { mode: 0o600 });
    await writeFile(
      join(dir, "config"),
      `[profile dev]\nlogin_session = ${loginSession}\nregion = us-east-1\n`,
    );
    Object.assign(process.env, {
      AWS_LOGIN_CACHE_DIRECTORY: dir,
      AWS_ENDPOINT_URL_SIGNIN: world.server.url,
      AWS_CONFIG_FILE: join(dir, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
    });
    const credentials = await fromLoginCredentials({ profile: "dev" })();
    assert.equal(world.server.accepted.CreateOAuth2Token, 1);
    assert.notEqual(credentials.accessKeyId, token.accessToken.accessKeyId);
    const written = JSON.parse(await readFile(file, "utf8")) as LoginTokenFile;
    assert.notEqual(written.refreshToken, token.refreshToken);

    const sts = new STSClient({ region: "us-east-1", endpoint: world.server.url, credentials });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    assert.equal(identity.Arn, `arn:aws:iam::${ACCOUNT}:user/alice`);
    sts.destroy();
  } finally {
    process.env = saved;
    await rm(dir, { recursive: true, force: true });
  }
});
