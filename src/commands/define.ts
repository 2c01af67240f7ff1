import type { Argument, Command } from "commander";
import type { Plan } from "../config/plan";
import { addFlags, type Flags, type OptionsOf } from "./flags";

/**
 * One command as program.ts lists it: its words for --help, its flags, and how to run it. `run`
 * loads the command's module with import(), so that a command pays for no other command's code
 * (esbuild keeps each module reached only through import() uninitialised until then).
 */
export interface CommandSpec<F extends Flags = Flags> {
  name: string;
  description: string;
  flags: F;
  /** Positional arguments; their values reach `run` as `args`, a variadic one spread out. */
  arguments?: () => Argument[];
  usage?: string;
  /** Printed after the flags in --help. */
  helpAfter?: string;
  /** Everything after the first argument is the argument's, not awsmfa's (exec's command line). */
  passThrough?: boolean;
  /**
   * What it resolves to is the exit status when a number (exec: the command's own), else ignored.
   * `read`: the plan the warm path read before its cache missed (cli.ts), for loadPlan to reuse.
   */
  run(options: OptionsOf<F>, args: string[], program: Command, read: Plan | undefined): Promise<unknown>;
}

/** A word that only groups subcommands (`keys move`). */
export interface CommandGroup {
  name: string;
  description: string;
  subcommands: CommandSpec[];
}

/** Checks `run` against the flags, then forgets the flags' types so that commands of every kind fit one list. */
export function defineCommand<F extends Flags>(spec: CommandSpec<F>): CommandSpec {
  return spec as unknown as CommandSpec;
}

/** Adds the command (or group) under `parent`; a number its run returns goes to setExitStatus. */
export function addCommand(
  parent: Command,
  spec: CommandSpec | CommandGroup,
  program: Command,
  setExitStatus: (status: number) => void,
  read?: Plan,
): Command {
  const command = parent.command(spec.name).description(spec.description);
  if ("subcommands" in spec) {
    for (const sub of spec.subcommands) addCommand(command, sub, program, setExitStatus, read);
    return command;
  }
  if (spec.usage !== undefined) command.usage(spec.usage);
  for (const argument of spec.arguments?.() ?? []) command.addArgument(argument);
  addFlags(command, spec.flags);
  if (spec.passThrough) command.passThroughOptions();
  if (spec.helpAfter !== undefined) command.addHelpText("after", spec.helpAfter);
  command.action(async (...received: unknown[]) => {
    const positional = received.slice(0, command.registeredArguments.length);
    const args = positional.flat().filter((value): value is string => typeof value === "string");
    const status = await spec.run(command.opts() as OptionsOf<Flags>, args, program, read);
    if (typeof status === "number") setExitStatus(status);
  });
  return command;
}
