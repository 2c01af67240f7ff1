import { readFileSync } from "node:fs";
import { editProfileFile, setProperty } from "../config/edit";
import { configFilePath, credentialsFilePath, profileFromEnv } from "../config/files";
import { isIdentifier, parseProfileFiles } from "../config/ini";
import { keyStore } from "../config/plan";
import type { FileKind, ProfileSet, Properties } from "../config/types";
import { AppError, ExitStatus, errnoCode, fileError, isAppError } from "../errors";
import { decorationsAllowed, spinWhileWaiting } from "../output/spinner";
import { tellStderr } from "../output/tell";
import type { AwsCredentials, CallerIdentity } from "../sts/credentials";
import { userNameOf } from "../sts/credentials";
import { runLogin } from "./login";
import type { SetupOptions } from "./setup.command";

/**
 * `awsmfa setup`: from an IAM user's access key to a working MFA session in one go. Checks the
 * key (GetCallerIdentity), finds the MFA device (ListMFADevices), optionally adds role profiles
 * and a credential_process profile, shows the exact change to ~/.aws/config and
 * ~/.aws/credentials (secrets masked), writes it, and logs in to prove it works.
 *
 * Every question has a flag, so it runs unattended too: on a terminal the questions the flags
 * leave open are asked (@clack/prompts, loaded only here); with --yes or without a terminal
 * nothing is asked, and what no flag answers takes its default or is an error naming the flag.
 */

interface RoleProfile {
  name: string;
  roleArn: string;
}

interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where they come from, for messages; undefined for keys given now. */
  from?: string;
  /** True when the credentials file must get them (new keys, or copied from another profile). */
  write: boolean;
}

interface FileState {
  kind: FileKind;
  path: string;
  exists: boolean;
  before: string;
  after: string;
}

const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
const MFA_SERIAL = /^[\w+=/:,.@-]{9,256}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
/** Keys whose values are never shown in the diff. */
const SECRET_KEY = /secret|token|password|passphrase/i;

/** How far setup got, for the message of a Ctrl-C. */
interface Progress {
  profile?: string;
  /** The files written so far. */
  written: string[];
}

