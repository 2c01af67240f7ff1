import { checkSessionDuration, type Plan } from "../config/plan";
import { writeSessionProfile } from "../output/credentials-file";
import { spinWhileWaiting } from "../output/spinner";
import type { CacheEntry } from "../session/cache";
import type { Obtained } from "../session/obtain";
import { regionOf } from "../session/steps";
import { userNameOf } from "../sts/credentials";
import { credentialsFor } from "./credentials";
import { expiryText } from "./expiry";
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
  // Turns only while a request to AWS is in flight, so never over a code prompt.
  const spinner = spinWhileWaiting();
  let obtained: Obtained;
  try {
    obtained = await credentialsFor(plan, {
      minTtlSeconds,
      force: options.force,
      tokenCode: options.tokenCode,
      takesTokenCode: true,
      sessionDurationSeconds,
      notify: (message) => {
        spinner.clear();
        tellStderr(message);
      },
    });
  } finally {
    spinner.stop();
  }
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
  process.stderr.write(details(obtained.plan, entry));
}

/** The first line; the details under it say the device and the expiry (once, with the time zone). */
function summary(profile: string, entry: CacheEntry, fromCache: boolean): string {
  const who = entry.identity?.arn ?? entry.roleArn ?? "unknown identity";
  return fromCache
    ? `Profile '${profile}' already has a session: ${who}. Use --force for a new one.`
    : `Logged in: profile '${profile}' as ${who}.`;
}

/** The short summary under the first line: account, user or role, device, expiry in local time. */
function details(plan: Plan, entry: CacheEntry): string {
  const arn = entry.identity?.arn ?? entry.roleArn ?? "";
  const account = entry.identity?.account || arn.split(":")[4] || "unknown";
  const rows: [string, string][] = [["account", account]];
  const role = /:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (entry.kind === "assume-role" || role) {
    const name = role?.[1] ?? entry.roleArn?.split("/").at(-1) ?? "unknown";
    rows.push(["role", role ? `${name} (session ${role[2]})` : name]);
    if (entry.userName) rows.push(["user", entry.userName]);
  } else {
    rows.push(["user", entry.userName ?? userNameOf(arn) ?? (arn || "unknown")]);
  }
  const device = entry.serial ?? plan.mfa?.serial ?? plan.roles.find((hop) => hop.mfaSerial)?.mfaSerial;
  if (device) rows.push(["device", device]);
  rows.push(["expires", expiryText(entry)]);
  return rows.map(([name, value]) => `  ${name.padEnd(8)} ${value}\n`).join("");
}
