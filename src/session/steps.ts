import {
  type AssumeRoleStep,
  deviceSerial,
  type MfaSessionStep,
  type Plan,
  type SessionLeafStep,
} from "../config/plan";
import { givesCredentials, isSessionLeaf } from "../config/session-leaf";
import { type CacheEntry, cacheDirectory, cacheKey, freshEntry } from "./cache";
import { identityParts } from "./sources/identity";

/** A plan step whose result is cached, with the key that names its cache file. */
export interface CacheableStep {
  step: SessionLeafStep | MfaSessionStep | AssumeRoleStep;
  key: string;
}

/**
 * The cached steps of a plan, bottom up. Each key covers everything that decides the step's
 * credentials, including the key of the step below, so changing the access key, the device
 * or a role setting is a cache miss rather than a stale hit. Over a session the aws CLI signed in
 * (`aws login`, Identity Center), the first step is the session's credentials, keyed by its identity
 * (a copy for the warm path; the CLI's token file stays the truth). Undefined when awsmfa cannot
 * serve the plan (no MFA device known yet, or a leaf it does not handle).
 */
export function cacheableSteps(plan: Plan): CacheableStep[] | undefined {
  const { leaf } = plan;
  const steps: CacheableStep[] = [];
  let below: string;
  if (isSessionLeaf(leaf)) {
    if (!givesCredentials(leaf)) return undefined;
    below = cacheKey(identityParts(leaf));
    steps.push({ step: leaf, key: below });
  } else {
    if (leaf.type !== "keys" || !deviceSerial(plan)) return undefined;
    below = cacheKey(["keys", leaf.accessKeyId]);
  }
  if (plan.mfa && leaf.type === "keys") {
    below = cacheKey(["mfa-session", leaf.accessKeyId, plan.mfa.serial]);
    steps.push({ step: plan.mfa, key: below });
  }
  for (const role of plan.roles) {
    below = cacheKey([
      "assume-role",
      below,
      role.roleArn,
      role.roleSessionName,
      role.externalId,
      role.durationSeconds,
      role.mfaSerial,
    ]);
    steps.push({ step: role, key: below });
  }
  return steps;
}

/** Steps below the top need only to outlive the call that builds on them. */
export const INTERMEDIATE_MIN_SECONDS = 60;

/**
 * Where obtaining starts: the index of the step above the highest one whose cached result is
 * still good (the top with `minTtlSeconds` left, a step below with a minute); steps.length when
 * the top itself is.
 */
export function firstStepToDo(dir: string, steps: CacheableStep[], minTtlSeconds: number): number {
  for (let index = steps.length - 1; index >= 0; index--) {
    const wanted = index === steps.length - 1 ? minTtlSeconds : INTERMEDIATE_MIN_SECONDS;
    if (freshEntry(dir, steps[index] as CacheableStep, wanted)) return index + 1;
  }
  return 0;
}

/** Whether doing the steps from `start` up needs an MFA code: a new MFA session, or a role assumed with a code. */
export function asksForCode(steps: CacheableStep[], start: number): boolean {
  return steps
    .slice(start)
    .some(
      ({ step }) => step.type === "mfa-session" || (step.type === "assume-role" && Boolean(step.mfaSerial)),
    );
}

/** Where a plan's STS calls go: its region (us-east-1, as the SDKs' global default, when none is set). */
export function stsEndpoints(plan: Plan, env: NodeJS.ProcessEnv): { region: string; env: NodeJS.ProcessEnv } {
  return stsEndpointsFor(env, chainRegion(plan));
}

/** The same for a profile not resolved to a plan yet (setup's), whose chain names `chainRegion`. */
export function stsEndpointsFor(
  env: NodeJS.ProcessEnv,
  chainRegion: string | undefined,
): { region: string; env: NodeJS.ProcessEnv } {
  return { region: regionFrom(env, chainRegion) || "us-east-1", env };
}

/** The region for STS calls and for `env`: the environment, then the profile chain. */
export function regionOf(plan: Plan, env: NodeJS.ProcessEnv): string | undefined {
  return regionFrom(env, chainRegion(plan));
}

export function regionFrom(env: NodeJS.ProcessEnv, chainRegion: string | undefined): string | undefined {
  return env.AWS_REGION || env.AWS_DEFAULT_REGION || chainRegion;
}

/** The region the nearest profile of the chain names. */
export function chainRegion(plan: Plan): string | undefined {
  return plan.chain.find((properties) => properties.region)?.region;
}

/** The cached credentials for a plan if they are good enough, without loading anything heavy. */
export function cachedEntry(
  plan: Plan,
  env: NodeJS.ProcessEnv,
  minTtlSeconds: number,
): CacheEntry | undefined {
  const last = cacheableSteps(plan)?.at(-1);
  if (!last) return undefined;
  return freshEntry(cacheDirectory(env), last, minTtlSeconds);
}
