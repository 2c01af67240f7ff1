// The config file's parsed profiles kept in awsmfa's cache (src/config/parsed-config.ts): 0600,
// used only while the file is unchanged, and never written when the config file holds keys or
// a command other than awsmfa's own credential_process (a TOTP seed can sit on mfa_process's
// command line).
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
      everyCacheFile: cacheFileTexts(iso.cacheDir).join("\n"),
    };
  } finally {
    await iso.cleanup();
  }
}

/** The text of every file under the cache directory, whatever its name: what reached the disk. */
function cacheFileTexts(dir: string): string[] {
  try {
    return readdirSync(dir, { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => readFileSync(join(entry.parentPath, entry.name), "utf8"));
  } catch {
    return [];
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

// The line README recommends, in any case and by any of the forms own-command.ts recognises.
const OWN_COMMANDS = [
  "[profile dev-cli]\ncredential_process = awsmfa credential-process -p dev\nregion = eu-west-1\n",
  "[profile dev-cli]\nCredential_Process = node /opt/awsmfa/dist/awsmfa.cjs credential-process --profile=my_process\n",
];
for (const section of OWN_COMMANDS) {
  test(`a config file whose only command is awsmfa's own is kept: ${section.split("\n")[1]}`, async () => {
    const { listed, files } = await parsedConfigFiles(`${PLAIN}${section}`);
    assert.equal(listed, "dev\ndev-cli\nops\n");
    assert.equal(files.length, 1);
    assert.match(files[0]?.text ?? "", /credential-process/);
  });
}

// Each with a canary that must reach no file under the cache directory.
for (const text of [
  "aws_secret_access_key = CanaryConfigSecret\n",
  "aws_session_token = CanaryConfigToken\n",
  "mfa_process = oathtool --totp -b CANARYSEED\n",
  "credential_process = print-keys CanarySecret\n",
  // Beside awsmfa's own credential_process, as README's config grows.
  `${OWN_COMMANDS[0]}[profile seeded]\nmfa_process = oathtool --totp -b CANARYSEED\n`,
  `${OWN_COMMANDS[0]}[profile echoed]\ncredential_process = /bin/echo {"Version":1,"SecretAccessKey":"CanaryEcho"}\n`,
  // awsmfa's own, and then more: a second command, an argument a shell would expand.
  "credential_process = awsmfa credential-process -p dev; echo CanaryChained\n",
  "credential_process = awsmfa credential-process -p dev --token-code $(echo CanaryExpanded)\n",
  // awsmfa's own command under another key, or in a section that is not a profile's.
  "canary_process = awsmfa credential-process -p dev\n",
  "[sso-session canary]\ncredential_process = awsmfa credential-process -p dev\n",
  "[services canary]\ncredential_process = awsmfa credential-process -p dev\n",
  // A comment is not stored, but is not told from a value by the count either.
  `${OWN_COMMANDS[0]}# mfa_process = oathtool --totp -b CANARYSEED\n`,
]) {
  test(`nothing is kept when the config file holds ${JSON.stringify(text)}`, async () => {
    const { listed, files, everyCacheFile } = await parsedConfigFiles(`${PLAIN}${text}`);
    assert.match(listed, /^dev\n/, "listed from the parse");
    assert.deepEqual(files, []);
    assert.doesNotMatch(everyCacheFile, /canary/i);
  });
}
