import { writeSync } from "node:fs";
import { ExitStatus, errnoCode } from "../errors";

/**
 * A closed stdout — its reader went away: `awsmfa … | head`, quitting `less` — ends awsmfa as
 * SIGPIPE ends other tools, quietly (nothing on stderr) with exit status 141. Node ignores SIGPIPE,
 * so a write there fails with EPIPE (and a later write to the destroyed stream with
 * ERR_STREAM_DESTROYED) instead.
 */
function isClosedStdout(error: unknown): boolean {
  const code = errnoCode(error);
  return code === "EPIPE" || code === "ERR_STREAM_DESTROYED";
}

/**
 * For what prints with process.stdout (commander, the commands): the stream reports a failed write
 * later, as an 'error' event, which would otherwise end awsmfa with Node's stack trace. Any other
 * error on stdout is still thrown.
 */
export function endQuietlyWhenStdoutCloses(): void {
  process.stdout.on("error", (error) => {
    if (!isClosedStdout(error)) throw error;
    process.exit(ExitStatus.closedStdout);
  });
}

/**
 * Writes `text` to fd 1 now, without process.stdout: building that stream is a good part of the
 * warm path's cost. A non-blocking pipe that is full (EAGAIN) falls back to the stream, which waits.
 * Returns ExitStatus.closedStdout when the reader has gone, for the caller to end with (after its
 * clean-up), and ok otherwise.
 */
export function writeStdout(text: string): number {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  try {
    while (offset < bytes.length) offset += writeSync(1, bytes, offset);
  } catch (error) {
    if (isClosedStdout(error)) return ExitStatus.closedStdout;
    if (errnoCode(error) !== "EAGAIN") throw error;
    endQuietlyWhenStdoutCloses();
    process.stdout.write(bytes.subarray(offset));
  }
  return ExitStatus.ok;
}
