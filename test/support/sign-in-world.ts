// The world of the sign-in tests: one user, alice, and the strict test server that signs her in
// (`aws login`, `aws sso login`) and answers STS for what it handed out; reset before each test.
import { execFileSync } from "node:child_process";
import { after, before, beforeEach } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { type StsServer, startStsServer } from "./sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export const ACCOUNT = "111122223333";
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
