import {
  type AssumeRoleStep,
  deviceSerial,
  type KeysStep,
  type LeafStep,
  type MfaSessionStep,
  type Plan,
  type SessionLeafStep,
} from "../config/plan";
import { isSessionLeaf } from "../config/session-leaf";
import type { Properties } from "../config/types";
import { AppError } from "../errors";
import type { FileStamp } from "../fsio/file-stamp";
import { withLock } from "../fsio/lock";
import type { CallerIdentity, SessionCredentials } from "../sts/credentials";
import { userNameOf } from "../sts/credentials";
import {
  type CacheEntry,
  cacheDirectory,
  ensureCacheDirectory,
  entryPath,
  freshEntry,
  keepEntry,
  readEntry,
} from "./cache";
import { discoverDevice } from "./discover";
import {
  type CacheableStep,
  cacheableSteps,
  firstStepToDo,
  INTERMEDIATE_MIN_SECONDS,
  regionOf,
  stsEndpoints,
} from "./steps";

/**
 * Walks a plan from the leaf up: the highest step whose cached result is still good is where
 * work starts; every step above it is done under its own cross-process lock, so that of many
 * processes started at once one asks for the code and calls STS, and the others read its result.
 * The leaf is long-term keys, or a session the aws CLI signed in (session/sources/: its token
 * file, refreshed under its own lock), which needs no code and is the first cached step.
 */

export interface ObtainOptions {
  env: NodeJS.ProcessEnv;
  /** Hand out nothing with less than this left. */
  minTtlSeconds: number;
  /** Ignore every cached step. */
  force?: boolean;
  /** From --token-code; "-" reads stdin. */
  tokenCode?: string;
  /** The running command has --token-code (login, rotate, console); others send the user to `awsmfa login` for it. */
  takesTokenCode?: boolean;
  /** From --duration: overrides the plan's MFA session duration. */
  sessionDurationSeconds?: number;
  /** Tells a person something (never stdout). */
  notify: (message: string) => void;
}

export interface Obtained {
  plan: Plan;
  entry: CacheEntry;
  fromCache: boolean;
}

/** Waiters give up before the Go SDK kills a credential_process (60 s). */
const LOCK_WAIT_MS = 50_000;
/** The longest a holder can legitimately keep a step locked: a person at a prompt, then STS retries. */
const LOCK_STALE_MS = 10 * 60_000;
const MFA_ATTEMPTS = 3;

export async function obtainCredentials(selectedPlan: Plan, options: ObtainOptions): Promise<Obtained> {
  const plan = await discoverDevice(await keysForDiscovery(selectedPlan, options.env), options);
  const leaf = plan.leaf;
  const steps = cacheableSteps(plan);
  if (!steps) throw unsupportedLeaf(plan);
  const dir = cacheDirectory(options.env);
  ensureCacheDirectory(dir);

  const start = options.force ? 0 : firstStepToDo(dir, steps, options.minTtlSeconds);
  if (start === steps.length) {
    return {
      plan,
      entry: readEntry(dir, steps.at(-1) as CacheableStep) as CacheEntry,
      fromCache: true,
    };
  }
  // Undefined: the long-term keys, whose secret may still be in a store (read only if a call needs it).
  let below: Below | undefined =
    start === 0 ? undefined : belowFrom(readEntry(dir, steps[start - 1] as CacheableStep) as CacheEntry);
  let entry: CacheEntry | undefined;
  for (let index = start; index < steps.length; index++) {
    const target = steps[index] as CacheableStep;
    const { step, key } = target;
    const wanted = index === steps.length - 1 ? options.minTtlSeconds : INTERMEDIATE_MIN_SECONDS;
    const base = below;
    entry = await withLock(
      `${entryPath(dir, key)}.lock`,
      {
        timeoutMs: LOCK_WAIT_MS,
        staleMs: LOCK_STALE_MS,
        what: `the ${step.type} for profile '${plan.profile}'`,
        // A role without a code costs nothing to assume twice, nor a session to read twice (its
        // refresh has a lock of its own): on a full disk, what is in hand goes on.
        optional: isSessionLeaf(step) || (step.type === "assume-role" && step.mfaSerial === undefined),
        onWait: (holder) =>
          options.notify(`Waiting for awsmfa (pid ${holder.pid}), which is getting this session already…`),
      },
      async () => {
        if (!options.force) {
          const done = freshEntry(dir, target, wanted);
          if (done) return done;
        }
        let made: CacheEntry;
        if (isSessionLeaf(step)) {
          made = await signedInSession(step, plan, options, index === steps.length - 1 ? wanted : undefined);
        } else {
          const from = base ?? (await keysBelow(leaf, plan, options));
          made =
            step.type === "mfa-session"
              ? await startSession(step, from, plan, options, dir)
              : await assume(step, from, plan, options, dir);
        }
        keepEntry(dir, key, made, options.notify);
        return made;
      },
    );
    below = belowFrom(entry);
  }
  return { plan, entry: entry as CacheEntry, fromCache: false };
}

