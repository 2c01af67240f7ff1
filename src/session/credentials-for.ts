import type { Plan } from "../config/plan";
import { AppError } from "../errors";
import { cacheDirectory } from "./cache";
import { type Obtained, type ObtainOptions, obtainCredentials } from "./obtain";
import { writeWarmIndex } from "./warm-index";

/**
 * Every command that hands out credentials gets them here. An awsmfa that is already resolving
 * a profile marks it in the environment, so that a code source or a credential_process that
 * leads back into awsmfa for the same profile fails at once instead of recursing.
 */
const RESOLVING = "AWSMFA_RESOLVING";

/** What obtainCredentials takes, but the environment: credentialsFor uses the process's. */
export type CredentialsRequest = Omit<ObtainOptions, "env">;

/** `env` with `profile` marked as being resolved, for whatever resolves it outside credentialsFor (serve's keeper). */
export function resolvingEnvironment(env: NodeJS.ProcessEnv, profile: string): NodeJS.ProcessEnv {
  return { ...env, [RESOLVING]: resolvingMark(env, profile) };
}

function resolvingMark(env: NodeJS.ProcessEnv, profile: string): string {
  return [env[RESOLVING], profile].filter(Boolean).join(",");
}

export async function credentialsFor(plan: Plan, request: CredentialsRequest): Promise<Obtained> {
  refuseLoop(plan);
  const before = process.env[RESOLVING];
  process.env[RESOLVING] = resolvingMark(process.env, plan.profile);
  try {
    const obtained = await obtainCredentials(plan, { env: process.env, ...request });
    writeWarmIndex(cacheDirectory(process.env), obtained.plan, process.env);
    return obtained;
  } finally {
    if (before === undefined) delete process.env[RESOLVING];
    else process.env[RESOLVING] = before;
  }
}

function refuseLoop(plan: Plan): void {
  const resolving = (process.env[RESOLVING] ?? "").split(",");
  if (resolving.includes(plan.profile)) {
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
