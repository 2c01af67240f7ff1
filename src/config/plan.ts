import { AppError } from "../errors";
import type { FileStamp } from "../fsio/file-stamp";
import { awsmfaCredentialProcessProfile } from "./own-command";
import {
  configError,
  isLoginSessionProfile,
  isRoleSession,
  isSessionLeaf,
  isSsoProfile,
  loginSessionLeaf,
  pick,
  ROLE_CHAINING_MAX_SECONDS,
  type SessionLeafStep,
  ssoLeaf,
} from "./session-leaf";
import type { ProfileSet, Properties } from "./types";
import { configWork } from "./work";

/**
 * profile → Plan: what it takes to get credentials for a profile, from the config files alone.
 * The chain rules are the cross-SDK ones (assume-role-tests.json); awsmfa adds the MFA session
 * step that the SDKs leave out. The leaf is long-term keys, a session the aws CLI signed in
 * (session-leaf.ts: `aws login`, IAM Identity Center), or a source awsmfa only reports.
 */

export type { SessionLeafStep } from "./session-leaf";

export interface KeysStep {
  type: "keys";
  profile: string;
  accessKeyId: string;
  /** Never printed: `plan --json` drops it. "" while it is still in `store`, until obtain() reads it. */
  secretAccessKey: string;
  /** awsmfa_keys when not `file`: where the secret is kept (secrets/); the id is awsmfa_access_key_id. */
  store?: string;
}

/** Leaves awsmfa reports but does not resolve itself. */
export interface ForeignLeafStep {
  type: "credential-source" | "web-identity" | "credential-process";
  profile: string;
  detail: Properties;
}

export interface MfaSessionStep {
  type: "mfa-session";
  profile: string;
  serial: string;
  durationSeconds: number;
}

export interface AssumeRoleStep {
  type: "assume-role";
  profile: string;
  roleArn: string;
  roleSessionName: string | null;
  externalId: string | null;
  durationSeconds: number | null;
  /** Set when this hop itself carries the code (awsmfa_session = false). */
  mfaSerial?: string;
  /** 3600 when AWS caps this hop at one hour (assumed with session credentials: role chaining). */
  maxDurationSeconds?: number;
}

export type LeafStep = KeysStep | SessionLeafStep | ForeignLeafStep;
export type Step = LeafStep | MfaSessionStep | AssumeRoleStep;

export interface Plan {
  profile: string;
  leaf: LeafStep;
  mfa: MfaSessionStep | undefined;
  roles: AssumeRoleStep[];
  /** Properties of the selected profile first, then each source below it (nearest wins). */
  chain: Properties[];
  /** The profile files' stamps taken just before they were read for this plan (loadPlan); the warm index records them. */
  filesRead?: FileStamp[];
}

const DEFAULT_SESSION_SECONDS = 43200;
const MIN_SESSION_SECONDS = 900;
const MAX_SESSION_SECONDS = 129600;

export function planSteps(plan: Plan): Step[] {
  return [plan.leaf, ...(plan.mfa ? [plan.mfa] : []), ...plan.roles];
}

/** The MFA device the plan uses, if its profiles name one: its own MFA step's, or the first role's (a code on AssumeRole). */
export function deviceSerial(plan: Plan): string | undefined {
  return plan.mfa?.serial ?? plan.roles[0]?.mfaSerial;
}

export function resolvePlan(set: ProfileSet, selected: string): Plan {
  configWork.resolutions += 1;
  const { leaf, roles: hops, visited } = resolveChain(set, selected);
  const chain = visited.map((name) => set.profiles[name] ?? {});
  const { mfa, roles } = mfaStep(leaf, hops, chain, selected);
  return { profile: selected, leaf, mfa, roles: withChainingCaps(leaf, mfa, roles), chain };
}

/** Keys with mfa_serial in the chain: an MFA session under the roles, or the code on the first role (awsmfa_session = false). */
function mfaStep(
  leaf: LeafStep,
  roles: AssumeRoleStep[],
  chain: Properties[],
  selected: string,
): { mfa: MfaSessionStep | undefined; roles: AssumeRoleStep[] } {
  const serial = nearest(chain, "mfa_serial");
  const sessionWanted = nearest(chain, "awsmfa_session")?.toLowerCase() !== "false";
  if (serial === undefined || leaf.type !== "keys") return { mfa: undefined, roles };
  const [firstRole, ...aboveIt] = roles;
  if (!sessionWanted && firstRole) {
    return { mfa: undefined, roles: [{ ...firstRole, mfaSerial: serial }, ...aboveIt] };
  }
  const mfa: MfaSessionStep = {
    type: "mfa-session",
    profile: leaf.profile,
    serial,
    durationSeconds: sessionDuration(chain, selected),
  };
  return { mfa, roles };
}

/**
 * A role assumed with session credentials lasts an hour at most: every hop above another role or
 * an MFA session, and the first hop over a leaf whose credentials are a role's session.
 */
