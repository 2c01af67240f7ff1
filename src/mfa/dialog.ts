import { AppError } from "../errors";
import { codeQuestion, noCodeSource } from "./registry";
import { findProgram, runProgram } from "./run";
import type { CodeRequest, Runtime } from "./types";

/**
 * What the dialog programs share: argv only (no shell, and the code only ever comes back on
 * stdout), the profile and device named in the text, exit status 1 meaning "cancelled".
 */

export function dialogText(request: CodeRequest): string {
  const question = codeQuestion(request).trimEnd();
  return request.notice ? `${request.notice}\n\n${question}` : question;
}

/** The window title, which the title bar and the task switcher show: whose code is asked for. */
export function dialogTitle(request: CodeRequest): string {
  return `awsmfa: MFA code for profile '${request.profile}'`;
}

/** Why an X11/Wayland dialog cannot be shown here, or undefined. */
export function graphicalUnavailable(
  program: string,
  request: CodeRequest,
  runtime: Runtime,
): string | undefined {
  const needsDisplay = runtime.platform !== "darwin" && runtime.platform !== "win32";
  if (needsDisplay && !request.env.DISPLAY && !request.env.WAYLAND_DISPLAY) {
    return `there is no graphical display for ${program} (DISPLAY and WAYLAND_DISPLAY are unset)`;
  }
  return programUnavailable(program, request, runtime);
}

export function programUnavailable(
  program: string,
  request: CodeRequest,
  runtime: Runtime,
): string | undefined {
  return findProgram(program, request.env, runtime.platform) ? undefined : `${program} is not on PATH`;
}

export async function askWithDialog(
  program: string,
  args: string[],
  request: CodeRequest,
  runtime: Runtime,
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<string> {
  const file = findProgram(program, request.env, runtime.platform);
  if (file === undefined) throw noCodeSource(request, `${program} is not on PATH`);
  const outcome = await runProgram({
    file,
    args,
    env: { ...request.env, ...extraEnv },
    timeoutMs: runtime.dialogTimeoutMs,
    maxOutputBytes: runtime.maxOutputBytes,
    stdin: "ignore",
    stderr: "ignore",
  });
  const where = `the ${program} dialog for profile '${request.profile}'`;
  switch (outcome.outcome) {
    case "timeout":
      throw new AppError(
        "prompt-timeout",
        `No answer in ${where} within ${Math.round(runtime.dialogTimeoutMs / 1000)} s.`,
        {},
      );
    case "overflow":
      throw new AppError(
        "prompt-failed",
        `The answer in ${where} is longer than ${runtime.maxOutputBytes} bytes.`,
        {},
      );
    case "spawn-error":
      throw new AppError("prompt-failed", `Could not open ${where}: ${outcome.error.message}`, {
        cause: outcome.error,
      });
    case "exited":
      if (outcome.exitCode === 0) return outcome.stdout;
      if (outcome.exitCode === 1) {
        throw new AppError("code-cancelled", `The MFA code was not given: ${where} was cancelled.`);
      }
      throw new AppError(
        "prompt-failed",
        `${program} failed (${outcome.signal ?? `exit status ${outcome.exitCode}`}) while asking for the MFA code for profile '${request.profile}'.`,
        { hint: "Choose another prompt with awsmfa_prompt in the profile or AWSMFA_PROMPT." },
      );
  }
}
