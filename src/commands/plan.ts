import { deviceSerial, type Plan, planSteps, type SessionLeafStep, type Step } from "../config/plan";
import { givesCredentials, isSessionLeaf } from "../config/session-leaf";
import { expiryText } from "../output/expiry";
import { type CacheEntry, cacheDirectory, isFresh, readEntry, secondsLeft } from "../session/cache";
import { signInCommand } from "../session/sources";
import { asksForCode, cacheableSteps, firstStepToDo, INTERMEDIATE_MIN_SECONDS } from "../session/steps";
import { DEFAULT_MIN_TTL_SECONDS } from "./min-ttl";
import type { PlanOptions } from "./plan.command";
import { loadPlan, selectedProfile } from "./profile-plans";

export function runPlan(options: PlanOptions): void {
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
  const cache = cacheState(plan, process.env);
  process.stdout.write(options.json ? `${JSON.stringify(planJson(plan, cache))}\n` : planText(plan, cache));
}

/** What the cache holds for a plan's steps, and whether its next use asks for a code. */
interface CacheState {
  entries: Map<Step, { entry: CacheEntry; usable: boolean }>;
  /** Undefined for a plan awsmfa does not serve (credentials from something else than keys or a signed-in session). */
  asksForCode: boolean | undefined;
}

/** Read as obtain() would read it with the default --min-ttl: a step is usable if obtain would start above it. */
function cacheState(plan: Plan, env: NodeJS.ProcessEnv): CacheState {
  const entries: CacheState["entries"] = new Map();
  const steps = cacheableSteps(plan);
  // No device known yet: the first login finds it and asks for a code.
  if (!steps) return { entries, asksForCode: plan.leaf.type === "keys" ? true : undefined };
  const dir = cacheDirectory(env);
  for (const [index, target] of steps.entries()) {
    const { step } = target;
    const entry = readEntry(dir, target);
    const wanted = index === steps.length - 1 ? DEFAULT_MIN_TTL_SECONDS : INTERMEDIATE_MIN_SECONDS;
    if (entry) entries.set(step, { entry, usable: isFresh(entry, wanted) });
  }
  return { entries, asksForCode: asksForCode(steps, firstStepToDo(dir, steps, DEFAULT_MIN_TTL_SECONDS)) };
}

/** The steps whose results awsmfa caches: all but a keys leaf and the leaves it does not handle. */
function isCachedStep(step: Step): boolean {
  return step.type === "mfa-session" || step.type === "assume-role" || isSessionLeaf(step);
}

/** The documented `plan --json` shape; the secret key never appears. */
export function planJson(
  plan: Plan,
  cache: CacheState,
): { profile: string; steps: Record<string, unknown>[]; asksForCode: boolean | null } {
  const steps = planSteps(plan).map((step) => {
    const json = stepJson(step);
    if (!isCachedStep(step)) return json;
    const cached = cache.entries.get(step);
    return {
      ...json,
      cache: cached
        ? {
            expiration: cached.entry.credentials.expiration,
            secondsLeft: Math.max(0, secondsLeft(cached.entry)),
            usable: cached.usable,
          }
        : null,
    };
  });
  return { profile: plan.profile, steps, asksForCode: cache.asksForCode ?? null };
}

function stepJson(step: Step): Record<string, unknown> {
  switch (step.type) {
    case "keys":
      return { type: "keys", profile: step.profile, accessKeyId: step.accessKeyId };
    case "mfa-session":
      return {
        type: "mfa-session",
        profile: step.profile,
        serial: step.serial,
        durationSeconds: step.durationSeconds,
      };
    case "assume-role":
      return {
        type: "assume-role",
        profile: step.profile,
        roleArn: step.roleArn,
        roleSessionName: step.roleSessionName,
        externalId: step.externalId,
        durationSeconds: step.durationSeconds,
        ...(step.mfaSerial ? { mfaSerial: step.mfaSerial } : {}),
        ...(step.maxDurationSeconds ? { maxDurationSeconds: step.maxDurationSeconds } : {}),
      };
    default:
      return { type: step.type, profile: step.profile, ...step.detail };
  }
}