export async function runSetup(options: SetupOptions): Promise<void> {
  const progress: Progress = { written: [] };
  // Ctrl-C at a question is an answer (cancelled(), below); anywhere else — an AWS call, the
  // code prompt of the final login — it is a signal: the same one message, the same status.
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
  const flagRoles = (options.role ?? []).map(parseRoleFlag);
  if (options.mfaSerial !== undefined) checkSerial(options.mfaSerial, "--mfa-serial");
  if (options.accessKeyId !== undefined) checkAccessKeyId(options.accessKeyId, "--access-key-id");
  if (options.importFromCredentials !== undefined && (options.accessKeyId || options.secretAccessKeyStdin)) {
    throw usage(
      "--import-from-credentials takes the keys from the credentials file; it goes with neither --access-key-id nor --secret-access-key-stdin.",
    );
  }
  if (options.region !== undefined && !/^[a-z]{2}(-[a-z]+)+-\d+$/.test(options.region)) {
    throw usage(`--region '${options.region}' is not an AWS region name (like eu-west-1).`);
  }
  const interactive = !options.yes && process.stdin.isTTY === true && process.stderr.isTTY === true;
  const ask = interactive ? await clackAsker() : undefined;
  ask?.intro("awsmfa setup");

  const input = await readStdinAnswers(options);
  const tokenCode =
    options.tokenCode === "-" && input.tokenCode !== undefined ? input.tokenCode : options.tokenCode;

  const profile =
    options.profile ??
    (ask
      ? await ask.text("Name of the profile for your IAM user's keys", {
          default: profileFromEnv(env),
          validate: (value) => (isIdentifier(value) ? undefined : "letters, digits and - _ . / % @ : + only"),
        })
      : profileFromEnv(env));
  checkProfileName(profile, "--profile");
  const flagCli =
    options.credentialProcessProfile === undefined
      ? undefined
      : parseCliFlag(options.credentialProcessProfile, profile, flagRoles);
  checkNames(profile, flagRoles, flagCli?.name);

  const files = {
    config: readState("config", configFilePath(env)),
    credentials: readState("credentials", credentialsFilePath(env)),
  };
  const merged = parseProfileFiles(
    files.config.exists ? { path: files.config.path, text: files.config.before } : undefined,
    files.credentials.exists ? { path: files.credentials.path, text: files.credentials.before } : undefined,
  );
  const current = merged.profiles[profile] ?? {};

  // 1. The keys, and whose they are.
  const chosen = await chooseKeys(options, input.secret, profile, merged, ask);
  refuseKeysOverStore(chosen, current, profile);
  const where = {
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || options.region || current.region || "us-east-1",
    env,
  };
  const { keys, identity } = await identifyKeys(chosen, where, profile, current, ask);
  const userName = userNameOf(identity.arn);
  if (!userName) {
    throw new AppError(
      "setup-not-a-user",
      `The access key ${keys.accessKeyId} belongs to ${identity.arn}, not to an IAM user; awsmfa sets up an IAM user's keys.`,
      {
        status: "config",
        hint: identity.arn.endsWith(":root")
          ? "These are the account's root keys: delete them, and create an IAM user with an MFA device instead."
          : "Give the access key of an IAM user (AKIA…).",
      },
    );
  }
  say(ask, `The key ${keys.accessKeyId} belongs to ${identity.arn} (account ${identity.account}).`);

  // 2. The MFA device.
  const serial = options.mfaSerial ?? (await chooseDevice(keys, userName, identity, current, profile, ask));

  // 3. Roles, the credential_process profile, the region.
  const roles = flagRoles.length > 0 || !ask ? flagRoles : await askRoles(ask, profile);
  const cli = flagCli ?? (ask ? await askCliProfile(ask, profile, roles) : undefined);
  const cliProfile = cli?.name;
  checkNames(profile, roles, cliProfile);
  const region =
    options.region ??
    (ask && !current.region
      ? (await ask.text("Default region for this profile (optional)", {
          validate: (value) =>
            value === "" || /^[a-z]{2}(-[a-z]+)+-\d+$/.test(value)
              ? undefined
              : "an AWS region, like eu-west-1",
        })) || undefined
      : undefined);

  // 4. The change, shown whole before it is made.
  if (keys.write) {
    const withId = setProperty(
      files.credentials.before,
      "credentials",
      profile,
      "aws_access_key_id",
      keys.accessKeyId,
    );
    files.credentials.after = setProperty(
      withId,
      "credentials",
      profile,
      "aws_secret_access_key",
      keys.secretAccessKey,
    );
  }
  let config = setProperty(files.config.before, "config", profile, "mfa_serial", serial);
  if (region) config = setProperty(config, "config", profile, "region", region);
  for (const role of roles) {
    config = setProperty(config, "config", role.name, "role_arn", role.roleArn);
    config = setProperty(config, "config", role.name, "source_profile", profile);
  }
  // The aws CLI and the SDKs read the region only from the profile they are given, never from the
  // one its credential_process names: the profile people use carries it too.
  const cliRegion = region ?? current.region;
  if (cliProfile) {
    config = setProperty(
      config,
      "config",
      cliProfile,
      "credential_process",
      `awsmfa credential-process -p ${cli?.target ?? profile}`,
    );
    if (cliRegion) config = setProperty(config, "config", cliProfile, "region", cliRegion);
  }
  files.config.after = config;

  const changed = [files.credentials, files.config].filter((file) => file.after !== file.before);
  if (changed.length === 0) {
    say(ask, "The config files already say all this; nothing to change.");
  } else {
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
    if (options.dryRun) {
      say(ask, "Dry run: nothing was written.");
      return;
    }
    const go = options.yes || (ask ? await ask.confirm("Write these changes?", true) : false);
    if (!go) {
      if (ask) throw cancelled();
      throw usage(
        "Not writing without confirmation, and there is no terminal to ask on: add --yes to write the change shown above.",
      );
    }
    progress.profile = profile;
    for (const file of changed) {
      await writeAsShown(file);
      progress.written.push(file.path);
    }
    say(ask, `Wrote ${changed.map((file) => file.path).join(" and ")}.`);
  }

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
    cliProfile
      ? cliRegion
        ? `Done. The aws CLI and SDKs now work with --profile ${cliProfile}.`
        : `Done. The aws CLI and SDKs work with --profile ${cliProfile} once it has a region: add region = … to [profile ${cliProfile}] (or run setup again with --region).`
      : `Done. Try: awsmfa exec -p ${profile} -- aws sts get-caller-identity`,
  );
}

// ---------------------------------------------------------------------------------------------
// Answers

