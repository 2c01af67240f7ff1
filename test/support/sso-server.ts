// IAM Identity Center as the strict test server plays it, mounted by sts-server.ts: SSO-OIDC
// CreateToken with the refresh_token grant (`POST /token`: the client registration checked, refresh
// tokens rotating, each good once) and the SSO portal's GetRoleCredentials
// (`GET /federation/credentials`, bearer access token). `login` plays `aws sso login`: it returns the
// token file's content in the aws CLI's own shape. Role credentials are STS role sessions, so the
// STS server accepts them (and caps roles chained from them at one hour, as AWS does).
import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";
import { cliTimestamp } from "../../src/session/sources/cli-json";
import type { SendJson } from "./signin-server";
import type { ReceivedRequest } from "./sigv4";

/** A token file as `aws sso login` writes it for an sso_session (field order included). */
export interface SsoTokenFile {
  startUrl: string;
  region: string;
  accessToken: string;
  expiresAt: string;
  clientId: string;
  clientSecret: string;
  registrationExpiresAt: string;
  refreshToken: string;
}

export interface SsoLoginOptions {
  startUrl?: string;
  region?: string;
  /** Seconds the first access token lives; negative: already expired. 3600 when absent. */
  accessTokenSeconds?: number;
}

/** What the STS server lends the Identity Center endpoints. */
export interface SsoHost {
  now(): number;
  accountId: string;
  /** New role credentials, as the STS server will accept them (a role session). */
  issueRoleSession(
    roleArn: string,
    sessionName: string,
  ): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
  count(action: string, accessKeyId: string | undefined, status: number, errorCode?: string): void;
}

const ACCESS_TOKEN_SECONDS = 3600;
const REGISTRATION_SECONDS = 90 * 24 * 3600;

interface Registration {
  clientSecret: string;
  expiresAt: number;
}

interface AccessTokenState {
  userName: string;
  expiresAt: number;
}

class SsoFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly body: object,
  ) {
    super(type);
  }
}

export class SsoService {
  private readonly registrations = new Map<string, Registration>();
  private readonly refreshTokens = new Map<string, { userName: string; clientId: string; spent: boolean }>();
  private readonly accessTokens = new Map<string, AccessTokenState>();
  /** Refresh tokens presented again after they were spent. */
  reusedRefreshTokens = 0;
  /** Seconds the access token of a refresh lives (AWS: about an hour). */
  refreshedLifetimeSeconds = ACCESS_TOKEN_SECONDS;

  constructor(private readonly host: SsoHost) {}

  reset(): void {
    this.registrations.clear();
    this.refreshTokens.clear();
    this.accessTokens.clear();
    this.reusedRefreshTokens = 0;
    this.refreshedLifetimeSeconds = ACCESS_TOKEN_SECONDS;
  }

  /** Plays `aws sso login` for `userName`: a client registration, an access token, a refresh token. */
  login(userName: string, options: SsoLoginOptions = {}): SsoTokenFile {
    const now = this.host.now();
    const clientId = `client-${randomBytes(12).toString("base64url")}`;
    const registration = {
      clientSecret: randomBytes(48).toString("base64url"),
      expiresAt: now + REGISTRATION_SECONDS * 1000,
    };
    this.registrations.set(clientId, registration);
    const seconds = options.accessTokenSeconds ?? ACCESS_TOKEN_SECONDS;
    return {
      startUrl: options.startUrl ?? "https://d-1234567890.awsapps.com/start",
      region: options.region ?? "us-east-1",
      accessToken: this.mintAccessToken(userName, now + seconds * 1000),
      expiresAt: cliTimestamp(now + seconds * 1000),
      clientId,
      clientSecret: registration.clientSecret,
      registrationExpiresAt: cliTimestamp(registration.expiresAt),
      refreshToken: this.mintRefreshToken(userName, clientId),
    };
  }

  /** Ends every refresh token of `userName` (the session's 8–90 days are over, or it was revoked). */
  revokeRefreshTokens(userName: string): void {
    for (const state of this.refreshTokens.values()) {
      if (state.userName === userName) state.spent = true;
    }
  }

