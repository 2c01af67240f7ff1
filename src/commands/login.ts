import { checkSessionDuration } from "../config/plan";
import { writeSessionProfile } from "../output/credentials-file";
import type { CacheEntry } from "../session/cache";
import { secondsLeft } from "../session/cache";
import { regionOf } from "../session/steps";
import { credentialsFor } from "./credentials";
import { loadPlan, parseMinTtl, selectedProfile, tellStderr } from "./selection";

export interface LoginOptions {
  profile?: string;
  tokenCode?: string;
  duration?: string;
  force?: boolean;
  minTtl?: string;
  writeProfile?: string;
}

export async function runLogin(options: LoginOptions): Promise<void> {
  // Checked before anything else, so that a typo never costs a code.
  const sessionDurationSeconds =
    options.duration === undefined ? undefined : checkSessionDuration(Number(options.duration), "--duration");
  const minTtlSeconds = parseMinTtl(options.minTtl);
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
  const obtained = await credentialsFor(plan, {
    minTtlSeconds,
    force: options.force,
    tokenCode: options.tokenCode,
    sessionDurationSeconds,
    notify: tellStderr,
  });
  const { entry } = obtained;
  if (options.writeProfile) {
    const path = await writeSessionProfile(
      process.env,
      options.writeProfile,
      entry.credentials,
      regionOf(plan, process.env),
    );
    tellStderr(`Wrote the session to [${options.writeProfile}] in ${path}.`);
  }
  tellStderr(summary(plan.profile, entry, obtained.fromCache));
}

function summary(profile: string, entry: CacheEntry, fromCache: boolean): string {
  const who = entry.identity?.arn ?? entry.roleArn ?? "unknown identity";
  const expires = new Date(entry.credentials.expiration);
  const left = secondsLeft(entry);
  const when = `${expires.toLocaleString()} (in ${humanDuration(left)})`;
  const device = entry.serial ? `, device ${entry.serial}` : "";
  return fromCache
    ? `Profile '${profile}' already has a session: ${who}, valid until ${when}. Use --force for a new one.`
    : `Logged in: profile '${profile}' as ${who}${device}, valid until ${when}.`;
}

export function humanDuration(seconds: number): string {
  if (seconds <= 0) return "expired";
  const hours = Math.floor(seconds / 3600);
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}
