// The world most suites test in: one IAM user, alice, with keys, an MFA device and a role on top
// (Admin, up to an hour), on the project's strict STS server — one server per test file, a fresh
// isolated home before each test.
import { after, before, beforeEach } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "./env";
import { type StsServer, startStsServer } from "./sts-server";

export const ACCOUNT = "111111111111";
export const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/alice`;
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/Admin`;
export const KEYS = { accessKeyId: "AKIAALICEEXAMPLE0001", secretAccessKey: "alice/secret/key/EXAMPLE+0001" };

/** ~/.aws/config: alice with her device, and the Admin role on top of her as `admin`. */
export const ALICE_CONFIG = `[default]
region = eu-west-1

[profile alice]
mfa_serial = ${SERIAL}
region = eu-central-1

[profile admin]
role_arn = ${ROLE}
source_profile = alice
`;

/** alice's strict STS server, with `seed` as her MFA device's secret. */
export function startAliceSts(seed: string): Promise<StsServer> {
  return startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "alice", ...KEYS, mfaDevices: [{ serial: SERIAL, seed }] }],
    roles: [{ arn: ROLE, maxSessionDuration: 3600 }],
  });
}

export interface AliceWorld {
  /** The file's server, reset (calls, faults, issued credentials) before each test. */
  readonly server: StsServer;
  /** This test's home, with `config` and `credentials` written in it. */
  readonly home: IsolatedEnv;
}

/** Registers the hooks of the file that calls it; read `server` and `home` inside tests only. */
export function useAliceWorld(options: { seed: string; config: string; credentials: string }): AliceWorld {
  let server: StsServer | undefined;
  let home: IsolatedEnv | undefined;
  before(async () => {
    server = await startAliceSts(options.seed);
  });
  after(async () => {
    await home?.cleanup();
    await server?.close();
  });
  beforeEach(async () => {
    const current = world.server;
    current.reset();
    await home?.cleanup();
    home = await createIsolatedEnv({
      endpointUrl: current.url,
      config: options.config,
      credentials: options.credentials,
    });
  });
  const world: AliceWorld = {
    get server() {
      if (server === undefined) throw new Error("alice's STS server is there only inside tests");
      return server;
    },
    get home() {
      if (home === undefined) throw new Error("alice's home is there only inside tests");
      return home;
    },
  };
  return world;
}
