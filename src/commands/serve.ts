import { readFileSync, unlinkSync } from "node:fs";
import { resolve } from "node:path";
import { loadProfileSet } from "../config/files";
import type { Plan } from "../config/plan";
import { AppError, errnoCode } from "../errors";
import { writeWhole } from "../fsio/write-whole";
import { type CredentialsServer, containerVariables, startCredentialsServer } from "../output/server";
import { CredentialsKeeper } from "../output/server-keeper";
import { parseShell, shellFromEnv, shellLines } from "../output/shell";
import { regionOf } from "../session/steps";
import { credentialsFor, resolvingEnvironment } from "./credentials";
import { loadPlan, parseMinTtl, selectedProfile, tellStderr } from "./selection";

export interface ServeOptions {
  profile?: string;
  port?: string;
  tokenFile?: string;
  shell?: string;
  minTtl?: string;
}

export interface ProfileServer {
  server: CredentialsServer;
  /** Stops renewing and closes the server; an unanswered prompt does not keep the process alive after it. */
  close(): Promise<void>;
}

const STOP_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];
/** Settings that make the SDKs and the aws CLI resolve a profile from the files, before the container endpoint. */
const OWN_CREDENTIALS = [
  "aws_access_key_id",
  "credential_process",
  "role_arn",
  "sso_session",
  "sso_start_url",
  "web_identity_token_file",
];

/**
 * Listens on 127.0.0.1, gets the profile's credentials (asking for a code now if needed), then
 * serves them from memory and keeps them fresh in the background.
 */
export async function startProfileServer(
  plan: Plan,
  options: { minTtlSeconds: number; port: number },
): Promise<ProfileServer> {
  const { minTtlSeconds } = options;
  // Listen first: a port in use fails before anyone is asked for a code. Nobody has the token
  // until this returns, so nothing can ask before the keeper is there.
  let keeper: CredentialsKeeper | undefined;
  const server = await startCredentialsServer({
    answer: () =>
      keeper?.answer() ?? { code: "Starting", message: "awsmfa is still starting; try again in a moment." },
    port: options.port,
  });
  try {
    const obtained = await credentialsFor(plan, { minTtlSeconds, notify: tellStderr });
    keeper = new CredentialsKeeper({
      plan: obtained.plan,
      entry: obtained.entry,
      minTtlSeconds,
      env: resolvingEnvironment(process.env, plan.profile),
      notify: tellStderr,
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  const kept = keeper;
  kept.start();
  warnIfDefaultProfileWins();
  return {
    server,
    async close() {
      const pending = kept.stop();
      await server.close();
      // A renewal still waiting at a prompt would hold the process open: end once the caller has
      // set its exit status. The timer itself keeps nothing alive.
      if (pending) setTimeout(() => process.exit(), 100).unref();
    },
  };
}

/** `awsmfa serve`: prints the variables for eval, serves until SIGINT/SIGTERM/SIGHUP, then cleans up. */
export async function runServe(options: ServeOptions): Promise<void> {
  const shell = options.shell ? parseShell(options.shell) : shellFromEnv(process.env);
  const port = parsePort(options.port);
  const minTtlSeconds = parseMinTtl(options.minTtl);
  const tokenFile = options.tokenFile === undefined ? undefined : resolve(options.tokenFile);
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);

  const running = await startProfileServer(plan, { minTtlSeconds, port });
  const stopped = untilSignal(STOP_SIGNALS);
  const { server } = running;
  try {
    if (tokenFile !== undefined) writeTokenFile(tokenFile, server.token);
    process.stdout.write(
      shellLines(containerVariables(server, { tokenFile, region: regionOf(plan, process.env) }), shell),
    );
    tellStderr(
      `Serving the credentials of profile '${plan.profile}' on ${server.url}, renewed in the background, until interrupted.`,
    );
    await stopped.promise;
  } finally {
    stopped.cancel();
    await running.close();
    if (tokenFile !== undefined) removeTokenFile(tokenFile, server.token);
  }
}

/**
 * With no profile selected, the SDKs' and the aws CLI's default chains read the `default` profile
 * from the shared files before they reach the container endpoint: keys there (the usual place for
 * an IAM user's) would be used instead of the served session, silently and without MFA.
 */
function warnIfDefaultProfileWins(): void {
  let properties: Record<string, string> | undefined;
  try {
    properties = loadProfileSet(process.env).profiles.default;
  } catch {
    return; // the plan was read from these files already; nothing to add here
  }
  const own = OWN_CREDENTIALS.find((name) => properties?.[name]);
  if (own === undefined) return;
  tellStderr(
    `Profile 'default' has credentials of its own (${own}): with no profile selected, the aws CLI and SDKs ` +
      "use those before this endpoint.\n  Give that profile another name (and point mfa profiles' source_profile at it).",
  );
}

/** --port: 0 to 65535; 0 (the default) lets the system choose a free one. */
export function parsePort(text: string | undefined): number {
  if (text === undefined) return 0;
  const value = /^\d{1,5}$/.test(text.trim()) ? Number(text.trim()) : Number.NaN;
  if (!(value >= 0 && value <= 65535)) {
    throw new AppError("bad-port", `--port '${text}' is not a port number.`, {
      status: "usage",
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

function writeTokenFile(path: string, token: string): void {
  try {
    // No newline: some SDKs send the file's bytes as they are.
    writeWhole(path, token, 0o600);
  } catch (error) {
    throw new AppError("token-file", `Cannot write the token file ${path}: ${(error as Error).message}`, {
      status: "failure",
      hint: "Give --token-file a path in a directory that exists and that you can write.",
      cause: error,
    });
  }
}

/** Removes the file if it still holds this server's token (another server may have replaced it). */
function removeTokenFile(path: string, token: string): void {
  try {
    if (readFileSync(path, "utf8") === token) unlinkSync(path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT")
      tellStderr(`Could not remove the token file ${path}: ${(error as Error).message}`);
  }
}
