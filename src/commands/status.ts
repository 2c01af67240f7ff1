import { loadProfileSet } from "../config/files";
import { deviceSerial, type Plan } from "../config/plan";
import { isSessionLeaf, sessionKind } from "../config/session-leaf";
import { humanDuration } from "../output/expiry";
import {
  type CacheEntry,
  cacheDirectory,
  entryPath,
  listCacheFiles,
  readEntry,
  secondsLeft,
} from "../session/cache";
import { readSessionState, type SessionState } from "../session/sources/state";
import type { CacheableStep } from "../session/steps";
import { servedProfiles } from "./profile-plans";
import type { StatusOptions } from "./status.command";

interface StepStatus {
  type: string;
  profile: string;
  expiration: string | null;
  secondsLeft: number | null;
}

interface ProfileStatus {
  profile: string;
  device: string | null;
  /** The `aws login` or IAM Identity Center session under the profile, when that is its source. */
  session?: SessionState;
  steps: StepStatus[];
}

/**
 * Every profile with an MFA plan, its device, and the time left on each cached step; for a profile
 * over a session the aws CLI signed in, the time left on its access token and on its refreshing,
 * read from the CLI's token file without refreshing anything.
 */
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
  // Every role on one session profile shares its token file: read once, not once per role.
  const sessions = new Map<string, SessionState>();
  const sessionOf = (plan: Plan) => {
    const leaf = plan.leaf;
    if (!isSessionLeaf(leaf)) return undefined;
    const key = `${leaf.type}:${leaf.profile}`;
    const state = sessions.get(key) ?? readSessionState(leaf, process.env);
    sessions.set(key, state);
    return state;
  };
  for (const { profile: name, plan, steps } of servedProfiles(process.env)) {
    const session = sessionOf(plan);
    rows.push({
      profile: name,
      device: deviceSerial(plan) ?? null,
      ...(session ? { session } : {}),
      // awsmfa's copy of a signed-in session is not listed: the session line reads its token file, the truth.
      steps: steps
        .filter(({ step }) => !isSessionLeaf(step))
        .map((target) => {
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
    lines.push(`${row.profile}  (${row.session ? sessionKind(row.session.type) : row.device})`);
    if (row.session)
      lines.push(`  ${"session".padEnd(12)} ${row.session.profile.padEnd(20)} ${sessionText(row.session)}`);
    for (const step of row.steps) {
      const left = step.secondsLeft === null ? "not cached" : `${humanDuration(step.secondsLeft)} left`;
      lines.push(`  ${step.type.padEnd(12)} ${step.profile.padEnd(20)} ${left}`);
    }
  }
  const without = rows.filter((row) => !row.session && row.steps.every((step) => step.secondsLeft === null));
  if (without.length > 0) {
    const quoted = without.map((row) => `'${row.profile}'`).join(", ");
    lines.push(`No session for ${quoted}: \`awsmfa login -p ${without[0]?.profile}\` starts one (one code).`);
  }
  lines.push(...signInLines(rows));
  process.stdout.write(`${lines.join("\n")}\n`);
}

/** One line: the access token, how long refreshing goes on, or why the session needs signing in. */
function sessionText(session: SessionState): string {
  const { accessToken, refreshUntil } = session;
  if (session.state === "missing" || !accessToken) return `not signed in: ${session.problem}`;
  const refreshing = !session.refreshToken
    ? "no refresh token"
    : !refreshUntil
      ? "refresh token (how long it lasts is not in the file)"
      : refreshUntil.secondsLeft > 0
        ? `refreshable for ${humanDuration(refreshUntil.secondsLeft)} (${refreshUntil.basis})`
        : `no longer refreshable (${refreshUntil.basis})`;
  switch (session.state) {
    case "valid":
      return `access token ${humanDuration(accessToken.secondsLeft)} left; ${refreshing}`;
    case "refreshable":
      return `access token expired, refreshed on next use; ${refreshing}`;
    default:
      return `ended: access token expired; ${refreshing}`;
  }
}

/** For each session that needs signing in again, the profiles on it and the command that does it. */
function signInLines(rows: ProfileStatus[]): string[] {
  const byCommand = new Map<string, ProfileStatus[]>();
  for (const row of rows) {
    const state = row.session?.state;
    if (!row.session || (state !== "ended" && state !== "missing")) continue;
    byCommand.set(row.session.signInCommand, [...(byCommand.get(row.session.signInCommand) ?? []), row]);
  }
  return [...byCommand].map(([command, signedOut]) => {
    const quoted = signedOut.map((row) => `'${row.profile}'`).join(", ");
    const leaf = signedOut[0]?.session?.profile;
    return `Signed out: ${quoted}. \`${command}\` signs in again (\`awsmfa login -p ${leaf}\` runs it for you).`;
  });
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
