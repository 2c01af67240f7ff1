// How a start-up case is run and timed (wall, CPU of the child, instructions under valgrind), and
// the STS calls a run made.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { runProcess } from "../test/support/run-awsmfa";
import type { BenchWorld, Home } from "./fixture";

export interface StartupCase {
  id: string;
  label: string;
  argv: string[];
  env: NodeJS.ProcessEnv;
  /** Shown in BENCHMARKS.md: the command as a person would type it. */
  shown: string;
  /** Checks one run's output; throws when the case did not do what it measures. */
  check?: (stdout: string) => void;
  /** Async: runs against the in-process STS server. Returns the wall time and facts of the run. */
  runAsync?: () => Promise<{ wallMs: number; facts: Record<string, number> }>;
  wall: number[];
  cpu: number[];
  facts: Record<string, number>[];
}

/** Clock ticks per second, for /proc/self/stat. */
const CLOCK_TICKS = (() => {
  try {
    return Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
  } catch {
    return 100;
  }
})();

/**
 * CPU time (user + system, ms) of the children this process has waited for, from /proc/self/stat
 * (cutime + cstime). Tick resolution, so only a mean over many runs says anything; Linux only.
 */
function childrenCpuMs(): number | undefined {
  try {
    const stat = readFileSync("/proc/self/stat", "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return ((Number(fields[13]) + Number(fields[14])) * 1000) / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}

export function timeSync(c: StartupCase): { wallMs: number; cpuMs: number | undefined; stdout: string } {
  const cpuBefore = childrenCpuMs();
  const started = process.hrtime.bigint();
  const result = spawnSync(c.argv[0] as string, c.argv.slice(1), {
    env: c.env,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    maxBuffer: 1 << 26, // status prints about 2 MB at 10,000 profiles
  });
  const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
  const cpuAfter = childrenCpuMs();
  if (result.status !== 0) {
    throw new Error(`bench: '${c.shown}' exited ${result.status ?? result.signal}: ${result.stderr}`);
  }
  const cpuMs = cpuBefore === undefined || cpuAfter === undefined ? undefined : cpuAfter - cpuBefore;
  return { wallMs, cpuMs, stdout: result.stdout };
}

export async function runRound(cases: StartupCase[], round: number, record: boolean): Promise<void> {
  for (let index = 0; index < cases.length; index++) {
    const c = cases[(index + round) % cases.length] as StartupCase;
    if (c.runAsync) {
      const { wallMs, facts } = await c.runAsync();
      if (record) {
        c.wall.push(wallMs);
        c.facts.push(facts);
      }
      continue;
    }
    const { wallMs, cpuMs, stdout } = timeSync(c);
    c.check?.(stdout);
    if (record) {
      c.wall.push(wallMs);
      if (cpuMs !== undefined) c.cpu.push(cpuMs);
    }
  }
}

/** runProcess, timed: the wall time from spawn to close. */
export async function runAsyncProcess(
  argv: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string; wallMs: number }> {
  const started = process.hrtime.bigint();
  const result = await runProcess(argv[0] as string, argv.slice(1), { env, timeoutMs: 120_000 });
  return { ...result, wallMs: Number(process.hrtime.bigint() - started) / 1e6 };
}

/**
 * Instructions executed by one run of a case (valgrind's cachegrind, "I refs"), all threads.
 * Median of `runs`, two at a time (the machine's cores; instruction counts do not mind).
 */
export async function instructionCounts(
  cases: StartupCase[],
  runs: number,
  dir: string,
): Promise<Map<string, number[]>> {
  const counts = new Map<string, number[]>();
  const jobs = cases.flatMap((c) => Array.from({ length: runs }, (_, run) => ({ c, run })));
  const one = async ({ c, run }: { c: StartupCase; run: number }) => {
    const logFile = join(dir, `cachegrind-${c.id}-${run}.log`);
    const argv = [
      "valgrind",
      "--tool=cachegrind",
      "--cache-sim=no",
      "--cachegrind-out-file=/dev/null",
      `--log-file=${logFile}`,
      ...c.argv,
    ];
    const result = await runAsyncProcess(argv, c.env);
    if (result.status !== 0)
      throw new Error(`bench: valgrind ${c.shown} exited ${result.status}: ${result.stderr}`);
    const match = /I\s+refs:\s+([\d,]+)/.exec(readFileSync(logFile, "utf8"));
    if (!match) throw new Error(`bench: no instruction count in ${logFile}`);
    counts.set(c.id, [...(counts.get(c.id) ?? []), Number((match[1] as string).replace(/,/g, ""))]);
  };
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) await one(jobs[next++] as { c: StartupCase; run: number });
  };
  await Promise.all([worker(), worker()]);
  return counts;
}

export function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

export function childEnv(home: Home): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...home.iso.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.AWS_PROFILE;
  return env;
}

export function expectCredentialJson(stdout: string): void {
  const json = JSON.parse(stdout) as { Version?: number; AccessKeyId?: string };
  if (json.Version !== 1 || !json.AccessKeyId?.startsWith("ASIA"))
    throw new Error(`bench: not credentials: ${stdout}`);
}

export function startupCase(
  id: string,
  label: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  shown: string,
): StartupCase {
  return { id, label, argv, env, shown, wall: [], cpu: [], facts: [] };
}

export function callsSnapshot(world: BenchWorld): Record<string, number> {
  return { ...world.server.calls };
}

const STS_ACTIONS = new Set(["GetSessionToken", "AssumeRole", "GetCallerIdentity"]);

export function callDelta(
  before: Record<string, number>,
  after: Record<string, number>,
): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [action, count] of Object.entries(after)) {
    const difference = count - (before[action] ?? 0);
    if (difference > 0) delta[action] = difference;
  }
  return delta;
}

export function splitCalls(delta: Record<string, number>): { sts: number; iam: number } {
  let sts = 0;
  let iam = 0;
  for (const [action, count] of Object.entries(delta)) {
    if (STS_ACTIONS.has(action)) sts += count;
    else iam += count;
  }
  return { sts, iam };
}
