// BENCHMARKS.md and the summary on stdout, from what was measured; what is met comes from targets.ts.
import { cpus, totalmem } from "node:os";
import type { ConcurrencyRun } from "./case-concurrency";
import type { Footprint } from "./case-footprint";
import type { ServerResult, ServerRound } from "./case-server";
import { measuredApart } from "./case-startup";
import type { StartupCase } from "./measure";
import {
  CONCURRENT,
  EXTRA_CA_CERTS_WAS_SET,
  INSTRUCTION_RUNS,
  NATIVE_ROUNDS,
  QUICK,
  ROUNDS,
} from "./settings";
import { bytes, median, ms, type Summary, summarize, table } from "./stats";
import {
  caseId,
  judgeServer,
  judgeTargets,
  missedTargets,
  SIZES,
  serverRoundMet,
  singleFlightMet,
  type Target,
} from "./targets";

export interface RenderInput {
  startedAt: Date;
  loadBefore: number[];
  loadAfter: number[];
  cases: StartupCase[];
  concurrency: ConcurrencyRun[];
  server: ServerResult;
  foot: Footprint;
  instructions: Map<string, number[]> | string;
}

export function render(input: RenderInput): { markdown: string; summary: string; missed: string[] } {
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
      measuredApart(c.id) ? "–" : `${pairedRatio(c.id).toFixed(3)}×`,
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
    ? `\`aws configure export-credentials\` is the aws CLI v2 reading the same files for the user's own keys: the native alternative's floor. Measured apart, in ${NATIVE_ROUNDS} rounds after the others, so that its Python starts do not weigh on them.`
    : "`aws configure export-credentials` not measured: the installed aws CLI is not v2 (Debian's `awscli` package is: `apt-get install awscli`).";

  const coldFacts = byId.get("cold-login")?.facts ?? [];
  const callsText = describeCalls(coldFacts);

  const concurrencyTargets = concurrency.map((run) => singleFlightMet(run, CONCURRENT));
  const concurrencyMet = concurrencyTargets.every(Boolean);
  const serverMet = judgeServer(server);
  const missed = missedTargets(targets, concurrencyTargets, server);

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
            serverRow(round, String(index + 1), `p99 < 5 ms ${mark(serverRoundMet(round))}`),
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
