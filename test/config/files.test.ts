import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import { loadPlan } from "../../src/commands/profile-plans";
import {
  configFilePath,
  credentialsFilePath,
  loadProfileSet,
  loadProfileSubset,
  profileFromEnv,
  readProfileFiles,
} from "../../src/config/files";
import { resolvePlan } from "../../src/config/plan";
import { configWork } from "../../src/config/work";
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

describe("loadProfileSubset: the profiles a plan visits, and the plan the whole set gives", () => {
  const SERIAL = "arn:aws:iam::111111111111:mfa/u";
  const ROLE = "arn:aws:iam::111111111111:role/R";
  const CONFIG = `[default]
region = eu-west-1

[profile user]
mfa_serial = ${SERIAL}
region = eu-central-1

[profile role]
role_arn = ${ROLE}
source_profile = user

[profile role-on-role]
role_arn = ${ROLE}2
source_profile = role
duration_seconds = 1800

[profile __proto__]
role_arn = ${ROLE}3
source_profile = constructor

[profile constructor]
role_arn = ${ROLE}4
source_profile = user

[profile to-credentials-only]
role_arn = ${ROLE}5
source_profile = keys-only

[profile self]
role_arn = ${ROLE}6
source_profile = self
aws_access_key_id_is_not_here = x

[profile dangling]
role_arn = ${ROLE}7
source_profile = nowhere

[profile loop-a]
role_arn = ${ROLE}8
source_profile = loop-b

[profile loop-b]
role_arn = ${ROLE}9
source_profile = loop-a

[profile sso]
sso_session = corp
sso_account_id = 111111111111
sso_role_name = Reader

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
`;
  const CREDENTIALS = `[user]
aws_access_key_id = AKIAUSEREXAMPLE00001
aws_secret_access_key = user/secret
region = us-west-2

[keys-only]
aws_access_key_id = AKIAKEYSEXAMPLE00001
aws_secret_access_key = keys/secret

[self]
aws_access_key_id = AKIASELFEXAMPLE00001
aws_secret_access_key = self/secret

[only-here]
role_arn = ${ROLE}10
source_profile = role
`;
  const OWN_PROCESS = `[profile cli]
credential_process = awsmfa credential-process -p role-on-role
`;
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-subset-"));
  after(() => rmSync(dir, { recursive: true, force: true }));

  function outcome(resolve: () => unknown): unknown {
    try {
      return { plan: resolve() };
    } catch (error) {
      return { error: (error as Error).message };
    }
  }

  function assertSamePlans(config: string, name: string): void {
    const home = join(dir, name);
    mkdirSync(home);
    writeFileSync(join(home, "config"), config, { mode: 0o600 });
    writeFileSync(join(home, "credentials"), CREDENTIALS, { mode: 0o600 });
    const env = {
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWSMFA_CACHE_DIR: join(home, "cache"),
    };
    const names = [...Object.keys(loadProfileSet(env).profiles), "nowhere"];
    // Twice: the names above stored the parse (unless the file names a command), which both rounds read.
    for (const round of ["parsed", "stored"]) {
      for (const profile of names) {
        const whole = outcome(() => resolvePlan(loadProfileSet(env), profile));
        const what = `${name}, ${round}: profile '${profile}'`;
        // A plan the whole set gives, the subset gives too; errors are loadPlan's, from the whole set.
        if ("plan" in (whole as object))
          assert.deepEqual(
            outcome(() => resolvePlan(loadProfileSubset(env, profile), profile)),
            whole,
            what,
          );
        // loadPlan also records the files it read (filesRead, for the warm index): not part of the plan.
        assert.deepEqual(
          outcome(() => {
            const { filesRead: _read, ...plan } = loadPlan(profile, env);
            return plan;
          }),
          whole,
          what,
        );
      }
    }
  }

  test("every profile of a config with chains, odd names, both files, loops and an sso-session", () => {
    assertSamePlans(CONFIG, "stored");
  });

  test("the same through awsmfa's own credential_process (a config that is never stored)", () => {
    assertSamePlans(`${CONFIG}\n${OWN_PROCESS}`, "never-stored");
  });

  test("a missing profile's error lists every known profile, each file parsed once", () => {
    for (const name of ["stored", "never-stored"]) {
      const home = join(dir, name);
      const env = {
        AWS_CONFIG_FILE: join(home, "config"),
        AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
        AWSMFA_CACHE_DIR: join(home, "cache"),
      };
      configWork.parses.clear();
      assert.throws(
        () => loadPlan("dangling", env),
        (error: AppError) => /'nowhere'/.test(error.message) && /keys-only, loop-a/.test(error.hint ?? ""),
      );
      for (const path of [env.AWS_CONFIG_FILE, env.AWS_SHARED_CREDENTIALS_FILE])
        assert.ok(
          (configWork.parses.get(path) ?? 0) <= 1,
          `${name}: ${path} parsed ${configWork.parses.get(path)} times`,
        );
    }
  });

  test("a role's subset holds the role, what it stands on and the credentials file's profiles, no other", () => {
    const home = join(dir, "stored");
    const env = {
      AWS_CONFIG_FILE: join(home, "config"),
      AWS_SHARED_CREDENTIALS_FILE: join(home, "credentials"),
      AWSMFA_CACHE_DIR: join(home, "cache"),
    };
    const subset = loadProfileSubset(env, "role-on-role");
    assert.deepEqual(Object.keys(subset.profiles).sort(), [
      "keys-only",
      "only-here",
      "role",
      "role-on-role",
      "self",
      "user",
    ]);
  });
});
