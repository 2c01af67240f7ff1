import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { homeDirectory } from "../../config/files";
import { AppError, errnoCode } from "../../errors";
import { withLock } from "../../fsio/lock";
import { writeWhole } from "../../fsio/write-whole";
import type { SessionCredentials } from "../../sts/credentials";
import { createOAuth2Token } from "../../sts/signin";
import { cliTimestamp, pythonJson } from "./cli-json";

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
  /** How long to wait for another process that is refreshing the same session. */
  lockTimeoutMs?: number;
}

/** The profile names an `aws login` session. */
export function isLoginSession(properties: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(properties.login_session);
}

export function loginSessionSource(
  profile: string,
  properties: Readonly<Record<string, string | undefined>>,
): LoginSessionSource {
  return { profile, loginSession: properties.login_session ?? "", region: properties.region || undefined };
}

/** The aws CLI's command that signs this profile in again. */
export function loginCommand(profile: string): string {
  return profile === "default" ? "aws login" : `aws login --profile ${profile}`;
}

/** `AWS_LOGIN_CACHE_DIRECTORY`/<hex SHA-256 of login_session>.json, as the CLI and the SDKs name it. */
export function loginTokenPath(loginSession: string, env: NodeJS.ProcessEnv): string {
  const { createHash } = process.getBuiltinModule("node:crypto");
  const dir = env.AWS_LOGIN_CACHE_DIRECTORY || join(homeDirectory(env), ".aws", "login", "cache");
  return join(dir, `${createHash("sha256").update(loginSession, "utf8").digest("hex")}.json`);
}

const REFRESH_MARGIN_MS = 5 * 60_000;
const LOCK_TIMEOUT_MS = 30_000;
/** A refresh is one HTTPS call with retries: a lock held this long belongs to a stuck process. */
const LOCK_STALE_MS = 60_000;

export async function readBaseCredentials(
  source: LoginSessionSource,
  env: NodeJS.ProcessEnv,
  options: LoginSessionOptions = {},
): Promise<SessionCredentials> {
  const path = loginTokenPath(source.loginSession, env);
  const margin = options.minValidityMs ?? REFRESH_MARGIN_MS;
  const found = readTokenFile(path, source);
  if (expiresAtMs(found.token, path, source) - Date.now() > margin) return credentialsOf(found.token);
  return withLock(
    `${path}.lock`,
    {
      timeoutMs: options.lockTimeoutMs ?? LOCK_TIMEOUT_MS,
      staleMs: LOCK_STALE_MS,
      what: `the aws login session of profile '${source.profile}' (${path})`,
    },
    async () => {
      // Another process may have refreshed while this one waited: its result, not a second refresh.
      const current = readTokenFile(path, source);
      if (expiresAtMs(current.token, path, source) - Date.now() > margin) return credentialsOf(current.token);
      const region = current.token.signInRegion || source.region || env.AWS_REGION || env.AWS_DEFAULT_REGION;
      if (!region) {
        throw new AppError(
          "no-region",
          `Profile '${source.profile}' has no region, so awsmfa cannot tell where to refresh its aws login session.`,
          {
            status: "config",
            hint: `Set one: \`aws configure set region <region> --profile ${source.profile}\`.`,
          },
        );
      }
      const refreshed = await createOAuth2Token(
        {
          clientId: current.token.clientId,
          refreshToken: current.token.refreshToken,
          dpopKey: current.token.dpopKey,
        },
        { region, env },
        { profile: source.profile, signInCommand: loginCommand(source.profile) },
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
      writeWhole(path, pythonJson(token), current.mode);
      return credentialsOf(token);
    },
  );
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

function readTokenFile(path: string, source: LoginSessionSource): { token: LoginToken; mode: number } {
  let text: string;
  let mode: number;
  try {
    const stat = statSync(path);
    refuseForeign(stat, path, source);
    mode = stat.mode & 0o777;
    text = readFileSync(path, "utf8");
  } catch (error) {
    if (error instanceof AppError) throw error;
    if (errnoCode(error) === "ENOENT") {
      throw notSignedIn(source, `there is no aws login session for it (${path} does not exist)`, error);
    }
    throw new AppError("login-token-file", `Cannot read ${path} (${errnoCode(error) ?? "unknown error"}).`, {
      status: "failure",
      hint: `Check that you can read it, or sign in again: \`${loginCommand(source.profile)}\`.`,
      cause: error,
    });
  }
  let token: Partial<LoginToken> | null;
  try {
    token = JSON.parse(text) as Partial<LoginToken> | null;
  } catch (error) {
    throw notSignedIn(source, `its token file ${path} is not JSON`, error);
  }
  const access = token?.accessToken;
  const complete =
    typeof token?.clientId === "string" &&
    typeof token.refreshToken === "string" &&
    typeof token.dpopKey === "string" &&
    typeof access?.accessKeyId === "string" &&
    typeof access.secretAccessKey === "string" &&
    typeof access.sessionToken === "string" &&
    typeof access.accountId === "string" &&
    typeof access.expiresAt === "string";
  if (!complete) throw notSignedIn(source, `its token file ${path} lacks fields the aws CLI writes`);
  return { token: token as LoginToken, mode };
}

/** A token file someone else owns or may write may have been planted: its credentials are not used. */
function refuseForeign(stat: { uid: number; mode: number }, path: string, source: LoginSessionSource): void {
  if (process.platform === "win32") return;
  const uid = process.getuid?.();
  const foreign = uid !== undefined && stat.uid !== uid;
  if (!foreign && (stat.mode & 0o022) === 0) return;
  throw new AppError(
    "login-token-unsafe",
    `Refusing the aws login session of profile '${source.profile}': ${path} ${foreign ? `belongs to user ${stat.uid}` : "may be written by others"}.`,
    { status: "unsafeFile", hint: `Remove it and sign in again: \`${loginCommand(source.profile)}\`.` },
  );
}

function expiresAtMs(token: LoginToken, path: string, source: LoginSessionSource): number {
  // The CLI writes whole seconds (…:05Z), the SDKs milliseconds (…:05.123Z): Date reads both.
  const ms = Date.parse(token.accessToken.expiresAt);
  if (Number.isNaN(ms)) throw notSignedIn(source, `its token file ${path} has no readable expiresAt`);
  return ms;
}

function credentialsOf(token: LoginToken): SessionCredentials {
  return {
    accessKeyId: token.accessToken.accessKeyId,
    secretAccessKey: token.accessToken.secretAccessKey,
    sessionToken: token.accessToken.sessionToken,
    expiration: cliTimestamp(Date.parse(token.accessToken.expiresAt)),
  };
}

function notSignedIn(source: LoginSessionSource, reason: string, cause?: unknown): AppError {
  return new AppError("login-session-missing", `Profile '${source.profile}' cannot be used: ${reason}.`, {
    status: "sessionEnded",
    hint: `Sign in: \`${loginCommand(source.profile)}\` (add --remote on a machine without a browser).`,
    cause,
  });
}
