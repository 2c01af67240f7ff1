// Proof under races: twenty awsmfa processes started at once, each writing its own profile into the
// one credentials file, lose nothing and change no byte they were not asked to change.
import assert from "node:assert/strict";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { parseProfileFiles } from "../../src/config/ini";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";
import { runAwsmfa } from "./support";

const CONCURRENT = 20;
const ACCOUNT = "333333333333";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/carol`;
const SEED = randomBase32Seed();
const KEYS = { accessKeyId: "AKIACAROLEXAMPLE0001", secretAccessKey: "carol/secret/key/EXAMPLE+0001" };

/** A file with everything an edit could trip on: comments, tabs, odd spacing, a shadowing pair. */
const ORIGINAL = [
  "# Long-term keys. Hand-edited; awsmfa must leave every byte of this alone.",
  "[carol]",
  `aws_access_key_id = ${KEYS.accessKeyId}`,
  `aws_secret_access_key=${KEYS.secretAccessKey}   ; inline comment`,
  "",
  ";; another comment style",
  "[other]\t",
  "aws_access_key_id\t=\tAKIAOTHEREXAMPLE0001",
  "aws_secret_access_key = other/secret",
  "s3 =",
  "  max_concurrent_requests = 20",
  "",
  "[sess-5-lookalike]",
  "region = eu-north-1",
  "",
].join("\n");

let server: StsServer;
let home: IsolatedEnv;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "carol", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
  });
  home = await createIsolatedEnv({ endpointUrl: server.url, credentials: ORIGINAL });
  // Sixty milliseconds less per process: the tests talk plain HTTP to 127.0.0.1.
  delete home.env.NODE_EXTRA_CA_CERTS;
  const script = writeCodeScript(home.home, SEED);
  writeFileSync(
    home.configPath,
    `[profile carol]\nmfa_serial = ${SERIAL}\nmfa_process = ${script.command}\n`,
  );
});
after(async () => {
  await home?.cleanup();
  await server?.close();
});

const names = Array.from({ length: CONCURRENT }, (_, index) => `sess-${index}`);

test(`${CONCURRENT} concurrent \`login --write-profile NAME_i\` on a cold cache: one code, all ${CONCURRENT} sections, no other byte changed; ${CONCURRENT} concurrent logouts give the original file back`, async () => {
  const logins = await Promise.all(
    names.map((name) =>
      runAwsmfa(["login", "-p", "carol", "--write-profile", name], { env: home.env, timeoutMs: 58_000 }),
    ),
  );
  for (const [index, result] of logins.entries())
    assert.equal(result.status, 0, `${names[index]}: ${result.stderr}`);
  assert.equal(server.accepted.GetSessionToken, 1, "the first took the MFA session, the rest reused it");
  assert.equal(server.rejectedReuses, 0);
  const session = server.issued.find((issued) => issued.kind === "GetSessionToken");
  assert.ok(session);

  const text = readFileSync(home.credentialsPath, "utf8");
  assert.ok(text.startsWith(ORIGINAL), "every byte of the original file is still there, in place");
  const expiration = session.expiration.toISOString().replace(/\.\d{3}Z$/, "Z");
  const block = (name: string) =>
    [
      "",
      `[${name}]`,
      `aws_access_key_id = ${session.accessKeyId}`,
      `aws_secret_access_key = ${session.secretAccessKey}`,
      `aws_session_token = ${session.sessionToken}`,
      "region = us-east-1",
      `awsmfa_expiration = ${expiration}`,
      "awsmfa_managed = true",
    ].join("\n");
  // What follows the original is exactly the twenty new sections, in whatever order they came.
  const added = text
    .slice(ORIGINAL.length)
    .split(/(?=\n\[)/)
    .map((piece) => piece.replace(/\n$/, ""));
  assert.deepEqual(added.sort(), names.map(block).sort());
  const profiles = parseProfileFiles(undefined, { path: home.credentialsPath, text }).profiles;
  for (const name of names) assert.equal(profiles[name]?.aws_session_token, session.sessionToken, name);
  assert.equal(profiles.carol?.aws_secret_access_key, KEYS.secretAccessKey);
  assert.equal(statSync(home.credentialsPath).mode & 0o777, 0o600);
  assert.deepEqual(
    readdirSync(`${home.home}/.aws`).sort(),
    ["config", "credentials"],
    "no lock or temp file left",
  );

  const logouts = await Promise.all(
    names.map((name) =>
      runAwsmfa(["logout", "-p", "carol", "--write-profile", name], { env: home.env, timeoutMs: 58_000 }),
    ),
  );
  for (const [index, result] of logouts.entries())
    assert.equal(result.status, 0, `${names[index]}: ${result.stderr}`);
  assert.equal(readFileSync(home.credentialsPath, "utf8"), ORIGINAL, "byte for byte the file it was");
  assert.deepEqual(readdirSync(`${home.home}/.aws`).sort(), ["config", "credentials"]);
});