interface Below {
  credentials: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
  userName: string | undefined;
}

/** The long-term keys, for the first step above a keys leaf. */
async function keysBelow(leaf: LeafStep, plan: Plan, options: ObtainOptions): Promise<Below> {
  if (leaf.type !== "keys") throw unsupportedLeaf(plan);
  return { credentials: await longTermKeys(leaf, options.env), userName: undefined };
}

/**
 * A signed-in session's credentials, from the aws CLI's token file (refreshed when fewer than
 * `minTtlSeconds`, 5 minutes when absent, are left), as the entry the warm path answers from.
 */
async function signedInSession(
  leaf: SessionLeafStep,
  plan: Plan,
  options: ObtainOptions,
  minTtlSeconds?: number,
): Promise<CacheEntry> {
  const sources = await import("./sources");
  const { credentials, tokenFile } = await sources.readSessionCredentials(leaf, options.env, {
    region: regionOf(plan, options.env),
    minValidityMs: minTtlSeconds === undefined ? undefined : minTtlSeconds * 1000,
  });
  // An aws login session names its principal: the role session name above needs no call to STS.
  const principal = leaf.detail.login_session;
  return entryOf(leaf.type, plan, credentials, undefined, {
    userName: principal ? principalName(principal) : undefined,
    tokenFile,
  });
}

/** The name at the end of a principal's ARN: an IAM user's, or an assumed role's session (none for root). */
function principalName(arn: string): string | undefined {
  return userNameOf(arn) ?? (arn.includes("/") ? arn.split("/").at(-1) : undefined);
}

/** The leaf's keys with the secret, read from the profile's store (awsmfa_keys) only when a call needs it. */
async function longTermKeys(leaf: KeysStep, env: NodeJS.ProcessEnv): Promise<KeysStep> {
  if (!leaf.store) return leaf;
  const secrets = await import("../secrets");
  return secrets.withSecretKey(leaf, env);
}

/** discoverDevice() calls STS and IAM with the long-term keys when no profile names a device yet. */
async function keysForDiscovery(plan: Plan, env: NodeJS.ProcessEnv): Promise<Plan> {
  const leaf = plan.leaf;
  if (leaf.type !== "keys" || !leaf.store || deviceSerial(plan)) return plan;
  return { ...plan, leaf: await longTermKeys(leaf, env) };
}

function belowFrom(entry: CacheEntry): Below {
  return { credentials: entry.credentials, userName: entry.userName };
}

async function startSession(
  step: MfaSessionStep,
  below: Below,
  plan: Plan,
  options: ObtainOptions,
  dir: string,
): Promise<CacheEntry> {
  const sts = await import("../sts/client");
  const where = stsEndpoints(plan, options.env);
  const context = { profile: plan.profile, serial: step.serial, accessKeyId: below.credentials.accessKeyId };
  const durationSeconds = options.sessionDurationSeconds ?? step.durationSeconds;
  const credentials = await withMfaCode(plan, step.serial, options, dir, (tokenCode) =>
    sts.getSessionToken(
      below.credentials,
      { serialNumber: step.serial, tokenCode, durationSeconds },
      where,
      context,
    ),
  );
  // Only for the role session name and `status`; a session that works is not lost over it.
  const identity = await sts.getCallerIdentity(credentials, where, context).catch(() => undefined);
  return entryOf("mfa-session", plan, credentials, identity, { serial: step.serial });
}

async function assume(
  step: AssumeRoleStep,
  below: Below,
  plan: Plan,
  options: ObtainOptions,
  dir: string,
): Promise<CacheEntry> {
  const sts = await import("../sts/client");
  const where = stsEndpoints(plan, options.env);
  const context = {
    profile: plan.profile,
    serial: step.mfaSerial,
    accessKeyId: below.credentials.accessKeyId,
  };
  let userName = below.userName;
  if (userName === undefined && step.roleSessionName === null) {
    const caller = await sts.getCallerIdentity(below.credentials, where, context);
    userName = principalName(caller.arn);
  }
  const durationSeconds = roleDuration(step, plan, options);
  const params = {
    roleArn: step.roleArn,
    roleSessionName: step.roleSessionName ?? defaultSessionName(userName),
    externalId: step.externalId ?? undefined,
    durationSeconds,
  };
  const { credentials, identity } = step.mfaSerial
    ? await withMfaCode(plan, step.mfaSerial, options, dir, (tokenCode) =>
        sts.assumeRole(
          below.credentials,
          { ...params, serialNumber: step.mfaSerial, tokenCode },
          where,
          context,
        ),
      )
    : await sts.assumeRole(below.credentials, params, where, context);
  return entryOf("assume-role", plan, credentials, identity, { roleArn: step.roleArn, userName });
}