function planText(plan: Plan, cache: CacheState): string {
  const lines = [`Profile '${plan.profile}':`];
  for (const [index, step] of planSteps(plan).entries()) {
    const cached = cache.entries.get(step);
    const state = !isCachedStep(step)
      ? ""
      : !cached
        ? " — not cached"
        : secondsLeft(cached.entry) <= 0
          ? " — expired"
          : ` — cached, valid until ${expiryText(cached.entry)}${cached.usable ? "" : "; renewed on next use"}`;
    lines.push(`  ${index + 1}. ${stepText(step, isSessionLeaf(plan.leaf))}${state}`);
  }
  if (!deviceSerial(plan) && plan.leaf.type === "keys") {
    lines.push("  (no mfa_serial: awsmfa will ask IAM for the user's MFA device on first login)");
  }
  if (isSessionLeaf(plan.leaf)) {
    lines.push(sessionNextUse(plan, plan.leaf, cache));
  } else if (cache.asksForCode === true) {
    lines.push(`Next use asks for an MFA code (\`awsmfa login -p ${plan.profile}\` asks now).`);
  } else if (cache.asksForCode === false) {
    lines.push(
      cache.entries.get(plan.roles.at(-1) ?? (plan.mfa as Step))?.usable
        ? "Next use is served from the cache."
        : "Next use needs no code: it builds on the cached MFA session.",
    );
  }
  return `${lines.join("\n")}\n`;
}

/** Over a signed-in session no code is asked for: the session is refreshed, or signed in again with the aws CLI. */
function sessionNextUse(plan: Plan, leaf: SessionLeafStep, cache: CacheState): string {
  if (!givesCredentials(leaf)) {
    return "awsmfa cannot get credentials for this profile: its IAM Identity Center settings lack one of sso_account_id, sso_role_name, sso_start_url, sso_region.";
  }
  if (cache.entries.get(plan.roles.at(-1) ?? leaf)?.usable) return "Next use is served from the cache.";
  return `Next use needs no code: it takes the session's credentials (refreshed as needed; once it has ended: \`${signInCommand(leaf, process.env)}\`).`;
}

/** `showCap`: say which role hops AWS caps at an hour (over a signed-in session; over an MFA session obtain says it when it applies). */
function stepText(step: Step, showCap: boolean): string {
  switch (step.type) {
    case "keys":
      return `access key ${step.accessKeyId} from profile '${step.profile}'`;
    case "login-session":
      return `aws login session ${step.detail.login_session} from profile '${step.profile}'`;
    case "sso": {
      const { detail } = step;
      const session = detail.sso_session ? `sso-session '${detail.sso_session}'` : detail.sso_start_url;
      const role = detail.sso_role_name
        ? ` role ${detail.sso_role_name} in account ${detail.sso_account_id}`
        : "";
      return `IAM Identity Center${role} (${session}) from profile '${step.profile}'`;
    }
    case "mfa-session":
      return `MFA session (GetSessionToken) with ${step.serial}, ${step.durationSeconds} s`;
    case "assume-role": {
      const extras = [
        step.externalId ? "external id" : "",
        step.durationSeconds ? `${step.durationSeconds} s` : "",
        step.mfaSerial ? `code from ${step.mfaSerial} (awsmfa_session = false)` : "",
        showCap && step.maxDurationSeconds ? `at most ${step.maxDurationSeconds} s: role chaining` : "",
      ].filter(Boolean);
      return `assume ${step.roleArn} for profile '${step.profile}'${extras.length ? ` (${extras.join(", ")})` : ""}`;
    }
    default:
      return `${step.type} from profile '${step.profile}' (not handled by awsmfa)`;
  }
}
