// `awsmfa rotate` against the strict STS/IAM server (which checks signatures, so a deleted key
// really stops working) and moto_server: one key left, the new one, in the store; and when
// something fails between creating the new key and deleting the old one, a working key is kept.
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { after, before, beforeEach, describe, test } from "node:test";
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
  ListAccessKeysCommand,
} from "@aws-sdk/client-iam";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { freeLoopbackPort, MOTO_SKIP_REASON, startMoto } from "../support/moto";
import { runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const ACCOUNT = "111111111111";
const SEED = randomBase32Seed();
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/erin`;
const OLD = { accessKeyId: "AKIAERINEXAMPLE00001", secretAccessKey: "erin/secret/key/EXAMPLE+00000000001" };
const CONFIG = `[profile erin]\nmfa_serial = ${SERIAL}\n\n[profile erin-admin]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Admin\nsource_profile = erin\n`;
const CREDENTIALS = `# erin's keys\n[erin]\naws_access_key_id = ${OLD.accessKeyId}\naws_secret_access_key = ${OLD.secretAccessKey}\n\n[other]\naws_access_key_id = AKIAOTHEREXAMPLE0001\naws_secret_access_key = other\n`;

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
}

let server: StsServer;
let home: IsolatedEnv;
/** Each code once: the server refuses a 30-second step it already took, so every call gets the next one. */
let nextStep = 0;
/** Time a code must still have when it is made: awsmfa starts and calls STS within it. */
const CODE_MARGIN_MS = 5_000;

function code(): string {
  const now = server.now();
  let step = Math.max(nextStep + 1, Math.floor(now / 30_000) - 1);
  // STS takes a step's code until the end of the step after it; the oldest one (one step back)
  // lapses at the next boundary, which a test can cross between making the code and using it.
  if ((step + 2) * 30_000 - now < CODE_MARGIN_MS) step += 1;
  nextStep = step;
  return server.totp(SEED, step * 30_000);
}

function sdk<T>(make: new (config: object) => T, keys: Keys, url = server.url): T {
  return new make({ region: "us-east-1", endpoint: url, credentials: keys, maxAttempts: 1 });
}

async function identityOf(keys: Keys, url?: string): Promise<string> {
  const sts = sdk(STSClient, keys, url);
  try {
    return (await sts.send(new GetCallerIdentityCommand({}))).Arn ?? "";
  } catch (error) {
    return `refused: ${(error as Error).name}`;
  } finally {
    sts.destroy();
  }
}

async function accessKeysOf(keys: Keys, userName: string, url?: string): Promise<string[]> {
  const iam = sdk(IAMClient, keys, url);
  try {
    const out = await iam.send(new ListAccessKeysCommand({ UserName: userName }));
    return (out.AccessKeyMetadata ?? []).map((key) => key.AccessKeyId ?? "");
  } finally {
    iam.destroy();
  }
}

/** The keys of [erin] in the credentials file as it is now. */
function storedKeys(): Keys {
  const text = readFileSync(home.credentialsPath, "utf8");
  const section = text.slice(text.indexOf("[erin]"), text.indexOf("[other]"));
  return {
    accessKeyId: /aws_access_key_id = (\S+)/.exec(section)?.[1] ?? "",
    secretAccessKey: /aws_secret_access_key = (\S+)/.exec(section)?.[1] ?? "",
  };
}

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "erin", ...OLD, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
  });
});
after(() => server.close());

beforeEach(async () => {
  server.reset();
  nextStep = 0;
  await home?.cleanup();
  home = await createIsolatedEnv({ endpointUrl: server.url, config: CONFIG, credentials: CREDENTIALS });
});
after(() => home?.cleanup());

