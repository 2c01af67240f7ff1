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

/**
 * wrk's -d: the run ends when the script has counted its answers, but wrk itself waits out -d.
 * 10,000 answers take under a second here; a server too slow to give them in this time shows
 * fewer requests than asked, which the benchmark counts as a miss.
 */
const DURATION_SECONDS = 8;

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
  io.write(string.format("AWSMFA %d %d %d %f %f %f %f %f\\n", summary.requests, e.status,
    e.connect + e.read + e.write + e.timeout, latency:percentile(50), latency:percentile(90),
    latency:percentile(99), latency.max, latency.mean))
end
`,
    );
    const run = spawnSync(
      "wrk",
      [
        "-t1",
        `-c${concurrency}`,
        `-d${DURATION_SECONDS}s`,
        "-s",
        script,
        "-H",
        `Authorization: ${token}`,
        url,
      ],
      { encoding: "utf8" },
    );
    const line = run.stdout.split("\n").find((text) => text.startsWith("AWSMFA "));
    if (!line) throw new Error(`wrk printed no result: ${run.stderr || run.stdout}`);
    const [done, non2xx, socketErrors, p50, p90, p99, max, mean] = line.split(" ").slice(1).map(Number);
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
      // wrk sleeps out its whole -d even after the script stops the thread, so neither its duration
      // nor the wall time counts the run. With every connection busy, Little's law gives the rate.
      requestsPerSecond: concurrency / ((mean as number) / 1e6),
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
