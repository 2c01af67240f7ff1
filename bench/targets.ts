// The start-up targets of issue 14, judged on the medians of one interleaved run: a pure function
// of those medians (ms by case id), so that what counts as met is tested without running anything.
//
// Case ids: `node-e-0` and `true` (floors), then `<command>-<profiles>` for the commands below at
// each of SIZES: warm-cp, warm-env, warm-exec (the warm paths), and the full-CLI commands; and
// warm-cp-login at LOGIN_SIZES: a role over an `aws login` session, held to warm-cp's target.

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
    for (const command of ["warm-cp", "warm-env", "warm-cp-login"]) {
      const what = {
        "warm-cp": "warm `credential-process`",
        "warm-env": "warm `env`",
        "warm-cp-login": "warm `credential-process` of a role over an aws login session",
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
