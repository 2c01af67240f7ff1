import { join } from "node:path";
import { homeDirectory } from "../../config/files";
import { sessionKind } from "../../config/session-leaf";
import { AppError } from "../../errors";
import { cliTimestamp, pythonJson } from "./cli-json";
import {
  expiresAtMs,
  readTokenFile,
  refreshMargin,
  refreshOrKeep,
  requireFields,
  rewriteTokenFile,
  type SignedInCredentials,
  type TokenFile,
  type TokenSession,
  withTokenFileLock,
} from "./token-file";

/**
 * Base credentials from an `aws login` session (profile key `login_session`). The token file belongs
 * to the aws CLI (docs/session-sources.md): awsmfa reads it, and when its access credentials are
 * near their end, refreshes them under a cross-process lock, so that of any number of processes
 * exactly one spends the refresh token, and rewrites the file whole, atomically, in its mode and in
 * the CLI's own format, so that the CLI, the SDKs and awsmfa keep sharing it.
 */

export interface LoginSessionSource {
  /** The profile that names the session, for messages and the sign-in command. */
  profile: string;
  /** The `login_session` value: the signed-in principal's ARN. */
  loginSession: string;
  /** The profile's `region`, where Sign-In is called unless the file names its own. */
  region: string | undefined;
}

export interface LoginSessionOptions {
  /** Refresh when fewer than this many ms are left; 5 minutes (as the CLI and the SDKs) when absent. */
  minValidityMs?: number;
}

export function loginSessionSource(
  profile: string,
  properties: Readonly<Record<string, string | undefined>>,
): LoginSessionSource {
  return { profile, loginSession: properties.login_session ?? "", region: properties.region || undefined };
}

/**
 * The aws CLI's arguments that sign this profile in again: `--remote` where no browser can open
 * here, so that the CLI prints the sign-in URL for a browser elsewhere and asks for the code it shows.
 */
export function loginArgs(profile: string, env: NodeJS.ProcessEnv): string[] {
  return [
    "login",
    ...(profile === "default" ? [] : ["--profile", profile]),
    ...(hasLocalBrowser(env) ? [] : ["--remote"]),
  ];
}

/** The aws CLI's command that signs this profile in again. */
export function loginCommand(profile: string, env: NodeJS.ProcessEnv): string {
  return ["aws", ...loginArgs(profile, env)].join(" ");
}

/**
 * Whether `aws login` can open a browser on this machine whose redirect reaches the CLI's own
 * 127.0.0.1 listener: not over SSH (a browser there would be on the other machine), and on
 * Linux and the BSDs only with a graphical display or a BROWSER the person chose; macOS and
 * Windows always have one.
 */
export function hasLocalBrowser(
  env: NodeJS.ProcessEnv,
  platform: NodeJS.Platform = process.platform,
): boolean {
  if (env.SSH_CONNECTION || env.SSH_CLIENT || env.SSH_TTY) return false;
  if (platform === "darwin" || platform === "win32") return true;
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY || env.BROWSER);
}

/** How messages about this profile's token file name it. */
export function loginTokenSession(profile: string, env: NodeJS.ProcessEnv): TokenSession {
  return { profile, kind: sessionKind("login-session"), signInCommand: loginCommand(profile, env) };
}

/** `AWS_LOGIN_CACHE_DIRECTORY`/<hex SHA-256 of login_session>.json, as the CLI and the SDKs name it. */
export function loginTokenPath(loginSession: string, env: NodeJS.ProcessEnv): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  const dir = env.AWS_LOGIN_CACHE_DIRECTORY || join(homeDirectory(env), ".aws", "login", "cache");
  return join(dir, `${createHash("sha256").update(loginSession, "utf8").digest("hex")}.json`);
}

export async function readBaseCredentials(
  source: LoginSessionSource,
  env: NodeJS.ProcessEnv,
  options: LoginSessionOptions = {},
): Promise<SignedInCredentials> {
  const path = loginTokenPath(source.loginSession, env);
  const session = loginTokenSession(source.profile, env);
  const margin = refreshMargin(options.minValidityMs);
  const msLeft = (token: LoginToken) => expiresAtMs(token.accessToken.expiresAt, path, session) - Date.now();
  const fresh = (token: LoginToken) => msLeft(token) > margin;
  const found = readLoginToken(path, session);
  if (fresh(found.token)) return credentialsOf(found);
  return withTokenFileLock(path, session, async () => {
    // Another process may have refreshed while this one waited: its result, not a second refresh.
    const current = readLoginToken(path, session);
    if (fresh(current.token)) return credentialsOf(current);
    return refreshOrKeep(
      msLeft(current.token),
      () => credentialsOf(current),
      async () => {
        const region =
          current.token.signInRegion || source.region || env.AWS_REGION || env.AWS_DEFAULT_REGION;
        if (!region) {
          throw new AppError(
            "no-region",
            `Profile '${source.profile}' has no region, so awsmfa cannot tell where to refresh its aws login session.`,
            { hint: `Set one: \`aws configure set region <region> --profile ${source.profile}\`.` },
          );
        }
        // The Sign-In client only when a refresh is due: plan and status read these files without it.
        const { createOAuth2Token } = await import("../../sts/signin");
        const refreshed = await createOAuth2Token(
          {
            clientId: current.token.clientId,
            refreshToken: current.token.refreshToken,
            dpopKey: current.token.dpopKey,
          },
          { region, env },
          { profile: source.profile, signInCommand: session.signInCommand },
        );
        // Everything the file held stays, in its order; only what a refresh changes is replaced.
        const token: LoginToken = {
          ...current.token,
          accessToken: {
            ...current.token.accessToken,
            accessKeyId: refreshed.accessKeyId,
            secretAccessKey: refreshed.secretAccessKey,
            sessionToken: refreshed.sessionToken,
            expiresAt: cliTimestamp(Date.now() + refreshed.expiresInSeconds * 1000),
          },
          refreshToken: refreshed.refreshToken,
        };
        return credentialsOf({ token, stamp: rewriteTokenFile(path, pythonJson(token), current.mode) });
      },
    );
  });
}

interface LoginToken {
  accessToken: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    accountId: string;
    expiresAt: string;
    [other: string]: unknown;
  };
  clientId: string;
  refreshToken: string;
  dpopKey: string;
  signInRegion?: string;
  [other: string]: unknown;
}

interface LoginTokenFile extends Omit<TokenFile, "json"> {
  token: LoginToken;
}

function readLoginToken(path: string, session: TokenSession): LoginTokenFile {
  const { json, ...file } = readTokenFile(path, session);
  const token = json as Partial<LoginToken>;
  const access = token.accessToken;
  requireFields(
    path,
    session,
    typeof token.clientId === "string" &&
      typeof token.refreshToken === "string" &&
      typeof token.dpopKey === "string" &&
      typeof access?.accessKeyId === "string" &&
      typeof access.secretAccessKey === "string" &&
      typeof access.sessionToken === "string" &&
      typeof access.accountId === "string" &&
      typeof access.expiresAt === "string",
  );
  return { token: token as LoginToken, ...file };
}

function credentialsOf({ token, stamp }: Pick<LoginTokenFile, "token" | "stamp">): SignedInCredentials {
  return {
    credentials: {
      accessKeyId: token.accessToken.accessKeyId,
      secretAccessKey: token.accessToken.secretAccessKey,
      sessionToken: token.accessToken.sessionToken,
      expiration: cliTimestamp(Date.parse(token.accessToken.expiresAt)),
    },
    tokenFile: stamp,
  };
}
