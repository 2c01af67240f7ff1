// AWS Sign-In's token endpoint (`POST /v1/token`, CreateOAuth2Token with the refresh_token grant) as
// the strict test server plays it, mounted by sts-server.ts. It checks what AWS checks: the DPoP proof
// (ES256 over the JWT, against the key the refresh token was issued to, with htm, htu, iat and a
// jti never seen before), and refresh tokens that rotate, each good once; a spent one is answered
// as AWS does, AccessDeniedException / TOKEN_EXPIRED. `signIn` plays `aws login`: it returns the
// token file's content in the aws CLI's own shape. The credentials it hands out are STS sessions of
// the user, so the STS server accepts them (AssumeRole on top, GetCallerIdentity).
import { createHash, createPublicKey, generateKeyPairSync, randomBytes, verify } from "node:crypto";
import type { ServerResponse } from "node:http";
import { cliTimestamp } from "../../src/session/sources/cli-json";
import type { ReceivedRequest } from "./sigv4";

/** A token file as `aws login` writes it (field order included). */
export interface LoginTokenFile {
  accessToken: {
    accessKeyId: string;
    secretAccessKey: string;
    sessionToken: string;
    accountId: string;
    expiresAt: string;
  };
  tokenType: string;
  clientId: string;
  refreshToken: string;
  idToken: string;
  dpopKey: string;
}

export interface LoginSignIn {
  /** The profile's `login_session` value: the signed-in user's ARN. */
  loginSession: string;
  token: LoginTokenFile;
}

export interface SignInOptions {
  /** Seconds the first access credentials live; negative: already expired. 900 when absent. */
  accessTokenSeconds?: number;
  /** Seconds the refresh tokens of this sign-in stay good (AWS: 12 hours). */
  refreshWindowSeconds?: number;
}

/** What the STS server lends the sign-in endpoint. */
export interface SigninHost {
  now(): number;
  url(): string;
  accountId: string;
  /** New STS session credentials of `userName`, as the STS server will accept them. */
  issueSession(
    userName: string,
    lifetimeSeconds: number,
  ): { accessKeyId: string; secretAccessKey: string; sessionToken: string; expiration: Date };
  count(action: string, accessKeyId: string | undefined, status: number, errorCode?: string): void;
}

export const SAME_DEVICE_CLIENT_ID = "arn:aws:signin:::devtools/same-device";
const ACCESS_TOKEN_SECONDS = 900;
const REFRESH_WINDOW_SECONDS = 12 * 3600;
/** How far a proof's iat may lie behind the server's clock, and ahead of it. */
const IAT_PAST_SECONDS = 300;
const IAT_FUTURE_SECONDS = 60;

interface RefreshTokenState {
  userName: string;
  clientId: string;
  /** RFC 7638 thumbprint of the key the token is bound to (cnf.jkt). */
  keyThumbprint: string;
  windowEndsAt: number;
  spent: boolean;
}

class SigninFault extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly error: string,
    message: string,
  ) {
    super(message);
  }
}

export class SigninService {
  private readonly refreshTokens = new Map<string, RefreshTokenState>();
  private readonly seenProofIds = new Set<string>();
  /** Refresh tokens presented again after they were spent. */
  reusedRefreshTokens = 0;
  /** Seconds the credentials of a refresh live (AWS: 900). */
  refreshedLifetimeSeconds = ACCESS_TOKEN_SECONDS;

  constructor(private readonly host: SigninHost) {}

  reset(): void {
    this.refreshTokens.clear();
    this.seenProofIds.clear();
    this.reusedRefreshTokens = 0;
    this.refreshedLifetimeSeconds = ACCESS_TOKEN_SECONDS;
  }

