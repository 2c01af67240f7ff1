// `npm run bench`: start-up of every command at 10, 2,000 and 10,000 profiles, cold login,
// single-flight, credentials server and footprint, measured side by side in one run, written to
// BENCHMARKS.md. Exits non-zero when a target (bench/targets.ts) is missed.
//
// Every measured process runs with NODE_EXTRA_CA_CERTS unset: a machine that sets it (as the
// test machines do) pays about 45 ms more for each Node start, which users' machines do not, and
// which would make every ratio to `node -e 0` look better than it is.
//
// Start-up cases run interleaved: every round runs every case once, in an order rotated by one
// each round, so that a burst of load from elsewhere on the machine falls on all cases alike.
// Each run is `process.hrtime` around `spawnSync` (stdout a pipe, as under the aws CLI). The cases
// that talk to the test STS server (which lives in this process) use an async spawn instead, so
// the server can answer; nothing else runs while a start-up case is timed.
//
// Where valgrind is installed, some start-up cases are also counted in instructions (cachegrind,
// no cache simulation): a figure that the machine's load does not move, for comparing changes.
//
//   BENCH_ROUNDS=50 (at least 20)   BENCH_CONCURRENCY_RUNS=3   BENCH_INSTRUCTION_RUNS=3 (0: skip)
//   BENCH_OUT=BENCHMARKS.md
//   BENCH_QUICK=1: a smoke run (3 rounds, 1 concurrency run, no server load, no valgrind) that
//   judges nothing and writes to the temporary directory unless BENCH_OUT says where.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join, relative, resolve } from "node:path";
import type { LoadResult } from "../test/server/load";
import { runProcess } from "../test/support/run-awsmfa";
import { AWSMFA, BenchWorld, type Home } from "./fixture";
import { bytes, median, ms, type Summary, summarize, table } from "./stats";
import { caseId, judgeTargets, SIZES, type Target } from "./targets";
import { wrkAvailable, wrkLoad } from "./wrk";

const ROOT = resolve(__dirname, "..");
const QUICK = process.env.BENCH_QUICK === "1";
const ROUNDS = QUICK ? 3 : Math.max(20, Number(process.env.BENCH_ROUNDS ?? 50) || 50);
const INSTRUCTION_RUNS = QUICK ? 0 : Math.max(0, Number(process.env.BENCH_INSTRUCTION_RUNS ?? 3) || 0);
const CONCURRENCY_RUNS = QUICK ? 1 : Math.max(1, Number(process.env.BENCH_CONCURRENCY_RUNS ?? 3) || 3);
const CONCURRENT = 50;
const OUT = resolve(
  ROOT,
  process.env.BENCH_OUT ?? (QUICK ? join(tmpdir(), "awsmfa-bench-quick.md") : "BENCHMARKS.md"),
);
const NODE = process.execPath;
/** Set on this machine (it adds ~45 ms to each Node start); removed from every measured process. */
const EXTRA_CA_CERTS_WAS_SET = (process.env.NODE_EXTRA_CA_CERTS ?? "") !== "";

