import assert from "node:assert/strict";
import { type ChildProcessByStdio, spawn } from "node:child_process";
import { chmodSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Readable, Writable } from "node:stream";

/** The built CLI, run as users run it: a child process of its own, with a given environment. */
export const AWSMFA = join(__dirname, "../../dist/awsmfa.cjs");

/** How a client starts awsmfa: the node binary and the built CLI, each quoted. */
export const AWSMFA_COMMAND = `"${process.execPath}" "${AWSMFA}"`;

/**
 * `dir`/bin with an `awsmfa` executable that runs the built CLI, for the front of PATH: what
 * `npm install -g .` gives a user, so that `credential_process = awsmfa …` works as written.
 */
export function writeAwsmfaBin(dir: string): string {
  const bin = join(dir, "bin");
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, "awsmfa"), `#!/bin/sh\nexec ${AWSMFA_COMMAND} "$@"\n`);
  chmodSync(join(bin, "awsmfa"), 0o755);
  return bin;
}

export interface RunResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  env: NodeJS.ProcessEnv;
  /** Working directory; the test runner's own when absent. */
  cwd?: string;
  input?: string;
  timeoutMs?: number;
  /** The child's stdout: this descriptor instead of a pipe read into `stdout` (which stays empty). */
  stdoutFd?: number;
}

export function runAwsmfa(args: string[], options: RunOptions): Promise<RunResult> {
  return runProcess(process.execPath, [AWSMFA, ...args], options);
}

export function runProcess(file: string, args: string[], options: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    // detached: no controlling terminal is inherited through the session, so /dev/tty cannot be opened.
    const child = spawn(file, args, {
      env: options.env,
      cwd: options.cwd,
      stdio: ["pipe", options.stdoutFd ?? "pipe", "pipe"],
      detached: true,
    }) as ChildProcessByStdio<Writable, Readable | null, Readable>;
    let stdout = "";
    let stderr = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => {
      stdout += chunk;
    });
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk;
    });
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      // Something the child started may hold our pipes open after it ended: 'close' must come anyway.
      child.stdout?.destroy();
      child.stderr.destroy();
    }, options.timeoutMs ?? 60_000);
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

/**
 * Runs awsmfa with stdin, stdout and stderr on a new pseudo-terminal (util-linux `script`), which
 * is also its controlling terminal (/dev/tty); stdout is what the terminal showed. Callers skip
 * when `script` is not installed.
 */
export function runAwsmfaOnTerminal(args: string[], options: RunOptions): Promise<RunResult> {
  const quoted = [process.execPath, AWSMFA, ...args]
    .map((arg) => `'${arg.replace(/'/g, "'\\''")}'`)
    .join(" ");
  return runProcess("script", ["-qec", quoted, "/dev/null"], {
    ...options,
    env: { SHELL: "/bin/sh", TERM: "xterm", LANG: "C.UTF-8", ...options.env },
  });
}

/** What `credential-process` prints: the aws CLI's and the SDKs' contract (DESIGN.md). */
export interface ProcessCredentials {
  Version: number;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
}

/** A successful `credential-process` run's stdout, checked against the contract: these keys in this order, Version 1, RFC 3339 UTC. */
export function processCredentials(result: RunResult): ProcessCredentials {
  assert.equal(result.status, 0, result.stderr);
  const json = JSON.parse(result.stdout) as ProcessCredentials;
  assert.deepEqual(Object.keys(json), [
    "Version",
    "AccessKeyId",
    "SecretAccessKey",
    "SessionToken",
    "Expiration",
  ]);
  assert.equal(json.Version, 1);
  assert.match(json.Expiration, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  return json;
}
