import type { AssumeRoleStep, MfaSessionStep, Plan } from "../config/plan";
import { cacheKey } from "./cache";

/** A plan step whose result is cached, with the key that names its cache file. */
export interface CacheableStep {
  step: MfaSessionStep | AssumeRoleStep;
  key: string;
}

/**
 * The cached steps of a plan, bottom up. Each key covers everything that decides the step's
 * credentials, including the key of the step below, so changing the access key, the device
 * or a role setting is a cache miss rather than a stale hit. Undefined when awsmfa cannot
 * serve the plan from its cache (no MFA device known yet, or a leaf it does not handle).
 */
export function cacheableSteps(plan: Plan): CacheableStep[] | undefined {
  if (plan.leaf.type !== "keys") return undefined;
  if (!plan.mfa && !plan.roles[0]?.mfaSerial) return undefined;
  const steps: CacheableStep[] = [];
  let below = cacheKey(["keys", plan.leaf.accessKeyId]);
  if (plan.mfa) {
    below = cacheKey(["mfa-session", plan.leaf.accessKeyId, plan.mfa.serial]);
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

/** The region for STS calls and for `env`: the environment, then the profile chain. */
export function regionOf(plan: Plan, env: NodeJS.ProcessEnv): string | undefined {
  if (env.AWS_REGION) return env.AWS_REGION;
  if (env.AWS_DEFAULT_REGION) return env.AWS_DEFAULT_REGION;
  return plan.chain.find((properties) => properties.region)?.region;
}
