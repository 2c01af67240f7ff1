import { loadProfileSet } from "../config/files";
import { deviceSerial, type Plan, resolvePlan } from "../config/plan";
import {
  type CacheEntry,
  cacheDirectory,
  entryPath,
  listCacheFiles,
  readEntry,
  secondsLeft,
} from "../session/cache";
import { cacheableSteps } from "../session/steps";
import { humanDuration } from "./login";

export interface StatusOptions {
  json?: boolean;
}

interface StepStatus {
  type: string;
  profile: string;
  expiration: string | null;
  secondsLeft: number | null;
}

interface ProfileStatus {
  profile: string;
  device: string | null;
  steps: StepStatus[];
}

/** Every profile with an MFA plan, its device, and the time left on each cached step. */
export function runStatus(options: StatusOptions): void {
  const set = loadProfileSet(process.env);
  const dir = cacheDirectory(process.env);
  const rows: ProfileStatus[] = [];
  // One listing instead of a failed open per uncached step, and every role on one user shares
  // that user's MFA session: each entry is read once, not once per role.
  const cached = new Set(listCacheFiles(dir));
  const entries = new Map<string, CacheEntry | undefined>();
  const entryOf = (key: string) => {
    if (!cached.has(entryPath(dir, key))) return undefined;
    if (!entries.has(key)) entries.set(key, readEntry(dir, key));
    return entries.get(key);
  };
  for (const name of Object.keys(set.profiles).sort()) {
    let plan: Plan;
    try {
      plan = resolvePlan(set, name);
    } catch {
      continue; // `plan -p NAME` explains a broken profile; status lists the working ones
    }
    const steps = cacheableSteps(plan);
    if (!steps) continue;
    rows.push({
      profile: name,
      device: deviceSerial(plan) ?? null,
      steps: steps.map(({ step, key }) => {
        const entry = entryOf(key);
        const left = entry ? secondsLeft(entry) : null;
        return {
          type: step.type,
          profile: step.profile,
          expiration: entry && left !== null && left > 0 ? entry.credentials.expiration : null,
          secondsLeft: left !== null && left > 0 ? left : null,
        };
      }),
    });
  }
  if (options.json) {
    process.stdout.write(`${JSON.stringify({ profiles: rows })}\n`);
    return;
  }
  if (rows.length === 0) {
    process.stdout.write(
      "No profile has an MFA device configured. Run `awsmfa login -p PROFILE` to set one up.\n",
    );
    return;
  }
  const lines: string[] = [];
  for (const row of rows) {
    lines.push(`${row.profile}  (${row.device})`);
    for (const step of row.steps) {
      const left = step.secondsLeft === null ? "not cached" : `${humanDuration(step.secondsLeft)} left`;
      lines.push(`  ${step.type.padEnd(12)} ${step.profile.padEnd(20)} ${left}`);
    }
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}
