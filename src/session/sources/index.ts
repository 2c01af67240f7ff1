import type { SessionLeafStep } from "../../config/plan";
import * as login from "./login-session";
import * as sso from "./sso-session";
import { removeTokenFile, type SignedInCredentials, type TokenSession } from "./token-file";

/**
 * The one dispatcher over the sources of base credentials that do not start from access keys, in
 * the spirit of the SDK's resolveProfileData: a plan's leaf names its type and carries the profile's
 * settings; each source is one small module. Everything above the leaf (role hops, awsmfa's cache,
 * locks, outputs) is the same machinery as for keys.
 */

/** A plan leaf of these sources (config/session-leaf.ts). */
export type SessionLeaf = SessionLeafStep;

export { identityParts } from "./identity";

export interface SessionReadOptions {
  /** The region the profile chain settles on: where Sign-In is called when the token file names none. */
  region?: string;
  /** Refresh when fewer than this many ms are left on the access token (5 minutes when absent). */
  minValidityMs?: number;
}

export async function readSessionCredentials(
  leaf: SessionLeaf,
  env: NodeJS.ProcessEnv,
  options: SessionReadOptions = {},
): Promise<SignedInCredentials> {
  const { minValidityMs } = options;
  if (leaf.type === "login-session") {
    const source = login.loginSessionSource(leaf.profile, leaf.detail);
    return login.readBaseCredentials({ ...source, region: source.region ?? options.region }, env, {
      minValidityMs,
    });
  }
  return sso.readBaseCredentials(ssoSource(leaf), env, { minValidityMs });
}

/** The aws CLI's arguments that sign the leaf's session in again (what `awsmfa login` runs). */
export function signInArgs(leaf: SessionLeaf, env: NodeJS.ProcessEnv): string[] {
  return leaf.type === "login-session"
    ? login.loginArgs(leaf.profile, env)
    : sso.ssoLoginArgs(ssoSource(leaf));
}

/** The aws CLI command that signs the leaf's session in again (for hints, `status`, `awsmfa login`). */
export function signInCommand(leaf: SessionLeaf, env: NodeJS.ProcessEnv): string {
  return ["aws", ...signInArgs(leaf, env)].join(" ");
}

/** The aws CLI's token file behind the leaf (for `status`, and `logout` when asked to forget it). */
export function tokenFilePath(leaf: SessionLeaf, env: NodeJS.ProcessEnv): string {
  return leaf.type === "login-session"
    ? login.loginTokenPath(leaf.detail.login_session ?? "", env)
    : sso.ssoTokenPath(ssoSource(leaf), env);
}

/** The leaf's session as messages about its token file name it. */
export function tokenSession(leaf: SessionLeaf, env: NodeJS.ProcessEnv): TokenSession {
  return leaf.type === "login-session"
    ? login.loginTokenSession(leaf.profile, env)
    : sso.ssoTokenSession(ssoSource(leaf));
}

/**
 * Deletes the aws CLI's token file of the leaf's session (`logout --sign-out`), under the refresh's
 * lock: `aws` and every profile on that session are signed out. False when there was none.
 */
export function removeSessionTokenFile(leaf: SessionLeaf, env: NodeJS.ProcessEnv): Promise<boolean> {
  return removeTokenFile(tokenFilePath(leaf, env), tokenSession(leaf, env));
}

/** plan.ts flattens the [sso-session] section's sso_start_url and sso_region into the leaf's detail. */
function ssoSource(leaf: SessionLeaf): sso.SsoSessionSource {
  return sso.ssoSessionSource(leaf.profile, leaf.detail, leaf.detail);
}
