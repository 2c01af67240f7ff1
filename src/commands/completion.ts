import { type Command, Help, type Option } from "commander";
import { loadProfileNames } from "../config/files";
import { AppError } from "../errors";
import { fishQuote, posixQuote } from "../output/shell";
import type { CompletionOptions, CompletionShell } from "./completion.command";

/**
 * `awsmfa completion bash|zsh|fish`: a completion script generated from the commander
 * definitions (program.ts), so a new command or flag is completed without touching this file.
 * Profile names are not baked in: the script asks `awsmfa completion --list-profiles` (hidden),
 * which reads the two config files and prints one name a line.
 */

export function runCompletion(
  program: Command,
  shell: CompletionShell | undefined,
  options: CompletionOptions,
): void {
  if (options.listProfiles) {
    process.stdout.write(
      profileNames(process.env)
        .map((name) => `${name}\n`)
        .join(""),
    );
    return;
  }
  if (shell === undefined) {
    throw new AppError("completion-shell", "Name the shell: awsmfa completion bash|zsh|fish.", {
      status: "usage",
      hint: 'bash: eval "$(awsmfa completion bash)" in ~/.bashrc; zsh: source <(awsmfa completion zsh) in ~/.zshrc; fish: awsmfa completion fish > ~/.config/fish/completions/awsmfa.fish',
    });
  }
  process.stdout.write(completionScript(program, shell));
}

/** Every profile of the config and credentials files, sorted; nothing (not an error) when they cannot be read. */
export function profileNames(env: NodeJS.ProcessEnv): string[] {
  try {
    return loadProfileNames(env).sort();
  } catch {
    return [];
  }
}

export function completionScript(program: Command, shell: CompletionShell): string {
  const model = describe(program);
  switch (shell) {
    case "bash":
      return bashScript(model);
    case "zsh":
      return zshScript(model);
    case "fish":
      return fishScript(model);
  }
}

// ---------------------------------------------------------------------------------------------
// What the scripts are made from: commands, their flags, what each flag's value is.

type ValueKind = "none" | "profile" | "file" | "choices" | "any";

interface FlagModel {
  short?: string;
  long?: string;
  description: string;
  value: ValueKind;
  choices: string[];
  repeatable: boolean;
  /** The value may be left out (`--flag [value]`). */
  optionalValue: boolean;
}