interface StartupCase {
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

// ---------------------------------------------------------------------------------------------
// Measuring

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

function timeSync(c: StartupCase): { wallMs: number; cpuMs: number | undefined; stdout: string } {
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

async function runRound(cases: StartupCase[], round: number, record: boolean): Promise<void> {
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
async function runAsyncProcess(
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
async function instructionCounts(
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

function hasValgrind(): boolean {
  return spawnSync("valgrind", ["--version"], { stdio: "ignore" }).status === 0;
}

// ---------------------------------------------------------------------------------------------
// Cases

function childEnv(home: Home): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...home.iso.env };
  delete env.NODE_OPTIONS;
  delete env.NODE_EXTRA_CA_CERTS;
  delete env.AWS_PROFILE;
  return env;
}

function expectCredentialJson(stdout: string): void {
  const json = JSON.parse(stdout) as { Version?: number; AccessKeyId?: string };
  if (json.Version !== 1 || !json.AccessKeyId?.startsWith("ASIA"))
    throw new Error(`bench: not credentials: ${stdout}`);
}

function startupCase(
  id: string,
  label: string,
  argv: string[],
  env: NodeJS.ProcessEnv,
  shown: string,
): StartupCase {
  return { id, label, argv, env, shown, wall: [], cpu: [], facts: [] };
}

function callsSnapshot(world: BenchWorld): Record<string, number> {
  return { ...world.server.calls };
}

const STS_ACTIONS = new Set(["GetSessionToken", "AssumeRole", "GetCallerIdentity"]);

function callDelta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  const delta: Record<string, number> = {};
  for (const [action, count] of Object.entries(after)) {
    const difference = count - (before[action] ?? 0);
    if (difference > 0) delta[action] = difference;
  }
  return delta;
}

function splitCalls(delta: Record<string, number>): { sts: number; iam: number } {
  let sts = 0;
  let iam = 0;
  for (const [action, count] of Object.entries(delta)) {
    if (STS_ACTIONS.has(action)) sts += count;
    else iam += count;
  }
  return { sts, iam };
}

// ---------------------------------------------------------------------------------------------
// Concurrency (single flight), server, footprint

interface ConcurrencyRun {
  wallMs: number;
  successes: number;
  sameKey: boolean;
  getSessionToken: number;
  assumeRole: number;
  codeRuns: number;
}

async function concurrencyRun(world: BenchWorld): Promise<ConcurrencyRun> {
  const home = await world.home(SIZES[0] as number, { mfaProcess: true });
  const env = childEnv(home);
  const before = callsSnapshot(world);
  world.server.setOption({ latencyMs: 1500 });
  try {
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, () =>
        runAsyncProcess([NODE, AWSMFA, "credential-process", "-p", home.profile], env),
      ),
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const keys = new Set<string>();
    let successes = 0;
    for (const result of results) {
      if (result.status !== 0) continue;
      try {
        keys.add((JSON.parse(result.stdout) as { AccessKeyId: string }).AccessKeyId);
        successes += 1;
      } catch {
        // not credentials: not a success
      }
    }
    const delta = callDelta(before, callsSnapshot(world));
    const runsFile = join(home.iso.home, "code-runs.log");
    const codeRuns = existsSync(runsFile) ? readFileSync(runsFile, "utf8").trim().split("\n").length : 0;
    return {
      wallMs,
      successes,
      sameKey: keys.size === 1,
      getSessionToken: delta.GetSessionToken ?? 0,
      assumeRole: delta.AssumeRole ?? 0,
      codeRuns,
    };
  } finally {
    world.server.setOption({ latencyMs: 0 });
    await home.iso.cleanup();
  }
}

/** One round of load, from wrk or the Node client: the Node client's result, less what wrk cannot tell. */
type ServerRound = Omit<LoadResult, "concurrency" | "totalMs">;

type ServerResult =
  | { measured: false; why: string }
  | ({
      measured: true;
      /** wrk when installed (it measures the server), else the Node client of test/server/load.ts. */
      generator: "wrk" | "node";
      concurrency: number;
      /** Unmeasured requests first, in rounds of fresh connections. */
      warmup: number;
      warmupRounds: number;
      /** The warm-up rounds' own figures, shown and not judged. */
      warmupResults: ServerRound[];
      rounds: ServerRound[];
    } & ServerRound); // the judged round: the one with the highest p99

/** Rounds of 10,000 after the warm-up, each on 50 fresh connections; the worst p99 is judged. */
const SERVER_ROUNDS = 3;
const SERVER_WARMUP_ROUNDS = 2;

async function serverCase(home: Home): Promise<ServerResult> {
  const serveSources = ["src/commands/serve.ts", "src/output/server.ts", "test/server/load.ts"];
  const missing = serveSources.filter((path) => !existsSync(join(ROOT, path)));
  if (missing.length > 0) return { measured: false, why: `serve not built (missing ${missing.join(", ")})` };
  const load = (await import("../test/server/load")) as Partial<typeof import("../test/server/load")>;
  const helpers = (await import("../test/server/helpers")) as Partial<
    typeof import("../test/server/helpers")
  >;
  if (typeof load.runLoad !== "function" || typeof helpers.startServe !== "function") {
    return { measured: false, why: "serve not built (test/server/load.ts has no runLoad)" };
  }
  const serve = await helpers.startServe(["-p", home.profile], childEnv(home));
  try {
    const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    if (wrkAvailable()) {
      // The first round after start runs slower (V8 still settling; a bare node:net server shows it
      // too), so two rounds warm up: what is judged is a server that has been running.
      const requests = 10_000;
      const runRound = (): ServerRound => {
        const result = wrkLoad(serve.url, token, requests, 50);
        const failures: Record<string, number> = {};
        if (result.non2xx) failures["non-2xx"] = result.non2xx;
        if (result.socketErrors) failures["socket errors"] = result.socketErrors;
        if (result.requests < requests) failures["not answered in time"] = requests - result.requests;
        const ok = Math.min(result.requests, requests) - result.non2xx - result.socketErrors;
        return { ...result, requests, ok, failures };
      };
      const warmupResults = Array.from({ length: SERVER_WARMUP_ROUNDS }, runRound);
      const rounds = Array.from({ length: SERVER_ROUNDS }, runRound);
      const worst = rounds.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
      return {
        measured: true,
        generator: "wrk",
        concurrency: 50,
        warmup: requests * SERVER_WARMUP_ROUNDS,
        warmupRounds: SERVER_WARMUP_ROUNDS,
        warmupResults,
        rounds,
        ...worst,
      };
    }
    const warmup = 1_000;
    const result = await load.runLoad({ url: serve.url, token, requests: 10_000, concurrency: 50, warmup });
    return {
      measured: true,
      generator: "node",
      warmup,
      warmupRounds: 1,
      warmupResults: [],
      rounds: [result],
      ...result,
    };
  } finally {
    await serve.stop();
  }
}

function serverRow(round: ServerRound, name: string, target: string): string[] {
  return [
    name,
    `${round.ok}/${round.requests}`,
    JSON.stringify(round.failures),
    ms(round.p50Ms, 2),
    ms(round.p90Ms, 2),
    ms(round.p99Ms, 2),
    ms(round.maxMs, 2),
    ms(round.requestsPerSecond, 0),
    target,
  ];
}

interface Footprint {
  packages: number;
  totalBytes: number;
  diskBytes: number;
  byGroup: { name: string; bytes: number }[];
  bundles: { path: string; bytes: number }[];
  notInBundles: string[];
}

function footprint(): Footprint {
  const listed = spawnSync("npm", ["ls", "--omit=dev", "--parseable", "--all"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const paths = [...new Set(listed.stdout.split("\n").filter(Boolean))].filter((path) => path !== ROOT);
  // Nested installs sit inside another package's directory: count each byte once.
  const sorted = paths.sort();
  const roots = sorted.filter((path, index) => !sorted.slice(0, index).some((p) => path.startsWith(`${p}/`)));
  const du = (flag: string) =>
    roots.length === 0
      ? []
      : execFileSync("du", ["-s", flag, ...roots], { encoding: "utf8" })
          .trim()
          .split("\n")
          .map((line) => {
            const [size, path] = line.split("\t");
            return { path: path as string, bytes: Number(size) * (flag === "-k" ? 1024 : 1) };
          });
  const apparent = du("-b");
  const disk = du("-k");
  const groups = new Map<string, number>();
  for (const { path, bytes: size } of apparent) {
    const inside = relative(join(ROOT, "node_modules"), path).split("/");
    const name = inside[0]?.startsWith("@") ? (inside[0] as string) : (inside[0] ?? path);
    groups.set(name, (groups.get(name) ?? 0) + size);
  }
  const bundles = ["dist/awsmfa.cjs", "dist/awsmfa-direct.cjs", "dist/awsmfa-full.cjs"].map((path) => ({
    path,
    bytes: statSync(join(ROOT, path)).size,
  }));
  const bundleText = bundles.map((b) => readFileSync(join(ROOT, b.path), "utf8")).join("\n");
  const dependencies = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: object })
      .dependencies ?? {},
  );
  // esbuild keeps import() of an external package as import(), and turns static imports into require().
  const notInBundles = dependencies.filter(
    (name) =>
      !["require", "import"].some(
        (how) => bundleText.includes(`${how}("${name}")`) || bundleText.includes(`${how}("${name}/`),
      ),
  );
  return {
    packages: paths.length,
    totalBytes: apparent.reduce((sum, entry) => sum + entry.bytes, 0),
    diskBytes: disk.reduce((sum, entry) => sum + entry.bytes, 0),
    byGroup: [...groups.entries()]
      .map(([name, size]) => ({ name, bytes: size }))
      .sort((a, b) => b.bytes - a.bytes),
    bundles,
    notInBundles,
  };
}

