import type { Variables } from "../output/shell";
import { withoutPassphrase } from "../secrets/passphrase-variable";

/**
 * Running the command of `awsmfa exec`: shared by the full command (exec.ts) and the warm path
 * (warm.ts). The warm path imports this module on every call, so it imports nothing itself:
 * node:child_process and node:os are taken when a child is started.
 */

/** Set in the child, so that an `awsmfa exec` inside it notices it is nested. */
export const EXEC_MARK = "AWSMFA_EXEC_PROFILE";

/** The child of `exec` gets credentials, never the passphrase of awsmfa's own key store. */
export function childEnvironment(base: NodeJS.ProcessEnv, variables: Variables): NodeJS.ProcessEnv {
  const env = withoutPassphrase(base);
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

/** How a child ended: the status to exit with, or the error that kept it from starting. */
export type ChildOutcome = { status: number } | { notStarted: NodeJS.ErrnoException };

const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

/**
 * Runs the child with our stdio. Its status is the child's, or 128 + the signal that ended it,
 * as a shell reports it. Signals sent to awsmfa are passed on; Ctrl-C on a terminal already
 * reaches the child through the process group, so SIGINT is passed on only when it cannot have
 * come from there (no terminal), or a child would see it twice. A child that could not be
 * started is `notStarted`, for the caller to explain. `stdio`: our own, or the descriptors given
 * (the terminal device, for a child that must talk to the person whatever our stdio is).
 */
export function spawnChild(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  stdio: "inherit" | [number, number, number] = "inherit",
): Promise<ChildOutcome> {
  const { spawn } = process.getBuiltinModule("node:child_process");
  const { constants } = process.getBuiltinModule("node:os");
  // isatty, not process.stdin.isTTY: building process.stdin would load its stream machinery
  // (for a file, fs streams and readline) only to ask this.
  const onTerminal = process.getBuiltinModule("node:tty").isatty(stdio === "inherit" ? 0 : stdio[0]);
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio, env });
    const signals: NodeJS.Signals[] = [...FORWARDED, "SIGINT"];
    const forward = (signal: NodeJS.Signals) => {
      if (signal === "SIGINT" && onTerminal) return;
      child.kill(signal);
    };
    for (const signal of signals) process.on(signal, forward);
    const stop = () => {
      for (const signal of signals) process.off(signal, forward);
    };
    child.on("error", (error) => {
      stop();
      resolve({ notStarted: error as NodeJS.ErrnoException });
    });
    child.on("exit", (code, signal) => {
      stop();
      if (signal) resolve({ status: 128 + (constants.signals[signal] ?? 0) });
      else resolve({ status: code ?? 1 });
    });
  });
}
