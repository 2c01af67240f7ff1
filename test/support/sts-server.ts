// The project's strict STS + IAM server. Real SDK clients and the real aws CLI talk to it over
// the AWS Query protocol on 127.0.0.1; it checks SigV4 signatures, session tokens, MFA codes
// (including replays) and the session rules of real AWS, and answers with real AWS's XML and
// error wording, so that a test passing here means the same request would pass against AWS.
import { createHash, randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Server as NetServer } from "node:net";
import {
  AwsFault,
  accessDenied,
  EXPIRED_TOKEN,
  INVALID_MFA_CODE,
  invalidClientToken,
  UNKNOWN_MFA_SERIAL,
  validationError,
} from "./aws-fault";
import { el, errorDocument, successDocument, type XmlElement } from "./aws-xml";
import { type SendJson, SigninService } from "./signin-server";
import {
  checkCredentialScope,
  checkRequestTime,
  parseAuthorization,
  type ReceivedRequest,
  verifySignature,
} from "./sigv4";
import { SsoService } from "./sso-server";
import { base32Decode, hotpCode, totpCode, totpStep } from "./totp";

export { randomBase32Seed, totpCode } from "./totp";

export interface MfaDeviceSpec {
  serial: string;
  seed: string;
}

export interface UserSpec {
  userName: string;
  accessKeyId: string;
  secretAccessKey: string;
  mfaDevices?: MfaDeviceSpec[];
}

export interface RoleSpec {
  arn: string;
  /** Seconds, 3600–43200 as in IAM; 3600 when absent. */
  maxSessionDuration?: number;
  /** User names allowed to assume the role; every user when absent. */
  allowedUsers?: string[];
  /** ARNs of roles whose sessions may assume this one (role chaining); every role when absent. */
  allowedRoles?: string[];
  requireMfa?: boolean;
  requireExternalId?: string;
}

export interface InjectedFailure {
  /** Only calls of this action fail; every action when absent. */
  action?: string;
  count: number;
  status: number;
  code: string;
  message?: string;
}

/** Options that can change while the server runs (see `setOption`). */
export interface StsServerBehaviour {
  roles?: RoleSpec[];
  /** Issued credentials expire this many seconds after issue, whatever duration was asked. */
  sessionDurationOverrideSeconds?: number;
  latencyMs?: number;
  /** The first `count` matching calls fail, before authentication, so no MFA code is spent. */
  failures?: InjectedFailure[];
  /**
   * Successful Query answers come back as cut-off XML, as bytes that are not XML at all, or as a
   * well-formed answer whose Credentials element is missing.
   */
  malformed?: "truncated" | "garbage" | "no-credentials";
  /** Issued credentials already expired (a minute before issue) and are refused as expired. */
  expirationInPast?: boolean;
  /** The server's clock runs this far ahead of the machine's (negative: behind). */
  clockOffsetMs?: number;
}

export interface StsServerOptions extends StsServerBehaviour {
  accountId?: string;
  users: UserSpec[];
}

/** CreateOAuth2Token: an `aws login` session's credentials, from the sign-in endpoint (signin-server.ts). */
export type CredentialKind = "GetSessionToken" | "AssumeRole" | "CreateOAuth2Token";

export interface IssuedCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  expiration: Date;
  kind: CredentialKind;
  mfaAuthenticated: boolean;
  /** The IAM user behind a GetSessionToken session. */
  userName?: string;
  roleArn?: string;
  roleSessionName?: string;
}

export interface RecordedRequest {
  action: string;
  accessKeyId: string | undefined;
  ok: boolean;
  status: number;
  errorCode?: string;
}

export interface SigninTokenGrant {
  signinToken: string;
  accessKeyId: string;
  sessionDuration: number | undefined;
}

export interface StsServer {
  readonly url: string;
  readonly port: number;
  /** Per action: every call that named it, successful or not. */
  readonly calls: Record<string, number>;
  /** Per action: calls that succeeded. */
  readonly accepted: Record<string, number>;
  /** Per action: requests received, counted before the latency: a test can act while one is in flight. */
  readonly arrived: Record<string, number>;
  /** MFA codes that were right for the device but whose time step had already been accepted. */
  readonly rejectedReuses: number;
  readonly requests: RecordedRequest[];
  readonly issued: IssuedCredentials[];
  readonly signinTokens: SigninTokenGrant[];
  /** AWS Sign-In's token endpoint (`aws login` sessions), on the same port. */
  readonly signin: SigninService;
  /** IAM Identity Center: SSO-OIDC CreateToken and the portal's GetRoleCredentials, on the same port. */
  readonly sso: SsoService;
  setOption(patch: Partial<StsServerBehaviour>): void;
  /** The server's own time, which `clockOffsetMs` moves. */
  now(): number;
  /** A code the server accepts for `seed` now (server time) or at `timeMs`. */
  totp(seed: string, timeMs?: number): string;
  /** Back to the state right after start: options, keys, sessions, used MFA steps, counters. */
  reset(): void;
  /** Also answers what `listener` accepts: a socket listening in another network namespace (netns.ts). */
  acceptFrom(listener: NetServer): void;
  close(): Promise<void>;
}

