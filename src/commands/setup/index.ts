import { profileFromEnv } from "../../config/files";
import { parseProfileFiles } from "../../config/ini";
import type { ProfileSet } from "../../config/types";
import { ExitStatus } from "../../errors";
import { tellStderr } from "../../output/tell";
import { stsEndpointsFor } from "../../session/steps";
import { runLogin } from "../login";
import { chooseDevice, iamUserOf, identifyKeys } from "./aws";
import { applyWanted, type ProfileFiles, type Progress, readFileStates, showAndWrite } from "./change";
import {
  cancelled,
  checkAccessKeyId,
  checkNames,
  checkProfileName,
  checkSerial,
  isRegion,
  parseCliFlag,
  parseRoleFlag,
  type RoleProfile,
  type SetupOptions,
  usage,
} from "./checks";
import { chooseKeys, readStdinAnswers, refuseKeysOverStore } from "./keys";
import { type Asker, chooseOnTop, clackAsker, doneMessage, type OnTopFlags, say } from "./questions";
import { askWhichProfile, sessionProfileOf, setUpOnSession } from "./sessions";

/**
 * `awsmfa setup`: from an IAM user's access key to a working MFA session in one go. Checks the
 * key (GetCallerIdentity), finds the MFA device (ListMFADevices), optionally adds role profiles
 * and a credential_process profile, shows the exact change to ~/.aws/config and
 * ~/.aws/credentials (secrets masked), writes it, and logs in to prove it works. On a profile that
 * signs in through the aws CLI (`aws login`, IAM Identity Center) it adds only the profiles on top.
 *
 * Every question has a flag, so it runs unattended too: on a terminal the questions the flags
 * leave open are asked (@clack/prompts, loaded only here); with --yes or without a terminal
 * nothing is asked, and what no flag answers takes its default or is an error naming the flag.
 *
 * This file is the flow; checks.ts the rules for what is given, questions.ts the questions,
 * keys.ts the access key, aws.ts the calls to AWS, change.ts the files, sessions.ts the session
 * profiles.
 */

/** The diff setup shows; test/care/setup.test.ts checks it against GNU patch. */
export { unifiedDiff } from "../../output/diff";
export type { SetupOptions } from "./checks";

export async function runSetup(options: SetupOptions): Promise<void> {
  const progress: Progress = { written: [] };
  // Ctrl-C at a question is an answer (cancelled()); anywhere else — an AWS call, the code prompt
  // of the final login — it is a signal: the same one message, the same status.
  const onInterrupt = () => {
    const message =
      progress.written.length > 0
        ? `Setup interrupted; ${progress.written.join(" and ")} ${progress.written.length === 1 ? "is" : "are"} written: run \`awsmfa login -p ${progress.profile}\` to log in.`
        : cancelled().message;
    process.stderr.write(`\nawsmfa: ${message}\n`);
    process.exit(ExitStatus.interrupted);
  };
  process.once("SIGINT", onInterrupt);
  try {
    await setUp(options, progress);
  } finally {
    process.off("SIGINT", onInterrupt);
  }
}

async function setUp(options: SetupOptions, progress: Progress): Promise<void> {
  const env = process.env;
  // Everything the flags say is checked before stdin is read or AWS is called.
  const flagRoles = checkFlags(options);
  const interactive = !options.yes && process.stdin.isTTY === true && process.stderr.isTTY === true;
  const ask = interactive ? await clackAsker() : undefined;
  ask?.intro("awsmfa setup");

  const input = await readStdinAnswers(options);
  const files = readFileStates(env);
  const merged = parseProfileFiles(
    files.config.exists ? { path: files.config.path, text: files.config.before } : undefined,
    files.credentials.exists ? { path: files.credentials.path, text: files.credentials.before } : undefined,
  );
  const profile =
    options.profile ?? (ask ? await askWhichProfile(ask, merged, profileFromEnv(env)) : profileFromEnv(env));
  checkProfileName(profile, "--profile");
  const flagCli =
    options.credentialProcessProfile === undefined
      ? undefined
      : parseCliFlag(options.credentialProcessProfile, profile, flagRoles);
  checkNames(profile, flagRoles, flagCli?.name);
  const current = merged.profiles[profile] ?? {};
  const given = { roles: flagRoles, cli: flagCli, currentRegion: current.region };

  const session = sessionProfileOf(profile, merged);
  if (session) return setUpOnSession({ options, ask, progress, files, session, given });
  const tokenCode =
    options.tokenCode === "-" && input.tokenCode !== undefined ? input.tokenCode : options.tokenCode;
  await setUpKeys({ options, ask, progress, files, merged, profile, given, secret: input.secret, tokenCode });
}

