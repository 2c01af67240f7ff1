// `setup` on profiles that sign in through the aws CLI (`aws login`, IAM Identity Center): it
// recognises them, adds role profiles on top and a credential_process profile for the tools that
// cannot read them, and writes only the config file. No AWS call is made: the aws CLI signs them in.
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { after, describe, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { runAwsmfa } from "../support/run-awsmfa";

const ROLE = "arn:aws:iam::111111111111:role/Admin";
const LOGIN = `[profile signin]
login_session = arn:aws:iam::111111111111:user/alice
region = eu-west-1
`;
const SSO = `[profile work]
sso_session = corp
sso_account_id = 222222222222
sso_role_name = Developer
region = eu-central-1

[sso-session corp]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_registration_scopes = sso:account:access
`;
const LEGACY_SSO = `[profile old]
sso_start_url = https://corp.awsapps.com/start
sso_region = eu-west-1
sso_account_id = 222222222222
sso_role_name = ReadOnly
`;

const homes: IsolatedEnv[] = [];
after(async () => {
  for (const home of homes) await home.cleanup();
});

/** A home with `config` only; the endpoint is a closed port: setup must not call anything. */
async function homeWith(config: string): Promise<IsolatedEnv> {
  const home = await createIsolatedEnv({ endpointUrl: "http://127.0.0.1:9", config });
  homes.push(home);
  return home;
}

describe("setup on an `aws login` profile", () => {
  test("adds a role on top and a credential_process profile for it; the config file only", async () => {
    const home = await homeWith(LOGIN);
    const result = await runAwsmfa(
      [
        "setup",
        "-p",
        "signin",
        "--role",
        `signin-admin=${ROLE}`,
        "--credential-process-profile",
        "signin-tf=signin-admin",
        "--yes",
      ],
      { env: home.env },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(result.stderr, /Profile 'signin' signs in with `aws login`/);
    assert.equal(
      readFileSync(home.configPath, "utf8"),
      `${LOGIN}\n[profile signin-admin]\nrole_arn = ${ROLE}\nsource_profile = signin\n\n[profile signin-tf]\ncredential_process = awsmfa credential-process -p signin-admin\nregion = eu-west-1\n`,
    );
    assert.equal(existsSync(home.credentialsPath), false, "no credentials file");
    assert.doesNotMatch(result.stderr, /Logging in/);
  });

  test("flags for keys or a code are refused, naming them", async () => {
    const home = await homeWith(LOGIN);
    const result = await runAwsmfa(
      ["setup", "-p", "signin", "--import-from-credentials", "--token-code", "123456", "--yes"],
      { env: home.env },
    );
    assert.equal(result.status, 2, result.stderr);
    assert.match(
      result.stderr,
      /Profile 'signin' signs in with `aws login`: it has no access key or MFA device for --import-from-credentials, --token-code\./,
    );
    assert.equal(readFileSync(home.configPath, "utf8"), LOGIN);
  });

  test("with nothing to add and no terminal, the flags that add something are named", async () => {
    const home = await homeWith(LOGIN);
    const result = await runAwsmfa(["setup", "-p", "signin"], { env: home.env });
    assert.equal(result.status, 4, result.stderr);
    assert.match(result.stderr, /no terminal to ask for the profiles to add on top of profile 'signin'/);
    assert.match(result.stderr, /--role NAME=ROLE_ARN or --credential-process-profile/);
  });
});

describe("setup on an IAM Identity Center profile", () => {
  test("--dry-run shows the credential_process profile (the profile's region with it) and writes nothing", async () => {
    const home = await homeWith(SSO);
    const result = await runAwsmfa(
      ["setup", "-p", "work", "--credential-process-profile", "work-tf", "--dry-run"],
      { env: home.env },
    );
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /signs in with IAM Identity Center \(account 222222222222, role Developer\)/);
    assert.ok(
      result.stderr.includes(
        ` sso_registration_scopes = sso:account:access\n+\n+[profile work-tf]\n+credential_process = awsmfa credential-process -p work\n+region = eu-central-1\n`,
      ),
      result.stderr,
    );
    assert.match(result.stderr, /Dry run: nothing was written\./);
    assert.equal(readFileSync(home.configPath, "utf8"), SSO);
  });

  test("the older sso_start_url form is recognised too: a role on top of it", async () => {
    const home = await homeWith(LEGACY_SSO);
    const result = await runAwsmfa(["setup", "-p", "old", "--role", `old-admin=${ROLE}`, "--yes"], {
      env: home.env,
    });
    assert.equal(result.status, 0, result.stderr);
    assert.match(result.stderr, /signs in with IAM Identity Center \(account 222222222222, role ReadOnly\)/);
    assert.equal(
      readFileSync(home.configPath, "utf8"),
      `${LEGACY_SSO}\n[profile old-admin]\nrole_arn = ${ROLE}\nsource_profile = old\n`,
    );
  });

  test("an sso_session without an account and a role is no session source: setup asks for keys", async () => {
    const home = await homeWith(
      "[profile portal]\nsso_session = corp\n\n[sso-session corp]\nsso_start_url = https://corp.awsapps.com/start\nsso_region = eu-west-1\n",
    );
    const result = await runAwsmfa(["setup", "-p", "portal", "--credential-process-profile", "x", "--yes"], {
      env: home.env,
    });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /no flag gave the access key/);
  });
});