interface Asker {
  intro(title: string): void;
  outro(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  /** `default` is what Enter gives, shown in the empty field; without one, the field shows nothing. */
  text(
    message: string,
    options?: { default?: string; validate?: (value: string) => string | undefined },
  ): Promise<string>;
  password(message: string, validate?: (value: string) => string | undefined): Promise<string>;
  select<T extends string>(
    message: string,
    choices: { value: T; label: string; hint?: string }[],
    initial?: T,
  ): Promise<T>;
  confirm(message: string, initial: boolean): Promise<boolean>;
}

/** @clack/prompts on stderr (stdout stays for machine output), loaded only when someone is there to answer. */
async function clackAsker(): Promise<Asker> {
  const clack = await import("@clack/prompts");
  const io = { input: process.stdin, output: process.stderr };
  // Ctrl-C or Escape at a question: the one message is the error's, printed as every error is.
  const answer = <T>(value: T): Exclude<T, symbol> => {
    if (clack.isCancel(value)) throw cancelled();
    return value as Exclude<T, symbol>;
  };
  return {
    intro: (title) => clack.intro(title, io),
    outro: (message) => clack.outro(message, io),
    info: (message) => clack.log.info(message, io),
    warn: (message) => clack.log.warn(message, io),
    text: async (message, options = {}) => {
      const fallback = options.default ?? "";
      // clack validates the field as typed and puts the default in only after: validate what Enter gives.
      const given = answer(
        await clack.text({
          message,
          defaultValue: options.default,
          placeholder: options.default,
          validate: options.validate
            ? (value) => options.validate?.((value ?? "").trim() || fallback)
            : undefined,
          ...io,
        }),
      );
      return given.trim() || fallback;
    },
    password: async (message, validate) =>
      answer(
        await clack.password({
          message,
          validate: validate ? (value) => validate((value ?? "").trim()) : undefined,
          ...io,
        }),
      ).trim(),
    select: async (message, choices, initial) =>
      answer(
        await clack.select({
          message,
          options: choices.map((choice) => ({
            value: choice.value,
            label: choice.label,
            hint: choice.hint,
          })) as never,
          initialValue: initial,
          ...io,
        }),
      ) as never,
    confirm: async (message, initial) =>
      answer(await clack.confirm({ message, initialValue: initial, ...io })),
  };
}

function say(ask: Asker | undefined, message: string): void {
  if (ask) ask.info(message);
  else tellStderr(message);
}

/**
 * --secret-access-key-stdin: the secret is the first line of stdin, never in argv. With
 * --token-code - as well, the code is the next line.
 */
async function readStdinAnswers(options: SetupOptions): Promise<{ secret?: string; tokenCode?: string }> {
  if (!options.secretAccessKeyStdin) return {};
  if (process.stdin.isTTY) {
    throw usage(
      "--secret-access-key-stdin reads the secret from a pipe, and stdin is a terminal.",
      "Pipe it in: `pass show aws/alice | awsmfa setup --secret-access-key-stdin …`, or leave the flag out to be asked.",
    );
  }
  const wanted = options.tokenCode === "-" ? 2 : 1;
  const lines = await readLines(process.stdin, wanted);
  const secret = (lines[0] ?? "").trim();
  if (secret === "") throw usage("--secret-access-key-stdin: standard input held no secret access key.");
  checkSecret(secret);
  return { secret, tokenCode: wanted === 2 ? (lines[1] ?? "").trim() : undefined };
}

/** The first `count` lines, without waiting for the end of input once they are there. */
function readLines(stream: NodeJS.ReadableStream & { destroy(): void }, count: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = "";
    const finish = () => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.destroy();
      resolve(text.split(/\r?\n/).slice(0, count));
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.split("\n").length > count || text.length > 64 * 1024) finish();
    };
    const onEnd = () => finish();
    const onError = (error: Error) => reject(usage(`Could not read standard input: ${error.message}`));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.resume();
  });
}

