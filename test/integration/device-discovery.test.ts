// One discovery of MFA devices, for `login` (a profile with keys and no mfa_serial) and `setup`
// alike: a FIDO/U2F security key is listed by IAM but cannot give STS a code, so neither offers it.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { after, before, describe, test } from "node:test";
import { ACCOUNT, KEYS, SERIAL } from "../support/alice-world";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const SEED = randomBase32Seed();
const SECURITY_KEY = `arn:aws:iam::${ACCOUNT}:u2f/user/alice/yubikey-ABCDEFGHIJKLMNOPQRSTUVWXYZ`;
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;

/** alice with a security key listed first, then her virtual device; or with the security key alone. */
function startServer(withTotp: boolean): Promise<StsServer> {
  const devices = [{ serial: SECURITY_KEY, seed: randomBase32Seed() }];
  if (withTotp) devices.push({ serial: SERIAL, seed: SEED });
  return startStsServer({ accountId: ACCOUNT, users: [{ userName: "alice", ...KEYS, mfaDevices: devices }] });
}

const homes: IsolatedEnv[] = [];
async function newHome(server: StsServer): Promise<IsolatedEnv> {
  const home = await createIsolatedEnv({ endpointUrl: server.url, credentials: CREDENTIALS });
  homes.push(home);
  return home;
}
after(async () => {
  for (const home of homes) await home.cleanup();
});

describe("a security key next to a device that gives codes", () => {
  let server: StsServer;
  before(async () => {
    server = await startServer(true);
  });
  after(() => server.close());

  test("login finds the device that gives codes, with no terminal to choose on", async () => {
    server.reset();
    const home = await newHome(server);
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
      env: home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.match(login.stderr, new RegExp(`Found MFA device ${SERIAL.replace(/\//g, "\\/")}`));
    assert.equal(readFileSync(home.configPath, "utf8"), `[profile alice]\nmfa_serial = ${SERIAL}\n`);
    assert.equal(server.accepted.GetSessionToken, 1);
  });

  test("setup finds the same one", async () => {
    server.reset();
    const home = await newHome(server);
    const setup = await runAwsmfa(["setup", "-p", "alice", "--import-from-credentials", "--dry-run"], {
      env: home.env,
    });
    assert.equal(setup.status, 0, setup.stderr);
    assert.match(setup.stderr, new RegExp(`^\\+mfa_serial = ${SERIAL.replace(/\//g, "\\/")}$`, "m"));
  });
});

describe("a security key alone", () => {
  let server: StsServer;
  before(async () => {
    server = await startServer(false);
  });
  after(() => server.close());

  for (const [command, args, then] of [
    ["login", ["login", "-p", "alice", "--token-code", "123456"], "run awsmfa again"],
    ["setup", ["setup", "-p", "alice", "--import-from-credentials", "--dry-run"], "run setup again"],
  ] as const) {
    test(`${command} says no device gives codes, and why`, async () => {
      server.reset();
      const home = await newHome(server);
      const result = await runAwsmfa([...args], { env: home.env });
      assert.equal(result.status, 3, result.stderr);
      assert.match(
        result.stderr,
        /has no MFA device that gives codes \(security keys cannot be used with the API\)/,
      );
      assert.match(result.stderr, new RegExp(`Assign a virtual or hardware TOTP device.*${then}`));
      assert.equal(server.calls.GetSessionToken, undefined);
    });
  }
});
