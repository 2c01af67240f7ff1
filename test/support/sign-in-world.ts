// The world of the sign-in tests: one user, alice, and the strict test server that signs her in
// (`aws login`, `aws sso login`) and answers STS for what it handed out; reset before each test.
import { after, before, beforeEach } from "node:test";
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
