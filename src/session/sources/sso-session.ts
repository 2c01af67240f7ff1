import { join } from "node:path";
import { homeDirectory } from "../../config/files";
import { sessionKind } from "../../config/session-leaf";
import type { FileStamp } from "../../fsio/file-stamp";
import { cliTimestamp, pythonJson } from "./cli-json";
import {
  expiresAtMs,
  readTokenFile,
  refreshMargin,
  refreshOrKeep,
  requireFields,
  rewriteTokenFile,
  type SignedInCredentials,
  sessionMissing,
  type TokenFile,
  type TokenSession,
  withTokenFileLock,
} from "./token-file";

/**
 * Base credentials from an IAM Identity Center session (`sso_session` + `sso_account_id` +
 * `sso_role_name`, or the older `sso_start_url` form): the role's credentials from the portal's
 * GetRoleCredentials, with the access token of the aws CLI's token file (docs/session-sources.md).
 * When that token is near its end and the session can be refreshed, SSO-OIDC CreateToken renews it
 * under a cross-process lock, and the file is rewritten whole, atomically, in its mode and exactly
 * as the aws CLI rewrites it.
 */

export interface SsoSessionSource {
  profile: string;
  /** The `sso_session` name; undefined in the older form, where the token belongs to the start URL. */
  ssoSession: string | undefined;
  startUrl: string;
  /** Where Identity Center lives (`sso_region`), not the profile's own region. */
  ssoRegion: string;
  accountId: string;
  roleName: string;
}

type Properties = Readonly<Record<string, string | undefined>>;

/** `sessionProperties`: the `[sso-session NAME]` section the profile's `sso_session` names. */
export function ssoSessionSource(
  profile: string,
  properties: Properties,
  sessionProperties: Properties = {},
): SsoSessionSource {
  const ssoSession = properties.sso_session || undefined;
  const settings = ssoSession ? sessionProperties : properties;
  return {
    profile,
    ssoSession,
    startUrl: settings.sso_start_url ?? "",
    ssoRegion: settings.sso_region ?? "",
    accountId: properties.sso_account_id ?? "",
    roleName: properties.sso_role_name ?? "",
  };
}

/** The aws CLI's arguments that sign this session in again. */
export function ssoLoginArgs(source: SsoSessionSource): string[] {
  if (source.ssoSession) return ["sso", "login", "--sso-session", source.ssoSession];
  return source.profile === "default" ? ["sso", "login"] : ["sso", "login", "--profile", source.profile];
}

/** The aws CLI's command that signs this session in again. */
export function ssoLoginCommand(source: SsoSessionSource): string {
  return ["aws", ...ssoLoginArgs(source)].join(" ");
}

/** How messages about this session's token file name it. */
export function ssoTokenSession(source: SsoSessionSource): TokenSession {
  return {
    profile: source.profile,
    kind: sessionKind("sso"),
    signInCommand: ssoLoginCommand(source),
  };
}

/** ~/.aws/sso/cache/<hex SHA-1 of the session name, or of the start URL>.json, as botocore names it. */
export function ssoTokenPath(source: SsoSessionSource, env: NodeJS.ProcessEnv): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  const key = createHash("sha1")
    .update(source.ssoSession ?? source.startUrl, "utf8")
    .digest("hex");
  return join(homeDirectory(env), ".aws", "sso", "cache", `${key}.json`);
}

export interface SsoSessionOptions {
  /** Refresh the access token when fewer than this many ms are left; 5 minutes when absent. */
  minValidityMs?: number;
}

export async function readBaseCredentials(
  source: SsoSessionSource,
  env: NodeJS.ProcessEnv,
  options: SsoSessionOptions = {},
): Promise<SignedInCredentials> {
  const { accessToken, tokenFile } = await currentAccessToken(
    source,
    env,
    refreshMargin(options.minValidityMs),
  );
  // The SSO clients only when a call is due: plan and status read these files without them.
  const { getRoleCredentials } = await import("../../sts/sso");
  const credentials = await getRoleCredentials(
    accessToken,
    { accountId: source.accountId, roleName: source.roleName },
    { region: source.ssoRegion, env },
    { profile: source.profile, signInCommand: ssoLoginCommand(source) },
  );
  return { credentials, tokenFile };
}

interface SsoToken {
  accessToken: string;
  expiresAt: string;
  clientId?: string;
  clientSecret?: string;
  registrationExpiresAt?: string;
  refreshToken?: string;
  [other: string]: unknown;
}

async function currentAccessToken(
  source: SsoSessionSource,
  env: NodeJS.ProcessEnv,
  margin: number,
): Promise<{ accessToken: string; tokenFile: FileStamp }> {
  const path = ssoTokenPath(source, env);
  const session = ssoTokenSession(source);
  const msLeft = (token: SsoToken) => expiresAtMs(token.expiresAt, path, session) - Date.now();
  const found = readSsoToken(path, session);
  if (msLeft(found.token) > margin) return accessTokenOf(found);
  return withTokenFileLock(path, session, async () => {
    // Another process may have refreshed while this one waited: its result, not a second refresh.
    const current = readSsoToken(path, session);
    const token = current.token;
    if (msLeft(token) > margin) return accessTokenOf(current);
    const { clientId, clientSecret, refreshToken, registrationExpiresAt } = token;
    const registered = registrationExpiresAt !== undefined && Date.parse(registrationExpiresAt) > Date.now();
    if (!clientId || !clientSecret || !refreshToken || !registered) {
      // Not refreshable (the older form, or a registration that has ended): what is left is used up.
      if (msLeft(token) > 0) return accessTokenOf(current);
      throw sessionMissing(session, `its ${session.kind} has expired and cannot be refreshed`);
    }
    return refreshOrKeep(
      msLeft(token),
      () => accessTokenOf(current),
      async () => {
        const { createSsoToken } = await import("../../sts/sso");
        const refreshed = await createSsoToken(
          { clientId, clientSecret, refreshToken },
          { region: typeof token.region === "string" && token.region ? token.region : source.ssoRegion, env },
          { profile: source.profile, signInCommand: session.signInCommand },
        );
        // The aws CLI rebuilds the file on refresh, with these fields in this order (botocore tokens.py).
        const rewritten: SsoToken = {
          startUrl: source.startUrl,
          region: source.ssoRegion,
          accessToken: refreshed.accessToken,
          expiresAt: cliTimestamp(Date.now() + refreshed.expiresInSeconds * 1000),
          clientId,
          clientSecret,
          registrationExpiresAt,
          ...(refreshed.refreshToken ? { refreshToken: refreshed.refreshToken } : {}),
        };
        return accessTokenOf({
          token: rewritten,
          stamp: rewriteTokenFile(path, pythonJson(rewritten), current.mode),
        });
      },
    );
  });
}

interface SsoTokenFile extends Omit<TokenFile, "json"> {
  token: SsoToken;
}

function readSsoToken(path: string, session: TokenSession): SsoTokenFile {
  const { json, ...file } = readTokenFile(path, session);
  requireFields(path, session, typeof json.accessToken === "string" && typeof json.expiresAt === "string");
  return { token: json as SsoToken, ...file };
}

function accessTokenOf({ token, stamp }: Pick<SsoTokenFile, "token" | "stamp">): {
  accessToken: string;
  tokenFile: FileStamp;
} {
  return { accessToken: token.accessToken, tokenFile: stamp };
}
