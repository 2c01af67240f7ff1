import { CommanderError } from "commander";
import type { Plan } from "../config/plan";
import { ExitStatus } from "../errors";
import { buildProgram } from "./program";

/**
 * Parses argv with the full command definitions and runs the command; returns the exit status.
 * `read`: the plan the warm path read for this call, so that the profile files are read once.
 */
export async function runCommand(argv: string[], read?: Plan): Promise<number> {
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
