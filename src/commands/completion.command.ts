import { Argument } from "commander";
import { defineCommand } from "./define";
import { hidden, type OptionsOf, switchFlag } from "./flags";

export const COMPLETION_SHELLS = ["bash", "zsh", "fish"] as const;
export type CompletionShell = (typeof COMPLETION_SHELLS)[number];

const flags = {
  listProfiles: hidden(
    switchFlag("--list-profiles", "print the profile names, one a line (for the scripts)"),
  ),
};
export type CompletionOptions = OptionsOf<typeof flags>;

export const completionCommand = defineCommand({
  name: "completion",
  description: "print a completion script for bash, zsh or fish",
  arguments: () => [new Argument("[shell]", "the shell").choices([...COMPLETION_SHELLS])],
  flags,
  run: async (options, [shell], program) =>
    (await import("./completion")).runCompletion(program, shell as CompletionShell | undefined, options),
});
