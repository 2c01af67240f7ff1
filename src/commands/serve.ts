import { spawn } from "node:child_process";
import { closeSync } from "node:fs";
import { constants } from "node:os";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { AppError, ExitStatus } from "../errors";
import { writeAll } from "../fsio/write-all";
import {
  CONTAINER_CA,
  CONTAINER_ENV,
  type ContainerServing,
  containerServing,
  writeContainerEnvFile,
} from "../output/container-serving";
import { CONTAINER_CA_DIR } from "../output/containers";
import { type ProfileServer, startProfileServer } from "../output/profile-server";
import { containerVariables, newServerToken } from "../output/server";
import { createTokenFile, type OwnFile, removeOwnFile } from "../output/server-token-file";
import { parseShell, shellFromEnv, shellLines } from "../output/shell";
import { writeStdout } from "../output/stdout";
import { tellStderr } from "../output/tell";
import { regionOf } from "../session/steps";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";
import type { ServeOptions } from "./serve.command";

const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
const DETACHED_STOP_SIGNALS: NodeJS.Signals[] = ["SIGTERM", "SIGHUP"];
const DETACHED_IGNORED_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGQUIT", "SIGTSTP"];
/** Printed by --detach, for `kill "$AWSMFA_SERVE_PID"`. */
const SERVE_PID = "AWSMFA_SERVE_PID";

/**
 * `awsmfa serve`: prints the variables for eval, serves until SIGINT/SIGTERM/SIGHUP, then cleans
 * up. With --detach, runs itself again in the background and returns once that one listens.
 */
export async function runServe(options: ServeOptions): Promise<number> {
  const shell = options.shell ? parseShell(options.shell) : shellFromEnv(process.env);
  const port = parsePort(options.port);
  const minTtlSeconds = parseMinTtl(options.minTtl);
  const tokenFilePath = options.tokenFile === undefined ? undefined : resolve(options.tokenFile);
  const containers = containerServing(options.containers, options.containerEnv);
  if (options.detach)
    return runDetached({
      ...options,
      shell,
      tokenFile: tokenFilePath,
      containerEnv: containers?.envFilePath,
    });
  const readyFd = options.readyFd === undefined ? undefined : Number(options.readyFd);
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);

  // The token file first: a path that must not be replaced is refused before anyone is asked for a code.
  const token = newServerToken();
  const tokenFile =
    tokenFilePath === undefined ? undefined : createTokenFile(tokenFilePath, token, tellStderr);
  let running: ProfileServer;
  let envFile: OwnFile | undefined;
  try {
    running = await startProfileServer(plan, {
      minTtlSeconds,
      port,
      token,
      containers: containers?.endpoint,
    });
  } catch (error) {
    if (tokenFile !== undefined) removeOwnFile(tokenFile, tellStderr);
    throw error;
  }
  const stopped = untilSignal(readyFd === undefined ? STOP_SIGNALS : DETACHED_STOP_SIGNALS);
  const { server } = running;
  try {
    const region = regionOf(plan, process.env);
    envFile = writeContainerEnvFile(containers, server, region);
    const variables = {
      ...(envFile === undefined ? {} : { [CONTAINER_ENV]: envFile.path }),
      ...(running.containerCaDir === undefined ? {} : { [CONTAINER_CA]: running.containerCaDir }),
      ...containerVariables(server, { tokenFile: tokenFilePath, region }),
    };
    if (readyFd === undefined) {
      // Written now, not through process.stdout: if stdout's reader has gone, serve stops here and
      // cleans up below, rather than serve what nobody was told of.
      const printed = writeStdout(shellLines(variables, shell));
      if (printed !== ExitStatus.ok) return printed;
      tellStderr(
        `Serving the credentials of profile '${plan.profile}' on ${servedAt(running, containers)}, renewed in the background, until interrupted.`,
      );
    } else {
      // In the background, in the shell's process group: Ctrl-C or Ctrl-Z typed at the shell's
      // prompt reach this process too, and must not stop the server. `kill` or the end of the
      // terminal (SIGHUP) do.
      for (const signal of DETACHED_IGNORED_SIGNALS) process.on(signal, () => {});
      tellStderr(
        `Serving the credentials of profile '${plan.profile}' on ${servedAt(running, containers)} in the background (pid ${process.pid}), ` +
          "renewed until `kill $AWSMFA_SERVE_PID` or the terminal closes.",
      );
      writeAll(readyFd, shellLines({ ...variables, [SERVE_PID]: String(process.pid) }, shell));
      closeSync(readyFd);
    }
    await stopped.promise;
  } finally {
    stopped.cancel();
    await running.close();
    if (tokenFile !== undefined) removeOwnFile(tokenFile, tellStderr);
    if (envFile !== undefined) removeOwnFile(envFile, tellStderr);
  }
  return ExitStatus.ok;
}

