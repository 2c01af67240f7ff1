import { spawn } from "node:child_process";
import { constants } from "node:os";
import type { Plan } from "../config/plan";
import { AppError, errnoCode } from "../errors";
import { containerVariables } from "../output/server";
import { credentialVariables, type Variables } from "../output/shell";
import { regionOf } from "../session/steps";
import { credentialsFor } from "./credentials";
import { loadPlan, parseMinTtl, selectedProfile, tellStderr } from "./selection";
import { startProfileServer } from "./serve";

export interface ExecOptions {
  profile?: string;
  force?: boolean;
  minTtl?: string;
  /** Serve the credentials from 127.0.0.1 for the child's lifetime instead of putting keys in its environment. */
  server?: boolean;
}

/** Set in the child, so that an `awsmfa exec` inside it notices it is nested. */
const EXEC_MARK = "AWSMFA_EXEC_PROFILE";

export async function runExec(command: string[], options: ExecOptions): Promise<number> {
  const outer = process.env[EXEC_MARK];
  if (outer && !options.force) {
    throw new AppError("nested-exec", `Already inside \`awsmfa exec\` for profile '${outer}'.`, {
      status: "usage",
      hint: "Leave that shell first, or pass --force to nest anyway.",
    });
  }
  const profile = selectedProfile(options.profile, process.env);
  const plan = loadPlan(profile, process.env);
  const file = command[0] ?? interactiveShell(process.env);
  const args = command.slice(1);
  const shellNotice = command[0] === undefined ? shellStarted(file, profile, options.server) : undefined;
  if (options.server) return runWithServer(file, args, plan, parseMinTtl(options.minTtl), shellNotice);
  const { entry } = await credentialsFor(plan, {
    minTtlSeconds: parseMinTtl(options.minTtl),
    notify: tellStderr,
  });
  const variables = {
    ...credentialVariables(entry.credentials, regionOf(plan, process.env)),
    [EXEC_MARK]: profile,
  };
  if (shellNotice) tellStderr(shellNotice);
  return runChild(file, args, childEnvironment(process.env, variables));
}

/** With no command, exec starts the user's shell, as aws-vault and similar tools do. */
function interactiveShell(env: NodeJS.ProcessEnv): string {
  return env.SHELL || "/bin/sh";
}

function shellStarted(shell: string, profile: string, server: boolean | undefined): string {
  const what = server ? "a credentials endpoint" : "the credentials";
  return `Starting ${shell} with ${what} of profile '${profile}' in its environment; leave it with \`exit\` or Ctrl-D.`;
}

/** The child gets the server's URI and token, and no keys or profile that the SDKs would prefer to them. */
async function runWithServer(
  file: string,
  args: string[],
  plan: Plan,
  minTtlSeconds: number,
  shellNotice: string | undefined,
): Promise<number> {
  const running = await startProfileServer(plan, { minTtlSeconds, port: 0 });
  try {
    const region = regionOf(plan, process.env);
    const variables = { ...containerVariables(running.server, { region }), [EXEC_MARK]: plan.profile };
    if (shellNotice) tellStderr(shellNotice);
    return await runChild(file, args, childEnvironment(process.env, variables));
  } finally {
    await running.close();
  }
}

/** The child of `exec` gets credentials, never the passphrase of awsmfa's own key store. */
export function childEnvironment(base: NodeJS.ProcessEnv, variables: Variables): NodeJS.ProcessEnv {
  const env = { ...base };
  delete env.AWSMFA_PASSPHRASE;
  for (const [name, value] of Object.entries(variables)) {
    if (value === undefined) delete env[name];
    else env[name] = value;
  }
  return env;
}

const COMMAND_NOT_FOUND = 127;
const COMMAND_NOT_RUNNABLE = 126;

function errorReason(error: Error): string {
  return errnoCode(error) === "EACCES" ? "permission denied" : error.message;
}

const FORWARDED: NodeJS.Signals[] = ["SIGTERM", "SIGHUP", "SIGQUIT", "SIGUSR1", "SIGUSR2", "SIGWINCH"];

/**
 * Runs the child with our stdio and returns the status to exit with: the child's, or 128 + the
 * signal that ended it, as a shell reports it. Signals sent to awsmfa are passed on; Ctrl-C on a
 * terminal already reaches the child through the process group, so SIGINT is passed on only
 * when it cannot have come from there (no terminal), or a child would see it twice.
 */
export function runChild(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(file, args, { stdio: "inherit", env });
    const signals: NodeJS.Signals[] = [...FORWARDED, "SIGINT"];
    const forward = (signal: NodeJS.Signals) => {
      if (signal === "SIGINT" && process.stdin.isTTY) return;
      child.kill(signal);
    };
    for (const signal of signals) process.on(signal, forward);
    const stop = () => {
      for (const signal of signals) process.off(signal, forward);
    };
    child.on("error", (error) => {
      stop();
      // As a shell reports it: 127 for a command that is not there, 126 for one that cannot run.
      const missing = errnoCode(error) === "ENOENT";
      const notFound = /[\\/]/.test(file) ? "no such file" : "command not found";
      tellStderr(missing ? `${file}: ${notFound}` : `${file}: cannot run it (${errorReason(error)})`);
      resolve(missing ? COMMAND_NOT_FOUND : COMMAND_NOT_RUNNABLE);
    });
    child.on("exit", (code, signal) => {
      stop();
      if (signal) resolve(128 + (constants.signals[signal] ?? 0));
      else resolve(code ?? 1);
    });
  });
}
