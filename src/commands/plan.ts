import { deviceSerial, type Plan, planSteps, type Step } from "../config/plan";
import { type CacheEntry, cacheDirectory, isFresh, readEntry, secondsLeft } from "../session/cache";
import { asksForCode, cacheableSteps, firstStepToDo, INTERMEDIATE_MIN_SECONDS } from "../session/steps";
import { expiryText } from "./expiry";
import { DEFAULT_MIN_TTL_SECONDS, loadPlan, selectedProfile } from "./selection";

export interface PlanOptions {
  profile?: string;
  json?: boolean;
}

export function runPlan(options: PlanOptions): void {
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
  const cache = cacheState(plan, process.env);
  process.stdout.write(options.json ? `${JSON.stringify(planJson(plan, cache))}\n` : planText(plan, cache));
}

/** What the cache holds for a plan's steps, and whether its next use asks for a code. */
interface CacheState {
  entries: Map<Step, { entry: CacheEntry; usable: boolean }>;
  /** Undefined for a plan awsmfa does not serve (credentials from something else than keys). */
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

/** The documented `plan --json` shape; the secret key never appears. */
export function planJson(
  plan: Plan,
  cache: CacheState,
): { profile: string; steps: Record<string, unknown>[]; asksForCode: boolean | null } {
  const steps = planSteps(plan).map((step) => {
    const json = stepJson(step);
    if (step.type !== "mfa-session" && step.type !== "assume-role") return json;
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
      };
    default:
      return { type: step.type, profile: step.profile, ...step.detail };
  }
}

function planText(plan: Plan, cache: CacheState): string {
  const lines = [`Profile '${plan.profile}':`];
  for (const [index, step] of planSteps(plan).entries()) {
    const cached = cache.entries.get(step);
    const state =
      step.type !== "mfa-session" && step.type !== "assume-role"
        ? ""
        : !cached
          ? " — not cached"
          : secondsLeft(cached.entry) <= 0
            ? " — expired"
            : ` — cached, valid until ${expiryText(cached.entry)}${cached.usable ? "" : "; renewed on next use"}`;
    lines.push(`  ${index + 1}. ${stepText(step)}${state}`);
  }
  if (!deviceSerial(plan) && plan.leaf.type === "keys") {
    lines.push("  (no mfa_serial: awsmfa will ask IAM for the user's MFA device on first login)");
  }
  if (cache.asksForCode === true) {
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

function stepText(step: Step): string {
  switch (step.type) {
    case "keys":
      return `access key ${step.accessKeyId} from profile '${step.profile}'`;
    case "mfa-session":
      return `MFA session (GetSessionToken) with ${step.serial}, ${step.durationSeconds} s`;
    case "assume-role": {
      const extras = [
        step.externalId ? "external id" : "",
        step.durationSeconds ? `${step.durationSeconds} s` : "",
        step.mfaSerial ? `code from ${step.mfaSerial} (awsmfa_session = false)` : "",
      ].filter(Boolean);
      return `assume ${step.roleArn} for profile '${step.profile}'${extras.length ? ` (${extras.join(", ")})` : ""}`;
    }
    default:
      return `${step.type} from profile '${step.profile}' (not handled by awsmfa)`;
  }
}
