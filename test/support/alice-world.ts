// The world most suites test in: one IAM user, alice, with keys, an MFA device and a role on top
// (Admin, up to an hour), on the project's strict STS server — one server per test file, a fresh
// isolated home before each test.
import { type StsServer, startStsServer } from "./sts-server";
import { type StsWorld, useStsWorld } from "./sts-world";

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

/** Registers the hooks of the file that calls it; read `server` and `home` inside tests only. */
export function useAliceWorld(options: { seed: string; config: string; credentials: string }): StsWorld {
  return useStsWorld({
    start: () => startAliceSts(options.seed),
    config: options.config,
    credentials: options.credentials,
  });
}
