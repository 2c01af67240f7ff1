import { loadProfileSet } from "../config/files";
import { deviceSerial } from "../config/plan";
import {
  type CacheEntry,
  cacheDirectory,
  entryPath,
  listCacheFiles,
  readEntry,
  secondsLeft,
} from "../session/cache";
import type { CacheableStep } from "../session/steps";
import { humanDuration } from "./expiry";
import { servedProfiles } from "./selection";

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
  const dir = cacheDirectory(process.env);
  const rows: ProfileStatus[] = [];
  // One listing instead of a failed open per uncached step, and every role on one user shares
  // that user's MFA session: each entry is read once, not once per role.
  const cached = new Set(listCacheFiles(dir));
  const entries = new Map<string, CacheEntry | undefined>();
  const entryOf = (target: CacheableStep) => {
    if (!cached.has(entryPath(dir, target.key))) return undefined;
    if (!entries.has(target.key)) entries.set(target.key, readEntry(dir, target));
    return entries.get(target.key);
  };
  for (const { profile: name, plan, steps } of servedProfiles(process.env)) {
    rows.push({
      profile: name,
      device: deviceSerial(plan) ?? null,
      steps: steps.map((target) => {
        const { step } = target;
        const entry = entryOf(target);
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
    process.stdout.write(`${firstStep(process.env)}\n`);
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
  const without = rows.filter((row) => row.steps.every((step) => step.secondsLeft === null));
  if (without.length > 0) {
    const quoted = without.map((row) => `'${row.profile}'`).join(", ");
    lines.push(`No session for ${quoted}: \`awsmfa login -p ${without[0]?.profile}\` starts one (one code).`);
  }
  process.stdout.write(`${lines.join("\n")}\n`);
}

/**
 * With nothing to list, the one next step: a new user (no profile with keys) runs setup; a
 * profile with keys but no MFA device yet needs only a login, which finds the device.
 */
function firstStep(env: NodeJS.ProcessEnv): string {
  const withKeys = Object.entries(loadProfileSet(env).profiles)
    .filter(([, properties]) => properties.aws_access_key_id || properties.awsmfa_access_key_id)
    .map(([name]) => name)
    .sort();
  if (withKeys.length === 0) {
    return "No profile is set up for awsmfa yet: `awsmfa setup` asks for your access key, finds your MFA device and logs in.";
  }
  return `No profile names an MFA device yet: \`awsmfa login -p ${withKeys[0]}\` finds the device of its keys and logs in (profiles with keys: ${withKeys.map((name) => `'${name}'`).join(", ")}).`;
}
