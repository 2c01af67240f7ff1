import { spawn } from "node:child_process";
import { join } from "node:path";

/** The built CLI, run as users run it: a child process of its own, with a given environment. */
export const AWSMFA = join(__dirname, "../../dist/awsmfa.cjs");

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  input?: string;
  timeoutMs?: number;
}

export function runAwsmfa(args: string[], options: RunOptions): Promise<RunResult> {
  return runProcess(process.execPath, [AWSMFA, ...args], options);
}

export function runProcess(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // detached: no controlling terminal is inherited through the session, so /dev/tty cannot be opened.
    const child = spawn(file, args, { env: options.env, stdio: ["pipe", "pipe", "pipe"], detached: true });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 60_000);
    child.on("error", reject);
    child.on("close", (status, signal) => {
      clearTimeout(timer);
      resolve({ status, signal, stdout, stderr });
    });
    // A child that exits before reading its stdin must not fail the test with EPIPE.
    child.stdin.on("error", () => {});
    child.stdin.end(options.input ?? "");
  });
}
