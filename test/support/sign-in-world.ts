// The world of the sign-in tests: one user, alice, and the strict test server that signs her in
// (`aws login`, `aws sso login`) and answers STS for what it handed out; reset before each test.
import { execFileSync } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, beforeEach } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { pythonJson } from "../../src/session/sources/cli-json";
import { loginTokenPath } from "../../src/session/sources/login-session";
import type { LoginSignIn, SignInOptions } from "./signin-server";
import type { SsoLoginOptions, SsoTokenFile } from "./sso-server";
import { type StsServer, startStsServer } from "./sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export const ACCOUNT = "111122223333";
/** The role the suites assume over a signed-in session. */
export const ADMIN_ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
/** The IAM Identity Center portal the suites' sso profiles and sessions name. */
export const START_URL = "https://d-1234567890.awsapps.com/start";
export const ALICE = {
  userName: "alice",
  accessKeyId: "AKIAALICE00000000001",
  secretAccessKey: "alice/secret/0000",
};

/** Registers the hooks; `server` is there from the first test on. */
export function useSignInServer(): { readonly server: StsServer } {
  const world = {} as { server: StsServer };
  before(async () => {
    world.server = await startStsServer({ accountId: ACCOUNT, users: [ALICE] });
  });
  after(() => world.server.close());
  beforeEach(() => world.server.reset());
  return world;
}

/** Who STS says the credentials belong to: proof that the server that issued them accepts them. */
export async function callerArn(
  server: StsServer,
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string },
): Promise<string | undefined> {
  const { accessKeyId, secretAccessKey, sessionToken } = credentials;
  const sts = new STSClient({
    region: "us-east-1",
    endpoint: server.url,
    credentials: { accessKeyId, secretAccessKey, sessionToken },
  });
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn;
  } finally {
    sts.destroy();
  }
}

/** Python's own json.dumps of a token file's content: what the aws CLI would have written. */
export function asCliWouldWrite(text: string): string {
  return execFileSync(
    "python3",
    ["-c", "import json,sys; sys.stdout.write(json.dumps(json.load(sys.stdin)))"],
    {
      input: text,
      encoding: "utf8",
    },
  );
}

/**
 * `aws login` as the CLI v2 leaves it for `userName`: the token file under AWS_LOGIN_CACHE_DIRECTORY
 * (set in `env` to ~/.aws/login/cache of its HOME when unset), one line of Python's json.dumps, 0600.
 */
export async function writeLoginToken(
  server: StsServer,
  env: NodeJS.ProcessEnv,
  userName: string,
  options: SignInOptions = {},
): Promise<LoginSignIn & { path: string }> {
  env.AWS_LOGIN_CACHE_DIRECTORY ??= join(env.HOME ?? "", ".aws", "login", "cache");
  const signedIn = server.signin.signIn(userName, options);
  const path = loginTokenPath(signedIn.loginSession, env);
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pythonJson(signedIn.token), { mode: 0o600 });
  return { ...signedIn, path };
}

/** `aws sso login --sso-session NAME` as the CLI v2 leaves it: ~/.aws/sso/cache/<sha1 of NAME>.json, 0600. */
export async function writeSsoToken(
  server: StsServer,
  env: NodeJS.ProcessEnv,
  userName: string,
  sessionName: string,
  options: SsoLoginOptions = {},
): Promise<{ token: SsoTokenFile; path: string }> {
  const token = server.sso.login(userName, options);
  const path = join(
    env.HOME ?? "",
    ".aws",
    "sso",
    "cache",
    `${createHash("sha1").update(sessionName).digest("hex")}.json`,
  );
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, pythonJson(token), { mode: 0o600 });
  return { token, path };
}