async function chooseKeys(
  options: SetupOptions,
  stdinSecret: string | undefined,
  profile: string,
  merged: ProfileSet,
  ask: Asker | undefined,
): Promise<Keys> {
  if (options.importFromCredentials !== undefined) {
    const from = typeof options.importFromCredentials === "string" ? options.importFromCredentials : profile;
    return importedKeys(from, profile, merged);
  }
  if (options.accessKeyId !== undefined || stdinSecret !== undefined) {
    const accessKeyId =
      options.accessKeyId ??
      (ask ? await askAccessKeyId(ask) : missing("the access key ID", "--access-key-id AKIA…"));
    const secretAccessKey =
      stdinSecret ??
      (ask
        ? await askSecret(ask)
        : missing("the secret access key", "--secret-access-key-stdin (the secret as a line on stdin)"));
    return { accessKeyId, secretAccessKey, write: true };
  }
  if (!ask) {
    return missing(
      "the access key",
      "--access-key-id AKIA… --secret-access-key-stdin (the secret on stdin), or --import-from-credentials [profile]",
    );
  }
  // Profiles with keys in the files; this profile also when its keys are in a store (awsmfa_keys).
  const withKeys = Object.entries(merged.profiles)
    .filter(
      ([name, properties]) =>
        (properties.aws_access_key_id && properties.aws_secret_access_key) ||
        (name === profile && keyStore(properties) && properties.awsmfa_access_key_id),
    )
    .map(([name, properties]) => ({
      name,
      id: (keyStore(properties) ? properties.awsmfa_access_key_id : properties.aws_access_key_id) as string,
    }));
  type Choice = "new" | `import:${string}`;
  const choices: { value: Choice; label: string; hint?: string }[] = [
    ...withKeys.map(({ name, id }) => ({
      value: `import:${name}` as Choice,
      label: name === profile ? `Use the keys profile '${name}' has` : `Copy the keys of profile '${name}'`,
      hint: id,
    })),
    {
      value: "new",
      label: "Enter an access key",
      hint: "IAM console → Users → Security credentials → Create access key",
    },
  ];
  const choice =
    withKeys.length === 0
      ? "new"
      : await ask.select(
          "Which access key?",
          choices,
          withKeys.some(({ name }) => name === profile) ? `import:${profile}` : "new",
        );
  if (choice.startsWith("import:")) return importedKeys(choice.slice("import:".length), profile, merged);
  return { accessKeyId: await askAccessKeyId(ask), secretAccessKey: await askSecret(ask), write: true };
}

async function importedKeys(from: string, profile: string, merged: ProfileSet): Promise<Keys> {
  checkProfileName(from, "--import-from-credentials");
  const properties = merged.profiles[from];
  const store = properties ? keyStore(properties) : undefined;
  if (store !== undefined && properties?.awsmfa_access_key_id) {
    // Keys already moved to a store (awsmfa keys move) stay there: used for the check, never copied out.
    if (from !== profile) {
      throw usage(
        `Profile '${from}' keeps its keys in ${store} (awsmfa_keys); setup does not copy them out of it.`,
        `Run setup for that profile itself: awsmfa setup -p ${from} --import-from-credentials`,
      );
    }
    const secrets = await import("../secrets");
    const leaf = {
      type: "keys" as const,
      profile: from,
      accessKeyId: properties.awsmfa_access_key_id,
      secretAccessKey: "",
      store,
    };
    const withSecret = await secrets.withSecretKey(leaf, process.env);
    return { accessKeyId: leaf.accessKeyId, secretAccessKey: withSecret.secretAccessKey, from, write: false };
  }
  const accessKeyId = properties?.aws_access_key_id;
  const secretAccessKey = properties?.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) {
    throw new AppError(
      "setup-no-keys-to-import",
      `Profile '${from}' has no aws_access_key_id and aws_secret_access_key in the credentials or config file to import.`,
      {
        status: "config",
        hint: "Give the keys instead: --access-key-id AKIA… --secret-access-key-stdin (the secret on stdin).",
      },
    );
  }
  checkAccessKeyId(accessKeyId, `aws_access_key_id of profile '${from}'`);
  // The same profile: the keys stay where they are. Another one: they are copied to this one.
  return { accessKeyId, secretAccessKey, from, write: from !== profile };
}

/** Asked again this many times when AWS refuses a key; then its error ends setup. */
const KEY_RETRIES = 3;

/**
 * GetCallerIdentity with the keys. On a terminal, keys AWS refuses are asked for again — only
 * the part that is wrong: a secret that does not match asks for the secret, an unknown (or
 * inactive) key ID for the ID, keys from the files for a new key. Anything else ends setup.
 */
