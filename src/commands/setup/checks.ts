import { isIdentifier } from "../../config/ini";
import { AppError } from "../../errors";

/**
 * What a person gives setup — flags, or answers typed at its questions — checked by the same
 * rules either way, and the errors setup ends with when something is missing or refused.
 */

export interface SetupOptions {
  profile?: string;
  accessKeyId?: string;
  secretAccessKeyStdin?: boolean;
  importFromCredentials?: string | boolean;
  mfaSerial?: string;
  role?: string[];
  credentialProcessProfile?: string;
  region?: string;
  yes?: boolean;
  dryRun?: boolean;
  tokenCode?: string;
}

export interface RoleProfile {
  name: string;
  roleArn: string;
}

/** A credential_process profile: its name, and the profile whose credentials awsmfa gives it. */
export interface CliProfile {
  name: string;
  target: string;
}

export const ROLE_ARN = /^arn:aws[\w-]*:iam::\d{12}:role\/[\w+=,.@/-]+$/;
export const MFA_SERIAL = /^[\w+=/:,.@-]{9,256}$/;
const ACCESS_KEY_ID = /^[A-Z0-9]{16,128}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;

export const PROFILE_NAME_RULE = "letters, digits and - _ . / % @ : + only";

export function isRegion(value: string): boolean {
  return REGION.test(value);
}

export function parseRoleFlag(text: string): RoleProfile {
  const at = text.indexOf("=");
  const name = at < 0 ? "" : text.slice(0, at).trim();
  const roleArn = at < 0 ? "" : text.slice(at + 1).trim();
  if (!name || !ROLE_ARN.test(roleArn)) {
    throw usage(
      `--role '${text}' is not NAME=ROLE_ARN.`,
      "For example: --role admin=arn:aws:iam::123456789012:role/Admin",
    );
  }
  checkProfileName(name, "--role");
  return { name, roleArn };
}

/** --credential-process-profile NAME[=PROFILE]: PROFILE is the keys profile or one of the --role names. */
export function parseCliFlag(text: string, profile: string, roles: RoleProfile[]): CliProfile {
  const at = text.indexOf("=");
  const name = at < 0 ? text : text.slice(0, at);
  const target = at < 0 ? profile : text.slice(at + 1);
  checkProfileName(name, "--credential-process-profile");
  if (target !== profile && !roles.some((role) => role.name === target)) {
    throw usage(
      `--credential-process-profile '${text}': '${target}' is neither the keys profile '${profile}' nor a --role name.`,
      `For example: --credential-process-profile ${profile}-cli=${roles[0]?.name ?? profile}`,
    );
  }
  return { name, target };
}

export function checkNames(profile: string, roles: RoleProfile[], cliProfile: string | undefined): void {
  const names = [profile, ...roles.map((role) => role.name), ...(cliProfile ? [cliProfile] : [])];
  const twice = names.find((name, index) => names.indexOf(name) !== index);
  if (twice !== undefined) {
    throw usage(
      `Profile '${twice}' is named twice (the user profile, --role and --credential-process-profile each need their own).`,
    );
  }
}

export function checkProfileName(name: string, flag: string): void {
  if (!isIdentifier(name)) throw usage(`${flag} '${name}' is not a profile name: use ${PROFILE_NAME_RULE}.`);
}

export function accessKeyIdProblem(value: string): string | undefined {
  if (!ACCESS_KEY_ID.test(value)) return "an access key ID is 16 or more capital letters and digits (AKIA…)";
  if (value.startsWith("ASIA"))
    return "ASIA… is a temporary session key; give the IAM user's own key (AKIA…)";
  return undefined;
}

export function checkAccessKeyId(value: string, what: string): void {
  const problem = accessKeyIdProblem(value);
  if (problem) throw usage(`${what}: ${problem}.`);
}

/** Never quotes the value: it is a secret. */
export function checkSecret(value: string): void {
  if (/\s/.test(value) || value.length < 16) {
    throw usage(
      "The secret access key on standard input does not look like one (16 or more characters, no spaces).",
    );
  }
}

export function checkSerial(value: string, flag: string): void {
  if (!MFA_SERIAL.test(value)) throw usage(`${flag} '${value}' is not an MFA device ARN or serial number.`);
}

/**
 * An answer no flag gave, and nobody to ask: a usage error after --yes; otherwise there is no
 * terminal, the error every command meets there, and the hint is setup's way to run without one.
 */
export function missing(what: string, flags: string, yes: boolean | undefined): never {
  if (yes) throw usage(`Nothing is asked with --yes, and no flag gave ${what}: give it with ${flags}.`);
  throw noTerminal(
    `There is no terminal to ask for ${what} on.`,
    `Give it with ${flags}; add --dry-run to see the change without making it, --yes to make it.`,
  );
}

/** What setup would ask on a terminal it does not have. */
export function noTerminal(message: string, hint: string): AppError {
  return new AppError("no-terminal", message, { hint });
}

export function usage(message: string, hint?: string): AppError {
  return new AppError("setup-usage", message, { hint });
}

export function cancelled(): AppError {
  return new AppError("setup-cancelled", "Setup cancelled; nothing was written.", {});
}