/** Counted under valgrind too (slow: the 10,000-profile full commands are left out). */
const INSTRUCTION_CASES = new Set([
  "node-e-0",
  "read-print",
  ...SIZES.flatMap((size) => ["warm-cp", "warm-env"].map((command) => caseId(command, size))),
  caseId("plan", 10),
  caseId("status", 10),
]);

/** Debian's awscli package is v2; v1 (pip) has no `configure export-credentials`. */
function awsCliV2(): boolean {
  const result = spawnSync("aws", ["--version"], { encoding: "utf8" });
  return result.status === 0 && /^aws-cli\/2\./.test(`${result.stdout}${result.stderr}`.trim());
}

/** The start-up cases of one logged-in home: the warm paths, the full-CLI commands, the aws CLI's own. */
function sizeCases(home: Home, awsV2: boolean): StartupCase[] {
  const env = childEnv(home);
  const count = `${home.profileCount.toLocaleString("en")} role profiles`;
  const awsmfa = (id: string, label: string, args: string[]) =>
    startupCase(
      caseId(id, home.profileCount),
      `${label}, ${count}`,
      [NODE, AWSMFA, ...args],
      env,
      `node dist/awsmfa.cjs ${args.join(" ")}`,
    );
  const cp = awsmfa("warm-cp", "warm `credential-process`", ["credential-process", "-p", home.profile]);
  cp.check = expectCredentialJson;
  const shell = awsmfa("warm-env", "warm `env`", ["env", "-p", home.profile, "--shell", "bash"]);
  shell.check = (stdout) => {
    if (!/^export AWS_SESSION_TOKEN='/m.test(stdout)) throw new Error(`bench: env printed ${stdout}`);
  };
  const cases = [
    cp,
    shell,
    awsmfa("warm-exec", "warm `exec -- true`", ["exec", "-p", home.profile, "--", "true"]),
    awsmfa("status", "`status`", ["status"]),
    awsmfa("plan", "`plan`", ["plan", "-p", home.profile]),
    awsmfa("login", "`login` on a valid cache", ["login", "-p", home.profile]),
    awsmfa("completion", "`completion --list-profiles`", ["completion", "--list-profiles"]),
  ];
  if (awsV2) {
    const args = ["configure", "export-credentials", "--profile", home.user.name, "--format", "process"];
    const native = startupCase(
      caseId("aws-export", home.profileCount),
      `\`aws configure export-credentials\` (the user's keys), ${count}`,
      ["aws", ...args],
      env,
      `aws ${args.join(" ")}`,
    );
    native.check = (stdout) => {
      if (!stdout.includes(home.user.accessKeyId)) throw new Error(`bench: aws printed ${stdout}`);
    };
    cases.push(native);
  }
  return cases;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  log(
    `NODE_EXTRA_CA_CERTS unset for every measured process${EXTRA_CA_CERTS_WAS_SET ? " (it is set here: +45 ms per Node start)" : ""}${QUICK ? "; quick mode: a smoke run, nothing judged" : ""}`,
  );

  const users = SIZES.length + ROUNDS + 1 + CONCURRENCY_RUNS + 1;
  const world = await BenchWorld.start(users, [...SIZES]);
  const warmHomes = new Map<number, Home>();
  const cleanups: Home[] = [];
  try {
    for (const size of SIZES) {
      log(`warming a ${size}-role config`);
      const home = await world.home(size);
      await world.login(home);
      warmHomes.set(size, home);
      cleanups.push(home);
    }
    const coldHomes: Home[] = [];
    for (let round = 0; round <= ROUNDS; round++) coldHomes.push(await world.home(SIZES[0] as number));
    cleanups.push(...coldHomes);

    const main = warmHomes.get(2_000) as Home;
    const env = childEnv(main);
    const smallFile = join(main.iso.home, "small.json");
    writeFileSync(smallFile, `${JSON.stringify({ Version: 1, Note: "x".repeat(1200) })}\n`);
    const printFile = join(__dirname, "print-file.cjs");

    const cases: StartupCase[] = [
      startupCase("node-e-0", "`node -e 0` (floor)", [NODE, "-e", "0"], env, "node -e 0"),
      startupCase(
        "read-print",
        "read one file and print it (floor)",
        [NODE, printFile, smallFile],
        env,
        `node bench/print-file.cjs <a 1.2 KB file>`,
      ),
    ];
    cases.push(startupCase("true", "`true` alone (for exec)", ["true"], env, "true"));
    const awsV2 = awsCliV2();
    for (const size of SIZES) cases.push(...sizeCases(warmHomes.get(size) as Home, awsV2));

    let nextCold = 0;
    const cold = startupCase(
      "cold-login",
      "cold `login` (empty cache) against the local STS, 10 role profiles",
      [],
      env,
      "node dist/awsmfa.cjs login -p role-8 --token-code <server.totp(seed)>  (a fresh user and cache each run)",
    );
    cold.runAsync = async () => {
      const home = coldHomes[nextCold++] as Home;
      const before = callsSnapshot(world);
      const code = world.server.totp(home.user.seed);
      const result = await runAsyncProcess(
        [NODE, AWSMFA, "login", "-p", home.profile, "--token-code", code],
        childEnv(home),
      );
      if (result.status !== 0) throw new Error(`bench: cold login exited ${result.status}: ${result.stderr}`);
      const delta = callDelta(before, callsSnapshot(world));
      return { wallMs: result.wallMs, facts: { ...splitCalls(delta), ...delta } };
    };
    cases.push(cold);

    log(`start-up: 1 warm-up round, then ${ROUNDS} interleaved rounds of ${cases.length} cases`);
    await runRound(cases, 0, false);
    const callsBeforeWarm = callsSnapshot(world);
    for (let round = 0; round < ROUNDS; round++) await runRound(cases, round, true);
    const coldCalls = cold.facts.reduce((sum, facts) => sum + (facts.sts ?? 0) + (facts.iam ?? 0), 0);
    const warmCalls = Object.values(callDelta(callsBeforeWarm, callsSnapshot(world))).reduce(
      (a, b) => a + b,
      0,
    );
    if (warmCalls !== coldCalls) throw new Error("bench: a warm case called STS: it was not warm");

    log(
      `concurrency: ${CONCURRENCY_RUNS} run(s) of ${CONCURRENT} credential-process, empty cache, 1.5 s STS latency`,
    );
    const concurrency: ConcurrencyRun[] = [];
    for (let run = 0; run < CONCURRENCY_RUNS; run++) concurrency.push(await concurrencyRun(world));

    let server: ServerResult;
    if (QUICK) server = { measured: false, why: "quick mode (BENCH_QUICK=1)" };
    else {
      log("server: 10,000 requests at 50 connections against `awsmfa serve`");
      server = await serverCase(warmHomes.get(10) as Home);
    }

    let instructions: Map<string, number[]> | string;
    if (INSTRUCTION_RUNS === 0)
      instructions = `skipped (${QUICK ? "quick mode" : "BENCH_INSTRUCTION_RUNS=0"})`;
    else if (!hasValgrind()) instructions = "not measured: valgrind is not installed";
    else {
      const counted = cases.filter((c) => INSTRUCTION_CASES.has(c.id));
      log(`instructions: ${INSTRUCTION_RUNS} run(s) of ${counted.length} cases under valgrind`);
      instructions = await instructionCounts(counted, INSTRUCTION_RUNS, main.iso.home);
    }

    log("footprint");
    const foot = footprint();
    const loadAfter = loadavg();

    const report = render({
      startedAt,
      loadBefore,
      loadAfter,
      cases,
      concurrency,
      server,
      foot,
      instructions,
    });
    writeFileSync(OUT, report.markdown);
    process.stdout.write(`${report.summary}\nwrote ${relative(process.cwd(), OUT)}\n`);
    return report.missed.length === 0 || QUICK ? 0 : 1;
  } finally {
    for (const home of cleanups) await home.iso.cleanup();
    await world.close();
  }
}

// ---------------------------------------------------------------------------------------------
// Report

interface RenderInput {
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  cases: StartupCase[];
  concurrency: ConcurrencyRun[];
  server: ServerResult;
  foot: Footprint;
  instructions: Map<string, number[]> | string;
}

function render(input: RenderInput): { markdown: string; summary: string; missed: string[] } {
  const { cases, concurrency, server, foot } = input;
  const byId = new Map(cases.map((c) => [c.id, c]));
  const stats = new Map(cases.map((c) => [c.id, summarize(c.wall)]));
  const medianOf = (id: string) => (stats.get(id) as Summary).median;
  const floor = medianOf("node-e-0");
  const readFloor = medianOf("read-print");
  const ratio = (id: string) => medianOf(id) / floor;
  /** Median over rounds of the case's time over `node -e 0`'s in the same round: load shared by both cancels. */
  const pairedRatio = (id: string) => {
    const floorRuns = byId.get("node-e-0")?.wall ?? [];
    const runs = byId.get(id)?.wall ?? [];
    return median(runs.map((value, round) => value / (floorRuns[round] as number)));
  };
  const cpuMean = (id: string) => {
    const values = byId.get(id)?.cpu ?? [];
    return values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length;
  };

  const targets: Target[] = judgeTargets(new Map([...stats].map(([id, summary]) => [id, summary.median])));
  const judged = !QUICK;
  const targetsOf = (id: string) => targets.filter((target) => target.id === id);

  const startupRows = cases.map((c) => {
    const s = stats.get(c.id) as Summary;
    return [
      c.label,
      ms(s.median),
      `${ms(s.p10)} – ${ms(s.p90)}`,
      `${ms(s.min)} – ${ms(s.max)}`,
      ms(cpuMean(c.id)),
      `${ratio(c.id).toFixed(3)}×`,
      `${pairedRatio(c.id).toFixed(3)}×`,
      targetsOf(c.id)
        .map((t) => `${t.text.replace(/^.*, /, "")} ${judged ? mark(t.met) : "(not judged)"}`)
        .join("; "),
    ];
  });

  /** One row per command: its median and ratio to `node -e 0` at each size. */
  const COMMAND_ROWS: [string, string][] = [
    ["warm-cp", "warm `credential-process -p P`"],
    ["warm-env", "warm `env -p P --shell bash`"],
    ["warm-exec", "warm `exec -p P -- true`"],
    ["status", "`status`"],
    ["plan", "`plan -p P`"],
    ["login", "`login -p P` (valid cache)"],
    ["completion", "`completion --list-profiles`"],
    ["aws-export", "`aws configure export-credentials` (aws CLI v2, the user's keys)"],
  ];
  const sizeRows = COMMAND_ROWS.filter(([command]) => stats.has(caseId(command, SIZES[0]))).map(
    ([command, label]) => [
      label,
      ...SIZES.map((size) => {
        const id = caseId(command, size);
        return `${ms(medianOf(id))} (${ratio(id).toFixed(2)}×)`;
      }),
    ],
  );
  const awsNote = stats.has(caseId("aws-export", SIZES[0]))
    ? "`aws configure export-credentials` is the aws CLI v2 reading the same files for the user's own keys: the native alternative's floor."
    : "`aws configure export-credentials` not measured: the installed aws CLI is not v2 (Debian's `awscli` package is: `apt-get install awscli`).";

  const coldFacts = byId.get("cold-login")?.facts ?? [];
  const callsText = describeCalls(coldFacts);

  const concurrencyTargets = concurrency.map(
    (run) => run.successes === CONCURRENT && run.getSessionToken === 1,
  );
  const concurrencyMet = concurrencyTargets.every(Boolean);
  const serverMet =
    server.measured && server.generator === "wrk"
      ? server.rounds.every((round) => round.p99Ms < 5 && round.ok === round.requests)
      : undefined;

  const missed = [
    ...targets.filter((t) => !t.met).map((t) => `${t.text}: ${t.measured}`),
    ...(concurrencyMet ? [] : ["concurrency: not 50/50 successes with exactly 1 GetSessionToken"]),
    ...(serverMet === false && server.measured ? [`server: p99 ${ms(server.p99Ms, 2)} ms ≥ 5 ms`] : []),
  ];

  const cpu = cpus();
  const machine = [
    `- CPU: ${cpu[0]?.model ?? "unknown"} × ${cpu.length} logical cores`,
    `- Memory: ${bytes(totalmem())}`,
    `- Node: ${process.version} (${process.platform} ${process.arch})`,
    `- Date: ${input.startedAt.toISOString()}`,
    `- Load average (1/5/15 min): ${fmtLoad(input.loadBefore)} at start, ${fmtLoad(input.loadAfter)} at end` +
      " — ratios, interleaved, are what count",
    `- Rounds: ${ROUNDS} interleaved (plus one warm-up round not counted); order rotated each round${QUICK ? " — quick mode (BENCH_QUICK=1): a smoke run, nothing judged" : ""}`,
    `- \`NODE_EXTRA_CA_CERTS\` unset for every measured process (${EXTRA_CA_CERTS_WAS_SET ? "it is set on this machine, where it adds about 45 ms to each Node start" : "it is not set on this machine either"}): the floors are a user's`,
  ];

  const md: string[] = [];
  md.push("# Benchmarks", "");
  md.push(
    "Written by `npm run bench` (bench/run.ts); do not edit by hand. Times in milliseconds,",
    "wall clock around `spawnSync` (stdout a pipe) unless said otherwise, every process with",
    "`NODE_EXTRA_CA_CERTS` unset. Ratios are medians over the median of `node -e 0` measured in the",
    'same rounds (the targets are on these); "paired ×" is the median over rounds of each run over the',
    "`node -e 0` run of the same round, where a burst of load from elsewhere weighs on both. CPU/run is",
    "the mean user+system time of the child (from /proc/self/stat, tick resolution: a mean, not a",
    "per-run figure).",
    "",
  );
  md.push("## Machine", "", ...machine, "");
  md.push("## Budget", "");
  md.push(
    table(
      ["target", "measured", "result"],
      [
        ...targets.map((t) => [t.text, t.measured, judged ? mark(t.met) : "not judged (quick mode)"]),
        [
          `${CONCURRENT} concurrent credential-process, empty cache: ${CONCURRENT}/${CONCURRENT} and exactly 1 GetSessionToken`,
          concurrency.map((run) => `${run.successes}/${CONCURRENT}, ${run.getSessionToken}`).join("; "),
          mark(concurrencyMet),
        ],
        [
          "`awsmfa serve`: p99 < 5 ms (10,000 requests, 50 connections), every round",
          server.measured
            ? `p99 ${server.rounds.map((round) => ms(round.p99Ms, 2)).join(", ")} ms`
            : `not measured: ${server.why}`,
          server.measured ? mark(serverMet) : "not measured (not failed)",
        ],
      ],
    ),
    "",
  );

  md.push("## Start-up by number of profiles", "");
  md.push(
    `Median ms (× \`node -e 0\`, ${ms(floor)} ms; \`true\` alone ${ms(medianOf("true"))} ms, read one file and print it ${ms(readFloor)} ms).`,
    "",
    table(["command", ...SIZES.map((size) => `${size.toLocaleString("en")} profiles`)], sizeRows),
    "",
    `- ${awsNote}`,
    `- Cold \`login\` (empty cache, local STS, 10 role profiles): median ${ms(medianOf("cold-login"))} ms (${ratio("cold-login").toFixed(2)}×); calls per run: ${callsText}.`,
    "",
  );

  md.push("## Start-up, every case", "");
  md.push(
    table(
      ["case", "median", "p10 – p90", "min – max", "CPU/run", "× node -e 0", "paired ×", "target"],
      startupRows,
    ),
    "",
  );
  md.push(
    "- Cold login runs with an async spawn (the STS server answers from this process); the others with `spawnSync`.",
    "",
  );

  md.push("### Instructions", "");
  if (typeof input.instructions === "string") {
    md.push(`Instruction counts ${input.instructions}.`, "");
  } else {
    const counts = input.instructions;
    const floorCount = median(counts.get("node-e-0") ?? []);
    md.push(
      "Instructions executed per run, all threads (valgrind `--tool=cachegrind --cache-sim=no`; median of",
      `${INSTRUCTION_RUNS}). Unlike wall time, this does not move with the machine's load: it is the figure to compare`,
      "changes by. Informational: the targets are on wall time.",
      "",
      table(
        ["case", "instructions (median)", "runs", "× node -e 0"],
        [...counts.entries()].map(([id, values]) => [
          byId.get(id)?.label ?? id,
          `${(median(values) / 1e6).toFixed(1)} M`,
          values.map((v) => (v / 1e6).toFixed(1)).join(", "),
          `${(median(values) / floorCount).toFixed(3)}×`,
        ]),
      ),
      "",
    );
  }

  md.push("### Commands", "");
  md.push("Each home is a temporary `HOME` with `~/.aws/config` holding `[default]`, the user's profile");
  md.push("(`mfa_serial`, `region`; its keys in `~/.aws/credentials`) and N `[profile role-i]` sections");
  md.push(
    "(`role_arn`, `source_profile`, `region`, a comment); P, the profile asked for, is `role-(N-2)`, near the end.",
  );
  md.push(
    "Homes were logged in once (`awsmfa login -p role-(N-2) --token-code <server.totp(seed)>`) before the rounds.",
    "",
  );
  for (const c of cases) md.push(`- ${c.label}: \`${c.shown}\``);
  md.push("");

  md.push("## Single flight", "");
  md.push(
    `${CONCURRENT} \`credential-process -p role-8\` started together, empty cache, code from \`mfa_process\``,
    "(test/support/code-script.ts), STS answering after 1.5 s; a fresh user and home each run.",
    "",
  );
  md.push(
    table(
      ["run", "wall", "successes", "same key", "GetSessionToken", "AssumeRole", "code source runs", "target"],
      concurrency.map((run, index) => [
        String(index + 1),
        ms(run.wallMs, 0),
        `${run.successes}/${CONCURRENT}`,
        run.sameKey ? "yes" : "no",
        String(run.getSessionToken),
        String(run.assumeRole),
        String(run.codeRuns),
        mark(concurrencyTargets[index]),
      ]),
    ),
    "",
  );

  md.push("## Credentials server", "");
  if (server.measured) {
    md.push(
      server.generator === "wrk"
        ? "`awsmfa serve -p role-8` (a real process, warm cache) under `wrk -t1 -c50` (Debian's wrk, stopped after 10,000 answers by a Lua script, bench/wrk.ts):"
        : "`awsmfa serve -p role-8` (a real process, warm cache) under `runLoad` from test/server/load.ts — a Node client sharing the two cores, so mostly its own queueing; the target is judged only under wrk (`apt-get install wrk`):",
      `${server.rounds.length} round(s) of ${server.requests.toLocaleString("en")} GETs, each over ${server.concurrency} fresh keep-alive connections, after ${server.warmupRounds} warm-up round(s) (${server.warmup.toLocaleString("en")} GETs; shown, not judged: the first rounds after start run slower while V8 settles, as they do for a bare node:net server). Every measured round must meet the target. req/s by Little's law (connections ÷ mean latency): wrk waits out its -d after the script stops it, so its own duration says nothing.`,
      "",
      table(
        ["round", "ok", "failures", "p50", "p90", "p99", "max", "req/s", "target"],
        [
          ...server.warmupResults.map((round, index) =>
            serverRow(round, `warm-up ${index + 1}`, "not judged"),
          ),
          ...server.rounds.map((round, index) =>
            serverRow(
              round,
              String(index + 1),
              `p99 < 5 ms ${mark(round.p99Ms < 5 && round.ok === round.requests)}`,
            ),
          ),
        ],
      ),
      "",
    );
  } else {
    md.push(`**Not measured: ${server.why}.** This case does not fail the run.`, "");
  }

  md.push("## Footprint", "");
  md.push(
    `Production dependencies (\`npm ls --omit=dev --parseable --all\`): ${foot.packages} packages,`,
    `${bytes(foot.totalBytes)} (apparent size, \`du -sb\`), ${bytes(foot.diskBytes)} on disk (\`du -sk\`).`,
    "",
  );
  md.push(
    table(
      ["group", "size"],
      foot.byGroup.slice(0, 12).map((g) => [g.name, bytes(g.bytes)]),
    ),
    "",
  );
  md.push(
    table(
      ["bundle", "size"],
      foot.bundles.map((b) => [b.path, bytes(b.bytes)]),
    ),
    "",
  );
  md.push(
    foot.notInBundles.length === 0
      ? "Every entry of `dependencies` is required by a bundle."
      : `In \`dependencies\` but required by neither bundle (unused, or dev-only): ${foot.notInBundles.map((n) => `\`${n}\``).join(", ")}.`,
    "",
  );
  if (missed.length > 0) md.push("## Missed", "", ...missed.map((m) => `- ${m}`), "");

  const summary = [
    `NODE_EXTRA_CA_CERTS unset for every measured process${EXTRA_CA_CERTS_WAS_SET ? " (set on this machine)" : ""}`,
    `node -e 0: ${ms(floor)} ms median; true ${ms(medianOf("true"))} ms; read-and-print floor ${ms(readFloor)} ms`,
    ...cases.map((c) => {
      const s = stats.get(c.id) as Summary;
      return `${c.id.padEnd(17)} ${ms(s.median).padStart(8)} ms  ${ratio(c.id).toFixed(3)}× (paired ${pairedRatio(c.id).toFixed(3)}×)`;
    }),
    ...targets.map(
      (t) =>
        `target ${t.text}: ${t.measured} ${judged ? (t.met ? "met" : "MISSED") : "(not judged: quick mode)"}`,
    ),
    instructionSummary(input.instructions),
    `cold login calls: ${callsText}`,
    ...concurrency.map(
      (run, index) =>
        `concurrency #${index + 1}: ${ms(run.wallMs, 0)} ms, ${run.successes}/${CONCURRENT}, GetSessionToken ${run.getSessionToken} (target 50/50, 1) ${concurrencyTargets[index] ? "met" : "MISSED"}`,
    ),
    server.measured
      ? `server (${server.generator}): p99 ${server.rounds.map((round) => ms(round.p99Ms, 2)).join(", ")} ms in ${server.rounds.length} round(s) (target < 5 ms each) ${serverMet === undefined ? "not judged without wrk" : serverMet ? "met" : "MISSED"}`
      : `server: not measured: ${server.why}`,
    `footprint: ${bytes(foot.totalBytes)} in ${foot.packages} packages; bundles ${foot.bundles.map((b) => `${b.path} ${bytes(b.bytes)}`).join(", ")}`,
    ...(foot.notInBundles.length > 0
      ? [`dependencies no bundle requires: ${foot.notInBundles.join(", ")}`]
      : []),
    missed.length === 0
      ? "all targets met"
      : `${judged ? "MISSED" : "would miss (quick mode, not judged)"}: ${missed.join("; ")}`,
  ].join("\n");
  return { markdown: `${md.join("\n")}`, summary, missed };
}