async function identifyKeys(
  keys: Keys,
  where: { region: string; env: NodeJS.ProcessEnv },
  profile: string,
  current: Properties,
  ask: Asker | undefined,
): Promise<{ keys: Keys; identity: CallerIdentity }> {
  const sts = await import("../sts/client");
  for (let retries = 0; ; retries++) {
    const spinner = spinWhileWaiting();
    let refused: unknown;
    try {
      return {
        keys,
        identity: await sts.getCallerIdentity(keys, where, { profile, accessKeyId: keys.accessKeyId }),
      };
    } catch (error) {
      refused = error;
    } finally {
      spinner.stop();
    }
    // New keys for a profile whose keys are in a store could not be written: its error stands.
    const canAsk =
      ask && retries < KEY_RETRIES && (keys.from === undefined || keyStore(current) === undefined);
    const again = canAsk ? await keysAgain(ask, keys, refused) : undefined;
    if (!again) throw refused;
    keys = again;
  }
}

async function keysAgain(ask: Asker, keys: Keys, error: unknown): Promise<Keys | undefined> {
  const code = isAppError(error) ? error.code : undefined;
  if (code !== "invalid-keys" && code !== "bad-signature") return undefined;
  if (keys.from !== undefined) {
    ask.warn(
      `AWS refused the keys of profile '${keys.from}' (${keys.accessKeyId}). Enter an access key instead.`,
    );
    return { accessKeyId: await askAccessKeyId(ask), secretAccessKey: await askSecret(ask), write: true };
  }
  if (code === "bad-signature") {
    ask.warn(
      `AWS refused the secret access key: it does not belong to ${keys.accessKeyId} (or this machine's clock is off). Enter the secret again.`,
    );
    return { ...keys, secretAccessKey: await askSecret(ask) };
  }
  ask.warn(
    `AWS does not know the access key ID ${keys.accessKeyId}, or it is inactive. Enter the ID again; the secret is kept.`,
  );
  return { ...keys, accessKeyId: await askAccessKeyId(ask) };
}

/** Setup writes keys to the credentials file only; a profile whose keys are in a store keeps them there. */
function refuseKeysOverStore(keys: Keys, current: Properties, profile: string): void {
  if (!keys.write || keyStore(current) === undefined) return;
  throw new AppError(
    "setup-keys-in-store",
    `Profile '${profile}' keeps its keys in ${keyStore(current)} (awsmfa_keys); setup writes keys to the credentials file only.`,
    {
      status: "config",
      hint: `Move them back first (\`awsmfa keys move -p ${profile} --to file\`), run setup, then move them again.`,
    },
  );
}

function askAccessKeyId(ask: Asker): Promise<string> {
  return ask.text("Access key ID (AKIA…)", { validate: (value) => accessKeyIdProblem(value) });
}

function askSecret(ask: Asker): Promise<string> {
  return ask.password("Secret access key", (value) =>
    value === "" || /\s/.test(value) ? "the 40-character secret, no spaces" : undefined,
  );
}

