// External tools the integration tests drive: moto_server (a second, independent STS/IAM) and
// the aws CLI. Missing tools skip the suites on a developer's machine but fail CI, where a
// silent skip would hide that nothing was tested.
import { type ChildProcess, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { createServer } from "node:net";
import { delimiter, join } from "node:path";

export const MOTO_SKIP_REASON = "skipped: moto_server not installed";
export const AWS_CLI_SKIP_REASON = "skipped: aws CLI not installed";

const STARTUP_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 5_000;
const KEPT_OUTPUT_CHARS = 16_384;

export interface MotoServer {
  url: string;
  close(): Promise<void>;
}

/** Full path of `name` on PATH, or undefined. */
export function findOnPath(name: string): string | undefined {
  const extensions = process.platform === "win32" ? (process.env.PATHEXT ?? ".EXE").split(";") : [""];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir === "") continue;
    for (const extension of extensions) {
      const candidate = join(dir, name + extension);
      try {
        accessSync(candidate, constants.X_OK);
        return candidate;
      } catch {
        // not here; keep looking
      }
    }
  }
  return undefined;
}

/** Full path of `name` on PATH; undefined when missing, an error under CI=true (which must run everything). */
export function locateTool(name: string): string | undefined {
  const path = findOnPath(name);
  if (path === undefined && process.env.CI === "true") {
    throw new Error(
      `${name} is not on PATH; CI must install it (.ci/run) so its tests run instead of skipping (README.md, Tests, says where to get it)`,
    );
  }
  return path;
}

/** Whether the aws CLI can be run; throws under CI=true when it cannot. */
export function awsCliAvailable(): boolean {
  return locateTool("aws") !== undefined;
}

/** A port nobody listens on right now, found by letting the OS pick one on loopback. */
export function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const address = probe.address();
      const port = typeof address === "object" && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

async function waitUntilAnswering(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(
        `moto_server exited (${child.exitCode ?? child.signalCode}) before answering:\n${output()}`,
      );
    }
    try {
      await fetch(`${url}/moto-api/`, { signal: AbortSignal.timeout(1_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`moto_server did not answer on ${url} within ${STARTUP_TIMEOUT_MS} ms:\n${output()}`);
}

/** Starts moto_server on 127.0.0.1; undefined when it is not installed (and not on CI). */
export async function startMoto(): Promise<MotoServer | undefined> {
  const executable = locateTool("moto_server");
  if (executable === undefined) return undefined;
  const port = await freeLoopbackPort();
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(executable, ["-H", "127.0.0.1", "-p", String(port)], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  // moto logs every request; the pipes must be drained or it blocks once they fill.
  let output = "";
  const keep = (chunk: Buffer): void => {
    output = (output + chunk.toString("utf8")).slice(-KEPT_OUTPUT_CHARS);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const killOnExit = (): void => {
    child.kill("SIGKILL");
  };
  process.once("exit", killOnExit);

  const close = async (): Promise<void> => {
    process.removeListener("exit", killOnExit);
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill("SIGTERM");
    const timer = setTimeout(() => child.kill("SIGKILL"), STOP_TIMEOUT_MS);
    await exited(child);
    clearTimeout(timer);
  };

  try {
    await waitUntilAnswering(url, child, () => output);
  } catch (error) {
    await close();
    throw error;
  }
  return { url, close };
}
