import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import {
  configFilePath,
  credentialsFilePath,
  loadProfileSet,
  profileFromEnv,
  readProfileFiles,
} from "../../src/config/files";
import { AppError } from "../../src/errors";

interface LocationCase {
  name: string;
  environment: Record<string, string>;
  languageSpecificHome?: string;
  platform: "linux" | "windows" | "macos";
  profile?: string;
  configLocation: string;
  credentialsLocation: string;
}

const cases = (
  JSON.parse(readFileSync(join(__dirname, "../fixtures/aws-sdk-spec/file-location-tests.json"), "utf8")) as {
    tests: LocationCase[];
  }
).tests;

describe("file-location-tests.json", () => {
  assert.equal(cases.length, 9);
  cases.forEach((location, index) => {
    test(`${index + 1}. ${location.name}`, () => {
      const platform = location.platform === "windows" ? "win32" : "linux";
      const env = location.environment;
      const home = location.languageSpecificHome;
      assert.equal(configFilePath(env, platform, home), location.configLocation);
      assert.equal(credentialsFilePath(env, platform, home), location.credentialsLocation);
      if (location.profile !== undefined) assert.equal(profileFromEnv(env), location.profile);
    });
  });
});

describe("file locations", () => {
  test("~ in an override is the home directory", () => {
    assert.equal(configFilePath({ HOME: "/h", AWS_CONFIG_FILE: "~/cfg" }, "linux"), "/h/cfg");
    assert.equal(credentialsFilePath({ AWS_SHARED_CREDENTIALS_FILE: "~\\c" }, "win32", "C:\\u"), "C:\\u\\c");
    assert.equal(configFilePath({ AWS_CONFIG_FILE: "~other/cfg" }, "linux", "/h"), "~other/cfg");
  });

  test("an empty variable counts as unset", () => {
    assert.equal(configFilePath({ HOME: "/h", AWS_CONFIG_FILE: "" }, "linux"), "/h/.aws/config");
    assert.equal(profileFromEnv({ AWS_PROFILE: "" }), "default");
  });
});

describe("reading the files", () => {
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-files-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  test("a missing file is undefined and the other is still read", () => {
    writeFileSync(join(dir, "credentials"), "[a]\nk = v\n");
    const env = { AWS_CONFIG_FILE: join(dir, "nope"), AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials") };
    const files = readProfileFiles(env);
    assert.equal(files.config, undefined);
    assert.deepEqual(files.credentials, { path: join(dir, "credentials"), text: "[a]\nk = v\n" });
    assert.equal(loadProfileSet(env).profiles.a?.k, "v");
  });

  test("a directory (or a FIFO, which would block the read) is refused as not a regular file", () => {
    const subdir = join(dir, "a-directory");
    mkdirSync(subdir);
    assert.throws(() => readProfileFiles({ AWS_CONFIG_FILE: subdir, AWS_SHARED_CREDENTIALS_FILE: subdir }), {
      code: "config-read",
      message: new RegExp(`^${subdir} is not a regular file`),
    });
  });

  test("a FIFO as the config file is refused at once, not read", {
    skip: process.platform === "win32",
  }, () => {
    const fifo = join(dir, "a-fifo");
    execFileSync("mkfifo", [fifo]);
    assert.throws(
      () => readProfileFiles({ AWS_CONFIG_FILE: fifo, AWS_SHARED_CREDENTIALS_FILE: join(dir, "nope") }),
      {
        code: "config-read",
      },
    );
  });

  test("a file without read permission is an AppError naming it", { skip: process.getuid?.() === 0 }, () => {
    const locked = join(dir, "locked");
    writeFileSync(locked, "[a]\n");
    chmodSync(locked, 0o000);
    assert.throws(
      () => readProfileFiles({ AWS_CONFIG_FILE: locked, AWS_SHARED_CREDENTIALS_FILE: join(dir, "nope") }),
      (error: unknown) => error instanceof AppError && error.message.includes(locked),
    );
  });

  test("a parse error names the file's real path", () => {
    const config = join(dir, "broken");
    writeFileSync(config, "[profile a]\noops\n");
    assert.throws(
      () => loadProfileSet({ AWS_CONFIG_FILE: config, AWS_SHARED_CREDENTIALS_FILE: join(dir, "x") }),
      {
        code: "config-parse",
        message: `${config} line 2: Expected an '=' sign defining a property`,
      },
    );
  });
});
