import { createReadStream, openSync } from "node:fs";
import { createInterface } from "node:readline";
import { isatty, ReadStream } from "node:tty";
import { AppError } from "../errors";
import { closeQuietly, terminalPaths } from "../fsio/terminal";
import { writeAll } from "../fsio/write-all";

/**
 * The terminal device, never stdin/stdout/stderr: inside credential_process the aws CLI
 * captures all three, so a prompt written there would be swallowed (or corrupt the JSON) and
 * the process would hang waiting for an answer nobody saw.
 */

export interface TerminalFds {
  input: number;
  output: number;
  close(): void;
}

/** Both ends of the terminal, e.g. to hand to a child process; undefined when there is none. */
function openTerminal(platform: NodeJS.Platform = process.platform): TerminalFds | undefined {
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

/** Writes `question` (no newline added) and resolves with the line typed, without its end. */
export async function askOnTerminal(
  question: string,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const terminal = openTerminal(platform);
  if (terminal === undefined) {
    throw new AppError("no-terminal", "There is no terminal to ask on.");
  }
  try {
    writeAll(terminal.output, question);
  } catch (error) {
    terminal.close();
    throw error;
  }
  return readLine(terminal);
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

/** The terminal as the rest of mfa/ uses it; tests put a recording fake in its place. */
export interface TerminalIO {
  canOpen(): boolean;
  open(): TerminalFds | undefined;
  ask(question: string): Promise<string>;
  tell(message: string): boolean;
  /** See redrawTerminalLine. */
  redraw(text: string): boolean;
}

export function deviceTerminal(platform: NodeJS.Platform): TerminalIO {
  return {
    canOpen: () => canOpenTerminal(platform),
    open: () => openTerminal(platform),
    ask: (question) => askOnTerminal(question, platform),
    tell: (message) => tellTerminal(message, platform),
    redraw: (text) => redrawTerminalLine(text, process.env, platform),
  };
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
      else reject(new AppError("no-answer", "The terminal closed before an answer was typed."));
    });
  });
}
