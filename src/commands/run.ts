import { CommanderError } from "commander";
import { ExitStatus } from "../errors";
import { buildProgram } from "./program";

/** Parses argv with the full command definitions and runs the command; returns the exit status. */
export async function runCommand(argv: string[]): Promise<number> {
  let status: number = ExitStatus.ok;
  const program = buildProgram((code) => {
    status = code;
  });
  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      return error.exitCode === 0 ? ExitStatus.ok : ExitStatus.usage;
    }
    throw error;
  }
  return status;
}