  /** Plays `aws login` for `userName`: a fresh key pair, credentials, a refresh token bound to the key. */
  signIn(userName: string, options: SignInOptions = {}): LoginSignIn {
    const { privateKey, publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
    const jwk = publicKey.export({ format: "jwk" });
    const now = this.host.now();
    const refreshToken = this.mintRefreshToken({
      userName,
      clientId: SAME_DEVICE_CLIENT_ID,
      keyThumbprint: thumbprint(jwk),
      windowEndsAt: now + (options.refreshWindowSeconds ?? REFRESH_WINDOW_SECONDS) * 1000,
      spent: false,
    });
    const seconds = options.accessTokenSeconds ?? ACCESS_TOKEN_SECONDS;
    // An expired first token still needs credentials the STS server knows; they expire as asked.
    const session = this.host.issueSession(userName, Math.max(seconds, 1));
    const loginSession = `arn:aws:iam::${this.host.accountId}:user/${userName}`;
    return {
      loginSession,
      token: {
        accessToken: {
          accessKeyId: session.accessKeyId,
          secretAccessKey: session.secretAccessKey,
          sessionToken: session.sessionToken,
          accountId: this.host.accountId,
          expiresAt: cliTimestamp(now + seconds * 1000),
        },
        tokenType: "aws_sigv4",
        clientId: SAME_DEVICE_CLIENT_ID,
        refreshToken,
        idToken: unsignedJwt({ sub: loginSession, iat: Math.floor(now / 1000) }),
        dpopKey: privateKey.export({ type: "sec1", format: "pem" }).toString(),
      },
    };
  }

  /** Ends the refresh window of every token of `userName` (as a password change or 12 hours do). */
  endRefreshWindow(userName: string): void {
    for (const state of this.refreshTokens.values()) {
      if (state.userName === userName) state.windowEndsAt = 0;
    }
  }

  handleToken(request: ReceivedRequest, res: ServerResponse, send: SendJson): void {
    const action = "CreateOAuth2Token";
    try {
      const answer = this.createToken(request);
      this.host.count(action, undefined, 200);
      send(res, 200, answer);
    } catch (error) {
      const fault =
        error instanceof SigninFault
          ? error
          : new SigninFault(500, "InternalServerException", "server_error", String(error));
      this.host.count(action, undefined, fault.status, fault.type);
      res.setHeader("x-amzn-errortype", fault.type);
      send(res, fault.status, { error: fault.error, message: fault.message });
    }
  }

  private createToken(request: ReceivedRequest): object {
    if (request.method !== "POST") throw validation(`/v1/token takes POST, got ${request.method}`);
    const contentType = String(request.headers["content-type"] ?? "");
    if (!contentType.startsWith("application/json")) {
      throw validation(`sign-in test server speaks JSON here; got Content-Type '${contentType}'`);
    }
    let body: Record<string, unknown>;
    try {
      body = JSON.parse(request.body.toString("utf8")) as Record<string, unknown>;
    } catch {
      throw validation("the body is not JSON");
    }
    if (body.grantType !== "refresh_token") {
      throw validation(`grantType must be refresh_token here, got ${String(body.grantType)}`);
    }
    const keyThumbprint = this.verifyProof(request);
    const presented = typeof body.refreshToken === "string" ? body.refreshToken : "";
    const state = this.refreshTokens.get(presented);
    if (!state) throw tokenExpired("The refresh token is not valid.");
    if (body.clientId !== state.clientId) throw validation("clientId does not match the refresh token");
    if (keyThumbprint !== state.keyThumbprint) {
      throw validation("invalid_dpop_proof: the proof's key is not the key the refresh token was issued to");
    }
    if (state.spent) {
      this.reusedRefreshTokens += 1;
      throw tokenExpired("The refresh token has already been used.");
    }
    if (this.host.now() >= state.windowEndsAt) throw tokenExpired("The session has expired.");
    state.spent = true;
    const refreshToken = this.mintRefreshToken({ ...state, spent: false });
    const session = this.host.issueSession(state.userName, this.refreshedLifetimeSeconds);
    return {
      accessToken: {
        accessKeyId: session.accessKeyId,
        secretAccessKey: session.secretAccessKey,
        sessionToken: session.sessionToken,
      },
      tokenType: "aws_sigv4",
      expiresIn: this.refreshedLifetimeSeconds,
      refreshToken,
    };
  }

  /** Checks the DPoP header as RFC 9449 says; answers the thumbprint of the key that signed it. */
  private verifyProof(request: ReceivedRequest): string {
    const proof = request.headers.dpop;
    if (typeof proof !== "string") throw invalidProof("no DPoP header");
    const parts = proof.split(".");
    if (parts.length !== 3) throw invalidProof("not a JWT");
    const [headerText, payloadText, signatureText] = parts as [string, string, string];
    const header = decodeJson(headerText);
    const payload = decodeJson(payloadText);
    if (!header || !payload) throw invalidProof("header or payload is not base64url JSON");
    if (header.typ !== "dpop+jwt" || header.alg !== "ES256")
      throw invalidProof("typ/alg must be dpop+jwt/ES256");
    const jwk = header.jwk as Record<string, unknown> | undefined;
    if (jwk?.kty !== "EC" || jwk.crv !== "P-256" || typeof jwk.x !== "string" || typeof jwk.y !== "string") {
      throw invalidProof("jwk must be a P-256 public key");
    }
    if ("d" in jwk) throw invalidProof("jwk holds a private key");
    let key: ReturnType<typeof createPublicKey>;
    try {
      key = createPublicKey({ key: { kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y }, format: "jwk" });
    } catch {
      throw invalidProof("jwk is not a point on P-256");
    }
    const signature = Buffer.from(signatureText, "base64url");
    const signed = Buffer.from(`${headerText}.${payloadText}`);
    if (signature.length !== 64 || !verify("sha256", signed, { key, dsaEncoding: "ieee-p1363" }, signature)) {
      throw invalidProof("the signature does not verify");
    }
    if (payload.htm !== request.method)
      throw invalidProof(`htm ${String(payload.htm)} is not ${request.method}`);
    const expectedHtu = `${this.host.url()}${request.rawPath}`;
    if (payload.htu !== expectedHtu) throw invalidProof(`htu ${String(payload.htu)} is not ${expectedHtu}`);
    const nowSeconds = this.host.now() / 1000;
    const iat = payload.iat;
    if (
      typeof iat !== "number" ||
      iat < nowSeconds - IAT_PAST_SECONDS ||
      iat > nowSeconds + IAT_FUTURE_SECONDS
    ) {
      throw invalidProof(`iat ${String(iat)} is outside the accepted window`);
    }
    if (typeof payload.jti !== "string" || payload.jti.length < 16) throw invalidProof("jti missing");
    if (this.seenProofIds.has(payload.jti)) throw invalidProof("jti replayed");
    this.seenProofIds.add(payload.jti);
    return thumbprint({ kty: "EC", crv: "P-256", x: jwk.x, y: jwk.y });
  }

  private mintRefreshToken(state: RefreshTokenState): string {
    const token = `rt.${randomBytes(48).toString("base64url")}`;
    this.refreshTokens.set(token, state);
    return token;
  }
}

export type SendJson = (res: ServerResponse, status: number, body: object) => void;

function validation(message: string): SigninFault {
  return new SigninFault(400, "ValidationException", "INVALID_REQUEST", message);
}

function invalidProof(message: string): SigninFault {
  return validation(`invalid_dpop_proof: ${message}`);
}

function tokenExpired(message: string): SigninFault {
  return new SigninFault(401, "AccessDeniedException", "TOKEN_EXPIRED", message);
}

/** RFC 7638: SHA-256 over the required members in lexical order, base64url. */
function thumbprint(jwk: { crv?: unknown; kty?: unknown; x?: unknown; y?: unknown }): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash("sha256").update(canonical).digest("base64url");
}

function decodeJson(part: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function unsignedJwt(payload: object): string {
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  return `${encode({ alg: "ES256", typ: "JWT" })}.${encode(payload)}.${randomBytes(64).toString("base64url")}`;
}
