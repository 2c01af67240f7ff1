// The run's settings, from the environment (see bench/run.ts), shared by the cases and the report.
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(__dirname, "..");
export const QUICK = process.env.BENCH_QUICK === "1";
/** Rounds of the aws CLI v2's own start-up (informational, and 20–40× slower than awsmfa's). */
export const NATIVE_ROUNDS = QUICK ? 1 : 10;
export const ROUNDS = QUICK ? 3 : Math.max(20, Number(process.env.BENCH_ROUNDS ?? 50) || 50);
export const INSTRUCTION_RUNS = QUICK ? 0 : Math.max(0, Number(process.env.BENCH_INSTRUCTION_RUNS ?? 3) || 0);
export const CONCURRENCY_RUNS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_CONCURRENCY_RUNS ?? 3) || 3);
export const CONCURRENT = 50;
export const OUT = resolve(
  ROOT,
  process.env.BENCH_OUT ?? (QUICK ? join(tmpdir(), "awsmfa-bench-quick.md") : "BENCHMARKS.md"),
);
export const NODE = process.execPath;
/** Set on this machine (it adds ~45 ms to each Node start); removed from every measured process. */
export const EXTRA_CA_CERTS_WAS_SET = (process.env.NODE_EXTRA_CA_CERTS ?? "") !== "";