async function chooseDevice(
  keys: AwsCredentials,
  userName: string,
  identity: CallerIdentity,
  current: Properties,
  profile: string,
  ask: Asker | undefined,
): Promise<string> {
  const sts = await import("../sts/client");
  const where = { region: "us-east-1", env: process.env };
  const existing = current.mfa_serial;
  const spinner = spinWhileWaiting();
  let serials: string[];
  try {
    serials = (
      await sts.listMfaDevices(keys, userName, where, { profile, accessKeyId: keys.accessKeyId })
    ).map((device) => device.serial);
  } catch (error) {
    // Some users may not list their devices; a device already configured, or one typed, still works.
    if (existing) {
      say(
        ask,
        `IAM did not list the MFA devices (${(error as Error).message}); keeping mfa_serial = ${existing}.`,
      );
      return existing;
    }
    if (ask) {
      say(ask, `IAM did not list the MFA devices: ${(error as Error).message}`);
      return askSerial(ask, identity);
    }
    throw error;
  } finally {
    spinner.stop();
  }
  // Security keys (FIDO/U2F) are listed too, but STS cannot take a code from them.
  const usable = serials.filter((serial) => !/:u2f\//.test(serial));
  if (usable.length === 0) {
    throw new AppError(
      "no-mfa-device",
      `The IAM user ${identity.arn} has no MFA device that gives codes${serials.length > usable.length ? " (security keys cannot be used with the API)" : ""}.`,
      {
        status: "config",
        hint: "Assign a virtual or hardware TOTP device in the IAM console (Users → Security credentials → Assign MFA device), then run setup again.",
      },
    );
  }
  if (usable.length === 1) {
    say(ask, `MFA device: ${usable[0]}.`);
    return usable[0] as string;
  }
  if (ask) {
    return ask.select(
      "Which MFA device should awsmfa use?",
      usable.map((serial) => ({ value: serial, label: serial })),
      existing && usable.includes(existing) ? existing : undefined,
    );
  }
  if (existing && usable.includes(existing)) return existing;
  throw new AppError(
    "several-mfa-devices",
    `The IAM user ${identity.arn} has ${usable.length} MFA devices: ${usable.join(", ")}.`,
    { status: "usage", hint: "Choose one with --mfa-serial <ARN>." },
  );
}

function askSerial(ask: Asker, identity: CallerIdentity): Promise<string> {
  const guess = identity.arn.replace(":user/", ":mfa/");
  return ask.text("MFA device ARN (IAM console → Users → Security credentials)", {
    default: guess,
    validate: (value) =>
      MFA_SERIAL.test(value) ? undefined : "an ARN like arn:aws:iam::123456789012:mfa/name",
  });
}

async function askRoles(ask: Asker, profile: string): Promise<RoleProfile[]> {
  const roles: RoleProfile[] = [];
  while (
    await ask.confirm(
      roles.length === 0
        ? `Add a role profile that assumes a role on top of '${profile}'?`
        : "Add another role profile?",
      false,
    )
  ) {
    const taken = (name: string) => name === profile || roles.some((role) => role.name === name);
    const suggested = [`${profile}-admin`, `${profile}-role${roles.length + 1}`].find((name) => !taken(name));
    const name = await ask.text("Name of the role profile", {
      default: suggested,
      validate: (value) =>
        value === ""
          ? "a name is needed"
          : !isIdentifier(value)
            ? "letters, digits and - _ . / % @ : + only"
            : taken(value)
              ? "that name is taken"
              : undefined,
    });
    const roleArn = await ask.text("Role ARN (arn:aws:iam::ACCOUNT:role/NAME)", {
      validate: (value) =>
        ROLE_ARN.test(value) ? undefined : "an ARN like arn:aws:iam::123456789012:role/Admin",
    });
    roles.push({ name, roleArn });
  }
  return roles;
}

/** A credential_process profile: its name, and the profile whose credentials awsmfa gives it. */
interface CliProfile {
  name: string;
  target: string;
}

/** The profile the aws CLI and SDKs use; with roles just added, the last of them is offered first. */
async function askCliProfile(
  ask: Asker,
  profile: string,
  roles: RoleProfile[],
): Promise<CliProfile | undefined> {
  const wanted = await ask.confirm(
    "Add a profile for the aws CLI and SDKs (credential_process = awsmfa credential-process …)?",
    true,
  );
  if (!wanted) return undefined;
  const target =
    roles.length === 0
      ? profile
      : await ask.select(
          "Whose credentials should it give them?",
          [
            ...[...roles].reverse().map((role) => ({
              value: role.name,
              label: `profile '${role.name}'`,
              hint: role.roleArn,
            })),
            { value: profile, label: `profile '${profile}'`, hint: "the IAM user's own MFA session" },
          ],
          (roles.at(-1) as RoleProfile).name,
        );
  const name = await ask.text("Name of that profile", {
    default: `${profile}-cli`,
    validate: (value) =>
      !isIdentifier(value)
        ? "letters, digits and - _ . / % @ : + only"
        : value === profile || roles.some((role) => role.name === value)
          ? "that name is taken"
          : undefined,
  });
  return { name, target };
}

// ---------------------------------------------------------------------------------------------
// Checks

function parseRoleFlag(text: string): RoleProfile {
  const at = text.indexOf("=");
  const name = at < 0 ? "" : text.slice(0, at).trim();
  const roleArn = at < 0 ? "" : text.slice(at + 1).trim();
  if (!name || !ROLE_ARN.test(roleArn)) {
    throw usage(
      `--role '${text}' is not NAME=ROLE_ARN.`,
      "For example: --role admin=arn:aws:iam::123456789012:role/Admin",
    );
  }
  checkProfileName(name, "--role");
  return { name, roleArn };
}

/** --credential-process-profile NAME[=PROFILE]: PROFILE is the keys profile or one of the --role names. */
function parseCliFlag(text: string, profile: string, roles: RoleProfile[]): CliProfile {
  const at = text.indexOf("=");
  const name = at < 0 ? text : text.slice(0, at);
  const target = at < 0 ? profile : text.slice(at + 1);
  checkProfileName(name, "--credential-process-profile");
  if (target !== profile && !roles.some((role) => role.name === target)) {
    throw usage(
      `--credential-process-profile '${text}': '${target}' is neither the keys profile '${profile}' nor a --role name.`,
      `For example: --credential-process-profile ${profile}-cli=${roles[0]?.name ?? profile}`,
    );
  }
  return { name, target };
}

function checkNames(profile: string, roles: RoleProfile[], cliProfile: string | undefined): void {
  const names = [profile, ...roles.map((role) => role.name), ...(cliProfile ? [cliProfile] : [])];
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) {
    throw usage(
      `Profile '${twice}' is named twice (the user profile, --role and --credential-process-profile each need their own).`,
    );
  }
}

