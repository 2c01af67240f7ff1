import { checkSessionDuration, type Plan } from "../config/plan";
import { isSessionLeaf } from "../config/session-leaf";
import { AppError, ExitStatus, isAppError } from "../errors";
import { writeSessionProfile } from "../output/credentials-file";
import { expiryText, humanDuration } from "../output/expiry";
import { spinWhileWaiting } from "../output/spinner";
import { tellStderr } from "../output/tell";
import type { CacheEntry } from "../session/cache";
import { credentialsFor } from "../session/credentials-for";
import type { Obtained } from "../session/obtain";
import { readSessionState } from "../session/sources/state";
import { regionOf } from "../session/steps";
import { userNameOf } from "../sts/credentials";
import { signInWithAwsCli } from "./aws-sign-in";
import type { LoginOptions } from "./login.command";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";

export async function runLogin(options: LoginOptions): Promise<void> {
  // Checked before anything else, so that a typo never costs a code.
  const sessionDurationSeconds =
    options.duration === undefined ? undefined : checkSessionDuration(Number(options.duration), "--duration");
  const minTtlSeconds = parseMinTtl(options.minTtl);
  const profile = selectedProfile(options.profile, process.env);
  let plan = loadPlan(profile, process.env);
  refuseCodeOptions(plan, options);
  // Turns only while a request to AWS is in flight, so never over a code prompt.
  const spinner = spinWhileWaiting();
  const obtain = (target: Plan) =>
    credentialsFor(target, {
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
  let obtained: Obtained;
  try {
    try {
      obtained = await obtain(plan);
    } catch (error) {
      // A session only the aws CLI can sign in again: run its command on the terminal, then carry on.
      const leaf = plan.leaf;
      if (!isSessionLeaf(leaf) || !isAppError(error) || error.status !== ExitStatus.sessionEnded) throw error;
      spinner.clear();
      await signInWithAwsCli(leaf, error, process.env);
      // Signing in may have changed the profile (a new login_session): the plan is read again.
      plan = loadPlan(profile, process.env);
      obtained = await obtain(plan);
    }
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
  tellStderr(summary(plan.profile, obtained.fromCache, principalOf(obtained.plan, entry)));
  process.stderr.write(details(obtained.plan, entry));
}

/** A code or an MFA session length means nothing over a session the aws CLI signed in: said, not ignored. */
function refuseCodeOptions(plan: Plan, options: LoginOptions): void {
  const leaf = plan.leaf;
  if (!isSessionLeaf(leaf)) return;
  const given = [
    options.tokenCode !== undefined && "--token-code",
    options.duration !== undefined && "--duration",
  ];
  const flag = given.find(Boolean);
  if (!flag) return;
  throw new AppError(
    "bad-login",
    `Profile '${plan.profile}' gets its credentials from the ${leaf.type === "login-session" ? "aws login" : "IAM Identity Center"} session of profile '${leaf.profile}', which asks for no MFA code here: ${flag} does not apply.`,
    { hint: `Leave it out: awsmfa login -p ${plan.profile}` },
  );
}

/** Who the credentials are: the caller STS named, the role, or the signed-in session's principal. */
function principalOf(plan: Plan, entry: CacheEntry): string {
  const leaf = plan.leaf;
  const fromSession =
    leaf.type === "login-session"
      ? leaf.detail.login_session
      : leaf.type === "sso"
        ? `role ${leaf.detail.sso_role_name} in account ${leaf.detail.sso_account_id} (IAM Identity Center)`
        : undefined;
  return entry.identity?.arn ?? entry.roleArn ?? fromSession ?? "unknown identity";
}

/** The first line; the details under it say the device and the expiry (once, with the time zone). */
function summary(profile: string, fromCache: boolean, who: string): string {
  return fromCache
    ? `Profile '${profile}' already has a session: ${who}. Use --force for a new one.`
    : `Logged in: profile '${profile}' as ${who}.`;
}

/** The short summary under the first line: account, user or role, device, expiry in local time. */
function details(plan: Plan, entry: CacheEntry): string {
  const arn =
    entry.identity?.arn ??
    entry.roleArn ??
    (plan.leaf.type === "login-session" ? plan.leaf.detail.login_session : "") ??
    "";
  const account =
    entry.identity?.account ||
    arn.split(":")[4] ||
    (plan.leaf.type === "sso" ? plan.leaf.detail.sso_account_id : "") ||
    "unknown";
  const rows: [string, string][] = [["account", account]];
  const role = /:assumed-role\/([^/]+)\/(.+)$/.exec(arn);
  if (entry.kind === "assume-role" || role) {
    const name = role?.[1] ?? entry.roleArn?.split("/").at(-1) ?? "unknown";
    rows.push(["role", role ? `${name} (session ${role[2]})` : name]);
    if (entry.userName) rows.push(["user", entry.userName]);
  } else if (plan.leaf.type === "sso") {
    rows.push(["role", plan.leaf.detail.sso_role_name ?? "unknown"]);
  } else {
    rows.push(["user", entry.userName ?? userNameOf(arn) ?? (arn || "unknown")]);
  }
  const device = entry.serial ?? plan.mfa?.serial ?? plan.roles.find((hop) => hop.mfaSerial)?.mfaSerial;
  if (device) rows.push(["device", device]);
  if (isSessionLeaf(plan.leaf)) {
    const session = readSessionState(plan.leaf, process.env);
    const until = session.refreshUntil;
    const source = plan.leaf.type === "login-session" ? "aws login" : "IAM Identity Center";
    rows.push(["session", until ? `${source}, refreshable for ${humanDuration(until.secondsLeft)}` : source]);
  }
  rows.push(["expires", expiryText(entry)]);
  return rows.map(([name, value]) => `  ${name.padEnd(8)} ${value}\n`).join("");
}
