import type { Readable } from "node:stream";
import { AppError } from "../errors";
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

/**
 * The first line, without waiting for end of input: the writer may keep the pipe open. The
 * stream is destroyed once it is read, because merely pausing stdin keeps the process alive.
 */
function readOneLine(stream: Readable): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = "";
    const settle = (done: () => void) => {
      stream.off("data", onData);
      stream.off("end", onEnd);
      stream.off("error", onError);
      stream.destroy();
      done();
    };
    const onData = (chunk: Buffer | string) => {
      text += chunk.toString();
      const end = text.indexOf("\n");
      if (end >= 0) settle(() => resolve(text.slice(0, end)));
      else if (text.length > MAX_LINE) settle(() => resolve(text));
    };
    const onEnd = () => settle(() => resolve(text));
    const onError = (error: Error) =>
      settle(() =>
        reject(
          new AppError(
            "stdin-failed",
            `Could not read the MFA code from standard input: ${error.message}`,
            {},
          ),
        ),
      );
    stream.on("data", onData);
    stream.on("end", onEnd);
    stream.on("error", onError);
    stream.resume();
  });
}