  handle(request: ReceivedRequest, res: ServerResponse, send: SendJson): boolean {
    const action =
      request.rawPath === "/token"
        ? "CreateToken"
        : request.rawPath === "/federation/credentials"
          ? "GetRoleCredentials"
          : undefined;
    if (!action) return false;
    try {
      const answer = action === "CreateToken" ? this.createToken(request) : this.getRoleCredentials(request);
      this.host.count(action, undefined, 200);
      send(res, 200, answer);
    } catch (error) {
      const fault =
        error instanceof SsoFault
          ? error
          : new SsoFault(500, "InternalServerException", { message: String(error) });
      this.host.count(action, undefined, fault.status, fault.type);
      res.setHeader("x-amzn-errortype", fault.type);
      send(res, fault.status, fault.body);
    }
    return true;
  }

  private createToken(request: ReceivedRequest): object {
    if (request.method !== "POST")
      throw oidcFault(400, "InvalidRequestException", "invalid_request", "POST only");
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw oidcFault(400, "InvalidRequestException", "invalid_request", "the body is not JSON");
    }
    if (body.grantType !== "refresh_token") {
      throw oidcFault(400, "UnsupportedGrantTypeException", "unsupported_grant_type", String(body.grantType));
    }
    const clientId = String(body.clientId ?? "");
    const registration = this.registrations.get(clientId);
    if (!registration || registration.clientSecret !== body.clientSecret) {
      throw oidcFault(401, "InvalidClientException", "invalid_client", "Invalid client");
    }
    if (this.host.now() >= registration.expiresAt) {
      throw oidcFault(401, "InvalidClientException", "invalid_client", "Client registration has expired");
    }
    const state = this.refreshTokens.get(String(body.refreshToken ?? ""));
    if (!state || state.clientId !== clientId) {
      throw oidcFault(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided");
    }
    if (state.spent) {
      this.reusedRefreshTokens += 1;
      throw oidcFault(400, "InvalidGrantException", "invalid_grant", "Invalid refresh token provided");
    }
    state.spent = true;
    const seconds = this.refreshedLifetimeSeconds;
    return {
      accessToken: this.mintAccessToken(state.userName, this.host.now() + seconds * 1000),
      tokenType: "Bearer",
      expiresIn: seconds,
      refreshToken: this.mintRefreshToken(state.userName, clientId),
    };
  }

  private getRoleCredentials(request: ReceivedRequest): object {
    if (request.method !== "GET") throw portalFault(400, "InvalidRequestException", "GET only");
    const params = new URLSearchParams(request.rawQuery);
    const roleName = params.get("role_name");
    const accountId = params.get("account_id");
    if (!roleName || !accountId)
      throw portalFault(400, "InvalidRequestException", "role_name and account_id are required");
    const bearer = request.headers["x-amz-sso_bearer_token"];
    const token = typeof bearer === "string" ? this.accessTokens.get(bearer) : undefined;
    if (!token || this.host.now() >= token.expiresAt) {
      throw portalFault(401, "UnauthorizedException", "Session token not found or invalid");
    }
    if (accountId !== this.host.accountId) throw portalFault(403, "ForbiddenException", "No access");
    const roleArn = `arn:aws:iam::${accountId}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_${roleName}_0123456789abcdef`;
    const session = this.host.issueRoleSession(roleArn, token.userName);
    return {
      roleCredentials: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
        expiration: session.expiration.getTime(),
      },
    };
  }

  private mintAccessToken(userName: string, expiresAt: number): string {
    const token = `aoa${randomBytes(60).toString("base64url")}`;
    this.accessTokens.set(token, { userName, expiresAt });
    return token;
  }

  private mintRefreshToken(userName: string, clientId: string): string {
    const token = `aor${randomBytes(60).toString("base64url")}`;
    this.refreshTokens.set(token, { userName, clientId, spent: false });
    return token;
  }
}

function oidcFault(status: number, type: string, error: string, description: string): SsoFault {
  return new SsoFault(status, type, { error, error_description: description });
}

function portalFault(status: number, type: string, message: string): SsoFault {
  return new SsoFault(status, type, { message });
}