function checkProfileName(name: string, flag: string): void {
  if (!isIdentifier(name))
    throw usage(`${flag} '${name}' is not a profile name: use letters, digits and - _ . / % @ : + only.`);
}

function accessKeyIdProblem(value: string): string | undefined {
  if (!ACCESS_KEY_ID.test(value)) return "an access key ID is 16 or more capital letters and digits (AKIA…)";
  if (value.startsWith("ASIA"))
    return "ASIA… is a temporary session key; give the IAM user's own key (AKIA…)";
  return undefined;
}

function checkAccessKeyId(value: string, what: string): void {
  const problem = accessKeyIdProblem(value);
  if (problem) throw usage(`${what}: ${problem}.`);
}

/** Never quotes the value: it is a secret. */
function checkSecret(value: string): void {
  if (/\s/.test(value) || value.length < 16) {
    throw usage(
      "The secret access key on standard input does not look like one (16 or more characters, no spaces).",
    );
  }
}

function checkSerial(value: string, flag: string): void {
  if (!MFA_SERIAL.test(value)) throw usage(`${flag} '${value}' is not an MFA device ARN or serial number.`);
}

function missing(what: string, flags: string): never {
  throw usage(`No terminal to ask for ${what} on (or --yes was given): give it with ${flags}.`);
}

function usage(message: string, hint?: string): AppError {
  return new AppError("setup-usage", message, { status: "usage", hint });
}

function cancelled(): AppError {
  return new AppError("setup-cancelled", "Setup cancelled; nothing was written.", { status: "interrupted" });
}

// ---------------------------------------------------------------------------------------------
// Files

function readState(kind: FileKind, path: string): FileState {
  try {
    const text = readFileSync(path, "utf8");
    return { kind, path, exists: true, before: text, after: text };
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return { kind, path, exists: false, before: "", after: "" };
    throw fileError("config-read", `Cannot read ${path}`, error, { status: "config" });
  }
}

/** Writes exactly what was shown: if the file changed since, nothing is written and the run stops. */
async function writeAsShown(file: FileState): Promise<void> {
  await editProfileFile(file.path, file.kind, (text) => {
    if (text !== file.before) {
      throw new AppError(
        "setup-file-changed",
        `${file.path} changed while setup was running; nothing was written to it.`,
        {
          status: "failure",
          hint: "Run awsmfa setup again to see the change against the file as it is now.",
        },
      );
    }
    return file.after;
  });
}

// ---------------------------------------------------------------------------------------------
// The diff shown before writing

export interface DiffOptions {
  /** Replace the values of secret keys (aws_secret_access_key, …) with asterisks. */
  mask?: boolean;
  colour?: boolean;
}

/** Equal lines shown around each change, as `diff -u`. */
const CONTEXT_LINES = 3;

/**
 * A unified diff (as `diff -u` writes it, `patch` applies it) of two texts, line by line; empty
 * when they are the same. With `mask`, every shown line that sets a secret key shows ******** in
 * place of the value, so the diff can go to a screen or a log.
 */
