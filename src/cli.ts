import { runDirect } from "./direct";
import { ExitStatus, isAppError, machineStateError } from "./errors";
import { writeStdout } from "./output/stdout";
import { warmCredentials, warmExec } from "./warm";

/**
 * Entry point. The warm path (credential-process, env or exec with a valid cache) runs first and
 * touches only the config files and one cache entry; `plan` and `status` run without commander
 * (direct.ts); everything else, commander included, is loaded only when those paths cannot answer.
 */
async function main(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug") && argv.indexOf("--debug") < endOfOptions(argv);
  const args = debug ? argv.filter((arg, index) => arg !== "--debug" || index > endOfOptions(argv)) : argv;
  try {
    const credentials = warmCredentials(args);
    if ("answer" in credentials) return writeStdout(credentials.answer);
    const exec = await warmExec(args);
    if ("answer" in exec) return exec.answer;
    if (runDirect(args)) return ExitStatus.ok;
    // require, not import(): import() of a CommonJS file runs it through the ES module loader,
    // which first scans the whole full bundle for its export names (about 30 ms).
    const { runCommand } = require("./commands/run") as typeof import("./commands/run");
    return await runCommand(args, credentials.read ?? exec.read);
  } catch (error) {
    return report(error, debug);
  }
}

function endOfOptions(argv: string[]): number {
  const index = argv.indexOf("--");
  return index === -1 ? argv.length : index;
}

function report(thrown: unknown, debug: boolean): number {
  // A full or read-only disk met where no caller put it in words is still the machine's state, not a bug.
  const error = isAppError(thrown) ? thrown : (machineStateError(thrown) ?? thrown);
  if (isAppError(error)) {
    process.stderr.write(`awsmfa: ${error.message}\n`);
    if (error.hint) process.stderr.write(`  ${error.hint}\n`);
    if (debug) process.stderr.write(`  [${error.code}] ${describeCause(error.cause)}\n`);
    return error.status;
  }
  process.stderr.write(`awsmfa: unexpected error: ${(error as Error)?.message ?? String(error)}\n`);
  if (debug && error instanceof Error && error.stack) process.stderr.write(`${error.stack}\n`);
  else process.stderr.write("  This is a bug in awsmfa; run again with --debug and report what it prints.\n");
  return ExitStatus.internal;
}

/** The cause's kind and message only: an SDK error object can carry request details. */
function describeCause(cause: unknown): string {
  if (cause === undefined) return "no further detail";
  const e = cause as {
    name?: string;
    code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number; requestId?: string };
  };
  const parts = [
    e.name,
    e.code,
    e.message,
    e.$metadata?.httpStatusCode,
    e.$metadata?.requestId && `request ${e.$metadata.requestId}`,
  ];
  return parts.filter(Boolean).join(" | ");
}

main(process.argv.slice(2)).then(
  (status) => {
    process.exitCode = status;
  },
  (error) => {
    process.stderr.write(`awsmfa: ${String(error)}\n`);
    process.exitCode = ExitStatus.internal;
  },
);
