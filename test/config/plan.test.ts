import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Plan, planSteps, resolvePlan } from "../../src/config/plan";
import type { ProfileSet, Properties } from "../../src/config/types";
import { AppError } from "../../src/errors";

interface AssumeRoleCase {
  docs: string;
  input: {
    profiles: Record<string, Properties>;
    selected_profile: string;
    sso_sessions?: Record<string, Properties>;
  };
  output: { ProfileChain: Record<string, unknown>[] } | { Error: string };
}

const cases: AssumeRoleCase[] = JSON.parse(
  readFileSync(join(__dirname, "../fixtures/aws-sdk-spec/assume-role-tests.json"), "utf8"),
);

function profileSet(
  profiles: Record<string, Properties>,
  ssoSessions: Record<string, Properties> = {},
): ProfileSet {
  return { profiles, ssoSessions, origins: {} };
}

/** Our plan in the suite's vocabulary, so the expected chains compare as they are written. */
function asSuiteChain(plan: Plan): Record<string, unknown>[] {
  const leaf = plan.leaf;
  const first: Record<string, unknown> = (() => {
    switch (leaf.type) {
      case "keys": {
        const accountId = plan.chain.find((p) => p.aws_access_key_id === leaf.accessKeyId)?.aws_account_id;
        return {
          AccessKey: {
            access_key_id: leaf.accessKeyId,
            secret_access_key: leaf.secretAccessKey,
            ...(accountId ? { account_id: accountId } : {}),
          },
        };
      }
      case "credential-source":
        return { NamedSource: leaf.detail.credential_source };
      case "web-identity":
        return { WebIdentityToken: leaf.detail };
      case "sso":
        return { Sso: leaf.detail };
      case "login-session":
        return { Login: leaf.detail };
      case "credential-process":
        return { CredentialProcess: leaf.detail };
    }
  })();
  const roles = plan.roles.map((role) => ({
    AssumeRole: {
      role_arn: role.roleArn,
      ...(role.roleSessionName ? { role_session_name: role.roleSessionName } : {}),
      ...(role.externalId ? { external_id: role.externalId } : {}),
    },
  }));
  return [first, ...roles];
}

describe(`cross-SDK assume-role suite (${cases.length} cases)`, () => {
  for (const [index, c] of cases.entries()) {
    test(`assume-role ${index + 1}: ${c.docs}`, () => {
      const set = profileSet(c.input.profiles, c.input.sso_sessions);
      if ("Error" in c.output) {
        assert.throws(() => resolvePlan(set, c.input.selected_profile), AppError);
        return;
      }
      assert.deepEqual(asSuiteChain(resolvePlan(set, c.input.selected_profile)), c.output.ProfileChain);
    });
  }
});

describe("the MFA session step", () => {
  const user = {
    aws_access_key_id: "AKIAUSER",
    aws_secret_access_key: "secret",
    mfa_serial: "arn:aws:iam::1:mfa/u",
  };

  test("a user profile with mfa_serial gets keys then one mfa-session", () => {
    const plan = resolvePlan(profileSet({ u: user }), "u");
    assert.deepEqual(
      planSteps(plan).map((s) => s.type),
      ["keys", "mfa-session"],
    );
    assert.equal(plan.mfa?.serial, "arn:aws:iam::1:mfa/u");
    assert.equal(plan.mfa?.durationSeconds, 43200);
  });

  test("roles above a user with mfa_serial run on the session, C→B→A", () => {
    const plan = resolvePlan(
      profileSet({
        a: user,
        b: { role_arn: "arn:aws:iam::2:role/B", source_profile: "a" },
        c: { role_arn: "arn:aws:iam::3:role/C", source_profile: "b", external_id: "x" },
      }),
      "c",
    );
    assert.deepEqual(
      planSteps(plan).map((s) => `${s.type}:${s.profile}`),
      ["keys:a", "mfa-session:a", "assume-role:b", "assume-role:c"],
    );
    assert.equal(plan.roles[1]?.externalId, "x");
  });

  test("the declaration nearest the selected profile wins", () => {
    const plan = resolvePlan(
      profileSet({
        a: user,
        b: { role_arn: "arn:aws:iam::2:role/B", source_profile: "a", mfa_serial: "arn:aws:iam::1:mfa/other" },
      }),
      "b",
    );
    assert.equal(plan.mfa?.serial, "arn:aws:iam::1:mfa/other");
    assert.equal(plan.mfa?.profile, "a");
  });

  test("awsmfa_session = false puts the code on the first AssumeRole instead", () => {
    const plan = resolvePlan(
      profileSet({
        a: user,
        b: { role_arn: "arn:aws:iam::2:role/B", source_profile: "a", awsmfa_session: "false" },
      }),
      "b",
    );
    assert.equal(plan.mfa, undefined);
    assert.equal(plan.roles[0]?.mfaSerial, "arn:aws:iam::1:mfa/u");
  });

  test("no mfa_serial anywhere: no session step", () => {
    const plan = resolvePlan(profileSet({ a: { aws_access_key_id: "k", aws_secret_access_key: "s" } }), "a");
    assert.equal(plan.mfa, undefined);
  });

  test("awsmfa_session_duration is checked", () => {
    assert.equal(
      resolvePlan(profileSet({ a: { ...user, awsmfa_session_duration: "3600" } }), "a").mfa?.durationSeconds,
      3600,
    );
    assert.throws(
      () => resolvePlan(profileSet({ a: { ...user, awsmfa_session_duration: "60" } }), "a"),
      /from 900 to 129600/,
    );
  });

  test("errors name the profiles", () => {
    const loop = profileSet({
      a: { role_arn: "arn:r", source_profile: "b" },
      b: { role_arn: "arn:r", source_profile: "a" },
    });
    assert.throws(() => resolvePlan(loop, "a"), /a → b → a/);
    assert.throws(
      () => resolvePlan(profileSet({ a: user }), "nope"),
      (e: AppError) => /Known profiles: a/.test(e.hint ?? ""),
    );
    assert.throws(
      () => resolvePlan(profileSet({ a: { role_arn: "arn:r" } }), "a"),
      /'a' has role_arn but no source_profile/,
    );
  });
});

