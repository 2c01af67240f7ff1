// The entry runs the warm bundle from V8's code cache in the cache directory (src/fsio/code-cache.ts).
// A code cache is code: these tests check that one is made and then used, that another build of
// the same length never runs from it, that a planted one others could write is never run, that it
// holds no credentials, and that many first starts at once leave one whole file.
import assert from "node:assert/strict";
import { chmodSync, cpSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { after, before, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA, processCredentials, type RunResult, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const ACCOUNT = "555555555555";
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/erin`;
const SEED = randomBase32Seed();
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Reader`;
const KEYS = { accessKeyId: "AKIAERINEXAMPLE00001", secretAccessKey: "erin/secret/key/EXAMPLE+00001" };

let server: StsServer;
let home: IsolatedEnv;
/** Copies of dist/, each a build of its own (its own files, so its own stamps). */
let builds: string;

function codeCaches(): string[] {
  return readdirSync(home.cacheDir).filter((name) => /^code-[0-9a-f]{32}\.v8cache$/.test(name));
}

function removeCodeCaches(): void {
  for (const name of codeCaches()) rmSync(join(home.cacheDir, name), { force: true });
}

/** A copy of the built CLI; `patch` edits its warm bundle without changing its length. */
function copyOfBuild(name: string, patch?: (text: string) => string): string {
  const dir = join(builds, name);
  cpSync(dirname(AWSMFA), dir, { recursive: true });
  if (patch) {
    const warm = join(dir, "awsmfa-warm.cjs");
    const before = readFileSync(warm, "utf8");
    const after = patch(before);
    assert.notEqual(after, before, "the patch changed the bundle");
    assert.equal(after.length, before.length, "the patch kept its length, which is all V8 checks");
    writeFileSync(warm, after);
  }
  return join(dir, "awsmfa.cjs");
}

/** Prints `"Versiom":1` where the honest build prints `"Version":1`. */
const misspelt = (text: string) => text.replace("{Version:1,", "{Versiom:1,");

function credentialProcess(entry = AWSMFA): Promise<RunResult> {
  return runProcess(process.execPath, [entry, "credential-process", "-p", "reader"], { env: home.env });
}

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "erin", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    roles: [{ arn: ROLE, maxSessionDuration: 3600 }],
  });
  home = await createIsolatedEnv({
    endpointUrl: server.url,
    config: `[profile erin]\nmfa_serial = ${SERIAL}\n\n[profile reader]\nrole_arn = ${ROLE}\nsource_profile = erin\n`,
    credentials: `[erin]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  });
  const login = await runProcess(
    process.execPath,
    [AWSMFA, "login", "-p", "reader", "--token-code", server.totp(SEED)],
    { env: home.env },
  );
  assert.equal(login.status, 0, login.stderr);
  builds = await mkdtemp(join(tmpdir(), "awsmfa-builds-"));
});
after(async () => {
  await home?.cleanup();
  await server?.close();
  if (builds) await rm(builds, { recursive: true, force: true });
});

test("a warm start leaves a private code cache, and the next start runs from it without rewriting it", async () => {
  removeCodeCaches();
  const first = await credentialProcess();
  assert.equal(first.status, 0, first.stderr);
  const [made] = codeCaches();
  assert.ok(made, "a code cache was made");
  const path = join(home.cacheDir, made);
  const before = statSync(path);
  assert.equal(before.mode & 0o777, 0o600);

  const second = await credentialProcess();
  assert.equal(second.status, 0, second.stderr);
  assert.deepEqual(processCredentials(second), processCredentials(first));
  const later = statSync(path);
  // Rewritten only when V8 refuses it: the same file means V8 took it.
  assert.deepEqual([later.ino, later.mtimeMs], [before.ino, before.mtimeMs], "V8 accepted the code cache");
  assert.deepEqual(codeCaches(), [made]);
});

test("another build of the same length never runs from an older build's code cache", async () => {
  const entry = copyOfBuild("rebuilt");
  const honest = await credentialProcess(entry);
  assert.equal(honest.status, 0, honest.stderr);
  assert.match(honest.stdout, /"Version":1/);

  const warm = join(dirname(entry), "awsmfa-warm.cjs");
  writeFileSync(warm, misspelt(readFileSync(warm, "utf8")));
  const rebuilt = await credentialProcess(entry);
  assert.equal(rebuilt.status, 0, rebuilt.stderr);
  assert.match(rebuilt.stdout, /"Versiom":1/, "the new build's code ran, not the cached old one");
});

test("a planted code cache is run only when it is private: one others could write is never run", async () => {
  removeCodeCaches();
  // What an attacker would plant: the code cache of another bundle of the same length.
  const other = copyOfBuild("other", misspelt);
  assert.equal((await credentialProcess(other)).status, 0);
  const [otherCache] = codeCaches();
  assert.ok(otherCache);
  const planted = readFileSync(join(home.cacheDir, otherCache));
  removeCodeCaches();

  const entry = copyOfBuild("honest");
  assert.match((await credentialProcess(entry)).stdout, /"Version":1/);
  const [ownCache] = codeCaches();
  assert.ok(ownCache);
  const path = join(home.cacheDir, ownCache);

  writeFileSync(path, planted);
  chmodSync(path, 0o644);
  const open = await credentialProcess(entry);
  assert.equal(open.status, 0, open.stderr);
  assert.match(open.stdout, /"Version":1/, "a code cache others may read or write is not run");
  assert.equal(statSync(path).mode & 0o777, 0o600, "and it was replaced by one of awsmfa's own");

  // Counter-check that this test sees a code cache being run at all: the same bytes, private, are.
  writeFileSync(path, planted);
  chmodSync(path, 0o600);
  assert.match((await credentialProcess(entry)).stdout, /"Versiom":1/);
});

test("a code cache holds no credentials", async () => {
  removeCodeCaches();
  const result = await credentialProcess();
  assert.equal(result.status, 0, result.stderr);
  const credentials = processCredentials(result);
  const caches = codeCaches();
  assert.equal(caches.length, 1);
  const text = readFileSync(join(home.cacheDir, caches[0] as string)).toString("latin1");
  for (const secret of [credentials.SecretAccessKey, credentials.SessionToken, KEYS.secretAccessKey]) {
    assert.ok(secret && !text.includes(secret), "no secret in the code cache");
  }
  assert.ok(!text.includes(credentials.AccessKeyId), "nor the access key id");
});

test("20 first starts at once: every one answers, and one whole code cache is left", async () => {
  removeCodeCaches();
  const results = await Promise.all(Array.from({ length: 20 }, () => credentialProcess()));
  for (const result of results) {
    assert.equal(result.status, 0, result.stderr);
    assert.equal(processCredentials(result).Version, 1);
  }
  assert.equal(codeCaches().length, 1);
  assert.deepEqual(
    readdirSync(home.cacheDir).filter((name) => name.endsWith(".tmp")),
    [],
    "no temp file left",
  );
  const again = await credentialProcess();
  assert.equal(again.status, 0, again.stderr);
});
