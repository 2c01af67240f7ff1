import { basename } from "node:path";
import type { Plan } from "../config/plan";
import { isSessionLeaf, sessionKind } from "../config/session-leaf";
import { AppError } from "../errors";
import { managedSessionProfiles, removeSessionProfile } from "../output/credentials-file";
import { expiryText } from "../output/expiry";
import { tellStderr } from "../output/tell";
import { cacheDirectory, listCacheFiles, readEntry, removeCacheFile, removeEntry } from "../session/cache";
import { removeSessionTokenFile, signInCommand, tokenFilePath } from "../session/sources";
import { asksForCode, type CacheableStep, cacheableSteps, firstStepToDo } from "../session/steps";
import type { LogoutOptions } from "./logout.command";
import { DEFAULT_MIN_TTL_SECONDS } from "./min-ttl";
import { loadPlan, type ServedProfile, selectedProfile, servedProfiles } from "./profile-plans";

/**
 * Forgets cached sessions: everything (--all), or one profile's chain, its MFA session included
 * — which every other profile of the same user and device shares, so it says which of them now
 * ask for a code. --role-only forgets the profile's own role credentials and keeps the rest.
 * Over an `aws login` or IAM Identity Center session, the session itself is the aws CLI's: it is
 * kept unless --sign-out asks to delete its token file too.
 */
export async function runLogout(options: LogoutOptions): Promise<void> {
  if (options.all && (options.profile || options.roleOnly || options.signOut)) {
    throw new AppError(
      "bad-logout",
      `Give either --all or ${options.roleOnly ? "--role-only" : options.signOut ? "--sign-out" : "--profile"}, not both.`,
      {},
    );
  }
  if (options.signOut && options.roleOnly) {
    throw new AppError("bad-logout", "Give either --sign-out or --role-only, not both.", {});
  }
  const dir = cacheDirectory(process.env);
  if (options.all) {
    let removed = 0;
    for (const path of listCacheFiles(dir))
      if (removeCacheFile(path) && !basename(path).startsWith("warm-")) removed++;
    for (const name of managedSessionProfiles(process.env)) {
      if (await removeSessionProfile(process.env, name))
        tellStderr(`Removed [${name}] from the credentials file.`);
    }
    tellStderr(`Forgot ${removed} cached step${removed === 1 ? "" : "s"}.`);
  } else {
    const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
    if (options.signOut && !isSessionLeaf(plan.leaf)) {
      throw new AppError(
        "bad-logout",
        `Profile '${plan.profile}' has no aws login or IAM Identity Center session to sign out of: its credentials come from ${plan.leaf.type} (profile '${plan.leaf.profile}').`,
        { hint: `Leave out --sign-out: awsmfa logout -p ${plan.profile}` },
      );
    }
    forgetProfile(plan, options.roleOnly === true, options.signOut === true, dir);
    await forgetSignedInSession(plan, options.signOut === true);
  }
  if (options.writeProfile && (await removeSessionProfile(process.env, options.writeProfile))) {
    tellStderr(`Removed [${options.writeProfile}] from the credentials file.`);
  }
}

