/**
 * The passphrase of the encrypted secrets file for unattended use (encrypted.ts). It is awsmfa's
 * alone: nothing awsmfa runs (a code program, `exec`'s command, the aws CLI) is given it. Imports
 * nothing, as the warm path's exec (commands/child.ts) takes it.
 */
export const PASSPHRASE_VARIABLE = "AWSMFA_PASSPHRASE";

/** `env` without the passphrase: the environment for anything awsmfa runs. */
export function withoutPassphrase(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { [PASSPHRASE_VARIABLE]: _passphrase, ...rest } = env;
  return rest;
}
