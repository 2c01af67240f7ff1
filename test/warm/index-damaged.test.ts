// A damaged or hand-edited warm index is a miss: credential-process answers through the full path,
// never "this is a bug" (exit 70), and never reads a file outside the cache that the index names.
import assert from "node:assert/strict";
import { readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { ALICE_CONFIG, KEYS, useAliceWorld } from "../support/alice-world";
import { runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const SEED = randomBase32Seed();
const world = useAliceWorld({
  seed: SEED,
  config: ALICE_CONFIG,
  credentials: `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
});

test("damaged warm indexes: each one a miss, the cached session still answered", async () => {
  const { home, server } = world;
  const login = await runAwsmfa(["login", "-p", "alice", "--token-code", server.totp(SEED)], {
    env: home.env,
  });
  assert.equal(login.status, 0, login.stderr);
  const first = await runAwsmfa(["credential-process", "-p", "alice"], { env: home.env });
  assert.equal(first.status, 0, first.stderr);
  const key = JSON.parse(first.stdout).AccessKeyId;
  const indexes = readdirSync(home.cacheDir).filter((name) => name.startsWith("warm-"));
  assert.ok(indexes.length > 0, "credential-process left a warm index");

  const damaged = [
    { version: 1, profile: "alice" },
    { version: 1, profile: "alice", files: "nope", entryKey: "0".repeat(32) },
    { version: 1, profile: "alice", files: [], entryKey: 42 },
    { version: 1, profile: "alice", files: [{}, {}], entryKey: "../../../etc/passwd" },
    [],
    null,
  ];
  for (const value of damaged) {
    for (const name of indexes)
      writeFileSync(join(home.cacheDir, name), JSON.stringify(value), { mode: 0o600 });
    const result = await runAwsmfa(["credential-process", "-p", "alice"], { env: home.env });
    assert.equal(result.status, 0, `${JSON.stringify(value)}: ${result.stderr}`);
    assert.equal(JSON.parse(result.stdout).AccessKeyId, key, JSON.stringify(value));
  }
  assert.equal(server.calls.GetSessionToken, 1, "the cached session answered every time");
});
