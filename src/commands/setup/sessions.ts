import { isLoginSessionProfile, isSsoProfile } from "../../config/session-leaf";
import type { ProfileSet, Properties } from "../../config/types";
import { loginCommand } from "../../session/sources/login-session";
import { ssoLoginCommand, ssoSessionSource } from "../../session/sources/sso-session";
import { applyWanted, type ProfileFiles, type Progress, showAndWrite } from "./change";
import { missing, type SetupOptions, usage } from "./checks";
import { type Asker, askProfileName, chooseOnTop, doneMessage, type OnTopFlags, say } from "./questions";

/**
 * Profiles that sign in through the aws CLI — `aws login` (login_session) and IAM Identity Center
 * (sso_session or sso_start_url, with sso_account_id and sso_role_name) — hold no key for setup to
 * check and no MFA device to find: the aws CLI signs them in. Setup builds on them instead: role
 * profiles on top (source_profile = the profile), and a credential_process profile for the tools
 * that cannot read them (Terraform, the aws CLI v1). Nothing is asked of AWS here.
 */

export interface SessionProfile {
  name: string;
  /** How it signs in, for a person: "`aws login`", "IAM Identity Center (account …, role …)". */
  signsInWith: string;
  /** What it gives, offered as the credential_process profile's target. */
  gives: string;
  /** The aws CLI command that signs it in. */
  signIn: string;
}

/** The profile as a session source, or undefined when it is not one (by session/sources' own rules). */
export function sessionProfileOf(name: string, set: ProfileSet): SessionProfile | undefined {
  const properties: Properties = set.profiles[name] ?? {};
  if (isLoginSessionProfile(properties)) {
    return {
      name,
      signsInWith: "`aws login`",
      gives: "the `aws login` session itself",
      signIn: loginCommand(name, process.env),
    };
  }
  // Only a whole Identity Center profile: one missing its account or role is the plan's error to report.
  if (!isSsoProfile(properties) || !properties.sso_account_id || !properties.sso_role_name) return undefined;
  const sessionName = properties.sso_session;
  const source = ssoSessionSource(name, properties, sessionName ? set.ssoSessions[sessionName] : {});
  return {
    name,
    signsInWith: `IAM Identity Center (account ${source.accountId}, role ${source.roleName})`,
    gives: "the IAM Identity Center role itself",
    signIn: ssoLoginCommand(source),
  };
}

/**
 * The first question when the files have session profiles: build on one of them, or set up an
 * IAM user's keys (the name asked next). Without any, only the name is asked.
 */
export async function askWhichProfile(ask: Asker, set: ProfileSet, fallback: string): Promise<string> {
  const sessions = Object.keys(set.profiles).flatMap((name) => sessionProfileOf(name, set) ?? []);
  if (sessions.length === 0) return askProfileName(ask, fallback);
  // Not a profile name: those have no spaces.
  const keys = " keys";
  const choice = await ask.select(
    "What should awsmfa set up?",
    [
      { value: keys, label: "An IAM user's access key and MFA device" },
      ...sessions.map((session) => ({
        value: session.name,
        label: `Roles and a credential_process profile on top of profile '${session.name}'`,
        hint: session.signsInWith,
      })),
    ],
    keys,
  );
  return choice === keys ? askProfileName(ask, fallback) : choice;
}

export interface SessionSetup {
  options: SetupOptions;
  ask: Asker | undefined;
  progress: Progress;
  files: ProfileFiles;
  session: SessionProfile;
  given: OnTopFlags;
}

/** Setup on a session profile: the profiles on top, shown and written; no key, no device, no login. */
export async function setUpOnSession(setup: SessionSetup): Promise<void> {
  const { options, ask, session, given } = setup;
  refuseKeyFlags(options, session);
  if (!ask && given.roles.length === 0 && !given.cli && options.region === undefined) {
    missing(
      `the profiles to add on top of profile '${session.name}'`,
      "--role NAME=ROLE_ARN or --credential-process-profile NAME[=PROFILE]",
      options.yes,
    );
  }
  say(
    ask,
    `Profile '${session.name}' signs in with ${session.signsInWith}. Role profiles can go on top of it, and a credential_process profile for tools that cannot read it (Terraform, the aws CLI v1).`,
  );
  const { roles, cli, region } = await chooseOnTop(options, ask, session.name, given, session.gives);
  const cliRegion = region ?? given.currentRegion;
  const wanted = { profile: session.name, region, roles, cli, cliRegion };
  const changed = applyWanted(setup.files, wanted);
  if (!(await showAndWrite(changed, options, ask, setup.progress, session.name))) return;
  const tryIt = `awsmfa exec -p ${roles.at(-1)?.name ?? session.name} -- aws sts get-caller-identity`;
  ask?.outro(
    `${doneMessage(cli, cliRegion, `Done. Try: ${tryIt}`)} When the session ends, sign in again with \`${session.signIn}\`.`,
  );
}

/** A session profile has no key or device for these flags to set, and setup makes no login to give a code. */
function refuseKeyFlags(options: SetupOptions, session: SessionProfile): void {
  const given = [
    options.accessKeyId !== undefined && "--access-key-id",
    options.secretAccessKeyStdin && "--secret-access-key-stdin",
    options.importFromCredentials !== undefined && "--import-from-credentials",
    options.mfaSerial !== undefined && "--mfa-serial",
    options.tokenCode !== undefined && "--token-code",
  ].filter((flag): flag is string => typeof flag === "string");
  if (given.length === 0) return;
  throw usage(
    `Profile '${session.name}' signs in with ${session.signsInWith}: it has no access key or MFA device for ${given.join(", ")}.`,
    `Leave ${given.length === 1 ? "it" : "them"} out to add role profiles (--role) or a credential_process profile (--credential-process-profile) on top of '${session.name}', or name another profile for an IAM user's keys.`,
  );
}
