// The config file's parsed profiles kept in awsmfa's cache (src/config/parsed-config.ts): 0600,
// used only while the file is unchanged, and never written when the config file holds keys or
// a command (a TOTP seed can sit on mfa_process's command line).
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { createIsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";

const PLAIN = "[profile dev]\nregion = eu-west-1\n[profile ops]\nregion = us-east-1\n";

async function parsedConfigFiles(config: string, after?: (configPath: string) => void) {
  const iso = await createIsolatedEnv({ endpointUrl: "http://127.0.0.1:9", config });
  try {
    const first = await runAwsmfa(["completion", "--list-profiles"], { env: iso.env });
    assert.equal(first.status, 0, first.stderr);
    after?.(iso.configPath);
    const second = await runAwsmfa(["completion", "--list-profiles"], { env: iso.env });
    assert.equal(second.status, 0, second.stderr);
    const names = (() => {
      try {
        return readdirSync(iso.cacheDir).filter((name) => name.startsWith("config-"));
      } catch {
        return [];
      }
    })();
    return {
      listed: second.stdout,
      files: names.map((name) => ({
        mode: statSync(join(iso.cacheDir, name)).mode & 0o777,
        text: readFileSync(join(iso.cacheDir, name), "utf8"),
      })),
    };
  } finally {
    await iso.cleanup();
  }
}

test("a plain config file's profiles are kept 0600 in the cache directory", async () => {
  const { listed, files } = await parsedConfigFiles(PLAIN);
  assert.equal(listed, "dev\nops\n");
  assert.equal(files.length, 1);
  assert.equal(files[0]?.mode, 0o600);
  assert.match(files[0]?.text ?? "", /"ops"/);
});

test("a change to the config file is seen at once", async () => {
  const { listed } = await parsedConfigFiles(PLAIN, (path) => appendFileSync(path, "[profile new]\n"));
  assert.equal(listed, "dev\nnew\nops\n");
});

for (const line of [
  "aws_secret_access_key = CanaryConfigSecret",
  "aws_session_token = CanaryConfigToken",
  "mfa_process = oathtool --totp -b CANARYSEED",
  "credential_process = print-keys CanarySecret",
]) {
  test(`nothing is kept when the config file holds ${line.split(" ")[0]}`, async () => {
    const { listed, files } = await parsedConfigFiles(`${PLAIN}${line}\n`);
    assert.equal(listed, "dev\nops\n");
    assert.deepEqual(files, []);
  });
}
