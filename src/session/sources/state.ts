import { isAppError } from "../../errors";
import { type SessionLeaf, signInCommand, tokenFilePath, tokenSession } from "./index";
import { readTokenFile } from "./token-file";

/**
 * What `status` says about a signed-in session, read from the aws CLI's token file alone: no lock,
 * no refresh, nothing spent. Secrets (tokens, keys) are read past, never kept in the result.
 */

export interface TimeLeft {
  expiration: string;
  /** 0 once it has passed. */
  secondsLeft: number;
}

export interface SessionState {
  type: SessionLeaf["type"];
  /** The profile that names the session. */
  profile: string;
  tokenFile: string;
  signInCommand: string;
  /**
   * valid: the access token has time left (awsmfa refreshes it near its end, while it can);
   * refreshable: it has ended, and the next use refreshes it; ended: it has ended and cannot be
   * refreshed; missing: no usable token file (problem says why). The last two need signing in.
   */
  state: "valid" | "refreshable" | "ended" | "missing";
  accessToken: TimeLeft | null;
  /** Whether the file holds a refresh token (with the client registration, for Identity Center). */
  refreshToken: boolean;
  /**
   * How long refreshing can go on. `aws login`: 12 hours from the sign-in (the ID token's auth_time
   * or iat), the longest AWS refreshes a console session; Identity Center: until the client
   * registration ends (registrationExpiresAt). Null when the file does not tell.
   */
  refreshUntil: (TimeLeft & { basis: string }) | null;
  problem?: string;
}

/** AWS refreshes an `aws login` session for 12 hours from its sign-in. */
const LOGIN_SESSION_SECONDS = 12 * 3600;

export function readSessionState(leaf: SessionLeaf, env: NodeJS.ProcessEnv, now = Date.now()): SessionState {
  const base = {
    type: leaf.type,
    profile: leaf.profile,
    tokenFile: tokenFilePath(leaf, env),
    signInCommand: signInCommand(leaf, env),
  };
  let json: Record<string, unknown>;
  try {
    json = readTokenFile(base.tokenFile, tokenSession(leaf, env)).json;
  } catch (error) {
    if (!isAppError(error)) throw error;
    return missing(base, error.message);
  }
  const access = leaf.type === "login-session" ? objectOf(json.accessToken) : json;
  const accessToken = timeLeft(access?.expiresAt, now);
  if (accessToken === null)
    return missing(base, `its token file ${base.tokenFile} has no readable expiresAt`);
  let refreshToken: boolean;
  let refreshUntil: SessionState["refreshUntil"];
  if (leaf.type === "login-session") {
    refreshToken = typeof json.refreshToken === "string" && typeof json.dpopKey === "string";
    const signedIn = signInTime(json.idToken);
    const until = signedIn === undefined ? null : timeLeft(signedIn + LOGIN_SESSION_SECONDS * 1000, now);
    refreshUntil = until && {
      ...until,
      basis: `12 h from the sign-in at ${new Date(signedIn as number).toISOString()}`,
    };
  } else {
    refreshToken = ["refreshToken", "clientId", "clientSecret"].every((key) => typeof json[key] === "string");
    const until = timeLeft(json.registrationExpiresAt, now);
    refreshUntil = until && { ...until, basis: "until the client registration ends" };
  }
  const canRefresh = refreshToken && refreshUntil !== null && refreshUntil.secondsLeft > 0;
  const state = accessToken.secondsLeft > 0 ? "valid" : canRefresh ? "refreshable" : "ended";
  return { ...base, state, accessToken, refreshToken, refreshUntil };
}

function missing(
  base: Omit<SessionState, "state" | "accessToken" | "refreshToken" | "refreshUntil">,
  problem: string,
): SessionState {
  return { ...base, state: "missing", accessToken: null, refreshToken: false, refreshUntil: null, problem };
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
}

/** An expiry as the CLI (whole seconds) or the SDKs (milliseconds) write it, or ms since the epoch. */
function timeLeft(value: unknown, now: number): TimeLeft | null {
  const ms = typeof value === "number" ? value : typeof value === "string" ? Date.parse(value) : Number.NaN;
  if (Number.isNaN(ms)) return null;
  return { expiration: new Date(ms).toISOString(), secondsLeft: Math.max(0, Math.floor((ms - now) / 1000)) };
}

/**
 * When the person signed in, from the ID token the CLI keeps (a refresh leaves it as it was): its
 * auth_time, else its iat. Only read, never trusted for anything but this estimate.
 */
function signInTime(idToken: unknown): number | undefined {
  if (typeof idToken !== "string") return undefined;
  try {
    const payload = JSON.parse(Buffer.from(idToken.split(".")[1] ?? "", "base64url").toString("utf8"));
    const seconds = payload?.auth_time ?? payload?.iat;
    return typeof seconds === "number" && Number.isFinite(seconds) ? seconds * 1000 : undefined;
  } catch {
    return undefined;
  }
}
