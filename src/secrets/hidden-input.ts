import { closeSync, openSync } from "node:fs";
import { isatty, ReadStream } from "node:tty";
import { AppError } from "../errors";
import { closeQuietly, terminalPaths } from "../fsio/terminal";
import { writeAll } from "../fsio/write-all";

/**
 * Asks on the terminal device (never stdin/stdout/stderr, which credential_process callers
 * capture) for something secret — a passphrase, a TOTP seed — with echo off, so it stays out
 * of the screen and the scrollback. mfa/terminal-device.ts does the same for codes, with echo
 * on; both use fsio/terminal.ts for the device.
 */

export function hasTerminal(platform: NodeJS.Platform = process.platform): boolean {
  try {
    closeSync(openSync(terminalPaths(platform).input, "r"));
    return true;
  } catch {
    return false;
  }
}

/** Writes `question`, reads one line without showing it, resolves with it. */
export async function askHidden(
  question: string,
  platform: NodeJS.Platform = process.platform,
): Promise<string> {
  const paths = terminalPaths(platform);
  let input: number;
  let output: number;
  try {
    input = openSync(paths.input, "r");
  } catch {
    throw noTerminal();
  }
  try {
    output = openSync(paths.output, "w");
  } catch {
    closeQuietly(input);
    throw noTerminal();
  }
  const say = (text: string) => writeAll(output, text);
  if (!isatty(input)) {
    closeQuietly(input);
    closeQuietly(output);
    throw noTerminal();
  }
  const stream = new ReadStream(input);
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
    closeQuietly(output);
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
    const onEnd = () => finish(new AppError("no-answer", "The terminal closed before an answer was typed."));
    const onData = (chunk: string) => {
      // An escape sequence (an arrow key) carries nothing typed.
      if (chunk.startsWith("\x1b")) return;
      for (const char of chunk) {
        if (char === "\r" || char === "\n") return finish();
        if (char === "\x03") return finish(new AppError("cancelled", "Cancelled."));
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

function noTerminal(): AppError {
  return new AppError("no-terminal", "There is no terminal to ask on.");
}
