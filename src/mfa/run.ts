import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { posix, win32 } from "node:path";
import { withoutPassphrase } from "../secrets/passphrase-variable";

/**
 * Runs a program that prints a code: argv only (the callers choose a shell explicitly when
 * the user wrote a command line), bounded in time and in output, and never waiting on a
 * grandchild that keeps the pipe open after a kill.
 *
 * On POSIX the program leads its own process group (and session), so that giving up on it kills
 * everything it started — `sh -c 'op … | head'` leaves no `op` behind — and a SIGINT, SIGTERM or
 * SIGHUP that ends awsmfa while it runs goes to the whole group. (Its own session has no
 * controlling terminal: the terminal reaches it as stdin and stderr, which is how it is meant to ask.)
 */

export interface RunOptions {
  file: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  maxOutputBytes: number;
  /** A terminal fd to pass on, or nothing. */
  stdin: number | "ignore";
  /** A terminal fd to pass on, "capture" to keep the start of it for an error message, or nothing. */
  stderr: number | "ignore" | "capture";
  windowsVerbatimArguments?: boolean;
}

export type RunOutcome =
  | {
      outcome: "exited";
      exitCode: number | null;
      signal: NodeJS.Signals | null;
      stdout: string;
      stderr: string;
    }
  | { outcome: "timeout" }
  | { outcome: "overflow" }
  | { outcome: "spawn-error"; error: Error };

const MAX_STDERR_KEPT = 2048;
/** Signals that end awsmfa and should end the program's group with it. */
const ENDING_SIGNALS: NodeJS.Signals[] = ["SIGINT", "SIGTERM", "SIGHUP"];

export function runProgram(options: RunOptions): Promise<RunOutcome> {
  return new Promise((resolve) => {
    const ownGroup = process.platform !== "win32";
    const onEndingSignal = (signal: NodeJS.Signals) => {
      // The same signal, not SIGKILL: a program asking for a password gets to restore the terminal's echo.
      signalAll(signal);
      forgetSignals();
      // With no other listener Node would have ended with the signal: do so now it is cleaned up.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    };
    const forgetSignals = () => {
      for (const signal of ENDING_SIGNALS) process.removeListener(signal, onEndingSignal);
    };
    // Before the spawn: a signal that came between it and these would end awsmfa and leave the group.
    // (Listeners run on a later turn of the event loop, when `child` is set.)
    for (const signal of ENDING_SIGNALS) process.on(signal, onEndingSignal);
    let child: ChildProcess;
    try {
      child = spawn(options.file, options.args, {
        env: withoutPassphrase(options.env),
        stdio: [options.stdin, "pipe", options.stderr === "capture" ? "pipe" : options.stderr],
        // On Windows `detached` would open a console window; there the program alone is killed.
        detached: ownGroup,
        windowsHide: true,
        windowsVerbatimArguments: options.windowsVerbatimArguments,
      });
    } catch (error) {
      forgetSignals();
      throw error;
    }
    const signalAll = (signal: NodeJS.Signals) => {
      try {
        if (ownGroup && child.pid !== undefined) process.kill(-child.pid, signal);
        else child.kill(signal);
      } catch {
        // the group is gone already
      }
    };
    const stdout: Buffer[] = [];
    let stdoutBytes = 0;
    let stderr = "";
    let settled = false;
    const finish = (outcome: RunOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      forgetSignals();
      resolve(outcome);
    };
    const abort = (outcome: RunOutcome) => {
      signalAll("SIGKILL");
      child.stdout?.destroy();
      child.stderr?.destroy();
      finish(outcome);
    };
    const timer = setTimeout(() => abort({ outcome: "timeout" }), options.timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => {
      stdoutBytes += chunk.length;
      if (stdoutBytes > options.maxOutputBytes) abort({ outcome: "overflow" });
      else stdout.push(chunk);
    });
    child.stderr?.on("data", (chunk: Buffer) => {
      if (stderr.length < MAX_STDERR_KEPT)
        stderr = (stderr + chunk.toString("utf8")).slice(0, MAX_STDERR_KEPT);
    });
    child.on("error", (error) => finish({ outcome: "spawn-error", error }));
    child.on("close", (exitCode, signal) =>
      finish({ outcome: "exited", exitCode, signal, stdout: Buffer.concat(stdout).toString("utf8"), stderr }),
    );
  });
}

/** The full path of `name` on the PATH in `env`, or undefined. */
export function findProgram(
  name: string,
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform,
): string | undefined {
  const check = platform === "win32" ? isFile : isExecutable;
  return programCandidates(name, env, platform).find(check);
}

/** Where `name` may be, in the order a shell looks: each PATH directory, with each PATHEXT on Windows. */
export function programCandidates(name: string, env: NodeJS.ProcessEnv, platform: NodeJS.Platform): string[] {
  const windows = platform === "win32";
  const path = windows ? win32 : posix;
  const dirs = (env.PATH ?? env.Path ?? "").split(path.delimiter).filter((dir) => dir !== "");
  const extensions = windows
    ? ["", ...(env.PATHEXT ?? ".COM;.EXE;.BAT;.CMD").split(";").filter(Boolean)]
    : [""];
  return dirs.flatMap((dir) => extensions.map((extension) => path.join(dir, name + extension)));
}

/** The last non-empty line of a program's stderr, for an error message. */
export function lastLine(text: string): string | undefined {
  return text
    .split(/\r?\n/)
    .map((line) => line.trim())
    .filter((line) => line !== "")
    .at(-1);
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return isFile(path);
  } catch {
    return false;
  }
}
