import type { Command } from "commander";
import { AppError } from "../errors";
import type { CompletionOptions, CompletionShell } from "./completion.command";
import { bashScript } from "./completion-bash";
import { fishScript } from "./completion-fish";
import { describe } from "./completion-model";
import { runListProfiles } from "./completion-profiles";
import { zshScript } from "./completion-zsh";

/**
 * `awsmfa completion bash|zsh|fish`: a completion script generated from the commander
 * definitions (the NAME.command.ts files that program.ts lists), so a new command or flag is completed without touching this file.
 * Profile names are not baked in: the script asks `awsmfa completion --list-profiles` (hidden),
 * which reads the two config files and prints one name a line.
 */

export function runCompletion(
  program: Command,
  shell: CompletionShell | undefined,
  options: CompletionOptions,
): void {
  if (options.listProfiles) {
    runListProfiles();
    return;
  }
  if (shell === undefined) {
    throw new AppError("completion-shell", "Name the shell: awsmfa completion bash|zsh|fish.", {
      hint: 'bash: eval "$(awsmfa completion bash)" in ~/.bashrc; zsh: source <(awsmfa completion zsh) in ~/.zshrc; fish: awsmfa completion fish > ~/.config/fish/completions/awsmfa.fish',
    });
  }
  process.stdout.write(completionScript(program, shell));
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
