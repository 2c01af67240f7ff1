import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/**
 * The credentials server under wrk (a C load generator, Debian's `wrk`), when it is installed.
 * A load generator written in Node shares the two cores with the server and measures mostly its
 * own event loop: at 50 connections its queueing dominates the latency. wrk takes a fraction of a
 * core, so what it measures is the server. The run stops after `requests` answers.
 */

export interface WrkResult {
  generator: "wrk";
  requests: number;
  concurrency: number;
  non2xx: number;
  socketErrors: number;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  requestsPerSecond: number;
}

export function wrkAvailable(): boolean {
  return spawnSync("wrk", ["--version"], { encoding: "utf8" }).error === undefined;
}

export function wrkLoad(url: string, token: string, requests: number, concurrency: number): WrkResult {
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-wrk-"));
  try {
    const script = join(dir, "stop-after.lua");
    writeFileSync(
      script,
      `local count = 0
response = function(status, headers, body)
  count = count + 1
  if count >= ${requests} then wrk.thread:stop() end
end
done = function(summary, latency, _)
  local e = summary.errors
  io.write(string.format("AWSMFA %d %d %d %f %f %f %f\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max))
end
`,
    );
    const started = process.hrtime.bigint();
    const run = spawnSync(
      "wrk",
      ["-t1", `-c${concurrency}`, "-d60s", "-s", script, "-H", `Authorization: ${token}`, url],
      { encoding: "utf8" },
    );
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const line = run.stdout.split("\n").find((text) => text.startsWith("AWSMFA "));
    if (!line) throw new Error(`wrk printed no result: ${run.stderr || run.stdout}`);
    const [done, non2xx, socketErrors, p50, p90, p99, max] = line.split(" ").slice(1).map(Number);
    return {
      generator: "wrk",
      requests: done as number,
      concurrency,
      non2xx: non2xx as number,
      socketErrors: socketErrors as number,
      p50Ms: (p50 as number) / 1000,
      p90Ms: (p90 as number) / 1000,
      p99Ms: (p99 as number) / 1000,
      maxMs: (max as number) / 1000,
      // wrk's own duration counts to its -d limit, not to the stop: the wall time of the run is closer.
      requestsPerSecond: (done as number) / seconds,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