interface KeysSetup {
  options: SetupOptions;
  ask: Asker | undefined;
  progress: Progress;
  files: ProfileFiles;
  merged: ProfileSet;
  profile: string;
  given: OnTopFlags;
  /** From --secret-access-key-stdin. */
  secret: string | undefined;
  tokenCode: string | undefined;
}

/** Setup on an IAM user's keys: checked, the device found, the profiles written, a login to prove it. */
async function setUpKeys(setup: KeysSetup): Promise<void> {
  const { options, ask, profile, merged, given } = setup;
  const current = merged.profiles[profile] ?? {};
  // 1. The keys, and whose they are.
  const chosen = await chooseKeys(options, setup.secret, profile, merged, ask);
  refuseKeysOverStore(chosen, current, profile);
  // The region the profile will have once written: --region, or the one it has.
  const where = stsEndpointsFor(process.env, options.region || current.region);
  const { keys, identity } = await identifyKeys(chosen, where, profile, current, ask);
  const userName = iamUserOf(identity, keys);
  say(ask, `The key ${keys.accessKeyId} belongs to ${identity.arn} (account ${identity.account}).`);

  // 2. The MFA device.
  const serial = options.mfaSerial ?? (await chooseDevice(keys, userName, identity, current, profile, ask));

  // 3. Roles, the credential_process profile, the region.
  const base = "the IAM user's own MFA session";
  const { roles, cli, region } = await chooseOnTop(options, ask, profile, given, base);
  // The aws CLI and the SDKs read the region only from the profile they are given, never from the
  // one its credential_process names: the profile people use carries it too.
  const cliRegion = region ?? current.region;

  // 4. The change, shown whole before it is made.
  const wanted = { profile, keys, mfaSerial: serial, region, roles, cli, cliRegion };
  const changed = applyWanted(setup.files, wanted);
  if (!(await showAndWrite(changed, options, ask, setup.progress, profile))) return;

  // 5. Proof: a real login with the profile as written.
  say(ask, `Logging in with profile '${profile}' (MFA device ${serial})…`);
  try {
    await runLogin({ profile, tokenCode: setup.tokenCode, force: true });
  } catch (error) {
    if (changed.length > 0) {
      tellStderr(
        `The config files are written; once the problem below is solved, run \`awsmfa login -p ${profile}\`.`,
      );
    }
    throw error;
  }
  ask?.outro(
    doneMessage(cli, cliRegion, `Done. Try: awsmfa exec -p ${profile} -- aws sts get-caller-identity`),
  );
}

/** The flags that need no file or answer to be judged; the --role profiles they name. */
function checkFlags(options: SetupOptions): RoleProfile[] {
  const flagRoles = (options.role ?? []).map(parseRoleFlag);
  if (options.mfaSerial !== undefined) checkSerial(options.mfaSerial, "--mfa-serial");
  if (options.accessKeyId !== undefined) checkAccessKeyId(options.accessKeyId, "--access-key-id");
  if (options.importFromCredentials !== undefined && (options.accessKeyId || options.secretAccessKeyStdin)) {
    throw usage(
      "--import-from-credentials takes the keys from the credentials file; it goes with neither --access-key-id nor --secret-access-key-stdin.",
    );
  }
  if (options.region !== undefined && !isRegion(options.region)) {
    throw usage(`--region '${options.region}' is not an AWS region name (like eu-west-1).`);
  }
  return flagRoles;
}
