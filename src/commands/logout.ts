import { basename } from "node:path";
import { AppError } from "../errors";
import { managedSessionProfiles, removeSessionProfile } from "../output/credentials-file";
import { cacheDirectory, listCacheFiles, readEntry, removeCacheFile, removeEntry } from "../session/cache";
import { asksForCode, type CacheableStep, cacheableSteps, firstStepToDo } from "../session/steps";
import { expiryText } from "./login";
import {
  DEFAULT_MIN_TTL_SECONDS,
  loadPlan,
  type ServedProfile,
  selectedProfile,
  servedProfiles,
  tellStderr,
} from "./selection";

export interface LogoutOptions {
  profile?: string;
  all?: boolean;
  roleOnly?: boolean;
  writeProfile?: string;
}

/**
 * Forgets cached sessions: everything (--all), or one profile's chain, its MFA session included
 * — which every other profile of the same user and device shares, so it says which of them now
 * ask for a code. --role-only forgets the profile's own role credentials and keeps the rest.
 */
export async function runLogout(options: LogoutOptions): Promise<void> {
  if (options.all && (options.profile || options.roleOnly)) {
    throw new AppError(
      "bad-logout",
      `Give either --all or ${options.roleOnly ? "--role-only" : "--profile"}, not both.`,
      { status: "usage" },
    );
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
    forgetProfile(selectedProfile(options.profile, process.env), options.roleOnly === true, dir);
  }
  if (options.writeProfile && (await removeSessionProfile(process.env, options.writeProfile))) {
    tellStderr(`Removed [${options.writeProfile}] from the credentials file.`);
  }
}

function forgetProfile(profile: string, roleOnly: boolean, dir: string): void {
  const plan = loadPlan(profile, process.env);
  const steps = cacheableSteps(plan) ?? [];
  const top = steps.at(-1);
  if (roleOnly && top && top.step.type !== "assume-role") {
    throw new AppError(
      "bad-logout",
      `Profile '${plan.profile}' has no role of its own: its cached step is the MFA session.`,
      { status: "usage", hint: `Leave out --role-only to forget it: awsmfa logout -p ${plan.profile}` },
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
          : `  awsmfa's copy of the ${step.type} session of profile '${step.profile}' (the aws CLI's token file stays)`,
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
