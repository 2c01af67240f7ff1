import { Option } from "commander";
import { CONTAINER_MODES, type ContainerMode } from "../output/containers";

/**
 * A command's flag: how commander reads it and, for TypeScript only, the type of the value the
 * handler gets. A command lists its flags in a record whose keys are the names commander stores
 * the values under (`--min-ttl` → `minTtl`; addFlags checks), so the handler's options type is
 * derived from the same record that defines the flags (OptionsOf) and cannot drift from it.
 */
export interface Flag<Value> {
  readonly option: () => Option;
  /** Never set: carries the value's type. */
  readonly value?: Value;
}

export type Flags = Record<string, Flag<unknown>>;

type ValueOf<F> = F extends Flag<infer Value> ? Value : never;
type OptionalKeys<F extends Flags> = { [K in keyof F]: undefined extends ValueOf<F[K]> ? K : never }[keyof F];

/** The options object commander hands a command with these flags: a flag given or not is an optional key. */
export type OptionsOf<F extends Flags> = {
  [K in OptionalKeys<F>]?: Exclude<ValueOf<F[K]>, undefined>;
} & { [K in Exclude<keyof F, OptionalKeys<F>>]: ValueOf<F[K]> };

/** Adds the flags to the command in their order (the order --help lists them in). */
export function addFlags(command: { addOption(option: Option): unknown }, flags: Flags): void {
  for (const [key, flag] of Object.entries(flags)) {
    const option = flag.option();
    if (option.attributeName() !== key) {
      throw new Error(`flag ${option.flags} is stored as '${option.attributeName()}', listed as '${key}'`);
    }
    command.addOption(option);
  }
}

// The kinds of flag. Each makes a new Option per use: an Option belongs to one command.

/** `--name`: true when given. */
export function switchFlag(flags: string, help: string): Flag<boolean | undefined> {
  return { option: () => new Option(flags, help) };
}

/** `--name <value>`: the text given. */
export function textFlag(flags: string, help: string): Flag<string | undefined> {
  return { option: () => new Option(flags, help) };
}

/** `--name [value]`: true when given alone, else the text given. */
export function optionalTextFlag(flags: string, help: string): Flag<string | true | undefined> {
  return { option: () => new Option(flags, help) };
}

/** `--name <value>` given any number of times: every value, in order. */
export function repeatableFlag(flags: string, help: string): Flag<string[]> {
  return {
    option: () =>
      new Option(flags, help)
        .default([])
        .argParser((value: string, previous: string[]) => [...previous, value]),
  };
}

/** `--name <value>` with one of a fixed list (commander refuses any other, with the list). */
export function choiceFlag<Choice extends string>(
  flags: string,
  help: string,
  choices: readonly Choice[],
): Flag<Choice | undefined> {
  return { option: () => new Option(flags, help).choices(choices) };
}

/** `--name [value]` with one of a fixed list: true when given alone, else the choice given. */
export function optionalChoiceFlag<Choice extends string>(
  flags: string,
  help: string,
  choices: readonly Choice[],
): Flag<Choice | true | undefined> {
  return { option: () => new Option(flags, help).choices(choices) };
}

/** The flag, which must be given (commander refuses the command without it). */
export function mandatory<Value>(flag: Flag<Value>): Flag<Exclude<Value, undefined>> {
  return { option: () => flag.option().makeOptionMandatory() };
}

/** The flag, left out of --help and the completion scripts: set by awsmfa itself, or by its scripts. */
export function hidden<Value>(flag: Flag<Value>): Flag<Value> {
  return { option: () => flag.option().hideHelp() };
}

// The flags several commands share, said the same way everywhere.

export const profileFlag = textFlag(
  "-p, --profile <name>",
  "profile to use (default: $AWS_PROFILE, else 'default')",
);

export const minTtlFlag = textFlag(
  "--min-ttl <duration>",
  "hand out credentials only with at least this much left (default 15m)",
);

/** The MFA code for the commands that may have to ask for one; `help` says when it is needed. */
export function tokenCodeFlag(
  help = "the six-digit MFA code, or - to read it from stdin",
): Flag<string | undefined> {
  return textFlag("--token-code <code>", help);
}

export function jsonFlag(help = "machine-readable output"): Flag<boolean | undefined> {
  return switchFlag("--json", help);
}

/** output/shell.ts SHELLS and the alias pwsh; written out so that parsing flags loads no output module. */
const SHELL_CHOICES = ["bash", "zsh", "fish", "powershell", "pwsh"] as const;

export const shellFlag = choiceFlag("--shell <shell>", "shell syntax (default from $SHELL)", SHELL_CHOICES);

/** For the commands without --token-code: where the code goes when there is no terminal to ask on. */
export const CODE_ELSEWHERE_HELP =
  "\nNo --token-code here: a code is asked for on the terminal, or comes from mfa_process or a stored TOTP seed.\n" +
  "Without those, log in first (awsmfa login -p P --token-code CODE), then run this command.";

/** --containers [mode]: the mode names and the per-system default are output/containers.ts's. */
export function containersFlag(prefix = ""): Flag<ContainerMode | true | undefined> {
  return optionalChoiceFlag(
    "--containers [mode]",
    `${prefix}also serve containers (same port): ecs listens on 169.254.170.2 too (default on Linux; needs \`sudo awsmfa containers enable\` first), tls serves https for Docker Desktop with awsmfa's own CA, which containers mount from $AWSMFA_CONTAINER_CA at /run/awsmfa (default on macOS and Windows)`,
    CONTAINER_MODES,
  );
}

/**
 * Not `--env-file`: Node (20 to 24 at least) looks for that flag anywhere in its argv, after the
 * script too, and exits 9 ("node: FILE: not found") when the file does not exist yet.
 */
export function containerEnvFlag(help: string): Flag<string | undefined> {
  return textFlag("--container-env <file>", help);
}