function instructionSummary(instructions: Map<string, number[]> | string): string {
  if (typeof instructions === "string") return `instructions: ${instructions}`;
  const floor = median(instructions.get("node-e-0") ?? []);
  const ratios = [...instructions.entries()].map(
    ([id, values]) => `${id} ${(median(values) / floor).toFixed(3)}`,
  );
  return `instructions (× node -e 0): ${ratios.join(", ")}`;
}

function describeCalls(facts: Record<string, number>[]): string {
  if (facts.length === 0) return "none";
  const texts = facts.map((f) =>
    Object.entries(f)
      .filter(([key]) => key !== "sts" && key !== "iam")
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([key, value]) => `${key} ${value}`)
      .join(", "),
  );
  const distinct = [...new Set(texts)];
  const first = facts[0] as Record<string, number>;
  const head = `${first.sts ?? 0} STS + ${first.iam ?? 0} IAM (${distinct[0]})`;
  return distinct.length === 1 ? `${head}, every run` : `varied: ${distinct.join(" | ")}`;
}

function mark(met: boolean | undefined): string {
  return met === undefined ? "" : met ? "✅ met" : "❌ MISSED";
}

function fmtLoad(values: number[]): string {
  return values.map((v) => v.toFixed(2)).join(" / ");
}

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 2;
  },
);
