// What the end-to-end suites share: one IAM user with an MFA device and a role that demands
// MFA on the strict STS server, and a ~/.aws/config that points real clients at awsmfa through
// `credential_process`, the way the README sets it up.
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { after, afterEach, before } from "node:test";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, AWSMFA_COMMAND, writeAwsmfaBin } from "../support/run-awsmfa";
import {
  type IssuedCredentials,
  type RecordedRequest,
  randomBase32Seed,
  type StsServer,
  startStsServer,
} from "../support/sts-server";

export const ACCOUNT = "333333333333";
export const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/carol`;
export const SEED = randomBase32Seed();
export const ROLE = `arn:aws:iam::${ACCOUNT}:role/Deploy`;
export const KEYS = { accessKeyId: "AKIACAROLEXAMPLE0001", secretAccessKey: "carol/secret/key/EXAMPLE+0001" };
export const USER_ARN = `arn:aws:iam::${ACCOUNT}:user/carol`;
/** The role session awsmfa names after the IAM user. */
export const ROLE_SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Deploy/awsmfa-carol`;
const CREDENTIALS = `[carol]
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key = ${KEYS.secretAccessKey}
`;

/**
 * carol: the IAM user (keys in the credentials file, device, mfa_process); deploy: a role on top
 * of her, resolved by awsmfa; via-awsmfa / via-awsmfa-deploy: what clients use; cli-deploy: the
 * client assumes the role itself, with awsmfa's MFA session as its source.
 */
export function configText(mfaProcess: string, options: { mfaSerial?: boolean } = {}): string {
  const serial = options.mfaSerial === false ? "" : `mfa_serial = ${SERIAL}\n`;
  return `[profile carol]
${serial}mfa_process = ${mfaProcess}
region = eu-west-1

[profile deploy]
role_arn = ${ROLE}
source_profile = carol

[profile via-awsmfa]
credential_process = ${AWSMFA_COMMAND} credential-process -p carol
region = eu-west-1

[profile via-awsmfa-deploy]
credential_process = ${AWSMFA_COMMAND} credential-process -p deploy
region = eu-west-1

# The client assumes the role itself, with the MFA session awsmfa hands it as the source.
[profile cli-deploy]
role_arn = ${ROLE}
source_profile = via-awsmfa
region = eu-west-1
`;
}

export function startE2eServer(): Promise<StsServer> {
  assert.ok(existsSync(AWSMFA), `${AWSMFA} is missing: run \`node build.mjs\` first`);
  return startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "carol", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    // Only an MFA-authenticated caller may assume it: proves the MFA context reached the role.
    roles: [{ arn: ROLE, requireMfa: true }],
  });
}

export interface E2eHome extends IsolatedEnv {
  /** One line per mfa_process run. */
  runsFile: string;
  /** A directory with an `awsmfa` executable, for putting in front of PATH. */
  bin: string;
}

/** A fresh HOME whose mfa_process prints codes of `seed` (the device's own unless told otherwise). */
export async function createE2eHome(
  server: StsServer,
  options: { seed?: string; mfaSerial?: boolean; vars?: Record<string, string> } = {},
): Promise<E2eHome> {
  const home = await createIsolatedEnv({
    endpointUrl: server.url,
    credentials: CREDENTIALS,
    vars: options.vars,
  });
  const code = writeCodeScript(home.home, options.seed ?? SEED);
  writeFileSync(home.configPath, configText(code.command, { mfaSerial: options.mfaSerial }), { mode: 0o600 });
  return { ...home, runsFile: code.runsFile, bin: writeAwsmfaBin(home.home) };
}

export function codeRuns(home: E2eHome): number {
  return existsSync(home.runsFile)
    ? readFileSync(home.runsFile, "utf8").split("\n").filter(Boolean).length
    : 0;
}

export function issuedBy(server: StsServer, kind: IssuedCredentials["kind"]): IssuedCredentials[] {
  return server.issued.filter((credentials) => credentials.kind === kind);
}

export function only<T>(items: T[], what: string): T {
  assert.equal(items.length, 1, `exactly one ${what}, got ${items.length}`);
  return items[0] as T;
}

export function describeRequests(requests: RecordedRequest[]): string {
  return requests.map((r) => `${r.action} ${r.accessKeyId} ${r.status}`).join(", ");
}

/** The request the server saw last: the client's own call comes after every call awsmfa made for it. */
export function lastRequest(server: StsServer): RecordedRequest {
  const last = server.requests.at(-1);
  assert.ok(last, "the server saw no request");
  return last;
}

/** The client's own GetCallerIdentity came last, signed with `accessKeyId`, and succeeded. */
export function assertCallerIdentityLast(server: StsServer, accessKeyId: string): void {
  assert.deepEqual(lastRequest(server), { action: "GetCallerIdentity", accessKeyId, ok: true, status: 200 });
}

/** The one AssumeRole request the server saw (its accessKeyId: what signed it). */
export function assumeRoleRequest(server: StsServer): RecordedRequest {
  return only(
    server.requests.filter((r) => r.action === "AssumeRole"),
    "AssumeRole request",
  );
}

/** [action, access key] of every request after the first `seen`. */
export function requestsSince(server: StsServer, seen: number): Array<[string, string | undefined]> {
  return server.requests.slice(seen).map((r) => [r.action, r.accessKeyId]);
}

export interface E2eWorld {
  /** The file's server; read inside tests only. */
  readonly server: StsServer;
  /** A new home for this test (the server reset), cleaned up after it. */
  freshHome(options?: Parameters<typeof createE2eHome>[1]): Promise<E2eHome>;
}

/** Registers the hooks of the file that calls it; `enabled` false (a client to drive is missing) starts nothing. */
export function useE2eWorld(enabled = true): E2eWorld {
  let server: StsServer | undefined;
  let home: E2eHome | undefined;
  before(async () => {
    if (enabled) server = await startE2eServer();
  });
  after(() => server?.close());
  afterEach(async () => {
    await home?.cleanup();
    home = undefined;
  });
  const world: E2eWorld = {
    get server() {
      if (server === undefined) throw new Error("the e2e STS server is there only inside tests");
      return server;
    },
    async freshHome(options = {}) {
      world.server.reset();
      home = await createE2eHome(world.server, options);
      return home;
    },
  };
  return world;
}
