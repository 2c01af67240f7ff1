import type { Plan } from "../config/plan";
import { AppError } from "../errors";
import { cacheDirectory } from "./cache";
import { type Obtained, type ObtainOptions, obtainCredentials } from "./obtain";
import { isBeingResolved, resolvingEnvironment } from "./resolving";
import { writeWarmIndex } from "./warm-index";

/** What obtainCredentials takes, but the environment: credentialsFor uses the process's. */
export type CredentialsRequest = Omit<ObtainOptions, "env">;

/**
 * Every command that hands out credentials gets them here. What it runs on the way (a code
 * source) gets the profile marked as being resolved (resolving.ts).
 */
export async function credentialsFor(plan: Plan, request: CredentialsRequest): Promise<Obtained> {
  refuseLoop(plan, process.env);
  const env = resolvingEnvironment(process.env, plan.profile);
  const obtained = await obtainCredentials(plan, { env, ...request });
  writeWarmIndex(cacheDirectory(env), obtained.plan, env);
  return obtained;
}

function refuseLoop(plan: Plan, env: NodeJS.ProcessEnv): void {
  if (isBeingResolved(env, plan.profile)) {
    throw new AppError(
      "credential-loop",
      `Profile '${plan.profile}' leads back into awsmfa itself (a code source or credential_process calling awsmfa for the same profile).`,
      {
        hint: "Keep the keys and mfa_serial in one profile (say 'dev-user') and point `credential_process = awsmfa credential-process -p dev-user` from another.",
      },
    );
  }
  // awsmfa's own credential_process naming a profile was followed by the plan; this one names none.
  const command = plan.leaf.type === "credential-process" ? plan.leaf.detail.credential_process : undefined;
  if (command !== undefined && /\bawsmfa\b/.test(command)) {
    throw new AppError(
      "credential-loop",
      `Profile '${plan.leaf.profile}' gets its credentials from awsmfa (credential_process = ${command}) without naming a profile for it.`,
      {
        hint: `Name the profile that holds the keys and mfa_serial: credential_process = awsmfa credential-process -p <that profile>.`,
      },
    );
  }
}
