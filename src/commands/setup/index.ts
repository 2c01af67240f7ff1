import { profileFromEnv } from "../../config/files";
import { parseProfileFiles } from "../../config/ini";
import { ExitStatus } from "../../errors";
import { stsEndpointsFor } from "../../session/steps";
import { runLogin } from "../login";
import { tellStderr } from "../selection";
import { chooseDevice, iamUserOf, identifyKeys } from "./aws";
import { applyWanted, type FileState, readFileStates, showChange, writeAsShown } from "./change";
import {
  type CliProfile,
  cancelled,
  checkAccessKeyId,
  checkNames,
  checkProfileName,
  checkSerial,
  isRegion,
  noTerminal,
  parseCliFlag,
  parseRoleFlag,
  type RoleProfile,
  type SetupOptions,
  usage,
} from "./checks";
import { chooseKeys, readStdinAnswers, refuseKeysOverStore } from "./keys";
import { type Asker, askCliProfile, askProfileName, askRegion, askRoles, clackAsker, say } from "./questions";

/**
 * `awsmfa setup`: from an IAM user's access key to a working MFA session in one go. Checks the
 * key (GetCallerIdentity), finds the MFA device (ListMFADevices), optionally adds role profiles
 * and a credential_process profile, shows the exact change to ~/.aws/config and
 * ~/.aws/credentials (secrets masked), writes it, and logs in to prove it works.
 *
 * Every question has a flag, so it runs unattended too: on a terminal the questions the flags
 * leave open are asked (@clack/prompts, loaded only here); with --yes or without a terminal
 * nothing is asked, and what no flag answers takes its default or is an error naming the flag.
 *
 * This file is the flow; checks.ts the rules for what is given, questions.ts the questions,
 * keys.ts the access key, aws.ts the calls to AWS, change.ts the files.
 */

/** The diff setup shows; test/care/setup.test.ts checks it against GNU patch. */
export { unifiedDiff } from "../../output/diff";
export type { SetupOptions } from "./checks";

/** How far setup got, for the message of a Ctrl-C. */
interface Progress {
  profile?: string;
  /** The files written so far. */
  written: string[];
}

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
  const tokenCode =
    options.tokenCode === "-" && input.tokenCode !== undefined ? input.tokenCode : options.tokenCode;

  const profile =
    options.profile ?? (ask ? await askProfileName(ask, profileFromEnv(env)) : profileFromEnv(env));
  checkProfileName(profile, "--profile");
  const flagCli =
    options.credentialProcessProfile === undefined
      ? undefined
      : parseCliFlag(options.credentialProcessProfile, profile, flagRoles);
  checkNames(profile, flagRoles, flagCli?.name);

  const files = readFileStates(env);
  const merged = parseProfileFiles(
    files.config.exists ? { path: files.config.path, text: files.config.before } : undefined,
    files.credentials.exists ? { path: files.credentials.path, text: files.credentials.before } : undefined,
  );
  const current = merged.profiles[profile] ?? {};

  // 1. The keys, and whose they are.
  const chosen = await chooseKeys(options, input.secret, profile, merged, ask);
  refuseKeysOverStore(chosen, current, profile);
  // The region the profile will have once written: --region, or the one it has.
  const where = stsEndpointsFor(env, options.region || current.region);
  const { keys, identity } = await identifyKeys(chosen, where, profile, current, ask);
  const userName = iamUserOf(identity, keys);
  say(ask, `The key ${keys.accessKeyId} belongs to ${identity.arn} (account ${identity.account}).`);

  // 2. The MFA device.
  const serial = options.mfaSerial ?? (await chooseDevice(keys, userName, identity, current, profile, ask));

  // 3. Roles, the credential_process profile, the region.
  const { roles, cli, region } = await chooseOnTop(options, ask, profile, flagRoles, flagCli, current.region);
  // The aws CLI and the SDKs read the region only from the profile they are given, never from the
  // one its credential_process names: the profile people use carries it too.
  const cliRegion = region ?? current.region;

  // 4. The change, shown whole before it is made.
  const wanted = { profile, keys, mfaSerial: serial, region, roles, cli, cliRegion };
  const changed = applyWanted(files, wanted);
  if (!(await showAndWrite(changed, options, ask, progress, profile))) return;

  // 5. Proof: a real login with the profile as written.
  say(ask, `Logging in with profile '${profile}' (MFA device ${serial})…`);
  try {
    await runLogin({ profile, tokenCode, force: true });
  } catch (error) {
    if (changed.length > 0) {
      tellStderr(
        `The config files are written; once the problem below is solved, run \`awsmfa login -p ${profile}\`.`,
      );
    }
    throw error;
  }
  ask?.outro(
    cli
      ? cliRegion
        ? `Done. The aws CLI and SDKs now work with --profile ${cli.name}.`
        : `Done. The aws CLI and SDKs work with --profile ${cli.name} once it has a region: add region = … to [profile ${cli.name}] (or run setup again with --region).`
      : `Done. Try: awsmfa exec -p ${profile} -- aws sts get-caller-identity`,
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

/** Role profiles, the credential_process profile and the region: from the flags, or asked. */
async function chooseOnTop(
  options: SetupOptions,
  ask: Asker | undefined,
  profile: string,
  flagRoles: RoleProfile[],
  flagCli: CliProfile | undefined,
  currentRegion: string | undefined,
): Promise<{ roles: RoleProfile[]; cli: CliProfile | undefined; region: string | undefined }> {
  const roles = flagRoles.length > 0 || !ask ? flagRoles : await askRoles(ask, profile);
  const cli = flagCli ?? (ask ? await askCliProfile(ask, profile, roles) : undefined);
  checkNames(profile, roles, cli?.name);
  const region = options.region ?? (ask && !currentRegion ? await askRegion(ask) : undefined);
  return { roles, cli, region };
}

/**
 * Shows the change and, unless it is a dry run or refused, writes it. False when setup ends
 * here (a dry run); true when it goes on to the login, the files written or already right.
 */
async function showAndWrite(
  changed: FileState[],
  options: SetupOptions,
  ask: Asker | undefined,
  progress: Progress,
  profile: string,
): Promise<boolean> {
  if (changed.length === 0) {
    say(ask, "The config files already say all this; nothing to change.");
    return true;
  }
  showChange(changed, process.env);
  if (options.dryRun) {
    say(ask, "Dry run: nothing was written.");
    return false;
  }
  const go = options.yes || (ask ? await ask.confirm("Write these changes?", true) : false);
  if (!go) {
    if (ask) throw cancelled();
    throw noTerminal(
      "There is no terminal to confirm the change shown above on; nothing was written.",
      "Add --yes to write it.",
    );
  }
  progress.profile = profile;
  for (const file of changed) {
    await writeAsShown(file);
    progress.written.push(file.path);
  }
  say(ask, `Wrote ${changed.map((file) => file.path).join(" and ")}.`);
  return true;
}
