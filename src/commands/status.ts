import { deviceSerial } from "../config/plan";
import { cacheDirectory, readEntry, secondsLeft } from "../session/cache";
import { humanDuration } from "./login";
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
  for (const { profile: name, plan, steps } of servedProfiles(process.env)) {
    rows.push({
      profile: name,
      device: deviceSerial(plan) ?? null,
      steps: steps.map(({ step, key }) => {
        const entry = readEntry(dir, key);
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
