import { type Command, Help, type Option } from "commander";

// What the scripts are made from: commands, their flags, what each flag's value is.

export type ValueKind = "none" | "profile" | "file" | "choices" | "any";

export interface FlagModel {
  short?: string;
  long?: string;
  description: string;
  value: ValueKind;
  choices: string[];
  repeatable: boolean;
  /** The value may be left out (`--flag [value]`). */
  optionalValue: boolean;
}

export interface CommandModel {
  name: string;
  /** Names from the top: ["keys", "move"]. */
  path: string[];
  description: string;
  flags: FlagModel[];
  subcommands: CommandModel[];
  /** Choices of the positional arguments (e.g. completion's shell, help's command). */
  argumentChoices: string[];
  /** Takes a command line to run after its options (exec). */
  runsCommand: boolean;
}

const NAME = /^[\w][\w-]*$/;

export function describe(program: Command): CommandModel {
  return describeCommand(program, [], new Help(), undefined);
}

function describeCommand(
  command: Command,
  path: string[],
  help: Help,
  parent: Command | undefined,
): CommandModel {
  const isImplicitHelp =
    parent !== undefined && command.name() === "help" && !parent.commands.includes(command);
  const subcommands = isImplicitHelp
    ? []
    : help
        .visibleCommands(command)
        .filter((sub) => NAME.test(sub.name()))
        .map((sub) => describeCommand(sub, [...path, sub.name()], help, command));
  const argumentChoices = isImplicitHelp
    ? help
        .visibleCommands(parent)
        .map((other) => other.name())
        .filter((name) => name !== "help" && NAME.test(name))
    : command.registeredArguments.flatMap((argument) => argument.argChoices ?? []);
  return {
    name: command.name(),
    path,
    description: firstLine(command.description()),
    flags: help.visibleOptions(command).map(flagOf),
    subcommands,
    argumentChoices,
    runsCommand:
      !isImplicitHelp &&
      command.registeredArguments.some((argument) => argument.variadic) &&
      argumentChoices.length === 0,
  };
}

/** Every command below `root`, depth first. */
export function allCommands(root: CommandModel): CommandModel[] {
  return root.subcommands.flatMap((command) => [command, ...allCommands(command)]);
}

function flagOf(option: Option): FlagModel {
  const placeholder = /[<[]([^>\]]+)[>\]]/.exec(option.flags)?.[1]?.toLowerCase() ?? "";
  const takesValue = option.required || option.optional;
  let value: ValueKind = "none";
  if (takesValue) {
    if (option.argChoices?.length) value = "choices";
    else if (option.long?.endsWith("profile") || placeholder === "profile") value = "profile";
    else if (placeholder === "file" || placeholder === "path") value = "file";
    else value = "any";
  }
  return {
    short: option.short,
    long: option.long,
    description: firstLine(option.description),
    value,
    choices: option.argChoices ?? [],
    repeatable: Array.isArray(option.defaultValue) || option.variadic,
    optionalValue: option.optional,
  };
}

function firstLine(text: string): string {
  return (text.split("\n")[0] ?? "").trim();
}

export function flagWords(flag: FlagModel): string[] {
  return [flag.short, flag.long].filter((word): word is string => word !== undefined);
}