/** What the role profile asks for, within AWS's cap on the hop (the plan's maxDurationSeconds). */
function roleDuration(step: AssumeRoleStep, plan: Plan, options: ObtainOptions): number | undefined {
  const asked = step.durationSeconds;
  const cap = step.maxDurationSeconds;
  if (asked === null || cap === undefined || asked <= cap) return asked ?? undefined;
  options.notify(
    isSessionLeaf(plan.leaf)
      ? `Profile '${step.profile}' asks for ${asked} s, but AWS allows at most ${cap} s for a role assumed ` +
          "with a role's session (role chaining); using that, renewed silently from the signed-in session."
      : `Profile '${step.profile}' asks for ${asked} s, but AWS allows at most ${cap} s for a role ` +
          "assumed on a session; using that, renewed silently from the MFA session. " +
          "Set awsmfa_session = false on the profile to assume the role directly with the code for longer.",
  );
  return cap;
}

/** `awsmfa-<iam user>`, within the RoleSessionName rules ([\w+=,.@-]{2,64}). */
function defaultSessionName(userName: string | undefined): string {
  const name = `awsmfa-${(userName ?? "user").replace(/[^\w+=,.@-]/g, "-")}`;
  return name.slice(0, 64);
}

/**
 * Gets a code and makes the call that spends it. A wrong code typed by a person is asked for
 * again (three tries in all); a code from a flag, stdin or a program is never retried, since
 * retrying a wrong code only burns the next one.
 *
 * Profiles with other keys or roles but the same device hold other step locks, so the device
 * has its own lock around getting a code and sending it: otherwise two generators print the
 * same code and both send it. It is taken inside a step lock and never held while waiting for
 * another lock, so the order is always step, then device: no deadlock. The code is recorded as
 * spent before it is sent, so whoever gets the lock next (after a crash too) does not send it again.
 */
async function withMfaCode<T>(
  plan: Plan,
  serial: string,
  options: ObtainOptions,
  dir: string,
  call: (tokenCode: string) => Promise<T>,
): Promise<T> {
  const mfa = await import("../mfa");
  const request = {
    profile: plan.profile,
    serial,
    properties: mergedProperties(plan.chain),
    env: options.env,
    tokenCode: options.tokenCode,
    takesTokenCode: options.takesTokenCode,
    stateDir: dir,
    notice: undefined as string | undefined,
  };
  const lockOptions = {
    timeoutMs: LOCK_WAIT_MS,
    staleMs: LOCK_STALE_MS,
    what: `the MFA device ${serial}`,
    onWait: (holder: { pid: number }) =>
      options.notify(
        `Waiting for awsmfa (pid ${holder.pid}), which is using MFA device ${serial} for another profile…`,
      ),
  };
  return withLock(mfa.deviceLockPath(dir, serial), lockOptions, async () => {
    for (let attempt = 1; ; attempt++) {
      const code = await mfa.getMfaCode(request);
      mfa.recordCodeSending(request, code);
      try {
        const result = await call(code.code);
        mfa.recordCodeOutcome(request, code, true);
        return result;
      } catch (error) {
        const rejected = error instanceof AppError && error.code === "mfa-rejected";
        // Any other failure (network, throttling) leaves the code recorded as sent: AWS may have taken it.
        if (rejected) mfa.recordCodeOutcome(request, code, false);
        if (!rejected || !code.interactive || attempt >= MFA_ATTEMPTS) throw error;
        request.notice = `AWS did not accept that code (try ${attempt} of ${MFA_ATTEMPTS}); enter the next one.`;
      }
    }
  });
}

/** The chain's properties with the selected profile's winning, as a code source reads them. */
function mergedProperties(chain: Properties[]): Properties {
  return Object.assign({}, ...[...chain].reverse());
}

function entryOf(
  kind: CacheEntry["kind"],
  plan: Plan,
  credentials: SessionCredentials,
  identity: CallerIdentity | undefined,
  extra: { serial?: string; roleArn?: string; userName?: string; tokenFile?: FileStamp },
): CacheEntry {
  return {
    version: 1,
    kind,
    profile: plan.profile,
    credentials,
    ...(identity ? { identity } : {}),
    ...extra,
    userName: extra.userName ?? (identity ? userNameOf(identity.arn) : undefined),
    createdAt: new Date().toISOString(),
  };
}

function unsupportedLeaf(plan: Plan): AppError {
  const leaf = plan.leaf;
  const how: Record<string, string> = {
    sso: "an IAM Identity Center profile that lacks one of sso_account_id, sso_role_name, sso_start_url, sso_region",
    "web-identity": "a web identity token, which needs no MFA",
    "credential-source": `credential_source = ${leaf.type === "credential-source" ? leaf.detail.credential_source : ""}, which awsmfa does not handle`,
    "credential-process": "another credential_process, which awsmfa does not wrap",
  };
  return new AppError(
    "unsupported-profile",
    `Profile '${plan.profile}' gets its credentials from ${how[leaf.type] ?? leaf.type} (via profile '${leaf.profile}').`,
    {
      hint: "awsmfa works with profiles whose chain ends in an IAM user's access keys, an aws login session or an IAM Identity Center role.",
    },
  );
}
