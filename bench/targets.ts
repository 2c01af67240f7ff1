// The benchmark's targets, judged by pure functions of what was measured, so that what counts as
// met is tested without running anything: the start-up targets of issue 14 on the medians of one
// interleaved run (ms by case id), single flight, and the credentials server's p99.
//
// Case ids: `node-e-0` and `true` (floors), then `<command>-<profiles>` for the commands below at
// each of SIZES: warm-cp, warm-env, warm-exec (the warm paths), and the full-CLI commands; and
// warm-cp-login and warm-cp-session at LOGIN_SIZES: a role over an `aws login` session, and the
// session alone (Terraform's case), held to warm-cp's target.

export const SIZES = [10, 2_000, 10_000] as const;
/** Sizes of the warm credential-process case over an `aws login` session (those warm-cp is judged at). */
export const LOGIN_SIZES = [2_000, 10_000] as const;
/** Full-CLI commands that must stay within 1.5× their own time at 10 profiles (status has a bound of its own). */
export const FULL_COMMANDS = ["plan", "login", "completion"] as const;

export interface Target {
  /** What is promised, for BENCHMARKS.md. */
  text: string;
  /** The case the figure is of. */
  id: string;
  /** The figure compared (a ratio, or ms), as shown. */
  measured: string;
  met: boolean;
}

export function caseId(command: string, profiles: number): string {
  return `${command}-${profiles}`;
}

export function judgeTargets(medians: ReadonlyMap<string, number>): Target[] {
  const of = (id: string): number => {
    const value = medians.get(id);
    if (value === undefined) throw new Error(`bench: no median for case ${id}`);
    return value;
  };
  const node = of("node-e-0");
  const nodeAndTrue = node + of("true");
  const targets: Target[] = [];
  const ratio = (id: string, over: number, limit: number, text: string) => {
    const value = of(id) / over;
    targets.push({ text, id, measured: `${value.toFixed(3)}×`, met: value <= limit });
  };
  for (const [profiles, limit] of [
    [2_000, 1.1],
    [10_000, 1.15],
  ] as const) {
    const count = profiles.toLocaleString("en");
    for (const command of ["warm-cp", "warm-env", "warm-cp-login", "warm-cp-session"]) {
      const what = {
        "warm-cp": "warm `credential-process`",
        "warm-env": "warm `env`",
        "warm-cp-login": "warm `credential-process` of a role over an aws login session",
        "warm-cp-session": "warm `credential-process` of an aws login session alone",
      }[command];
      ratio(
        caseId(command, profiles),
        node,
        limit,
        `${what}, ${count} profiles ≤ ${limit.toFixed(2)}× \`node -e 0\``,
      );
    }
    ratio(
      caseId("warm-exec", profiles),
      nodeAndTrue,
      1.25,
      `warm \`exec -- true\`, ${count} profiles ≤ 1.25× (\`node -e 0\` + \`true\`)`,
    );
  }
  for (const command of FULL_COMMANDS) {
    ratio(
      caseId(command, 10_000),
      of(caseId(command, 10)),
      1.5,
      `\`${command}\`, 10,000 profiles ≤ 1.5× its time at 10`,
    );
  }
  const status = of(caseId("status", 10_000));
  targets.push({
    text: "`status`, 10,000 profiles < 500 ms",
    id: caseId("status", 10_000),
    measured: `${status.toFixed(1)} ms`,
    met: status < 500,
  });
  for (const command of ["plan", "status"]) {
    ratio(caseId(command, 10), node, 2, `\`${command}\`, 10 profiles ≤ 2× \`node -e 0\``);
  }
  return targets;
}

/** Single flight: every one of the concurrent credential-process calls got credentials, from one GetSessionToken. */
export function singleFlightMet(
  run: { successes: number; getSessionToken: number },
  concurrent: number,
): boolean {
  return run.successes === concurrent && run.getSessionToken === 1;
}

export const SERVER_P99_MS = 5;

/** One round of load on the credentials server: every request answered 200, p99 under 5 ms. */
export function serverRoundMet(round: { ok: number; requests: number; p99Ms: number }): boolean {
  return round.p99Ms < SERVER_P99_MS && round.ok === round.requests;
}

/** What the server case reports, as far as judging needs it. */
export type ServerJudged =
  | { measured: false }
  | {
      measured: true;
      generator: "wrk" | "node";
      p99Ms: number;
      rounds: { ok: number; requests: number; p99Ms: number }[];
    };

/**
 * The server's target: every measured round met. Judged only under wrk: the Node client shares
 * the two cores with the server and mostly measures its own queueing (undefined: not judged).
 */
export function judgeServer(server: ServerJudged): boolean | undefined {
  if (!server.measured || server.generator !== "wrk") return undefined;
  return server.rounds.every(serverRoundMet);
}

/** Every target missed, one line each: the start-up targets, single flight, the server. */
export function missedTargets(startup: Target[], singleFlight: boolean[], server: ServerJudged): string[] {
  return [
    ...startup.filter((target) => !target.met).map((target) => `${target.text}: ${target.measured}`),
    ...(singleFlight.every(Boolean)
      ? []
      : ["concurrency: not 50/50 successes with exactly 1 GetSessionToken"]),
    ...(server.measured && judgeServer(server) === false
      ? [`server: p99 ${server.p99Ms.toFixed(2)} ms ≥ ${SERVER_P99_MS} ms`]
      : []),
  ];
}
