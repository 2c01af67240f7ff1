import type { Plan } from "../config/plan";
import { AppError } from "../errors";
import { containerVariables } from "../output/server";
import { credentialVariables } from "../output/shell";
import { regionOf } from "../session/steps";
import { childEnvironment, EXEC_MARK, spawnChild } from "./child";
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

export async function runExec(command: string[], options: ExecOptions): Promise<number> {
  const [file, ...args] = command;
  if (!file) {
    throw new AppError("no-command", "exec needs a command to run.", {
      status: "usage",
      hint: "awsmfa exec -p PROFILE -- aws s3 ls",
    });
  }
  const outer = process.env[EXEC_MARK];
  if (outer && !options.force) {
    throw new AppError("nested-exec", `Already inside \`awsmfa exec\` for profile '${outer}'.`, {
      status: "usage",
      hint: "Leave that shell first, or pass --force to nest anyway.",
    });
  }
  const profile = selectedProfile(options.profile, process.env);
  const plan = loadPlan(profile, process.env);
  if (options.server) return runWithServer(file, args, plan, parseMinTtl(options.minTtl));
  const { entry } = await credentialsFor(plan, {
    minTtlSeconds: parseMinTtl(options.minTtl),
    notify: tellStderr,
  });
  const variables = {
    ...credentialVariables(entry.credentials, regionOf(plan, process.env)),
    [EXEC_MARK]: profile,
  };
  return runChild(file, args, childEnvironment(process.env, variables));
}

/** The child gets the server's URI and token, and no keys or profile that the SDKs would prefer to them. */
async function runWithServer(
  file: string,
  args: string[],
  plan: Plan,
  minTtlSeconds: number,
): Promise<number> {
  const running = await startProfileServer(plan, { minTtlSeconds, port: 0 });
  try {
    const region = regionOf(plan, process.env);
    const variables = { ...containerVariables(running.server, { region }), [EXEC_MARK]: plan.profile };
    return await runChild(file, args, childEnvironment(process.env, variables));
  } finally {
    await running.close();
  }
}

/** Runs the child (child.ts); one that cannot be started is an error that names it. */
async function runChild(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const outcome = await spawnChild(file, args, env);
  if ("status" in outcome) return outcome.status;
  const error = outcome.notStarted;
  const missing = error.code === "ENOENT";
  throw new AppError(
    "exec-failed",
    missing ? `Command not found: ${file}` : `Could not run ${file}: ${error.message}`,
    {
      status: "failure",
    },
  );
}
