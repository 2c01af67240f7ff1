import { closeSync, createReadStream, openSync } from "node:fs";
import { createInterface } from "node:readline";
import type { Readable } from "node:stream";
import { isatty, ReadStream } from "node:tty";
import { AppError } from "../errors";
import { writeAll } from "./write-all";

/**
 * The terminal device, for what must reach a person and never stdin/stdout/stderr: inside
 * credential_process the aws CLI captures all three, so a prompt written there would be swallowed
 * (or corrupt the JSON) and the process would hang waiting for an answer nobody saw. The one
 * place that asks on it, both ways: echo on for an MFA code or a choice (mfa/, session/discover),
 * echo off for a secret — a passphrase, a TOTP seed (secrets/, commands/totp). Also the reader of
 * answers piped to stdin instead (`--token-code -`, setup's `--secret-access-key-stdin`).
 */

export interface TerminalPaths {
  input: string;
  output: string;
}

export function terminalPaths(platform: NodeJS.Platform = process.platform): TerminalPaths {
  return platform === "win32"
    ? { input: "CONIN$", output: "CONOUT$" }
    : { input: "/dev/tty", output: "/dev/tty" };
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}

export interface TerminalFds {
  input: number;
  output: number;
  close(): void;
}

/** Both ends of the terminal, e.g. to hand to a child process; undefined when there is none. */
export function openTerminal(platform: NodeJS.Platform = process.platform): TerminalFds | undefined {
  const paths = terminalPaths(platform);
  let input: number | undefined;
  try {
    input = openSync(paths.input, "r");
    const output = openSync(paths.output, "w");
    const fds = [input, output];
    return {
      input,
      output,
      close() {
        for (const fd of fds.splice(0)) closeQuietly(fd);
      },
    };
  } catch {
    if (input !== undefined) closeQuietly(input);
    return undefined;
  }
}

/** Whether there is a terminal to ask on, either way. */
export function canOpenTerminal(platform: NodeJS.Platform = process.platform): boolean {
  const terminal = openTerminal(platform);
  terminal?.close();
  return terminal !== undefined;
}

/** Writes one line to the terminal if there is one; false when there is none. */
export function tellTerminal(message: string, platform: NodeJS.Platform = process.platform): boolean {
  return writeTerminal(`${message}\n`, platform);
}

const ERASE_LINE = "\r\x1b[2K";

/**
 * Writes `text` in place of the terminal's current line, without ending it ("" erases the line),
 * for a line that changes where it stands (a countdown). False when there is no terminal, or one
 * that cannot (TERM=dumb): say it once with tellTerminal instead.
 */
export function redrawTerminalLine(
  text: string,
  env: NodeJS.ProcessEnv = process.env,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (env.TERM === "dumb") return false;
  return writeTerminal(`${ERASE_LINE}${text}`, platform);
}

function writeTerminal(text: string, platform: NodeJS.Platform): boolean {
  let fd: number;
  try {
    fd = openSync(terminalPaths(platform).output, "w");
  } catch {
    return false;
  }
  try {
    writeAll(fd, text);
    return true;
  } catch {
    return false;
  } finally {
    closeQuietly(fd);
  }
}

// The errors of both prompts (their exit status is the code's: error-codes.ts).

function noTerminal(): AppError {
  return new AppError("no-terminal", "There is no terminal to ask on.", {
    hint: "Run awsmfa from a terminal, or give the answer another way.",
  });
}

function noAnswer(): AppError {
  return new AppError("no-answer", "The terminal closed before an answer was typed.", {});
}

// ---------------------------------------------------------------------------------------------
// Echo on: a code, a choice

/** Writes `question` (no newline added) and resolves with the line typed, without its end. */
export async function askOnTerminal(
  question: string,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const terminal = openTerminal(platform);
  if (terminal === undefined) throw noTerminal();
  try {
    writeAll(terminal.output, question);
  } catch (error) {
    terminal.close();
    throw error;
  }
  return readLine(terminal);
}