const STS_VERSION = "2011-06-15";
const IAM_VERSION = "2010-05-08";
const STS_NAMESPACE = "https://sts.amazonaws.com/doc/2011-06-15/";
const IAM_NAMESPACE = "https://iam.amazonaws.com/doc/2010-05-08/";
const STS_ACTIONS = new Set(["GetSessionToken", "AssumeRole", "GetCallerIdentity"]);
const IAM_ACTIONS = new Set([
  "ListMFADevices",
  "GetUser",
  "ListAccessKeys",
  "CreateAccessKey",
  "DeleteAccessKey",
  "UpdateAccessKey",
]);
const FEDERATION_ACTION = "getSigninToken";
const MAX_BODY_BYTES = 1 << 20;
const ACCESS_KEYS_PER_USER = 2;
const ROLE_CHAINING_MAX_SECONDS = 3600;
const DEFAULT_ROLE_MAX_SESSION_SECONDS = 3600;

type Service = "sts" | "iam";

interface AccessKeyState {
  accessKeyId: string;
  secretAccessKey: string;
  status: "Active" | "Inactive";
  createDate: Date;
}

interface UserState {
  userName: string;
  userId: string;
  arn: string;
  createDate: Date;
  accessKeys: AccessKeyState[];
  mfaDevices: Array<MfaDeviceSpec & { enableDate: Date }>;
}

type Caller =
  | { kind: "user"; user: UserState; accessKeyId: string; mfa: false }
  | { kind: "session"; user: UserState; accessKeyId: string; mfa: boolean }
  | {
      kind: "role";
      roleArn: string;
      roleSessionName: string;
      accessKeyId: string;
      mfa: boolean;
    };

interface ParsedRoleArn {
  accountId: string;
  roleName: string;
}

function parseRoleArn(arn: string): ParsedRoleArn | undefined {
  const match = /^arn:aws:iam::(\d{12}):role\/(?:[^/]+\/)*([\w+=,.@-]+)$/.exec(arn);
  return match ? { accountId: match[1] ?? "", roleName: match[2] ?? "" } : undefined;
}

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** IAM's unique ids (AIDA…, AROA…), the same for the same name so tests can compare them. */
function stableId(prefix: string, seed: string): string {
  const digits = createHash("sha256").update(seed).digest();
  return prefix + Array.from(digits.subarray(0, 17), (byte) => ALPHANUMERIC[byte % 36]).join("");
}

function randomKeyId(prefix: "AKIA" | "ASIA"): string {
  return prefix + Array.from(randomBytes(16), (byte) => ALPHANUMERIC[byte % 36]).join("");
}

function randomSecret(): string {
  return randomBytes(30).toString("base64");
}

/** Real session tokens run to several hundred characters; clients must carry them whole. */
function randomSessionToken(): string {
  return randomBytes(600).toString("base64");
}

/** STS and IAM write timestamps to the second, without milliseconds. */
function awsTimestamp(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, "Z");
}

function wholeSeconds(timeMs: number): Date {
  return new Date(Math.floor(timeMs / 1000) * 1000);
}

interface StringRule {
  required?: boolean;
  min: number;
  max: number;
  pattern?: { regex: RegExp; text: string };
}

/** Collects parameter violations and reports them all at once, in the wording of AWS's validator. */
class ParameterValidator {
  private readonly problems: string[] = [];

  constructor(private readonly params: URLSearchParams) {}

  string(name: string, member: string, rule: StringRule): string | undefined {
    const value = this.params.get(name) ?? undefined;
    if (value === undefined) {
      if (rule.required) this.fail("null", member, "Member must not be null");
      return undefined;
    }
    if (value.length < rule.min) {
      this.fail(`'${value}'`, member, `Member must have length greater than or equal to ${rule.min}`);
    }
    if (value.length > rule.max) {
      this.fail(`'${value}'`, member, `Member must have length less than or equal to ${rule.max}`);
    }
    if (rule.pattern && !rule.pattern.regex.test(value)) {
      this.fail(`'${value}'`, member, `Member must satisfy regular expression pattern: ${rule.pattern.text}`);
    }
    return value;
  }

  integer(name: string, member: string, min: number, max: number): number | undefined {
    const raw = this.params.get(name) ?? undefined;
    if (raw === undefined) return undefined;
    if (!/^-?\d+$/.test(raw)) {
      this.fail(`'${raw}'`, member, "Member must be an integer");
      return undefined;
    }
    const value = Number(raw);
    if (value < min) this.fail(`'${raw}'`, member, `Member must have value greater than or equal to ${min}`);
    if (value > max) this.fail(`'${raw}'`, member, `Member must have value less than or equal to ${max}`);
    return value;
  }