describe("a credential_process that runs awsmfa itself is followed to the profile it names", () => {
  const user: Properties = {
    aws_access_key_id: "AKIAUSER",
    aws_secret_access_key: "secret",
    mfa_serial: "arn:aws:iam::111111111111:mfa/alice",
    region: "eu-central-1",
  };
  const admin: Properties = { role_arn: "arn:aws:iam::222222222222:role/Admin", source_profile: "dev" };
  const viaAwsmfa = (command: string, extra: Properties = {}) =>
    profileSet({ dev: user, "dev-admin": admin, "dev-cli": { credential_process: command, ...extra } });
  const stepsOf = (plan: Plan) => planSteps(plan).map((step) => `${step.type}:${step.profile}`);

  for (const command of [
    "awsmfa credential-process -p dev-admin",
    "/usr/local/bin/awsmfa credential-process --profile dev-admin",
    "awsmfa credential-process --profile=dev-admin --min-ttl 30m",
    "awsmfa --debug credential-process -p dev-admin",
    "npx awsmfa credential-process -p dev-admin",
    "npx --yes awsmfa credential-process -p dev-admin",
    `"/opt/node 22/bin/node" '/home/a b/awsmfa/dist/awsmfa.cjs' credential-process -p "dev-admin"`,
  ]) {
    test(command, () => {
      const plan = resolvePlan(viaAwsmfa(command), "dev-cli");
      assert.equal(plan.profile, "dev-cli");
      assert.deepEqual(stepsOf(plan), ["keys:dev", "mfa-session:dev", "assume-role:dev-admin"]);
    });
  }

  test("the region: the selected profile's own wins, else the one of the profile it names", () => {
    assert.equal(
      resolvePlan(viaAwsmfa("awsmfa credential-process -p dev-admin"), "dev-cli").chain.find((p) => p.region)
        ?.region,
      "eu-central-1",
    );
    const own = resolvePlan(
      viaAwsmfa("awsmfa credential-process -p dev-admin", { region: "us-west-2" }),
      "dev-cli",
    );
    assert.equal(own.chain.find((p) => p.region)?.region, "us-west-2");
  });

  test("a role on top of the awsmfa profile runs on the same MFA session", () => {
    const set = profileSet({
      dev: user,
      "dev-cli": { credential_process: "awsmfa credential-process -p dev" },
      deploy: { role_arn: "arn:aws:iam::333333333333:role/Deploy", source_profile: "dev-cli" },
    });
    assert.deepEqual(stepsOf(resolvePlan(set, "deploy")), [
      "keys:dev",
      "mfa-session:dev",
      "assume-role:deploy",
    ]);
  });

  test("the profile it names is resolved as if selected: its role wins over keys beside it", () => {
    const set = profileSet({
      dev: user,
      both: { ...admin, aws_access_key_id: "AKIABOTH", aws_secret_access_key: "s" },
      "dev-cli": { credential_process: "awsmfa credential-process -p both" },
    });
    assert.deepEqual(stepsOf(resolvePlan(set, "dev-cli")), [
      "keys:dev",
      "mfa-session:dev",
      "assume-role:both",
    ]);
  });

  test("other programs, and awsmfa without a profile, stay credential_process leaves", () => {
    for (const command of [
      "aws-vault export --format=json dev",
      "awsmfa-helper credential-process -p dev",
      "awsmfa env -p dev",
      "awsmfa credential-process",
      "awsmfa credential-process -p dev; rm -rf /",
    ]) {
      const plan = resolvePlan(viaAwsmfa(command), "dev-cli");
      assert.equal(plan.leaf.type, "credential-process", command);
    }
  });

  test("only a real loop is one, named as leading back into awsmfa", () => {
    const loop = profileSet({
      a: { credential_process: "awsmfa credential-process -p b" },
      b: { credential_process: "awsmfa credential-process -p a" },
    });
    assert.throws(
      () => resolvePlan(loop, "a"),
      (e: AppError) =>
        e.code === "credential-loop" && /'a' leads back into awsmfa itself: a → b → a/.test(e.message),
    );
    const self = profileSet({ self: { credential_process: "awsmfa credential-process -p self" } });
    assert.throws(() => resolvePlan(self, "self"), /self → self/);
  });

  test("a profile it names that does not exist is named with where it came from", () => {
    assert.throws(
      () => resolvePlan(viaAwsmfa("awsmfa credential-process -p nope"), "dev-cli"),
      /Profile 'nope' \(named by the awsmfa credential_process of 'dev-cli'\) is not defined/,
    );
  });
});