function withChainingCaps(
  leaf: LeafStep,
  mfa: MfaSessionStep | undefined,
  roles: AssumeRoleStep[],
): AssumeRoleStep[] {
  const onSession = mfa !== undefined || (isSessionLeaf(leaf) && isRoleSession(leaf));
  return roles.map((role, index) =>
    index > 0 || onSession ? { ...role, maxDurationSeconds: ROLE_CHAINING_MAX_SECONDS } : role,
  );
}

/** The value of `key` in the profile nearest to the selected one that declares it. */
export function nearest(chain: Properties[], key: string): string | undefined {
  for (const properties of chain) {
    const value = properties[key];
    if (value !== undefined && value !== "") return value;
  }
  return undefined;
}

function sessionDuration(chain: Properties[], selected: string): number {
  const text = nearest(chain, "awsmfa_session_duration");
  if (text === undefined) return DEFAULT_SESSION_SECONDS;
  return checkSessionDuration(Number(text), `awsmfa_session_duration in profile '${selected}'`);
}

export function checkSessionDuration(seconds: number, what: string): number {
  if (!Number.isInteger(seconds) || seconds < MIN_SESSION_SECONDS || seconds > MAX_SESSION_SECONDS) {
    throw new AppError(
      "bad-duration",
      `${what} must be a whole number of seconds from ${MIN_SESSION_SECONDS} to ${MAX_SESSION_SECONDS}.`,
      { hint: "43200 (12 hours) is the default; 129600 (36 hours) is the most AWS allows." },
    );
  }
  return seconds;
}

interface Chain {
  leaf: LeafStep;
  roles: AssumeRoleStep[];
  /** Profiles walked, the selected one first. */
  visited: string[];
}

/** Costs the length of the chain, never the number of profiles: `status` resolves every one. */
function resolveChain(set: ProfileSet, selected: string): Chain {
  const visited: string[] = [];
  const roles: AssumeRoleStep[] = [];
  // The selected profile, and those an awsmfa credential_process names: each is resolved as if selected.
  const entered = new Set([selected]);
  let name = selected;
  for (;;) {
    const properties = set.profiles[name];
    if (properties === undefined) throw missingProfile(set, name, visited.at(-1), entered.has(name));
    if (visited.includes(name)) throw loopError([...visited, name], set);
    visited.push(name);
    // Compatibility rule: below the selected profile, static keys win over a role of that profile.
    if (!entered.has(name) && hasBothKeys(properties)) {
      return { leaf: staticKeys(name, properties), roles: roles.reverse(), visited };
    }
    const hop = roleHop(name, properties);
    if (hop === undefined) {
      const leaf = baseLeaf(set, name, properties);
      const next = ownCredentialProcessProfile(leaf);
      if (next === undefined) return { leaf, roles: roles.reverse(), visited };
      entered.add(next);
      name = next;
      continue;
    }
    roles.push(hop.step);
    if (hop.next.type !== "profile") return { leaf: hop.next, roles: roles.reverse(), visited };
    // A profile that names itself as its source uses its own keys, then assumes its role.
    if (hop.next.name === name)
      return { leaf: baseLeaf(set, name, properties), roles: roles.reverse(), visited };
    name = hop.next.name;
  }
}

/** The profile named by a credential_process that runs awsmfa itself: its credentials are that profile's. */
function ownCredentialProcessProfile(leaf: LeafStep): string | undefined {
  if (leaf.type !== "credential-process") return undefined;
  return awsmfaCredentialProcessProfile(leaf.detail.credential_process ?? "");
}

function loopError(path: string[], set: ProfileSet): AppError {
  const throughAwsmfa = path.some((name) => {
    const command = set.profiles[name]?.credential_process;
    return command !== undefined && awsmfaCredentialProcessProfile(command) !== undefined;
  });
  if (throughAwsmfa) {
    return new AppError(
      "credential-loop",
      `Profile '${path[0]}' leads back into awsmfa itself: ${path.join(" → ")} (through credential_process = awsmfa credential-process).`,
      {
        hint: "Point credential_process at the profile that holds the keys and mfa_serial, or at a role profile on top of it.",
      },
    );
  }
  return new AppError("profile-loop", `Profiles form a loop: ${path.join(" → ")}.`, {
    hint: "Change one source_profile so that the chain ends at a profile with keys.",
  });
}

type NextProfile = { type: "profile"; name: string } | ForeignLeafStep;