function readLine(terminal: TerminalFds): Promise<string> {
  // A tty handle reads without blocking a thread-pool thread: an fs stream's pending read on a
  // terminal would keep the process alive after the answer until one more line is typed.
  const input = isatty(terminal.input)
    ? new ReadStream(terminal.input)
    : createReadStream("", { fd: terminal.input, autoClose: true });
  const lines = createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY, terminal: false });
  return new Promise((resolve, reject) => {
    let answer: string | undefined;
    lines.once("line", (line) => {
      answer = line;
      lines.close();
    });
    lines.once("close", () => {
      // The stream owns the input fd and closes it; only the output fd is left to close here.
      input.destroy();
      closeQuietly(terminal.output);
      if (answer !== undefined) resolve(answer);
      else reject(noAnswer());
    });
  });
}

const MAX_CHOICE_ASKS = 3;

/** Lists `choices` numbered from 1 and resolves with the index (from 0) of the one picked. */
export async function askChoiceOnTerminal(
  question: string,
  choices: string[],
  platform: NodeJS.Platform = process.platform,
): Promise<number> {
  if (choices.length === 0) throw new Error("askChoiceOnTerminal needs at least one choice");
  const listing = [question, ...choices.map((choice, index) => `  ${index + 1}) ${choice}`)].join("\n");
  let notice = "";
  for (let ask = 1; ask <= MAX_CHOICE_ASKS; ask++) {
    const answer = await askOnTerminal(`${notice}${listing}\nChoice [1-${choices.length}]: `, platform);
    const picked = /^\s*(\d+)\s*$/.exec(answer);
    const index = picked ? Number(picked[1]) - 1 : -1;
    if (index >= 0 && index < choices.length) return index;
    notice = `Please type a number from 1 to ${choices.length}.\n`;
  }
  throw new AppError("bad-choice", `No valid choice after ${MAX_CHOICE_ASKS} tries.`, {
    hint: `Type a number from 1 to ${choices.length}.`,
  });
}

// ---------------------------------------------------------------------------------------------
// Echo off: a secret, kept out of the screen and the scrollback

/** Writes `question`, reads one line without showing it, resolves with it. */
export async function askHidden(
  question: string,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const terminal = openTerminal(platform);
  if (terminal === undefined) throw noTerminal();
  if (!isatty(terminal.input)) {
    terminal.close();
    throw noTerminal();
  }
  const say = (text: string) => writeAll(terminal.output, text);
  const stream = new ReadStream(terminal.input);
  try {
    // Echo off before the question shows: keys typed as soon as it appears must not be echoed.
    stream.setRawMode(true);
    say(question);
    return await readHiddenLine(stream);
  } finally {
    try {
      stream.setRawMode(false);
    } catch {
      // the terminal is gone
    }
    try {
      say("\n");
    } catch {
      // the terminal is gone
    }
    stream.destroy();
    closeQuietly(terminal.output);
  }
}

function readHiddenLine(stream: ReadStream): Promise<string> {
  return new Promise((resolve, reject) => {
    let line = "";
    const finish = (error?: AppError) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.pause();
      if (error) reject(error);
      else resolve(line);
    };
    const onEnd = () => finish(noAnswer());
    const onData = (chunk: string) => {
      // An escape sequence (an arrow key) carries nothing typed.
      if (chunk.startsWith("\x1b")) return;
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\x03") return finish(new AppError("cancelled", "Cancelled.", {}));
        if (char === "\x04" && line === "") return onEnd();
        if (char === "\x7f" || char === "\b") line = Array.from(line).slice(0, -1).join("");
        else if (char === "\x15") line = "";
        else if (char >= " ") line += char;
      }
    };
    stream.setEncoding("utf8");
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.resume();
  });
}

// ---------------------------------------------------------------------------------------------
// Answers piped in

/**
 * The first `count` lines of `stream` (without their line ends), without waiting for the end of
 * input once they are there: the writer may keep the pipe open. Reading stops after `maxChars`
 * too, rather than buffer whatever is piped in. The stream is destroyed once read, because merely
 * pausing stdin keeps the process alive. Rejects with the stream's own error.
 */
export function readAnswerLines(stream: Readable, count: number, maxChars: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    let text = "";
    const settle = (done: () => void) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.destroy();
      done();
    };
    const lines = () => text.split(/\r?\n/).slice(0, count);
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      if (text.split("\n").length > count || text.length > maxChars) settle(() => resolve(lines()));
    };
    const onEnd = () => settle(() => resolve(lines()));
    const onError = (error: Error) => settle(() => reject(error));
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.resume();
  });
}
