import { AppError } from "../errors";
import { badResponse, type CallContext, toAppError } from "./errors";
import { clientConfig, type Endpoints } from "./sdk-config";

/**
 * AWS Sign-In's CreateOAuth2Token with the refresh_token grant: how an `aws login` session gets its
 * next 15 minutes of credentials. The SDK's own Sign-In client makes the call (loaded with import(),
 * like every SDK client here); awsmfa adds the DPoP proof, signed with the session's P-256 key.
 * The refresh token is spent by a successful call: the caller must keep the one it gets back.
 */

export interface LoginRefresh {
  clientId: string;
  refreshToken: string;
  /** The session's P-256 private key, SEC1 PEM, as the aws CLI keeps it. */
  dpopKey: string;
}

export interface LoginRefreshed {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiresInSeconds: number;
  refreshToken: string;
}

/** AWS's answer when it gives no lifetime; the access credentials of `aws login` live 15 minutes. */
const DEFAULT_EXPIRES_IN_SECONDS = 900;

export async function createOAuth2Token(
  refresh: LoginRefresh,
  where: Endpoints,
  context: CallContext & { signInCommand: string },
): Promise<LoginRefreshed> {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";
  const { SigninClient, CreateOAuth2TokenCommand } = await import("@aws-sdk/nested-clients/signin");
  const { createPrivateKey } = await import("node:crypto");
  const callContext: CallContext = {
    profile: context.profile,
    action: "CreateOAuth2Token",
    service: "SIGNIN",
  };
  let key: ReturnType<typeof createPrivateKey>;
  try {
    key = createPrivateKey({ key: refresh.dpopKey, format: "pem" });
  } catch (error) {
    throw sessionEnded(context, "its key (dpopKey) cannot be read", error);
  }
  // The call is not signed (noAuth); the SDK still wants credentials to exist.
  const client = new SigninClient(
    await clientConfig({ accessKeyId: "", secretAccessKey: "" }, where, "SIGNIN"),
  );
  client.middlewareStack.add(
    (next) => async (args) => {
      const request = args.request as {
        method: string;
        protocol: string;
        hostname: string;
        port?: number;
        path: string;
        headers: Record<string, string>;
      };
      const port = request.port ? `:${request.port}` : "";
      const htu = `${request.protocol}//${request.hostname}${port}${request.path}`;
      request.headers.DPoP = await dpopProof(key, request.method, htu);
      return next(args);
    },
    { step: "finalizeRequest", name: "awsmfaDpopProof" },
  );
  try {
    const out = await client.send(
      new CreateOAuth2TokenCommand({
        tokenInput: {
          clientId: refresh.clientId,
          grantType: "refresh_token",
          refreshToken: refresh.refreshToken,
        },
      }),
    );
    const token = out.tokenOutput;
    const access = token?.accessToken;
    if (!access?.accessKeyId || !access.secretAccessKey || !access.sessionToken || !token?.refreshToken) {
      throw badResponse(callContext);
    }
    return {
      accessKeyId: access.accessKeyId,
      secretAccessKey: access.secretAccessKey,
      sessionToken: access.sessionToken,
      expiresInSeconds: token.expiresIn ?? DEFAULT_EXPIRES_IN_SECONDS,
      refreshToken: token.refreshToken,
    };
  } catch (error) {
    const denied = error as { name?: string; error?: string } | null;
    if (denied?.name === "AccessDeniedException") {
      throw sessionEnded(context, deniedReason(denied.error), error);
    }
    throw toAppError(error, callContext, where.env);
  } finally {
    client.destroy();
  }
}

function deniedReason(code: string | undefined): string {
  switch (code) {
    case "TOKEN_EXPIRED":
      return "AWS says it has expired (its refresh window is over, or it was refreshed elsewhere)";
    case "USER_CREDENTIALS_CHANGED":
      return "the password changed since it was signed in";
    case "INSUFFICIENT_PERMISSIONS":
      return "the identity lacks permission for signin:CreateOAuth2Token";
    default:
      return `AWS refused to refresh it (${code ?? "AccessDeniedException"})`;
  }
}

function sessionEnded(
  context: { profile: string; signInCommand: string },
  reason: string,
  cause: unknown,
): AppError {
  return new AppError(
    "login-session-ended",
    // One line that names the profile and the command that mends it; the hint is for a machine without a browser.
    `The aws login session of profile '${context.profile}' cannot be refreshed: ${reason}; sign in again with \`${context.signInCommand}\`.`,
    {
      // The command has --remote already where awsmfa sees no browser; a browser it cannot see is the other case.
      hint: context.signInCommand.includes("--remote")
        ? undefined
        : `On a machine without a browser: \`${context.signInCommand} --remote\`.`,
      cause,
    },
  );
}

/** RFC 9449 proof: ES256 JWT over htm, htu, iat and a fresh jti, with the public key in its header. */
async function dpopProof(key: import("node:crypto").KeyObject, method: string, htu: string): Promise<string> {
  const { createPublicKey, randomUUID, sign } = await import("node:crypto");
  const { x, y } = createPublicKey(key).export({ format: "jwk" });
  const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const header = encode({ typ: "dpop+jwt", alg: "ES256", jwk: { kty: "EC", x, y, crv: "P-256" } });
  const payload = encode({ htm: method, htu, iat: Math.floor(Date.now() / 1000), jti: randomUUID() });
  const signature = sign("sha256", Buffer.from(`${header}.${payload}`), { key, dsaEncoding: "ieee-p1363" });
  return `${header}.${payload}.${signature.toString("base64url")}`;
}