function roleHop(
  name: string,
  properties: Properties,
): { step: AssumeRoleStep; next: NextProfile } | undefined {
  const roleArn = properties.role_arn;
  if (!roleArn || properties.web_identity_token_file !== undefined) return undefined;
  const source = properties.source_profile;
  const credentialSource = properties.credential_source;
  if (source !== undefined && credentialSource !== undefined) {
    throw new AppError(
      "role-source-conflict",
      `Profile '${name}' has both source_profile and credential_source; only one may be set.`,
    );
  }
  if (source === undefined && credentialSource === undefined) {
    throw new AppError("role-without-source", `Profile '${name}' has role_arn but no source_profile.`, {
      hint: `Add source_profile = <profile with your access keys> to [profile ${name}].`,
    });
  }
  const step: AssumeRoleStep = {
    type: "assume-role",
    profile: name,
    roleArn,
    roleSessionName: properties.role_session_name ?? null,
    externalId: properties.external_id ?? null,
    durationSeconds: roleDuration(name, properties.duration_seconds),
  };
  if (credentialSource !== undefined) {
    return {
      step,
      next: { type: "credential-source", profile: name, detail: { credential_source: credentialSource } },
    };
  }
  return { step, next: { type: "profile", name: source as string } };
}

function roleDuration(name: string, text: string | undefined): number | null {
  if (text === undefined) return null;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 900 || seconds > 43200) {
    throw new AppError(
      "bad-role-duration",
      `duration_seconds in profile '${name}' must be a whole number from 900 to 43200.`,
    );
  }
  return seconds;
}

function baseLeaf(set: ProfileSet, name: string, properties: Properties): LeafStep {
  if (properties.credential_source !== undefined) {
    return foreign("credential-source", name, properties, ["credential_source"]);
  }
  if (properties.web_identity_token_file !== undefined) {
    if (!properties.role_arn) {
      throw new AppError(
        "web-identity-without-role",
        `Profile '${name}' has web_identity_token_file but no role_arn.`,
      );
    }
    return foreign("web-identity", name, properties, [
      "role_arn",
      "web_identity_token_file",
      "role_session_name",
    ]);
  }
  if (isSsoProfile(properties)) return ssoLeaf(set, name, properties);
  if (properties.credential_process !== undefined) {
    return foreign("credential-process", name, properties, ["credential_process"]);
  }
  if (isLoginSessionProfile(properties)) return loginSessionLeaf(name, properties);
  return staticKeys(name, properties);
}

function hasBothKeys(properties: Properties): boolean {
  return Boolean(
    (properties.aws_access_key_id && properties.aws_secret_access_key) ||
      (keyStore(properties) && properties.awsmfa_access_key_id),
  );
}

/** awsmfa_keys naming a store other than the credentials file (which store exists is secrets/' business). */
export function keyStore(properties: Properties): string | undefined {
  const store = properties.awsmfa_keys?.trim().toLowerCase();
  return store && store !== "file" ? store : undefined;
}

function staticKeys(name: string, properties: Properties): KeysStep {
  const store = keyStore(properties);
  if (store !== undefined) {
    const accessKeyId = properties.awsmfa_access_key_id;
    if (!accessKeyId) {
      throw new AppError(
        "partial-keys",
        `Profile '${name}' has awsmfa_keys = ${store} but no awsmfa_access_key_id.`,
        { hint: `Add awsmfa_access_key_id = <the access key id> to [profile ${name}] in the config file.` },
      );
    }
    return { type: "keys", profile: name, accessKeyId, secretAccessKey: "", store };
  }
  const accessKeyId = properties.aws_access_key_id;
  const secretAccessKey = properties.aws_secret_access_key;
  if (!accessKeyId && !secretAccessKey) {
    throw new AppError(
      "no-credentials",
      `Profile '${name}' has no credentials: no keys, role or other source.`,
      {
        hint: `Add aws_access_key_id and aws_secret_access_key for '${name}' to the credentials file, or run \`awsmfa setup -p ${name}\`.`,
      },
    );
  }
  if (!secretAccessKey) {
    throw new AppError(
      "partial-keys",
      `Profile '${name}' has aws_access_key_id but is missing aws_secret_access_key.`,
    );
  }
  if (!accessKeyId) {
    throw new AppError(
      "partial-keys",
      `Profile '${name}' has aws_secret_access_key but is missing aws_access_key_id.`,
    );
  }
  return { type: "keys", profile: name, accessKeyId, secretAccessKey };
}

function foreign(
  type: ForeignLeafStep["type"],
  name: string,
  properties: Properties,
  keys: string[],
): ForeignLeafStep {
  return { type, profile: name, detail: pick(properties, keys) };
}

function missingProfile(
  set: ProfileSet,
  name: string,
  referrer: string | undefined,
  namedByAwsmfa: boolean,
): AppError {
  const known = Object.keys(set.profiles).sort();
  if (known.length === 0) {
    return new AppError("no-profiles", "No profiles are defined in the AWS config or credentials file.", {
      hint: "Run `awsmfa setup` or `aws configure` to create one.",
    });
  }
  const list =
    known.length > 20 ? `${known.slice(0, 20).join(", ")}, … (${known.length} in all)` : known.join(", ");
  const how = namedByAwsmfa ? "named by the awsmfa credential_process of" : "source_profile of";
  const message =
    referrer === undefined
      ? `Profile '${name}' is not defined.`
      : `Profile '${name}' (${how} '${referrer}') is not defined.`;
  return configError("unknown-profile", message, { hint: `Known profiles: ${list}.` });
}
