import { closeSync, writeSync } from "node:fs";

/**
 * The terminal device, for what must reach a person and never stdout/stderr (which
 * credential_process callers capture): the code prompt (mfa/) and hidden input (secrets/).
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

/** Writes all of `text`: writeSync may take only part of it. */
export function writeAll(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
