import { isIdentifier } from "../../config/ini";
import { tellStderr } from "../../output/tell";
import type { CallerIdentity } from "../../sts/credentials";
import {
  accessKeyIdProblem,
  type CliProfile,
  cancelled,
  checkNames,
  isRegion,
  MFA_SERIAL,
  PROFILE_NAME_RULE,
  ROLE_ARN,
  type RoleProfile,
  type SetupOptions,
} from "./checks";

/**
 * The questions setup asks when a person is there to answer (@clack/prompts on stderr, loaded only
 * then). Each one has a flag; the answers are checked by the same rules as the flags (checks.ts).
 */

export interface Asker {
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
export async function clackAsker(): Promise<Asker> {
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

/** A line for the person: in the flow of questions when there are any, on stderr otherwise. */
export function say(ask: Asker | undefined, message: string): void {
  if (ask) ask.info(message);
  else tellStderr(message);
}

/** The end of a run on a terminal: where the aws CLI and SDKs now work, or what to try. */
export function doneMessage(
  cli: CliProfile | undefined,
  cliRegion: string | undefined,
  otherwise: string,
): string {
  if (!cli) return otherwise;
  return cliRegion
    ? `Done. The aws CLI and SDKs now work with --profile ${cli.name}.`
    : `Done. The aws CLI and SDKs work with --profile ${cli.name} once it has a region: add region = … to [profile ${cli.name}] (or run setup again with --region).`;
}

export function askProfileName(ask: Asker, fallback: string): Promise<string> {
  return ask.text("Name of the profile for your IAM user's keys", {
    default: fallback,
    validate: (value) => (isIdentifier(value) ? undefined : PROFILE_NAME_RULE),
  });
}

export function askAccessKeyId(ask: Asker): Promise<string> {
  return ask.text("Access key ID (AKIA…)", { validate: (value) => accessKeyIdProblem(value) });
}

export function askSecret(ask: Asker): Promise<string> {
  return ask.password("Secret access key", (value) =>
    value === "" || /\s/.test(value) ? "the 40-character secret, no spaces" : undefined,
  );
}

export function askSerial(ask: Asker, identity: CallerIdentity): Promise<string> {
  const guess = identity.arn.replace(":user/", ":mfa/");
  return ask.text("MFA device ARN (IAM console → Users → Security credentials)", {
    default: guess,
    validate: (value) =>
      MFA_SERIAL.test(value) ? undefined : "an ARN like arn:aws:iam::123456789012:mfa/name",
  });
}

/** Empty: no region. */
export async function askRegion(ask: Asker): Promise<string | undefined> {
  const region = await ask.text("Default region for this profile (optional)", {
    validate: (value) => (value === "" || isRegion(value) ? undefined : "an AWS region, like eu-west-1"),
  });
  return region || undefined;
}

export async function askRoles(ask: Asker, profile: string): Promise<RoleProfile[]> {
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
            ? PROFILE_NAME_RULE
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

/** The profile the aws CLI and SDKs use; with roles just added, the last of them is offered first. */
export async function askCliProfile(
  ask: Asker,
  profile: string,
  roles: RoleProfile[],
  base: string,
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
            { value: profile, label: `profile '${profile}'`, hint: base },
          ],
          (roles.at(-1) as RoleProfile).name,
        );
  const name = await ask.text("Name of that profile", {
    default: `${profile}-cli`,
    validate: (value) =>
      !isIdentifier(value)
        ? PROFILE_NAME_RULE
        : value === profile || roles.some((role) => role.name === value)
          ? "that name is taken"
          : undefined,
  });
  return { name, target };
}

/** What the profiles on top are given: the --role and --credential-process-profile flags, the profile's region. */
export interface OnTopFlags {
  roles: RoleProfile[];
  cli: CliProfile | undefined;
  currentRegion: string | undefined;
}

/**
 * Role profiles, the credential_process profile and the region: from the flags, or asked.
 * `base` says what the profile itself gives, when it is offered as the credential_process target.
 */
export async function chooseOnTop(
  options: SetupOptions,
  ask: Asker | undefined,
  profile: string,
  given: OnTopFlags,
  base: string,
): Promise<{ roles: RoleProfile[]; cli: CliProfile | undefined; region: string | undefined }> {
  const { cli: flagCli, roles: flagRoles, currentRegion } = given;
  const roles = flagRoles.length > 0 || !ask ? flagRoles : await askRoles(ask, profile);
  const cli = flagCli ?? (ask ? await askCliProfile(ask, profile, roles, base) : undefined);
  checkNames(profile, roles, cli?.name);
  const region = options.region ?? (ask && !currentRegion ? await askRegion(ask) : undefined);
  return { roles, cli, region };
}