  enumValue(name: string, member: string, allowed: readonly string[]): string | undefined {
    const value = this.params.get(name) ?? undefined;
    if (value === undefined) {
      this.fail("null", member, "Member must not be null");
    } else if (!allowed.includes(value)) {
      this.fail(`'${value}'`, member, `Member must satisfy enum value set: [${allowed.join(", ")}]`);
    }
    return value;
  }

  /** Throws the ValidationError for everything collected so far. */
  check(): void {
    const count = this.problems.length;
    if (count === 0) return;
    throw validationError(
      `${count} validation error${count > 1 ? "s" : ""} detected: ${this.problems.join("; ")}`,
    );
  }

  private fail(value: string, member: string, constraint: string): void {
    this.problems.push(`Value ${value} at '${member}' failed to satisfy constraint: ${constraint}`);
  }
}

const SERIAL_RULE: StringRule = {
  min: 9,
  max: 256,
  pattern: { regex: /^[\w+=/:,.@-]*$/, text: "[\\w+=/:,.@-]*" },
};
const TOKEN_CODE_RULE: StringRule = { min: 6, max: 6, pattern: { regex: /^\d*$/, text: "[\\d]*" } };
const ROLE_SESSION_NAME_RULE: StringRule = {
  required: true,
  min: 2,
  max: 64,
  pattern: { regex: /^[\w+=,.@-]*$/, text: "[\\w+=,.@-]*" },
};
const EXTERNAL_ID_RULE: StringRule = {
  min: 2,
  max: 1224,
  pattern: { regex: /^[\w+=,.@:/-]*$/, text: "[\\w+=,.@:\\/-]*" },
};

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new Error("request body too large"));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

class StrictStsServer implements StsServer {
  readonly calls: Record<string, number> = {};
  readonly accepted: Record<string, number> = {};
  readonly arrived: Record<string, number> = {};
  readonly requests: RecordedRequest[] = [];
  readonly issued: IssuedCredentials[] = [];
  readonly signinTokens: SigninTokenGrant[] = [];
  private reuseCount = 0;
  private readonly accountId: string;
  private behaviour: StsServerBehaviour = {};
  private remainingFailures: InjectedFailure[] = [];
  private users = new Map<string, UserState>();
  private readonly sessions = new Map<string, { credentials: IssuedCredentials; caller: Caller }>();
  /** Highest accepted TOTP step per device serial: AWS refuses a code from a step it already took. */
  private readonly acceptedSteps = new Map<string, number>();
  private readonly server: Server;
  private readonly otherListeners: NetServer[] = [];
  readonly signin: SigninService;
  readonly sso: SsoService;