describe("rotate with the strict STS server", () => {
  test("one key is left, the new one, in the credentials file; the old one no longer works", async () => {
    const result = await runAwsmfa(["rotate", "-p", "erin-admin", "--token-code", code(), "--json"], {
      env: home.env,
    });
    assert.equal(result.status, 0, result.stderr);
    const iamCalls = server.requests.filter((r) => /AccessKey/.test(r.action));
    const report = JSON.parse(result.stdout);
    const now = storedKeys();
    assert.equal(report.oldAccessKeyId, OLD.accessKeyId);
    assert.equal(report.newAccessKeyId, now.accessKeyId);
    assert.notEqual(now.accessKeyId, OLD.accessKeyId);
    assert.match(now.accessKeyId, /^AKIA/);
    assert.ok(!result.stderr.includes(now.secretAccessKey), "the new secret is never shown");
    assert.match(result.stderr, /uses the keys of profile 'erin'/);

    assert.deepEqual(await accessKeysOf(now, "erin"), [now.accessKeyId]);
    assert.equal(await identityOf(now), `arn:aws:iam::${ACCOUNT}:user/erin`);
    assert.equal(await identityOf(OLD), "refused: InvalidClientTokenId");
    // The rest of the file is as it was.
    assert.equal(
      readFileSync(home.credentialsPath, "utf8"),
      CREDENTIALS.replace(OLD.accessKeyId, now.accessKeyId).replace(OLD.secretAccessKey, now.secretAccessKey),
    );
    // IAM was called with the MFA session, never with the long-term key.
    assert.ok(
      iamCalls.every((r) => r.accessKeyId?.startsWith("ASIA")),
      JSON.stringify(iamCalls),
    );

    // And the profile works with the new key: a new session, with the next code.
    const login = await runAwsmfa(["login", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
  });

  test("a failure between create and delete (the new key is refused) deletes the new key and keeps the old", async () => {
    const login = await runAwsmfa(["login", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
    // The next GetCallerIdentity is rotate's check of the new key (the session is cached with its identity).
    server.setOption({
      failures: [{ action: "GetCallerIdentity", count: 1, status: 403, code: "AccessDenied" }],
    });
    const result = await runAwsmfa(["rotate", "-p", "erin"], { env: home.env });
    assert.equal(result.status, 6, result.stderr);
    assert.equal(server.accepted.CreateAccessKey, 1);
    const created = /Created access key (AKIA\w+)/.exec(result.stderr)?.[1];
    assert.ok(created, result.stderr);
    assert.match(
      result.stderr,
      new RegExp(
        `The new key ${created} was deleted again; the old key ${OLD.accessKeyId} is unchanged and still in use`,
      ),
    );
    assert.equal(readFileSync(home.credentialsPath, "utf8"), CREDENTIALS);
    assert.deepEqual(await accessKeysOf(OLD, "erin"), [OLD.accessKeyId]);
    assert.equal(await identityOf(OLD), `arn:aws:iam::${ACCOUNT}:user/erin`);
  });

  test("when deleting the old key fails, the new key is stored and works, and the message says what to delete", async () => {
    const login = await runAwsmfa(["login", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
    server.setOption({
      failures: [{ action: "DeleteAccessKey", count: 10, status: 409, code: "ConcurrentModification" }],
    });
    const result = await runAwsmfa(["rotate", "-p", "erin"], { env: home.env });
    assert.equal(result.status, 6, result.stderr);
    const now = storedKeys();
    assert.notEqual(now.accessKeyId, OLD.accessKeyId);
    assert.match(
      result.stderr,
      new RegExp(
        `now uses the new key ${now.accessKeyId}, which works, but deleting the old key ${OLD.accessKeyId} failed`,
      ),
    );
    assert.match(
      result.stderr,
      new RegExp(`aws iam delete-access-key --user-name erin --access-key-id ${OLD.accessKeyId}`),
    );
    assert.equal(await identityOf(now), `arn:aws:iam::${ACCOUNT}:user/erin`);
    assert.deepEqual((await accessKeysOf(now, "erin")).sort(), [OLD.accessKeyId, now.accessKeyId].sort());
  });

  test("IAM out of reach: the error names IAM and AWS_ENDPOINT_URL_IAM, not STS; nothing changes", async () => {
    const login = await runAwsmfa(["login", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(login.status, 0, login.stderr);
    const closed = `http://127.0.0.1:${await freeLoopbackPort()}`;
    const result = await runAwsmfa(["rotate", "-p", "erin"], {
      env: { ...home.env, AWS_ENDPOINT_URL_IAM: closed },
    });
    assert.equal(result.status, 7, result.stderr);
    assert.match(result.stderr, new RegExp(`Could not reach ${closed} for profile 'erin'`));
    assert.match(result.stderr, /AWS_ENDPOINT_URL_IAM/);
    assert.doesNotMatch(result.stderr, /STS/);
    assert.equal(readFileSync(home.credentialsPath, "utf8"), CREDENTIALS);
  });

  test("with two keys already, nothing is created and the unused key is named", async () => {
    const iam = sdk(IAMClient, OLD);
    const spare = (await iam.send(new CreateAccessKeyCommand({ UserName: "erin" }))).AccessKey?.AccessKeyId;
    iam.destroy();
    const result = await runAwsmfa(["rotate", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(result.status, 6, result.stderr);
    assert.match(result.stderr, /has 2 access keys already/);
    assert.match(result.stderr, new RegExp(`--access-key-id ${spare}`));
    assert.equal(server.calls.CreateAccessKey, 1, "only the test's own");
    assert.equal(readFileSync(home.credentialsPath, "utf8"), CREDENTIALS);
  });

  test("a credentials file awsmfa cannot rewrite is found before a key is created", async () => {
    // Valid for reading (the stray byte is in a comment), but not UTF-8: awsmfa will not rewrite it.
    const bytes = Buffer.concat([Buffer.from("# caf"), Buffer.from([0xe9]), Buffer.from(`\n${CREDENTIALS}`)]);
    writeFileSync(home.credentialsPath, bytes, { mode: 0o600 });
    const result = await runAwsmfa(["rotate", "-p", "erin", "--token-code", code()], { env: home.env });
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, /not UTF-8/);
    assert.equal(server.requests.length, 0);
    assert.deepEqual(readFileSync(home.credentialsPath), bytes);
  });

  test("keys in the encrypted store: the new secret goes there, the config names the new key id", async () => {
    const vars = { AWSMFA_PASSPHRASE: "correct horse battery staple" };
    const env = { ...home.env, ...vars };
    const move = await runAwsmfa(["keys", "move", "-p", "erin", "--to", "encrypted"], { env });
    assert.equal(move.status, 0, move.stderr);
    assert.ok(!readFileSync(home.credentialsPath, "utf8").includes(OLD.secretAccessKey));

    const result = await runAwsmfa(["rotate", "-p", "erin", "--token-code", code(), "--json"], { env });
    assert.equal(result.status, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.store, "encrypted");
    assert.match(
      readFileSync(home.configPath, "utf8"),
      new RegExp(`awsmfa_access_key_id = ${report.newAccessKeyId}\\n`),
    );
    assert.ok(!readFileSync(home.credentialsPath, "utf8").includes(report.newAccessKeyId));

    // The profile resolves to the new key, whose secret only the store has: a new session works.
    const login = await runAwsmfa(["login", "-p", "erin", "--force", "--token-code", code()], { env });
    assert.equal(login.status, 0, login.stderr);
    const session = server.issued.at(-1);
    assert.equal(session?.kind, "GetSessionToken");
    const sts = server.requests.filter((r) => r.action === "GetSessionToken" && r.ok).at(-1);
    assert.equal(sts?.accessKeyId, report.newAccessKeyId);
    assert.equal(await identityOf(OLD), "refused: InvalidClientTokenId");
  });
});

describe("rotate with moto_server", () => {
  test("leaves exactly one access key for the user, the new one, in the credentials file", async (t) => {
    const moto = await startMoto();
    if (!moto) return t.skip(MOTO_SKIP_REASON);
    const motoHome = await createIsolatedEnv({ endpointUrl: moto.url });
    try {
      const admin = sdk(
        IAMClient,
        { accessKeyId: "AKIAMOTOADMIN0000001", secretAccessKey: "moto-admin" },
        moto.url,
      );
      await admin.send(new CreateUserCommand({ UserName: "frank" }));
      const key = (await admin.send(new CreateAccessKeyCommand({ UserName: "frank" }))).AccessKey;
      const device = (await admin.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: "frank" })))
        .VirtualMFADevice;
      await admin.send(
        new EnableMFADeviceCommand({
          UserName: "frank",
          SerialNumber: device?.SerialNumber,
          AuthenticationCode1: "111111",
          AuthenticationCode2: "222222",
        }),
      );
      admin.destroy();
      assert.ok(key?.AccessKeyId && key.SecretAccessKey && device?.SerialNumber);
      writeFileSync(motoHome.configPath, `[profile frank]\nmfa_serial = ${device.SerialNumber}\n`);
      writeFileSync(
        motoHome.credentialsPath,
        `[frank]\naws_access_key_id = ${key.AccessKeyId}\naws_secret_access_key = ${key.SecretAccessKey}\n`,
        { mode: 0o600 },
      );
      const result = await runAwsmfa(["rotate", "-p", "frank", "--token-code", "123456"], {
        env: motoHome.env,
      });
      assert.equal(result.status, 0, result.stderr);
      const text = readFileSync(motoHome.credentialsPath, "utf8");
      const stored = /aws_access_key_id = (\S+)/.exec(text)?.[1];
      assert.ok(stored && stored !== key.AccessKeyId, text);
      const listed = await accessKeysOf(
        { accessKeyId: "AKIAMOTOADMIN0000001", secretAccessKey: "moto-admin" },
        "frank",
        moto.url,
      );
      assert.deepEqual(listed, [stored]);
    } finally {
      await motoHome.cleanup();
      await moto.close();
    }
  });
});