interface CommandModel {
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

function describe(program: Command): CommandModel {
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
function allCommands(root: CommandModel): CommandModel[] {
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

function flagWords(flag: FlagModel): string[] {
  return [flag.short, flag.long].filter((word): word is string => word !== undefined);
}

// ---------------------------------------------------------------------------------------------
// bash: the words before the cursor are walked down the command tree to a path ("keys/move"),
// then the path's flags, values and subcommands are offered.

function bashScript(root: CommandModel): string {
  const fn = `_${root.name}`;
  const commands = allCommands(root);
  const steps = commands.map((command) => `${command.path.slice(0, -1).join("/")}/${command.name}`);
  const cases = [root, ...commands].map((command) => bashCommandCase(command, fn)).join("");
  return `# bash completion for ${root.name} (generated by \`${root.name} completion bash\`)
#   eval "$(${root.name} completion bash)"                      in ~/.bashrc, or
#   ${root.name} completion bash > ~/.local/share/bash-completion/completions/${root.name}

${fn}_profiles() {
  command ${root.name} completion --list-profiles 2>/dev/null
}

${fn}() {
  local cur prev path word i dashdash
  COMPREPLY=()
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev=""
  if (( COMP_CWORD > 0 )); then prev="\${COMP_WORDS[COMP_CWORD-1]}"; fi
  path=""
  dashdash=0
  for (( i = 1; i < COMP_CWORD; i++ )); do
    word="\${COMP_WORDS[i]}"
    if [[ "$word" == "--" ]]; then dashdash=$i; break; fi
    case "$path/$word" in
      ${steps.join("|")}) path="\${path:+$path/}$word" ;;
    esac
  done
  if (( dashdash > 0 )); then
    if (( dashdash + 1 == COMP_CWORD )); then
      COMPREPLY=( $(compgen -c -- "$cur") )
    else
      COMPREPLY=( $(compgen -f -- "$cur") )
    fi
    return 0
  fi
  case "$path" in
${cases}  esac
  return 0
}

complete -F ${fn} ${root.name}
`;
}

function bashCommandCase(command: CommandModel, fn: string): string {
  const valueCases: string[] = [];
  const group = (kind: ValueKind, action: string, choices: string[] = []) => {
    const words = command.flags
      .filter((flag) => flag.value === kind && (kind !== "choices" || sameList(flag.choices, choices)))
      .flatMap(flagWords);
    if (words.length > 0) valueCases.push(`        ${words.join("|")}) ${action} ;;\n`);
  };
  group("profile", `COMPREPLY=( $(compgen -W "$(${fn}_profiles)" -- "$cur") ); return 0`);
  group("file", `COMPREPLY=( $(compgen -f -- "$cur") ); return 0`);
  const choiceSets = uniqueLists(
    command.flags.filter((flag) => flag.value === "choices").map((flag) => flag.choices),
  );
  for (const choices of choiceSets) {
    group("choices", `COMPREPLY=( $(compgen -W ${bashWords(choices)} -- "$cur") ); return 0`, choices);
  }
  group("any", "return 0");
  const words = [
    ...command.subcommands.map((sub) => sub.name),
    ...command.flags.flatMap(flagWords),
    ...command.argumentChoices,
  ];
  const commandWord = command.runsCommand
    ? `      if [[ "$cur" != -* ]]; then COMPREPLY=( $(compgen -c -- "$cur") ); return 0; fi\n`
    : "";
  return (
    `    ${command.path.length === 0 ? '""' : command.path.join("/")})\n` +
    (valueCases.length > 0 ? `      case "$prev" in\n${valueCases.join("")}      esac\n` : "") +
    commandWord +
    `      COMPREPLY=( $(compgen -W ${bashWords(words)} -- "$cur") )\n` +
    "      ;;\n"
  );
}

/** One single-quoted word list for compgen -W. */
function bashWords(words: string[]): string {
  return posixQuote(words.join(" "));
}

// ---------------------------------------------------------------------------------------------
// zsh: one function per command that has subcommands, _arguments for the rest.

function zshScript(root: CommandModel): string {
  const fn = `_${root.name}`;
  const functions = [root, ...allCommands(root)]
    .filter((command) => command === root || command.subcommands.length > 0)
    .map((command) => zshFunction(command, fn))
    .join("\n");
  return `#compdef ${root.name}
# zsh completion for ${root.name} (generated by \`${root.name} completion zsh\`)
#   source <(${root.name} completion zsh)                 in ~/.zshrc, or
#   ${root.name} completion zsh > "\${fpath[1]}/_${root.name}"

${fn}_profiles() {
  local -a profiles
  profiles=(\${(f)"$(command ${root.name} completion --list-profiles 2>/dev/null)"})
  _describe -t profiles 'AWS profile' profiles
}

${functions}
if [[ "\${funcstack[1]}" == "${fn}" ]]; then
  ${fn} "$@"
else
  compdef ${fn} ${root.name}
fi
`;
}

function zshFunctionName(command: CommandModel, fn: string): string {
  return [fn, ...command.path].join("_").replace(/-/g, "_");
}

function zshFunction(command: CommandModel, fn: string): string {
  const name = zshFunctionName(command, fn);
  const specs = command.flags.flatMap((flag) => zshFlagSpecs(flag, fn));
  const list = command.subcommands
    .map((sub) => `        ${posixQuote(`${sub.name}:${sub.description}`)}\n`)
    .join("");
  const cases = command.subcommands
    .map((sub) => `        ${sub.name})\n          ${zshLeafBody(sub, fn)}\n          ;;\n`)
    .join("");
  return `${name}() {
  local curcontext="$curcontext" state state_descr line ret=1
  typeset -A opt_args
  _arguments -C \\
    ${[...specs, "'1: :->command'", "'*:: :->argument'"].join(" \\\n    ")} && ret=0
  case $state in
    command)
      local -a commands
      commands=(
${list}      )
      _describe -t commands '${command.path.length === 0 ? command.name : command.path.join(" ")} command' commands && ret=0
      ;;
    argument)
      curcontext="\${curcontext%:*:*}:${[fn.slice(1), ...command.path].join("-")}-$line[1]:"
      case $line[1] in
${cases}      esac
      ;;
  esac
  return ret
}
`;
}

function zshLeafBody(command: CommandModel, fn: string): string {
  if (command.subcommands.length > 0) return `${zshFunctionName(command, fn)} && ret=0`;
  const specs = command.flags.flatMap((flag) => zshFlagSpecs(flag, fn));
  if (command.argumentChoices.length > 0)
    specs.push(posixQuote(`1:argument:(${command.argumentChoices.join(" ")})`));
  if (command.runsCommand) specs.push(posixQuote("*::command:_normal"));
  return specs.length > 0
    ? `_arguments -s \\\n            ${specs.join(" \\\n            ")} && ret=0`
    : "ret=0";
}

function zshFlagSpecs(flag: FlagModel, fn: string): string[] {
  const words = flagWords(flag);
  const description = `[${zshEscapeDescription(flag.description)}]`;
  let action = "";
  switch (flag.value) {
    case "profile":
      action = `:profile:${fn}_profiles`;
      break;
    case "file":
      action = ":file:_files";
      break;
    case "choices":
      action = `:value:(${flag.choices.join(" ")})`;
      break;
    case "any":
      action = ":value: ";
      break;
  }
  if (flag.optionalValue && action !== "") action = `:${action}`;
  const repeat = flag.repeatable ? "*" : "";
  if (words.length === 1) return [posixQuote(`${repeat}${words[0]}${description}${action}`)];
  const exclusion = flag.repeatable ? "" : `(${words.join(" ")})`;
  return [
    `${posixQuote(`${exclusion}${repeat}`)}{${words.join(",")}}${posixQuote(`${description}${action}`)}`,
  ];
}

function zshEscapeDescription(text: string): string {
  return text.replace(/([\\[\]:])/g, "\\$1");
}

// ---------------------------------------------------------------------------------------------
// fish

function fishScript(root: CommandModel): string {
  const fn = `__${root.name}`;
  const c = `complete -c ${root.name}`;
  const lines: string[] = [
    `# fish completion for ${root.name} (generated by \`${root.name} completion fish\`)`,
    `#   ${root.name} completion fish > ~/.config/fish/completions/${root.name}.fish`,
    "",
    `function ${fn}_profiles`,
    `    command ${root.name} completion --list-profiles 2>/dev/null`,
    "end",
    "",
    `${c} -f`,
  ];
  for (const flag of root.flags) lines.push(`${c} -n __fish_use_subcommand ${fishFlag(flag, fn)}`);
  for (const command of root.subcommands) {
    lines.push(`${c} -n __fish_use_subcommand -a ${command.name} -d ${fishQuote(command.description)}`);
  }
  for (const command of allCommands(root)) {
    const seen = command.path.map((name) => `__fish_seen_subcommand_from ${name}`).join("; and ");
    const subNames = command.subcommands.map((sub) => sub.name).join(" ");
    const here = `-n ${fishQuote(subNames ? `${seen}; and not __fish_seen_subcommand_from ${subNames}` : seen)}`;
    for (const sub of command.subcommands) {
      lines.push(`${c} ${here} -a ${sub.name} -d ${fishQuote(sub.description)}`);
    }
    const within = `-n ${fishQuote(seen)}`;
    for (const flag of command.flags) lines.push(`${c} ${within} ${fishFlag(flag, fn)}`);
    if (command.argumentChoices.length > 0) {
      lines.push(`${c} ${here} -a ${fishQuote(command.argumentChoices.join(" "))}`);
    }
    if (command.runsCommand) lines.push(`${c} ${within} -a '(__fish_complete_subcommand -- --)'`);
  }
  return `${lines.join("\n")}\n`;
}

function fishFlag(flag: FlagModel, fn: string): string {
  const parts: string[] = [];
  if (flag.short) parts.push(`-s ${flag.short.replace(/^-/, "")}`);
  if (flag.long) parts.push(`-l ${flag.long.replace(/^--/, "")}`);
  switch (flag.value) {
    case "profile":
      parts.push(`${flag.optionalValue ? "-f" : "-x"} -a '(${fn}_profiles)'`);
      break;
    case "file":
      parts.push("-r -F");
      break;
    case "choices":
      parts.push(`-x -a ${fishQuote(flag.choices.join(" "))}`);
      break;
    case "any":
      parts.push("-x");
      break;
  }
  parts.push(`-d ${fishQuote(flag.description)}`);
  return parts.join(" ");
}

// ---------------------------------------------------------------------------------------------

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((item, index) => item === b[index]);
}

function uniqueLists(lists: string[][]): string[][] {
  const unique: string[][] = [];
  for (const list of lists) if (!unique.some((known) => sameList(known, list))) unique.push(list);
  return unique;
}
