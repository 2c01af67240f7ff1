import { editProfileFile, setProperty } from "../../config/edit";
import { configFilePath, credentialsFilePath, readProfileFile } from "../../config/files";
import type { FileKind } from "../../config/types";
import { AppError } from "../../errors";
import { unifiedDiff } from "../../output/diff";
import { decorationsAllowed } from "../../output/spinner";
import { type CliProfile, cancelled, noTerminal, type RoleProfile, type SetupOptions } from "./checks";
import type { Keys } from "./keys";
import { type Asker, say } from "./questions";

/**
 * The change setup makes to the config and credentials files: computed on their text as read,
 * shown whole as a diff (secrets masked), and written only if the files are still what was shown.
 */

export interface FileState {
  kind: FileKind;
  path: string;
  exists: boolean;
  before: string;
  after: string;
}

export interface ProfileFiles {
  config: FileState;
  credentials: FileState;
}

export function readFileStates(env: NodeJS.ProcessEnv): ProfileFiles {
  return {
    config: readState("config", configFilePath(env)),
    credentials: readState("credentials", credentialsFilePath(env)),
  };
}

/** Read as every command reads them: a FIFO or a file over 16 MB is refused, never read. */
function readState(kind: FileKind, path: string): FileState {
  const text = readProfileFile(path)?.text;
  return { kind, path, exists: text !== undefined, before: text ?? "", after: text ?? "" };
}

/** What goes into the files: the keys profile's settings, and the profiles set up on top of it. */
export interface Wanted {
  profile: string;
  /** Written to the credentials file when `keys.write`. */
  keys?: Keys;
  mfaSerial?: string;
  region?: string;
  roles: RoleProfile[];
  cli?: CliProfile;
  /** The region the credential_process profile gets: the aws CLI reads it only from the profile it is given. */
  cliRegion?: string;
}

/** Sets `after` of both files; returns those that change. */
export function applyWanted(files: ProfileFiles, wanted: Wanted): FileState[] {
  const { profile, keys } = wanted;
  if (keys?.write) {
    const credentials = files.credentials.before;
    const withId = setProperty(credentials, "credentials", profile, "aws_access_key_id", keys.accessKeyId);
    files.credentials.after = setProperty(
      withId,
      "credentials",
      profile,
      "aws_secret_access_key",
      keys.secretAccessKey,
    );
  }
  let config = files.config.before;
  if (wanted.mfaSerial) config = setProperty(config, "config", profile, "mfa_serial", wanted.mfaSerial);
  if (wanted.region) config = setProperty(config, "config", profile, "region", wanted.region);
  for (const role of wanted.roles) {
    config = setProperty(config, "config", role.name, "role_arn", role.roleArn);
    config = setProperty(config, "config", role.name, "source_profile", profile);
  }
  const cli = wanted.cli;
  if (cli) {
    const command = `awsmfa credential-process -p ${cli.target}`;
    config = setProperty(config, "config", cli.name, "credential_process", command);
    if (wanted.cliRegion) config = setProperty(config, "config", cli.name, "region", wanted.cliRegion);
  }
  files.config.after = config;
  return [files.credentials, files.config].filter((file) => file.after !== file.before);
}

/** The change as `diff -u` shows it, to stderr, secrets masked. */
export function showChange(changed: FileState[], env: NodeJS.ProcessEnv): void {
  const colour = decorationsAllowed(process.stderr, env);
  const shown = changed
    .map((file) =>
      unifiedDiff(file.before, file.after, file.exists ? file.path : "/dev/null", file.path, {
        mask: true,
        colour,
      }),
    )
    .join("");
  process.stderr.write(shown);
}

/** Writes exactly what was shown: if the file changed since, nothing is written and the run stops. */
export async function writeAsShown(file: FileState): Promise<void> {
  await editProfileFile(file.path, file.kind, (text) => {
    if (text !== file.before) {
      throw new AppError(
        "setup-file-changed",
        `${file.path} changed while setup was running; nothing was written to it.`,
        {
          hint: "Run awsmfa setup again to see the change against the file as it is now.",
        },
      );
    }
    return file.after;
  });
}

/** How far setup got, for the message of a Ctrl-C. */
export interface Progress {
  profile?: string;
  /** The files written so far. */
  written: string[];
}

/**
 * Shows the change and, unless it is a dry run or refused, writes it. False when setup ends
 * here (a dry run); true when it goes on to the login, the files written or already right.
 */
export async function showAndWrite(
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
