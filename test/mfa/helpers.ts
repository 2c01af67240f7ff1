import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";
import type { CodeRequest, Runtime, TerminalIO } from "../../src/mfa/index";

export const SERIAL = "arn:aws:iam::123456789012:mfa/alice";

export function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-mfa-"));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/**
 * A shell script named `name` in `dir`. Its argv is appended to `name`.argv in the same
 * directory (arguments ended by RS, runs by GS: an argument may hold newlines). Only shell builtins are used, so PATH may
 * hold nothing but the fake programs.
 */
export function fakeProgram(dir: string, name: string, body: string): string {
  const path = join(dir, name);
  const log = join(dir, `${name}.argv`);
  writeFileSync(
    path,
    `#!/bin/sh\nfor a in "$@"; do printf '%s\\036' "$a" >> '${log}'; done\nprintf '\\035' >> '${log}'\n${body}\n`,
  );
  chmodSync(path, 0o755);
  return path;
}

/** The argv of each run of a fake program, in order. */
export function invocations(dir: string, name: string): string[][] {
  let text: string;
  try {
    text = readFileSync(join(dir, `${name}.argv`), "utf8");
  } catch {
    return [];
  }
  return text
    .split("\x1d")
    .slice(0, -1)
    .map((run) => run.split("\x1e").slice(0, -1));
}

/** A script body that prints `codes[n]` on its n-th run (the last one ever after). */
export function codeSequence(dir: string, name: string, codes: string[]): string {
  const counter = join(dir, `${name}.count`);
  const cases = codes.map((code, index) => `  ${index + 1}) printf '%s\\n' ${code} ;;`).join("\n");
  return [
    "n=0",
    `[ -f '${counter}' ] && read n < '${counter}'`,
    "n=$((n + 1))",
    `echo $n > '${counter}'`,
    'case "$n" in',
    cases,
    `  *) printf '%s\\n' ${codes.at(-1)} ;;`,
    "esac",
  ].join("\n");
}

export function makeRequest(stateDir: string, overrides: Partial<CodeRequest> = {}): CodeRequest {
  return { profile: "dev", serial: SERIAL, properties: {}, env: {}, stateDir, ...overrides };
}

/** A terminal that answers from a list and records what was asked and told. */
export class FakeTerminal implements TerminalIO {
  readonly asked: string[] = [];
  readonly told: string[] = [];
  /** Each line drawn in place (redraw), in order. */
  readonly drawn: string[] = [];
  constructor(
    private readonly present: boolean,
    private readonly answers: string[] = [],
    /** Whether it can redraw a line in place (a terminal other than TERM=dumb). */
    private readonly redraws = false,
  ) {}
  canOpen(): boolean {
    return this.present;
  }
  open(): undefined {
    return undefined;
  }
  async ask(question: string): Promise<string> {
    if (!this.present) throw new Error("asked on a terminal that is not there");
    this.asked.push(question);
    const answer = this.answers.shift();
    if (answer === undefined) throw new Error(`no answer left for: ${question}`);
    return answer;
  }
  tell(message: string): boolean {
    if (!this.present) return false;
    this.told.push(message);
    return true;
  }
  redraw(text: string): boolean {
    if (!this.present || !this.redraws) return false;
    this.drawn.push(text);
    return true;
  }
}

export function fakeRuntime(overrides: Partial<Runtime> = {}): Partial<Runtime> {
  return { platform: "linux", terminal: new FakeTerminal(false), ...overrides };
}

/** Whether `pid` still runs. A zombie does not: it has ended, and only waits for a parent to reap it. */
export function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    // "PID (comm) STATE …": comm may hold spaces and parentheses, so the last ") " ends it.
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(") ") + 2, stat.lastIndexOf(") ") + 3) !== "Z";
  } catch {
    return true;
  }
}

/** Polls until `pid` has ended; false if it still runs after `withinMs`. */
export async function endsWithin(pid: number, withinMs: number): Promise<boolean> {
  const deadline = Date.now() + withinMs;
  while (isRunning(pid)) {
    if (Date.now() >= deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

/** An mfa_process that starts `sleep 100` in the background, writes its pid to `pidFile`, and waits for it. */
export function grandchildCommand(pidFile: string): string {
  return `sleep 100 & echo $! > '${pidFile}'; wait`;
}