export function unifiedDiff(
  before: string,
  after: string,
  fromName: string,
  toName: string,
  options: DiffOptions = {},
): string {
  if (before === after) return "";
  const a = diffLines(before);
  const b = diffLines(after);
  const script = editScript(a, b);
  const context = CONTEXT_LINES;
  const show = (line: DiffLine) => (options.mask ? maskLine(line.text) : line.text);
  const paint = (code: string, text: string) => (options.colour ? `\x1b[${code}m${text}\x1b[0m` : text);

  let out = `${paint("1", `--- ${fromName}`)}\n${paint("1", `+++ ${toName}`)}\n`;
  let index = 0;
  while (index < script.length) {
    // The next change, with up to `context` equal lines around it; changes closer than 2×context share a hunk.
    while (index < script.length && (script[index] as Op).type === "=") index++;
    if (index >= script.length) break;
    let start = index;
    let lead = 0;
    while (start > 0 && lead < context && (script[start - 1] as Op).type === "=") {
      start--;
      lead++;
    }
    let end = index;
    for (;;) {
      while (end < script.length && (script[end] as Op).type !== "=") end++;
      let equal = 0;
      while (end + equal < script.length && (script[end + equal] as Op).type === "=") equal++;
      if (end + equal < script.length && equal <= 2 * context) {
        end += equal;
        continue;
      }
      end += Math.min(equal, context);
      break;
    }
    const ops = script.slice(start, end);
    const first = ops[0] as Op;
    const aCount = ops.filter((op) => op.type !== "+").length;
    const bCount = ops.filter((op) => op.type !== "-").length;
    const aStart = aCount === 0 ? first.aIndex : first.aIndex + 1;
    const bStart = bCount === 0 ? first.bIndex : first.bIndex + 1;
    out += `${paint("36", `@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`)}\n`;
    for (const op of ops) {
      const line = op.type === "+" ? (b[op.bIndex] as DiffLine) : (a[op.aIndex] as DiffLine);
      const prefix = op.type === "=" ? " " : op.type;
      const text = `${prefix}${show(line)}`;
      out += `${op.type === "-" ? paint("31", text) : op.type === "+" ? paint("32", text) : text}\n`;
      if (!line.newline) out += "\\ No newline at end of file\n";
    }
    index = end;
  }
  return out;
}

interface DiffLine {
  /** Without its line ending; a "\r" of a CRLF file stays part of the text. */
  text: string;
  newline: boolean;
}

interface Op {
  type: "=" | "-" | "+";
  aIndex: number;
  bIndex: number;
}

function diffLines(text: string): DiffLine[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const last = parts.pop() as string;
  const lines = parts.map((part) => ({ text: part, newline: true }));
  if (last !== "") lines.push({ text: last, newline: false });
  return lines;
}

function sameLine(x: DiffLine, y: DiffLine): boolean {
  return x.text === y.text && x.newline === y.newline;
}

/** Longest common subsequence on what is left between the common head and tail (profile files are small). */
function editScript(a: DiffLine[], b: DiffLine[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && sameLine(a[head] as DiffLine, b[head] as DiffLine)) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    sameLine(a[a.length - 1 - tail] as DiffLine, b[b.length - 1 - tail] as DiffLine)
  ) {
    tail++;
  }
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ type: "=", aIndex: i, bIndex: i });
  if (n * m > 4_000_000) {
    for (let i = 0; i < n; i++) ops.push({ type: "-", aIndex: head + i, bIndex: head });
    for (let j = 0; j < m; j++) ops.push({ type: "+", aIndex: head + n, bIndex: head + j });
  } else {
    // lengths[i][j]: LCS of a[head+i..] and b[head+j..].
    const width = m + 1;
    const lengths = new Int32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lengths[i * width + j] = sameLine(a[head + i] as DiffLine, b[head + j] as DiffLine)
          ? (lengths[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lengths[(i + 1) * width + j] as number, lengths[i * width + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && sameLine(a[head + i] as DiffLine, b[head + j] as DiffLine)) {
        ops.push({ type: "=", aIndex: head + i, bIndex: head + j });
        i++;
        j++;
      } else if (
        i < n &&
        (j === m || (lengths[(i + 1) * width + j] as number) >= (lengths[i * width + j + 1] as number))
      ) {
        // Removals before additions, as diff -u shows them.
        ops.push({ type: "-", aIndex: head + i, bIndex: head + j });
        i++;
      } else {
        ops.push({ type: "+", aIndex: head + i, bIndex: head + j });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++)
    ops.push({ type: "=", aIndex: a.length - tail + k, bIndex: b.length - tail + k });
  return ops;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** `key = value` with a secret-looking key: the value as asterisks (its length not shown either). */
export function maskLine(text: string): string {
  const match = /^(\s*([^=\s]+)\s*=\s*)(\S.*?)(\s*)(\r?)$/.exec(text);
  if (!match || !SECRET_KEY.test(match[2] as string)) return text;
  return `${match[1]}********${match[4]}${match[5]}`;
}
