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
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join, relative } from "node:path";
import { type ConcurrencyRun, concurrencyRun } from "./case-concurrency";
import { footprint } from "./case-footprint";
import { type ServerResult, serverCase } from "./case-server";
import { awsCliV2, INSTRUCTION_CASES, loginCases, measuredApart, sizeCases } from "./case-startup";
import { AWSMFA, BenchWorld, type Home } from "./fixture";
import {
  callDelta,
  callsSnapshot,
  childEnv,
  hasValgrind,
  instructionCounts,
  runAsyncProcess,
  runRound,
  type StartupCase,
  splitCalls,
  startupCase,
} from "./measure";
import { render } from "./report";
import {
  CONCURRENCY_RUNS,
  CONCURRENT,
  EXTRA_CA_CERTS_WAS_SET,
  INSTRUCTION_RUNS,
  NATIVE_ROUNDS,
  NODE,
  OUT,
  QUICK,
  ROUNDS,
} from "./settings";
import { LOGIN_SIZES, SIZES } from "./targets";

async function main(): Promise<number> {
  const startedAt = new Date();
  const loadBefore = loadavg();
  const log = (line: string) => process.stderr.write(`bench: ${line}\n`);
  log(
    `NODE_EXTRA_CA_CERTS unset for every measured process${EXTRA_CA_CERTS_WAS_SET ? " (it is set here: +45 ms per Node start)" : ""}${QUICK ? "; quick mode: a smoke run, nothing judged" : ""}`,
  );

  const users = SIZES.length + LOGIN_SIZES.length + ROUNDS + 1 + CONCURRENCY_RUNS + 1;
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
    const loginHomes: Home[] = [];
    for (const size of LOGIN_SIZES) {
      log(`warming a ${size}-role config over an aws login session`);
      const home = await world.loginHome(size);
      loginHomes.push(home);
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
    for (const home of loginHomes) cases.push(...loginCases(home));

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

    // The aws CLI v2 (Python, 0.5–1 s a start, no target) is measured apart, with the floor, after
    // the others: interleaved, its starts weighed on the millisecond cases that follow them.
    const native = cases.filter((c) => measuredApart(c.id));
    const interleaved = cases.filter((c) => !native.includes(c));
    log(`start-up: 1 warm-up round, then ${ROUNDS} interleaved rounds of ${interleaved.length} cases`);
    await runRound(interleaved, 0, false);
    const callsBeforeWarm = callsSnapshot(world);
    for (let round = 0; round < ROUNDS; round++) await runRound(interleaved, round, true);
    if (native.length > 0) {
      log(`start-up: the aws CLI v2, ${NATIVE_ROUNDS} rounds of ${native.length} cases`);
      await runRound(native, 0, false);
      for (let round = 0; round < NATIVE_ROUNDS; round++) await runRound(native, round, true);
    }
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

main().then(
  (status) => {
    process.exitCode = status;
  },
  (error: unknown) => {
    process.stderr.write(`bench: ${(error as Error).stack ?? error}\n`);
    process.exitCode = 2;
  },
);
