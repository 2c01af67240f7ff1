/**
 * The one mark of a profile being resolved: an awsmfa resolving a profile names it in the
 * environment it gives whatever it runs (a code source, serve's keeper), so that a command that
 * leads back into awsmfa for the same profile fails at once instead of recursing. The warm path
 * reads it too: inside such a call it leaves the answer, and the loop's report, to the full path.
 */
export const RESOLVING_MARK = "AWSMFA_RESOLVING";

/** `env` with `profile` added to the profiles being resolved. */
export function resolvingEnvironment(env: NodeJS.ProcessEnv, profile: string): NodeJS.ProcessEnv {
  return { ...env, [RESOLVING_MARK]: [env[RESOLVING_MARK], profile].filter(Boolean).join(",") };
}

export function isBeingResolved(env: NodeJS.ProcessEnv, profile: string): boolean {
  return (env[RESOLVING_MARK] ?? "").split(",").includes(profile);
}