function servedAt(running: ProfileServer, containers: ContainerServing | undefined): string {
  const { server, containerCaDir } = running;
  if (containers === undefined) return server.url;
  const file = containers.envFilePath === undefined ? "" : ` (${containers.envFilePath})`;
  const mount =
    containerCaDir === undefined
      ? ""
      : ` (its CA, for containers: -v ${containerCaDir}:${CONTAINER_CA_DIR}:ro)`;
  return `${server.url} and, for containers, ${containers.endpoint.url(server.port)}${file}${mount}`;
}

/**
 * `serve --detach`: the same `serve` as a child in this session (so it can still ask for a code
 * on the terminal, now and at renewals) whose stdout and stdin are not the caller's, or
 * `eval "$(…)"` would wait for it to end. The child does everything a foreground serve does and,
 * once it listens, writes its lines (with its pid) to an inherited pipe instead of stdout; they
 * are copied to stdout here. The token never appears in argv: the child makes it. If the child
 * ends first, its own error is on stderr already and its status is ours.
 */
async function runDetached(options: ServeOptions & { shell: string }): Promise<number> {
  const args = [
    ...process.execArgv,
    process.argv[1] as string,
    "serve",
    "--ready-fd",
    "3",
    "--shell",
    options.shell,
  ];
  if (options.profile !== undefined) args.push("--profile", options.profile);
  if (options.port !== undefined) args.push("--port", options.port);
  if (options.tokenFile !== undefined) args.push("--token-file", options.tokenFile);
  if (options.minTtl !== undefined) args.push("--min-ttl", options.minTtl);
  if (options.containers !== undefined)
    args.push(options.containers === true ? "--containers" : `--containers=${options.containers}`);
  if (options.containerEnv !== undefined) args.push("--container-env", options.containerEnv);
  const child = spawn(process.execPath, args, { stdio: ["ignore", "ignore", "inherit", "pipe"] });
  const exited = new Promise<number>((resolve) => {
    child.once("exit", (status, signal) =>
      resolve(status ?? 128 + (constants.signals[signal as NodeJS.Signals] ?? 0)),
    );
    child.once("error", () => resolve(ExitStatus.failure));
  });
  // Given up on before it is ready (the caller's Ctrl-C or kill): the child goes too.
  const abandon = () => child.kill("SIGTERM");
  for (const signal of STOP_SIGNALS) process.once(signal, abandon);
  try {
    const pipe = child.stdio[3] as Readable | null;
    const lines = pipe === null ? "" : await readAll(pipe);
    if (lines === "") return await exited;
    const printed = writeStdout(lines);
    if (printed !== ExitStatus.ok) {
      // Nobody read its pid: the server must not stay behind unknown. It cleans up before it ends.
      abandon();
      await exited;
      return printed;
    }
    child.unref();
    return ExitStatus.ok;
  } finally {
    for (const signal of STOP_SIGNALS) process.off(signal, abandon);
  }
}

function readAll(stream: Readable): Promise<string> {
  return new Promise((resolve) => {
    let text = "";
    stream.setEncoding("utf8");
    stream.on("data", (chunk: string) => {
      text += chunk;
    });
    stream.once("end", () => resolve(text));
    stream.once("error", () => resolve(""));
  });
}

/** --port: 0 to 65535; 0 (the default) lets the system choose a free one. */
export function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const value = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(value >= 0 && value <= 65535)) {
    throw new AppError("bad-port", `--port '${text}' is not a port number.`, {
      hint: "Give 1-65535, or 0 for any free port.",
    });
  }
  return value;
}

function untilSignal(signals: NodeJS.Signals[]): { promise: Promise<NodeJS.Signals>; cancel(): void } {
  let handler: (signal: NodeJS.Signals) => void = () => {};
  const promise = new Promise<NodeJS.Signals>((resolve) => {
    handler = (signal) => resolve(signal);
  });
  for (const signal of signals) process.on(signal, handler);
  return {
    promise,
    cancel: () => {
      for (const signal of signals) process.off(signal, handler);
    },
  };
}
