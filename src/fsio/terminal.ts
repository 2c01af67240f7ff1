import { closeSync } from "node:fs";

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

export function closeQuietly(fd: number): void {
  try {
    closeSync(fd);
  } catch {
    // already closed
  }
}
