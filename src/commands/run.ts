import { CommanderError } from "commander";
import type { Plan } from "../config/plan";
import { ExitStatus } from "../errors";
import { endQuietlyWhenStdoutCloses } from "../output/stdout";
import { buildProgram } from "./program";

/**
 * Parses argv with the full command definitions and runs the command; returns the exit status.
 * `read`: the plan the warm path read for this call, so that the profile files are read once.
 */
export async function runCommand(argv: string[], read?: Plan): Promise<number> {
  // Before anything prints: commander's help and errors (writeOut) and the commands write to process.stdout.
  endQuietlyWhenStdoutCloses();
  let status: number = ExitStatus.ok;
  const program = buildProgram((code) => {
    status = code;
  }, read);
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
