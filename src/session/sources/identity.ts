import type { SessionLeafStep } from "../../config/plan";

/**
 * What decides whose credentials a session leaf yields, for the cache keys of the role hops above
 * it: the session (not the profile name), and for SSO the account and role. Kept apart from the
 * sources themselves so that the warm path, which computes cache keys, loads none of them.
 */
export function identityParts(leaf: SessionLeafStep): string[] {
  const { detail } = leaf;
  if (leaf.type === "login-session") return ["login-session", detail.login_session ?? ""];
  const startUrl = detail.sso_start_url ?? "";
  return [
    "sso",
    detail.sso_session || startUrl,
    startUrl,
    detail.sso_account_id ?? "",
    detail.sso_role_name ?? "",
  ];
}
