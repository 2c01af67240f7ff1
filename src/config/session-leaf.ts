import type { ErrorCode } from "../error-codes";
import { AppError } from "../errors";
import type { ProfileSet, Properties } from "./types";

/**
 * The leaves whose base credentials come from a session the aws CLI signed in, not from access
 * keys (session/sources/ reads and refreshes them): `aws login` (`login_session`) and IAM Identity
 * Center (`sso_session` + `sso_account_id` + `sso_role_name`, or the older `sso_start_url` form).
 * isX / xLeaf, in the spirit of the SDK's resolveProfileData; config/plan.ts dispatches.
 */

export interface SessionLeafStep {
  type: "login-session" | "sso";
  profile: string;
  /** login_session and the profile's region; or sso_session, sso_account_id, sso_role_name, sso_start_url, sso_region. */
  detail: Properties;
}

/** AWS's cap on a role session assumed with session credentials (role chaining). */
export const ROLE_CHAINING_MAX_SECONDS = 3600;

const SSO_KEYS = ["sso_account_id", "sso_region", "sso_role_name", "sso_start_url"];

export function isLoginSessionProfile(properties: Properties): boolean {
  return Boolean(properties.login_session);
}

export function loginSessionLeaf(name: string, properties: Properties): SessionLeafStep {
  return { type: "login-session", profile: name, detail: pick(properties, ["login_session", "region"]) };
}

export function isSsoProfile(properties: Properties): boolean {
  return properties.sso_session !== undefined || SSO_KEYS.some((key) => properties[key] !== undefined);
}

/** The SSO leaf of a profile isSsoProfile accepts, with its [sso-session] section's settings flattened in. */
export function ssoLeaf(set: ProfileSet, name: string, properties: Properties): SessionLeafStep {
  const sessionName = properties.sso_session;
  if (sessionName !== undefined) {
    const session = set.ssoSessions[sessionName];
    if (session === undefined) {
      throw configError(
        "sso-session-missing",
        `sso-session '${sessionName}' (named by profile '${name}') is not defined.`,
      );
    }
    if (properties.sso_region !== undefined && properties.sso_region !== session.sso_region) {
      throw configError(
        "sso-region-conflict",
        `Profile '${name}' sets sso_region; with sso_session it belongs in [sso-session ${sessionName}].`,
      );
    }
    const detail = pick(properties, ["sso_session", "sso_account_id", "sso_role_name"]);
    Object.assign(detail, pick(session, ["sso_region", "sso_start_url"]));
    return { type: "sso", profile: name, detail };
  }
  if (properties.sso_role_name !== undefined && properties.sso_account_id === undefined) {
    throw configError("sso-incomplete", `Profile '${name}' sets sso_role_name without sso_account_id.`);
  }
  if (properties.sso_account_id !== undefined && properties.sso_role_name === undefined) {
    throw configError("sso-incomplete", `Profile '${name}' sets sso_account_id without sso_role_name.`);
  }
  return { type: "sso", profile: name, detail: pick(properties, SSO_KEYS) };
}

/**
 * The leaf's credentials are a role's session, so a role assumed with them is chained (one hour at
 * most): always for Identity Center; for `aws login` when the signed-in principal is an assumed
 * role (a role's console sign-in), not when it is an IAM user.
 */
export function isRoleSession(leaf: SessionLeafStep): boolean {
  return leaf.type === "sso" || /^arn:[^:]+:sts::\d*:assumed-role\//.test(leaf.detail.login_session ?? "");
}

// Shared with plan.ts, which imports this module (the other way round would be a cycle).
export function pick(properties: Properties, keys: string[]): Properties {
  const picked: Properties = {};
  for (const key of keys) {
    const value = properties[key];
    if (value !== undefined) picked[key] = value;
  }
  return picked;
}

export function configError(code: ErrorCode, message: string, options: { hint?: string } = {}): AppError {
  return new AppError(code, message, { ...options });
}

/** How messages name a session of this type: "aws login session", "IAM Identity Center session". */
export function sessionKind(type: SessionLeafStep["type"]): string {
  return type === "login-session" ? "aws login session" : "IAM Identity Center session";
}

export function isSessionLeaf(leaf: { type: string }): leaf is SessionLeafStep {
  return leaf.type === "login-session" || leaf.type === "sso";
}

/**
 * The leaf names everything its credentials need. An SSO profile with only `sso_session` is a
 * token profile (for bearer-token services), not a source of AWS credentials.
 */
export function givesCredentials(leaf: SessionLeafStep): boolean {
  const { detail } = leaf;
  if (leaf.type === "login-session") return Boolean(detail.login_session);
  return Boolean(detail.sso_account_id && detail.sso_role_name && detail.sso_start_url && detail.sso_region);
}