function forgetProfile(plan: Plan, roleOnly: boolean, signOut: boolean, dir: string): void {
  const steps = cacheableSteps(plan) ?? [];
  const top = steps.at(-1);
  if (roleOnly && top && top.step.type !== "assume-role") {
    const what = isSessionLeaf(top.step)
      ? `awsmfa's copy of the ${sessionKind(top.step.type)}`
      : "the MFA session";
    throw new AppError(
      "bad-logout",
      `Profile '${plan.profile}' has no role of its own: its cached step is ${what}.`,
      {
        hint: `Leave out --role-only to forget it: awsmfa logout -p ${plan.profile}`,
      },
    );
  }
  const doomed = roleOnly && top ? [top] : steps;
  const forgotten = doomed.filter(({ key }) => removeEntry(dir, key));
  const count = `${forgotten.length} cached step${forgotten.length === 1 ? "" : "s"}`;
  tellStderr(`Forgot ${count} of profile '${plan.profile}'${forgotten.length ? ":" : "."}`);
  for (const { step } of forgotten.reverse()) {
    tellStderr(
      step.type === "mfa-session"
        ? `  the MFA session of profile '${step.profile}' (device ${step.serial})`
        : step.type === "assume-role"
          ? `  the role ${step.roleArn} of profile '${step.profile}'`
          : `  awsmfa's copy of the ${sessionKind(step.type)} of profile '${step.profile}'${signOut ? "" : " (the aws CLI's token file stays)"}`,
    );
  }
  const others = servedProfiles(process.env).filter(
    (other) =>
      other.profile !== plan.profile && other.steps.some(({ key }) => forgotten.some((f) => f.key === key)),
  );
  const askNow = others.filter((other) =>
    asksForCode(other.steps, firstStepToDo(dir, other.steps, DEFAULT_MIN_TTL_SECONDS)),
  );
  const sessionGone = forgotten.some(({ step }) => step.type === "mfa-session");
  if (askNow.length > 0) {
    const what = sessionGone ? "that MFA session" : "those credentials";
    const verb = askNow.length === 1 ? "asks" : "ask";
    tellStderr(`${names(askNow)} built on ${what} and now ${verb} for an MFA code on next use.`);
  }
  // Served from the cache for now, but what would renew them without a code is gone.
  if (sessionGone) {
    for (const other of others.filter((other) => !askNow.includes(other))) {
      const until = cachedUntil(dir, other.steps);
      if (until)
        tellStderr(`'${other.profile}' keeps its cached credentials until ${until}, then asks for a code.`);
    }
  }
  if (!roleOnly && askNow.length > 0 && top?.step.type === "assume-role") {
    tellStderr(
      `(\`awsmfa logout -p ${plan.profile} --role-only\` forgets only the role credentials of '${plan.profile}' and keeps the MFA session.)`,
    );
  }
}

/**
 * The session under the profile stays the aws CLI's: kept, and said so; with --sign-out its token
 * file is deleted (signing `aws` out too), and the other profiles on it are named.
 */
async function forgetSignedInSession(plan: Plan, signOut: boolean): Promise<void> {
  const leaf = plan.leaf;
  if (!isSessionLeaf(leaf)) return;
  const what = sessionKind(leaf.type);
  const command = signInCommand(leaf, process.env);
  if (!signOut) {
    tellStderr(
      `The ${what} of profile '${leaf.profile}' stays signed in: its token file belongs to the aws CLI (\`awsmfa logout -p ${plan.profile} --sign-out\` deletes it).`,
    );
    return;
  }
  const path = tokenFilePath(leaf, process.env);
  if (!(await removeSessionTokenFile(leaf, process.env))) {
    tellStderr(`The ${what} of profile '${leaf.profile}' was already signed out (no ${path}).`);
    return;
  }
  tellStderr(
    `Signed out of the ${what} of profile '${leaf.profile}': deleted ${path}, so \`aws\` is signed out of it too. ` +
      `Its access token stays good until it expires for a program that has already read it. \`${command}\` signs in again.`,
  );
  const dir = cacheDirectory(process.env);
  for (const other of servedProfiles(process.env)) {
    const otherLeaf = other.plan.leaf;
    if (other.profile === plan.profile || !isSessionLeaf(otherLeaf)) continue;
    if (tokenFilePath(otherLeaf, process.env) !== path) continue;
    const until = cachedUntil(dir, other.steps);
    tellStderr(
      until
        ? `'${other.profile}' keeps its cached role credentials until ${until}, then needs \`${command}\`.`
        : `'${other.profile}' is on the same session and needs \`${command}\` on next use.`,
    );
  }
}

function names(profiles: ServedProfile[]): string {
  const quoted = profiles.map(({ profile }) => `'${profile}'`);
  return quoted.length === 1
    ? `Profile ${quoted[0]}`
    : `Profiles ${quoted.slice(0, -1).join(", ")} and ${quoted.at(-1)}`;
}

/** When the highest cached step that is still handed out expires. */
function cachedUntil(dir: string, steps: CacheableStep[]): string | undefined {
  const cached = steps[firstStepToDo(dir, steps, DEFAULT_MIN_TTL_SECONDS) - 1];
  const entry = cached && readEntry(dir, cached);
  return entry ? expiryText(entry) : undefined;
}
