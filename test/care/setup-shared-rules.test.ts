// `setup` follows the rules every other command follows, rather than copies of them: it reads the
// profile files through the same guarded reader, and without a terminal it fails as the others do,
// with the flags that answer what it would have asked.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { KEYS, useAliceWorld } from "../support/alice-world";
import { runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const world = useAliceWorld({ seed: randomBase32Seed(), config: "", credentials: CREDENTIALS });

describe("setup reads the profile files as every command does", () => {
  test("a FIFO as the config file is refused at once, not read (which would block)", {
    skip: process.platform === "win32",
  }, async () => {
    const fifo = join(world.home.home, "config-fifo");
    execFileSync("mkfifo", [fifo]);
    const result = await runAwsmfa(["setup", "-p", "alice", "--import-from-credentials", "--dry-run"], {
      env: { ...world.home.env, AWS_CONFIG_FILE: fifo },
      timeoutMs: 20_000,
    });
    assert.equal(result.signal, null, "setup ended by itself");
    assert.equal(result.status, 3, result.stderr);
    assert.match(result.stderr, new RegExp(`${fifo} is not a regular file`));
    assert.equal(world.server.requests.length, 0, "nothing is asked of AWS first");
  });
});

describe("setup without a terminal", () => {
  test("fails as the other commands do with no terminal to ask on, naming the flags that answer", async () => {
    const result = await runAwsmfa(["setup", "-p", "alice"], { env: world.home.env });
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /^awsmfa: There is no terminal to ask for the access key on\.$/m);
    assert.match(result.stderr, /--access-key-id AKIA… --secret-access-key-stdin/);
    assert.match(result.stderr, /--dry-run/);
  });

  test("with --yes, a missing answer is a usage error: nothing was to be asked", async () => {
    const result = await runAwsmfa(["setup", "-p", "alice", "--yes"], { env: world.home.env });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /Nothing is asked with --yes, and no flag gave the access key/);
    assert.equal(readFileSync(world.home.configPath, "utf8"), "", "nothing written");
  });
});
