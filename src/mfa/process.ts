import { AppError } from "../errors";
import { registerSource } from "./registry";
import { runProgram } from "./run";
import type { CodeRequest, Runtime } from "./types";

/** The program and argv that run a command line the way the user's shell would, as Node's `shell: true` does. */
export function shellCommand(
  command: string,
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv,
): { file: string; args: string[]; windowsVerbatimArguments: boolean } {
  if (platform === "win32") {
    return {
      file: env.ComSpec ?? "cmd.exe",
      args: ["/d", "/s", "/c", `"${command}"`],
      windowsVerbatimArguments: true,
    };
  }
  return { file: "/bin/sh", args: ["-c", command], windowsVerbatimArguments: false };
}

registerSource({
  rank: 30,
  describe: () => ({ how: "mfa_process = COMMAND", what: "in the profile: a command that prints the code" }),
  select(request, runtime) {
    const command = request.properties.mfa_process?.trim();
    if (!command) return undefined;
    return {
      source: "mfa_process",
      label: "mfa_process",
      kind: "generated",
      produce: (current) => runMfaProcess(command, current, runtime),
    };
  },
});

async function runMfaProcess(command: string, request: CodeRequest, runtime: Runtime): Promise<string> {
  const shell = shellCommand(command, runtime.platform, request.env);
  // The command may need to ask something (a password manager's unlock) and to say why it
  // fails: it gets the terminal. Never our stdout (machine output) nor our stderr (the aws CLI
  // swallows it, and what an arbitrary command prints there may be secret).
  const terminal = runtime.terminal.open();
  let run: ReturnType<typeof runProgram>;
  try {
    run = runProgram({
      ...shell,
      env: request.env,
      timeoutMs: runtime.processTimeoutMs,
      maxOutputBytes: runtime.maxOutputBytes,
      stdin: terminal?.input ?? "ignore",
      stderr: terminal?.output ?? "ignore",
    });
  } finally {
    // The child holds its own copies from the moment it is spawned.
    terminal?.close();
  }
  const outcome = await run;
  const where = `mfa_process of profile '${request.profile}'`;
  // Not the command itself: `oathtool --totp -b SEED` would put the seed on stderr.
  const hint = `Run the profile's mfa_process command yourself to see what it prints.`;
  switch (outcome.outcome) {
    case "timeout":
      throw new AppError(
        "mfa-process-timeout",
        `The ${where} did not finish within ${seconds(runtime.processTimeoutMs)} s.`,
        { hint },
      );
    case "overflow":
      throw new AppError(
        "mfa-process-output",
        `The ${where} printed more than ${runtime.maxOutputBytes} bytes; a code is six digits.`,
        { hint },
      );
    case "spawn-error":
      throw new AppError("mfa-process-failed", `Could not start the ${where}: ${outcome.error.message}`, {
        hint,
        cause: outcome.error,
      });
    case "exited": {
      if (outcome.exitCode === 0) return outcome.stdout.trim();
      const how = outcome.signal
        ? `was killed by ${outcome.signal}`
        : `failed with exit status ${outcome.exitCode}`;
      throw new AppError("mfa-process-failed", `The ${where} ${how}.`, { hint });
    }
  }
}

function seconds(ms: number): string {
  return String(Math.round(ms / 100) / 10);
}
