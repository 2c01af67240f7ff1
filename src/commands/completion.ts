import type { Command } from "commander";
import { loadProfileNames } from "../config/files";
import { AppError } from "../errors";
import type { CompletionOptions, CompletionShell } from "./completion.command";
import { bashScript } from "./completion-bash";
import { fishScript } from "./completion-fish";
import { describe } from "./completion-model";
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
    process.stdout.write(
      profileNames(process.env)
        .map((name) => `${name}\n`)
        .join(""),
    );
    return;
  }
  if (shell === undefined) {
    throw new AppError("completion-shell", "Name the shell: awsmfa completion bash|zsh|fish.", {
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