  constructor(private readonly options: StsServerOptions) {
    this.accountId = options.accountId ?? "123456789012";
    this.signin = new SigninService({
      now: () => this.now(),
      url: () => this.url,
      accountId: this.accountId,
      issueSession: (userName, seconds) => this.issueLoginSession(userName, seconds),
      count: (action, accessKeyId, status, errorCode) => this.count(action, accessKeyId, status, errorCode),
    });
    this.sso = new SsoService({
      now: () => this.now(),
      accountId: this.accountId,
      issueRoleSession: (roleArn, sessionName) =>
        this.issue("AssumeRole", 3600, {
          kind: "role",
          roleArn,
          roleSessionName: sessionName,
          accessKeyId: randomKeyId("ASIA"),
          mfa: true,
        }),
      count: (action, accessKeyId, status, errorCode) => this.count(action, accessKeyId, status, errorCode),
    });
    this.server = createServer((req, res) => {
      this.handle(req, res).catch((error: unknown) => {
        if (!res.headersSent) {
          res.statusCode = 500;
          res.end(String(error));
        } else {
          res.destroy();
        }
      });
    });
    this.reset();
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once("error", reject);
      this.server.listen(0, "127.0.0.1", () => resolve());
    });
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get rejectedReuses(): number {
    return this.reuseCount;
  }

  now(): number {
    return Date.now() + (this.behaviour.clockOffsetMs ?? 0);
  }

  totp(seed: string, timeMs?: number): string {
    return totpCode(seed, timeMs ?? this.now());
  }

  setOption(patch: Partial<StsServerBehaviour>): void {
    this.behaviour = { ...this.behaviour, ...patch };
    if ("failures" in patch) this.remainingFailures = (patch.failures ?? []).map((f) => ({ ...f }));
    this.validateRoles();
  }

  reset(): void {
    const { accountId: _accountId, users, ...behaviour } = this.options;
    this.behaviour = { ...behaviour };
    this.remainingFailures = (behaviour.failures ?? []).map((f) => ({ ...f }));
    this.validateRoles();
    const created = wholeSeconds(this.now());
    this.users = new Map(
      users.map((spec) => [
        spec.userName,
        {
          userName: spec.userName,
          userId: stableId("AIDA", `${this.accountId}/${spec.userName}`),
          arn: `arn:aws:iam::${this.accountId}:user/${spec.userName}`,
          createDate: created,
          accessKeys: [
            {
              accessKeyId: spec.accessKeyId,
              secretAccessKey: spec.secretAccessKey,
              status: "Active",
              createDate: created,
            },
          ],
          mfaDevices: (spec.mfaDevices ?? []).map((device) => ({ ...device, enableDate: created })),
        },
      ]),
    );
    this.sessions.clear();
    this.acceptedSteps.clear();
    this.reuseCount = 0;
    for (const record of [this.calls, this.accepted, this.arrived]) {
      for (const key of Object.keys(record)) delete record[key];
    }
    this.requests.length = 0;
    this.issued.length = 0;
    this.signinTokens.length = 0;
    this.signin.reset();
    this.sso.reset();
  }

  acceptFrom(listener: NetServer): void {
    this.otherListeners.push(listener);
    listener.on("connection", (socket) => this.server.emit("connection", socket));
  }

  close(): Promise<void> {
    for (const listener of this.otherListeners) listener.close();
    return new Promise((resolve, reject) => {
      this.server.close((error) => (error ? reject(error) : resolve()));
      this.server.closeAllConnections();
    });
  }

  private validateRoles(): void {
    for (const role of this.behaviour.roles ?? []) {
      if (!parseRoleArn(role.arn)) throw new Error(`sts-server: not a role ARN: ${role.arn}`);
      const max = role.maxSessionDuration ?? DEFAULT_ROLE_MAX_SESSION_SECONDS;
      if (max < 3600 || max > 43200) {
        throw new Error(`sts-server: maxSessionDuration must be 3600..43200 as in IAM, got ${max}`);
      }
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req);
    const query = req.method === "POST" ? body.toString("utf8") : ((req.url ?? "").split("?")[1] ?? "");
    const arrivedAction = new URLSearchParams(query).get("Action") ?? "(no Action)";
    this.arrived[arrivedAction] = (this.arrived[arrivedAction] ?? 0) + 1;
    if (this.behaviour.latencyMs) await delay(this.behaviour.latencyMs);
    const rawUrl = req.url ?? "/";
    const queryStart = rawUrl.indexOf("?");
    const received: ReceivedRequest = {
      method: req.method ?? "GET",
      rawPath: queryStart < 0 ? rawUrl : rawUrl.slice(0, queryStart),
      rawQuery: queryStart < 0 ? "" : rawUrl.slice(queryStart + 1),
      headers: req.headers,
      body,
    };
    if (received.rawPath === "/federation") {
      this.handleFederation(received, res);
    } else if (received.rawPath === "/v1/token") {
      this.signin.handleToken(received, res, this.sendJson);
    } else if (!this.sso.handle(received, res, this.sendJson)) {
      this.handleQuery(received, res);
    }
  }

  private count(action: string, accessKeyId: string | undefined, status: number, errorCode?: string): void {
    const ok = errorCode === undefined;
    this.calls[action] = (this.calls[action] ?? 0) + 1;
    if (ok) this.accepted[action] = (this.accepted[action] ?? 0) + 1;
    this.requests.push({ action, accessKeyId, ok, status, ...(ok ? {} : { errorCode }) });
  }

  private takeInjectedFailure(action: string): AwsFault | undefined {
    const failure = this.remainingFailures.find(
      (f) => f.count > 0 && (f.action === undefined || f.action === action),
    );
    if (!failure) return undefined;
    failure.count -= 1;
    return new AwsFault(failure.status, failure.code, failure.message ?? failure.code);
  }

  private send(res: ServerResponse, status: number, contentType: string, body: string | Buffer): void {
    res.writeHead(status, {
      "Content-Type": contentType,
      "Content-Length": Buffer.byteLength(body),
      // The SDK corrects its clock from this header, as it does against AWS.
      Date: new Date(this.now()).toUTCString(),
    });
    res.end(body);
  }

  private readonly sendJson: SendJson = (res, status, body) => {
    res.setHeader("x-amzn-RequestId", randomUUID());
    this.send(res, status, "application/json", JSON.stringify(body));
  };

  /** An `aws login` session is the user's own console session: MFA done in the browser. */
  private issueLoginSession(userName: string, lifetimeSeconds: number): IssuedCredentials {
    const user = this.users.get(userName);
    if (!user) throw new Error(`sts-server: no user ${userName} to sign in`);
    return this.issue("CreateOAuth2Token", lifetimeSeconds, {
      kind: "session",
      user,
      accessKeyId: randomKeyId("ASIA"),
      mfa: true,
    });
  }

  private handleQuery(request: ReceivedRequest, res: ServerResponse): void {
    const requestId = randomUUID();
    let action = "(no Action)";
    let namespace = STS_NAMESPACE;
    let accessKeyId: string | undefined;
    res.setHeader("x-amzn-RequestId", requestId);
    try {
      const params = this.queryParameters(request);
      action = params.get("Action") ?? action;
      const service = this.serviceFor(params);
      namespace = service === "iam" ? IAM_NAMESPACE : STS_NAMESPACE;
      const injected = this.takeInjectedFailure(action);
      if (injected) throw injected;
      const auth = parseAuthorization(request.headers);
      accessKeyId = auth.accessKeyId;
      checkRequestTime(auth, this.now());
      checkCredentialScope(auth, service);
      const { caller, secretAccessKey } = this.authenticate(request, auth.accessKeyId);
      verifySignature(request, auth, secretAccessKey);
      // Real AWS: GetSessionToken credentials reach IAM only when the session was made with MFA.
      if (service === "iam" && caller.kind === "session" && !caller.mfa) throw invalidClientToken();
      const result = this.dispatch(action, params, caller);
      this.count(action, accessKeyId, 200);
      this.send(res, 200, "text/xml", this.deform(successDocument(action, namespace, result, requestId)));
    } catch (error) {
      const fault =
        error instanceof AwsFault
          ? error
          : new AwsFault(500, "InternalFailure", `sts-server failed: ${(error as Error).stack ?? error}`);
      this.count(action, accessKeyId, fault.status, fault.code);
      this.send(
        res,
        fault.status,
        "text/xml",
        errorDocument(namespace, { type: fault.type, code: fault.code, message: fault.message }, requestId),
      );
    }
  }

  private queryParameters(request: ReceivedRequest): URLSearchParams {
    if (request.method === "GET") return new URLSearchParams(request.rawQuery);
    const contentType = String(request.headers["content-type"] ?? "");
    if (request.method !== "POST" || !contentType.startsWith("application/x-www-form-urlencoded")) {
      // A future SDK that switches STS to JSON or CBOR must fail loudly here, not half-work.
      throw new AwsFault(
        400,
        "UnsupportedProtocol",
        `sts-server speaks only the AWS Query protocol (GET, or POST application/x-www-form-urlencoded); got ${request.method} with Content-Type '${contentType}'`,
      );
    }
    return new URLSearchParams(request.body.toString("utf8"));
  }

  private serviceFor(params: URLSearchParams): Service {
    const action = params.get("Action") ?? "";
    const version = params.get("Version");
    if (version === STS_VERSION && STS_ACTIONS.has(action)) return "sts";
    if (version === IAM_VERSION && IAM_ACTIONS.has(action)) return "iam";
    throw new AwsFault(
      400,
      "InvalidAction",
      `Could not find operation ${action} for version ${version ?? "NO_VERSION_SPECIFIED"}`,
    );
  }

  private findAccessKey(accessKeyId: string): { user: UserState; key: AccessKeyState } | undefined {
    for (const user of this.users.values()) {
      const key = user.accessKeys.find((k) => k.accessKeyId === accessKeyId);
      if (key) return { user, key };
    }
    return undefined;
  }

  /** Finds who holds `accessKeyId`, checking the session token and expiry the way STS does. */
  private authenticate(
    request: ReceivedRequest,
    accessKeyId: string,
  ): { caller: Caller; secretAccessKey: string } {
    const presentedToken = request.headers["x-amz-security-token"];
    const longTerm = this.findAccessKey(accessKeyId);
    if (longTerm) {
      if (longTerm.key.status !== "Active" || presentedToken !== undefined) throw invalidClientToken();
      return {
        caller: { kind: "user", user: longTerm.user, accessKeyId, mfa: false },
        secretAccessKey: longTerm.key.secretAccessKey,
      };
    }
    const session = this.sessions.get(accessKeyId);
    if (!session || presentedToken !== session.credentials.sessionToken) throw invalidClientToken();
    if (session.credentials.expiration.getTime() <= this.now()) {
      throw new AwsFault(403, "ExpiredToken", EXPIRED_TOKEN);
    }
    return { caller: session.caller, secretAccessKey: session.credentials.secretAccessKey };
  }

  private dispatch(action: string, params: URLSearchParams, caller: Caller): XmlElement[] | undefined {
    switch (action) {
      case "GetSessionToken":
        return this.getSessionToken(params, caller);
      case "AssumeRole":
        return this.assumeRole(params, caller);
      case "GetCallerIdentity":
        return this.getCallerIdentity(caller);
      case "ListMFADevices":
        return this.listMfaDevices(params, caller);
      case "GetUser":
        return this.getUser(params, caller);
      case "ListAccessKeys":
        return this.listAccessKeys(params, caller);
      case "CreateAccessKey":
        return this.createAccessKey(params, caller);
      case "DeleteAccessKey":
        return this.deleteAccessKey(params, caller);
      case "UpdateAccessKey":
        return this.updateAccessKey(params, caller);
      default:
        throw new Error(`no handler for ${action}`);
    }
  }

  private deform(xml: string): string | Buffer {
    switch (this.behaviour.malformed) {
      case "truncated":
        return xml.slice(0, Math.floor(xml.length / 2));
      case "garbage":
        // What a misbehaving proxy might hand back: a gzip header and control bytes, no XML at all.
        return Buffer.from([0x1f, 0x8b, 0x00, 0xff, 0xfe, 0x3c, 0x21, 0x2d, 0x2d, 0x00, 0x7f, 0x80]);
      case "no-credentials":
        return xml.replace(/<Credentials>[\s\S]*?<\/Credentials>/, "");
      default:
        return xml;
    }
  }

  private callerArn(caller: Caller): string {
    if (caller.kind !== "role") return caller.user.arn;
    const role = parseRoleArn(caller.roleArn);
    return `arn:aws:sts::${role?.accountId}:assumed-role/${role?.roleName}/${caller.roleSessionName}`;
  }

  private roleId(roleArn: string): string {
    return stableId("AROA", roleArn);
  }

  /** Checks a serial + code pair for `user` the way STS does, refusing a code whose step was already used. */
  private verifyMfa(user: UserState | undefined, serial: string | undefined, code: string | undefined): void {
    const device = user?.mfaDevices.find((d) => d.serial === serial);
    if (!device) throw accessDenied(UNKNOWN_MFA_SERIAL);
    if (code === undefined) throw accessDenied(INVALID_MFA_CODE);
    const secret = base32Decode(device.seed);
    const current = totpStep(this.now());
    const matching = [current - 1, current, current + 1].filter((step) => hotpCode(secret, step) === code);
    const lastAccepted = this.acceptedSteps.get(device.serial) ?? Number.NEGATIVE_INFINITY;
    const fresh = matching.find((step) => step > lastAccepted);
    if (fresh !== undefined) {
      this.acceptedSteps.set(device.serial, fresh);
      return;
    }
    if (matching.length > 0) this.reuseCount += 1;
    throw accessDenied(INVALID_MFA_CODE);
  }

  private issue(
    kind: CredentialKind,
    durationSeconds: number,
    caller: Caller & { kind: "session" | "role" },
  ): IssuedCredentials {
    const now = this.now();
    const lifetimeSeconds = this.behaviour.sessionDurationOverrideSeconds ?? durationSeconds;
    const expiration = this.behaviour.expirationInPast
      ? wholeSeconds(now - 60_000)
      : wholeSeconds(now + lifetimeSeconds * 1000);
    const credentials: IssuedCredentials = {
      accessKeyId: caller.accessKeyId,
      secretAccessKey: randomSecret(),
      sessionToken: randomSessionToken(),
      expiration,
      kind,
      mfaAuthenticated: caller.mfa,
      ...(caller.kind === "session"
        ? { userName: caller.user.userName }
        : { roleArn: caller.roleArn, roleSessionName: caller.roleSessionName }),
    };
    this.sessions.set(credentials.accessKeyId, { credentials, caller });
    this.issued.push(credentials);
    return credentials;
  }

  private credentialsXml(credentials: IssuedCredentials): XmlElement {
    return el("Credentials", [
      el("AccessKeyId", credentials.accessKeyId),
      el("SecretAccessKey", credentials.secretAccessKey),
      el("SessionToken", credentials.sessionToken),
      el("Expiration", awsTimestamp(credentials.expiration)),
    ]);
  }

  private getSessionToken(params: URLSearchParams, caller: Caller): XmlElement[] {
    if (caller.kind !== "user") throw accessDenied("Cannot call GetSessionToken with session credentials");
    const validator = new ParameterValidator(params);
    const duration = validator.integer("DurationSeconds", "durationSeconds", 900, 129600);
    const serial = validator.string("SerialNumber", "serialNumber", SERIAL_RULE);
    const code = validator.string("TokenCode", "tokenCode", TOKEN_CODE_RULE);
    validator.check();
    const mfa = serial !== undefined || code !== undefined;
    if (mfa) this.verifyMfa(caller.user, serial, code);
    const credentials = this.issue("GetSessionToken", duration ?? 43200, {
      kind: "session",
      user: caller.user,
      accessKeyId: randomKeyId("ASIA"),
      mfa,
    });
    return [this.credentialsXml(credentials)];
  }

  private assumeRole(params: URLSearchParams, caller: Caller): XmlElement[] {
    const validator = new ParameterValidator(params);
    const roleArn = validator.string("RoleArn", "roleArn", { required: true, min: 20, max: 2048 }) ?? "";
    const sessionName = validator.string("RoleSessionName", "roleSessionName", ROLE_SESSION_NAME_RULE) ?? "";
    const externalId = validator.string("ExternalId", "externalId", EXTERNAL_ID_RULE);
    const requested = validator.integer("DurationSeconds", "durationSeconds", 900, 43200);
    const serial = validator.string("SerialNumber", "serialNumber", SERIAL_RULE);
    const code = validator.string("TokenCode", "tokenCode", TOKEN_CODE_RULE);
    validator.check();

    const notAuthorized = accessDenied(
      `User: ${this.callerArn(caller)} is not authorized to perform: sts:AssumeRole on resource: ${roleArn}`,
    );
    const role = (this.behaviour.roles ?? []).find((r) => r.arn === roleArn);
    if (!role) throw notAuthorized;
    const trusted =
      caller.kind === "role"
        ? role.allowedRoles === undefined || role.allowedRoles.includes(caller.roleArn)
        : role.allowedUsers === undefined || role.allowedUsers.includes(caller.user.userName);
    if (!trusted) throw notAuthorized;
    if (role.requireExternalId !== undefined && externalId !== role.requireExternalId) throw notAuthorized;

    const duration = requested ?? 3600;
    if (caller.kind === "role" && duration > ROLE_CHAINING_MAX_SECONDS) {
      throw validationError(
        "The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.",
      );
    }
    if (duration > (role.maxSessionDuration ?? DEFAULT_ROLE_MAX_SESSION_SECONDS)) {
      throw validationError(
        "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.",
      );
    }

    const mfaPassed = serial !== undefined || code !== undefined;
    if (mfaPassed) this.verifyMfa(caller.kind === "role" ? undefined : caller.user, serial, code);
    // MFA carries over from an MFA session to the roles assumed with it: one code, many roles.
    const mfa = caller.mfa || mfaPassed;
    if (role.requireMfa && !mfa) throw notAuthorized;

    const roleSession = {
      kind: "role",
      roleArn,
      roleSessionName: sessionName,
      accessKeyId: randomKeyId("ASIA"),
      mfa,
    } as const;
    const credentials = this.issue("AssumeRole", duration, roleSession);
    return [
      el("AssumedRoleUser", [
        el("AssumedRoleId", `${this.roleId(roleArn)}:${sessionName}`),
        el("Arn", this.callerArn(roleSession)),
      ]),
      this.credentialsXml(credentials),
    ];
  }

  private getCallerIdentity(caller: Caller): XmlElement[] {
    if (caller.kind === "role") {
      const role = parseRoleArn(caller.roleArn);
      return [
        el("Arn", this.callerArn(caller)),
        el("UserId", `${this.roleId(caller.roleArn)}:${caller.roleSessionName}`),
        el("Account", role?.accountId ?? this.accountId),
      ];
    }
    return [el("Arn", caller.user.arn), el("UserId", caller.user.userId), el("Account", this.accountId)];
  }

  /** The user an IAM call is about: `UserName` when given, else the calling user. */
  private targetUser(params: URLSearchParams, caller: Caller): UserState {
    const validator = new ParameterValidator(params);
    const userName = validator.string("UserName", "userName", {
      min: 1,
      max: 128,
      pattern: { regex: /^[\w+=,.@-]+$/, text: "[\\w+=,.@-]+" },
    });
    validator.check();
    if (userName === undefined) {
      if (caller.kind === "role") {
        throw validationError("Must specify userName when calling with non-User credentials");
      }
      return caller.user;
    }
    const user = this.users.get(userName);
    if (!user) throw new AwsFault(404, "NoSuchEntity", `The user with name ${userName} cannot be found.`);
    return user;
  }

  private accessKeyOf(user: UserState, params: URLSearchParams): AccessKeyState {
    const validator = new ParameterValidator(params);
    const accessKeyId =
      validator.string("AccessKeyId", "accessKeyId", {
        required: true,
        min: 16,
        max: 128,
        pattern: { regex: /^\w+$/, text: "[\\w]+" },
      }) ?? "";
    validator.check();
    const key = user.accessKeys.find((k) => k.accessKeyId === accessKeyId);
    if (!key)
      throw new AwsFault(404, "NoSuchEntity", `The Access Key with id ${accessKeyId} cannot be found.`);
    return key;
  }

  private listMfaDevices(params: URLSearchParams, caller: Caller): XmlElement[] {
    const user = this.targetUser(params, caller);
    return [
      el(
        "MFADevices",
        user.mfaDevices.map((device) =>
          el("member", [
            el("UserName", user.userName),
            el("SerialNumber", device.serial),
            el("EnableDate", awsTimestamp(device.enableDate)),
          ]),
        ),
      ),
      el("IsTruncated", "false"),
    ];
  }

  private getUser(params: URLSearchParams, caller: Caller): XmlElement[] {
    const user = this.targetUser(params, caller);
    return [
      el("User", [
        el("Path", "/"),
        el("UserName", user.userName),
        el("UserId", user.userId),
        el("Arn", user.arn),
        el("CreateDate", awsTimestamp(user.createDate)),
      ]),
    ];
  }

  private listAccessKeys(params: URLSearchParams, caller: Caller): XmlElement[] {
    const user = this.targetUser(params, caller);
    return [
      el("UserName", user.userName),
      el(
        "AccessKeyMetadata",
        user.accessKeys.map((key) =>
          el("member", [
            el("UserName", user.userName),
            el("AccessKeyId", key.accessKeyId),
            el("Status", key.status),
            el("CreateDate", awsTimestamp(key.createDate)),
          ]),
        ),
      ),
      el("IsTruncated", "false"),
    ];
  }

  private createAccessKey(params: URLSearchParams, caller: Caller): XmlElement[] {
    const user = this.targetUser(params, caller);
    if (user.accessKeys.length >= ACCESS_KEYS_PER_USER) {
      throw new AwsFault(
        409,
        "LimitExceeded",
        `Cannot exceed quota for AccessKeysPerUser: ${ACCESS_KEYS_PER_USER}`,
      );
    }
    const key: AccessKeyState = {
      accessKeyId: randomKeyId("AKIA"),
      secretAccessKey: randomSecret(),
      status: "Active",
      createDate: wholeSeconds(this.now()),
    };
    user.accessKeys.push(key);
    return [
      el("AccessKey", [
        el("UserName", user.userName),
        el("AccessKeyId", key.accessKeyId),
        el("Status", key.status),
        el("SecretAccessKey", key.secretAccessKey),
        el("CreateDate", awsTimestamp(key.createDate)),
      ]),
    ];
  }

  private deleteAccessKey(params: URLSearchParams, caller: Caller): undefined {
    const user = this.targetUser(params, caller);
    const key = this.accessKeyOf(user, params);
    user.accessKeys = user.accessKeys.filter((k) => k !== key);
    return undefined;
  }

  private updateAccessKey(params: URLSearchParams, caller: Caller): undefined {
    const user = this.targetUser(params, caller);
    const key = this.accessKeyOf(user, params);
    const validator = new ParameterValidator(params);
    const status = validator.enumValue("Status", "status", ["Active", "Inactive"]);
    validator.check();
    key.status = status === "Inactive" ? "Inactive" : "Active";
    return undefined;
  }

  /** GET /federation?Action=getSigninToken: the console sign-in endpoint, for role sessions only. */
  private handleFederation(request: ReceivedRequest, res: ServerResponse): void {
    const query = new URLSearchParams(request.rawQuery);
    const action = query.get("Action") ?? "(no Action)";
    const session = parseFederationSession(query.get("Session"));
    try {
      const injected = this.takeInjectedFailure(action);
      if (injected) throw injected;
      const grant = this.grantSigninToken(request.method, action, session, query.get("SessionDuration"));
      this.signinTokens.push(grant);
      this.count(action, session?.sessionId, 200);
      this.send(res, 200, "application/json", JSON.stringify({ SigninToken: grant.signinToken }));
    } catch (error) {
      const fault = error instanceof AwsFault ? error : new AwsFault(500, "InternalFailure", String(error));
      this.count(action, session?.sessionId, fault.status, fault.code);
      this.send(res, fault.status, "text/plain", fault.message);
    }
  }

  private grantSigninToken(
    method: string,
    action: string,
    session: FederationSession | undefined,
    durationText: string | null,
  ): SigninTokenGrant {
    const refuse = (message: string): AwsFault => new AwsFault(400, "FederationError", message);
    if (method !== "GET" || action !== FEDERATION_ACTION) {
      throw refuse(`unsupported federation request: ${method} Action=${action}`);
    }
    if (!session) throw refuse("Session must be JSON with sessionId, sessionKey and sessionToken");
    const issued = this.sessions.get(session.sessionId)?.credentials;
    const valid =
      issued !== undefined &&
      issued.secretAccessKey === session.sessionKey &&
      issued.sessionToken === session.sessionToken &&
      issued.expiration.getTime() > this.now();
    if (!valid) throw refuse("invalid or expired session credentials");
    // The console takes role (and federation) sessions, never GetSessionToken sessions.
    if (issued.kind !== "AssumeRole") throw refuse("credentials from GetSessionToken cannot sign in");
    let sessionDuration: number | undefined;
    if (durationText !== null) {
      sessionDuration = Number(durationText);
      if (!Number.isInteger(sessionDuration) || sessionDuration < 900 || sessionDuration > 43200) {
        throw refuse(`SessionDuration must be an integer 900..43200, got ${durationText}`);
      }
    }
    return {
      signinToken: randomBytes(96).toString("base64url"),
      accessKeyId: issued.accessKeyId,
      sessionDuration,
    };
  }
}

interface FederationSession {
  sessionId: string;
  sessionKey: string;
  sessionToken: string;
}

function parseFederationSession(text: string | null): FederationSession | undefined {
  try {
    const value: unknown = JSON.parse(text ?? "");
    if (typeof value !== "object" || value === null) return undefined;
    const { sessionId, sessionKey, sessionToken } = value as Record<string, unknown>;
    if (typeof sessionId !== "string" || typeof sessionKey !== "string" || typeof sessionToken !== "string") {
      return undefined;
    }
    return { sessionId, sessionKey, sessionToken };
  } catch {
    return undefined;
  }
}

/** Starts the server on 127.0.0.1 with an ephemeral port. */
export async function startStsServer(options: StsServerOptions): Promise<StsServer> {
  const server = new StrictStsServer(options);
  await server.listen();
  return server;
}
