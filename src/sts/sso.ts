import { AppError } from "../errors";
import type { SessionCredentials } from "./credentials";
import { badResponse, type CallContext, toAppError } from "./errors";
import { clientConfig, type Endpoints } from "./sdk-config";

/**
 * IAM Identity Center: SSO-OIDC CreateToken (refresh_token grant), which renews the access token
 * of an `aws sso login` session, and the portal's GetRoleCredentials, which turns that token into a
 * role's credentials. The SDK's own clients make both calls, loaded with import().
 */

export interface SsoRefresh {
  clientId: string;
  clientSecret: string;
  refreshToken: string;
}

export interface SsoRefreshed {
  accessToken: string;
  expiresInSeconds: number;
  /** A new refresh token when the service rotated it; the old one is spent. */
  refreshToken: string | undefined;
}

/** The session and the command that starts a new one, for the message when it has ended. */
export interface SsoContext {
  profile: string;
  signInCommand: string;
}

/** Errors that mean only signing in again helps (the refresh token or registration is no longer good). */
const SESSION_ENDED = new Set([
  "InvalidGrantException",
  "ExpiredTokenException",
  "InvalidClientException",
  "UnauthorizedClientException",
  "UnauthorizedException",
]);

export async function createSsoToken(
  refresh: SsoRefresh,
  where: Endpoints,
  context: SsoContext,
): Promise<SsoRefreshed> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { SSOOIDCClient, CreateTokenCommand } = await import("@aws-sdk/nested-clients/sso-oidc");
  // Unsigned calls: the SDK still wants credentials to exist.
  const client = new SSOOIDCClient(
    await clientConfig({ accessKeyId: "", secretAccessKey: "" }, where, "SSO_OIDC"),
  );
  try {
    const out = await client.send(
      new CreateTokenCommand({
        clientId: refresh.clientId,
        clientSecret: refresh.clientSecret,
        grantType: "refresh_token",
        refreshToken: refresh.refreshToken,
      }),
    );
    if (!out.accessToken || !out.expiresIn) {
      throw badResponse({ profile: context.profile, action: "CreateToken", service: "SSO_OIDC" });
    }
    return { accessToken: out.accessToken, expiresInSeconds: out.expiresIn, refreshToken: out.refreshToken };
  } catch (error) {
    throw ssoError(error, "CreateToken", "SSO_OIDC", where, context);
  } finally {
    client.destroy();
  }
}

export async function getRoleCredentials(
  accessToken: string,
  role: { accountId: string; roleName: string },
  where: Endpoints,
  context: SsoContext,
): Promise<SessionCredentials> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { SSOClient, GetRoleCredentialsCommand } = await import("@aws-sdk/nested-clients/sso");
  const client = new SSOClient(await clientConfig({ accessKeyId: "", secretAccessKey: "" }, where, "SSO"));
  try {
    const out = await client.send(
      new GetRoleCredentialsCommand({ accessToken, accountId: role.accountId, roleName: role.roleName }),
    );
    const found = out.roleCredentials;
    if (!found?.accessKeyId || !found.secretAccessKey || !found.sessionToken || !found.expiration) {
      throw badResponse({ profile: context.profile, action: "GetRoleCredentials", service: "SSO" });
    }
    return {
      accessKeyId: found.accessKeyId,
      secretAccessKey: found.secretAccessKey,
      sessionToken: found.sessionToken,
      expiration: new Date(found.expiration).toISOString().replace(/\.\d{3}Z$/, "Z"),
    };
  } catch (error) {
    throw ssoError(error, "GetRoleCredentials", "SSO", where, context);
  } finally {
    client.destroy();
  }
}

function ssoError(
  error: unknown,
  action: string,
  service: "SSO" | "SSO_OIDC",
  where: Endpoints,
  context: SsoContext,
): AppError {
  const name = (error as { name?: string } | null)?.name ?? "";
  if (SESSION_ENDED.has(name)) {
    return new AppError(
      "sso-session-ended",
      `The IAM Identity Center session of profile '${context.profile}' has ended (${action} was refused: ${name}): sign in again with \`${context.signInCommand}\`.`,
      { cause: error },
    );
  }
  const callContext: CallContext = { profile: context.profile, action, service };
  return toAppError(error, callContext, where.env);
}
