import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Plan } from "../config/plan";
import { AppError, errnoCode } from "../errors";
import {
  CONTAINER_CA,
  CONTAINER_ENV,
  type ContainerServing,
  containerServing,
  writeContainerEnvFile,
} from "../output/container-serving";
import { startProfileServer } from "../output/profile-server";
import { containerVariables } from "../output/server";
import { type OwnFile, removeOwnFile } from "../output/server-token-file";
import { credentialVariables } from "../output/shell";
import { tellStderr } from "../output/tell";
import { credentialsFor } from "../session/credentials-for";
import { regionOf } from "../session/steps";
import { childEnvironment, EXEC_MARK, spawnChild } from "./child";
import type { ExecOptions } from "./exec.command";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";

export async function runExec(command: string[], options: ExecOptions, read?: Plan): Promise<number> {
  const outer = process.env[EXEC_MARK];
  if (outer && !options.force) {
    throw new AppError("nested-exec", `Already inside \`awsmfa exec\` for profile '${outer}'.`, {
      hint: "Leave that shell first, or pass --force to nest anyway.",
    });
  }
  if (!options.server && (options.containers !== undefined || options.containerEnv !== undefined)) {
    throw new AppError(
      "containers-without-server",
      "--containers and --container-env serve through --server.",
      {
        hint: "Add --server: exec --server --containers -- CMD",
      },
    );
  }
  const containers = options.server ? containerServing(options.containers, options.containerEnv) : undefined;
  const profile = selectedProfile(options.profile, process.env);
  const plan = loadPlan(profile, process.env, read);
  const file = command[0] ?? interactiveShell(process.env);
  const args = command.slice(1);
  const shellNotice = command[0] === undefined ? shellStarted(file, profile, options.server) : undefined;
  if (options.server) {
    const minTtlSeconds = parseMinTtl(options.minTtl);
    return runWithServer({ file, args }, plan, { minTtlSeconds, containers, shellNotice });
  }
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
  command: { file: string; args: string[] },
  plan: Plan,
  options: { minTtlSeconds: number; containers?: ContainerServing; shellNotice?: string },
): Promise<number> {
  const { minTtlSeconds, shellNotice } = options;
  // Without --container-env, the file goes in a directory of its own, made private here and removed on exit.
  const tempDir =
    options.containers !== undefined && options.containers.envFilePath === undefined
      ? mkdtempSync(join(tmpdir(), "awsmfa-container-"))
      : undefined;
  const containers =
    tempDir === undefined || options.containers === undefined
      ? options.containers
      : { ...options.containers, envFilePath: join(tempDir, "container.env") };
  let envFile: OwnFile | undefined;
  try {
    const running = await startProfileServer(plan, {
      minTtlSeconds,
      port: 0,
      containers: containers?.endpoint,
    });
    try {
      const region = regionOf(plan, process.env);
      envFile = writeContainerEnvFile(containers, running.server, region);
      const variables = {
        ...containerVariables(running.server, { region }),
        [CONTAINER_ENV]: envFile?.path,
        [CONTAINER_CA]: running.containerCaDir,
        [EXEC_MARK]: plan.profile,
      };
      if (shellNotice) tellStderr(shellNotice);
      return await runChild(command.file, command.args, childEnvironment(process.env, variables));
    } finally {
      await running.close();
    }
  } finally {
    if (envFile !== undefined) removeOwnFile(envFile, tellStderr);
    if (tempDir !== undefined) rmSync(tempDir, { recursive: true, force: true });
  }
}

const COMMAND_NOT_FOUND = 127;
const COMMAND_NOT_RUNNABLE = 126;

/**
 * Runs the child (child.ts) and returns the status to exit with. One that cannot be started is
 * reported as a shell reports it: 127 for a command that is not there, 126 for one that cannot run.
 */
async function runChild(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  const outcome = await spawnChild(file, args, env);
  if ("status" in outcome) return outcome.status;
  const error = outcome.notStarted;
  const missing = errnoCode(error) === "ENOENT";
  const notFound = /[/]/.test(file) ? "no such file" : "command not found";
  const reason = errnoCode(error) === "EACCES" ? "permission denied" : error.message;
  tellStderr(missing ? `${file}: ${notFound}` : `${file}: cannot run it (${reason})`);
  return missing ? COMMAND_NOT_FOUND : COMMAND_NOT_RUNNABLE;
}
