import type { Readable } from "node:stream";
import { AppError } from "../errors";
import { readAnswerLines } from "../fsio/terminal";
import { registerSource, tokenCodeHint } from "./registry";

/** A line longer than this is not a code; stop reading rather than buffer whatever is piped in. */
const MAX_LINE = 1024;

registerSource({
  rank: 20,
  describe: (request) => tokenCodeHint(request, "-", "the code as one line on standard input"),
  select(request, runtime) {
    if (request.tokenCode !== "-") return undefined;
    return {
      source: "stdin",
      label: "standard input (--token-code -)",
      kind: "given",
      produce: () => readOneLine(runtime.stdin),
    };
  },
});

/** The first line, without waiting for the end of input: the writer may keep the pipe open. */
function readOneLine(stream: Readable): Promise<string> {
  return readAnswerLines(stream, 1, MAX_LINE).then(
    (lines) => lines[0] ?? "",
    (error: Error) => {
      throw new AppError(
        "stdin-failed",
        `Could not read the MFA code from standard input: ${error.message}`,
        {},
      );
    },
  );
}