describe("sessions the aws CLI signed in: aws login and IAM Identity Center", () => {
  const user = "arn:aws:iam::1:user/alice";
  const sso = {
    ssoSessions: { corp: { sso_start_url: "https://d-1.awsapps.com/start", sso_region: "us-east-1" } },
  };
  const set = (profiles: Record<string, Properties>) => profileSet(profiles, sso.ssoSessions);

  test("a profile with login_session is a login-session leaf with its region; no MFA step, whatever mfa_serial says", () => {
    const plan = resolvePlan(
      set({ dev: { login_session: user, region: "eu-west-1", mfa_serial: "arn:aws:iam::1:mfa/u" } }),
      "dev",
    );
    assert.deepEqual(plan.leaf, {
      type: "login-session",
      profile: "dev",
      detail: { login_session: user, region: "eu-west-1" },
    });
    assert.equal(plan.mfa, undefined);
  });

  test("login_session comes before the static-keys fallback; keys below the selected profile still win", () => {
    const both = { login_session: user, aws_access_key_id: "AKIAUSER", aws_secret_access_key: "s" };
    assert.equal(resolvePlan(set({ dev: both }), "dev").leaf.type, "login-session");
    const below = resolvePlan(
      set({ dev: both, admin: { role_arn: "arn:aws:iam::1:role/A", source_profile: "dev" } }),
      "admin",
    );
    assert.equal(below.leaf.type, "keys");
  });

  test("an Identity Center profile is an sso leaf with the session's settings; a role on it is capped at an hour", () => {
    const plan = resolvePlan(
      set({
        "corp-dev": { sso_session: "corp", sso_account_id: "1", sso_role_name: "Dev" },
        admin: { role_arn: "arn:aws:iam::1:role/A", source_profile: "corp-dev", duration_seconds: "7200" },
      }),
      "admin",
    );
    assert.equal(plan.leaf.type, "sso");
    assert.equal(plan.leaf.profile, "corp-dev");
    assert.equal(plan.roles[0]?.maxDurationSeconds, 3600);
    assert.equal(plan.roles[0]?.durationSeconds, 7200, "asked for as written; obtain takes the lesser");
  });

  test("over aws login the first role is chained only when the session is an assumed role's", () => {
    const roles = (loginSession: string) =>
      resolvePlan(
        set({
          dev: { login_session: loginSession },
          b: { role_arn: "arn:aws:iam::1:role/B", source_profile: "dev" },
          c: { role_arn: "arn:aws:iam::1:role/C", source_profile: "b" },
        }),
        "c",
      ).roles.map((role) => role.maxDurationSeconds);
    assert.deepEqual(roles(user), [undefined, 3600]);
    assert.deepEqual(roles("arn:aws:sts::1:assumed-role/Ops/alice"), [3600, 3600]);
  });

  test("over keys: a role on the MFA session is capped, one assumed with the code itself is not", () => {
    const keys = {
      aws_access_key_id: "AKIAUSER",
      aws_secret_access_key: "s",
      mfa_serial: "arn:aws:iam::1:mfa/u",
    };
    const role = { role_arn: "arn:aws:iam::1:role/B", source_profile: "a" };
    assert.equal(resolvePlan(set({ a: keys, b: role }), "b").roles[0]?.maxDurationSeconds, 3600);
    const direct = resolvePlan(set({ a: keys, b: { ...role, awsmfa_session: "false" } }), "b");
    assert.equal(direct.roles[0]?.maxDurationSeconds, undefined);
  });
});
