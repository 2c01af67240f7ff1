import type { Plan } from "../config/plan";
import { AppError } from "../errors";
import { type CacheEntry, cacheDirectory, lifetimeSeconds, readEntry } from "../session/cache";
import { type Obtained, type ObtainOptions, obtainCredentials } from "../session/obtain";
import { asksForCode, type CacheableStep, cacheableSteps } from "../session/steps";
import type { Answer } from "./server";
import {
  INTERMEDIATE_FLOOR_SECONDS,
  leadSeconds,
  retryDelaySeconds,
  serveFloorSeconds,
} from "./server-schedule";

/**
 * Keeps a profile's credentials fresh in memory for the credentials server. Requests read
 * `answer()` (never waiting for anything); renewals run in the background, ahead of expiry
 * (server-schedule.ts says when), through obtainCredentials like every other command:
 *
 * - "top": the credentials handed out. Re-minted silently from the cached MFA session when they
 *   are a role's; when they are the MFA session itself (or a role assumed with the code), or the
 *   MFA session under the role is about to end, renewing them asks for a code.
 * - "code": the MFA session under a role, renewed (asking for a code: terminal or configured
 *   source) at least 10 minutes before it ends, while the roles are still re-minted from the old one.
 *
 * Over a session the aws CLI signed in (`aws login`, Identity Center) nothing asks for a code:
 * every renewal is silent, and re-reads the session (refreshing its token when near its end).
 *
 * At most one renewal that may ask for a code runs at a time. A failure is reported once on
 * stderr and retried with backoff; credentials that reached their floor are never answered:
 * requests get a 503 that says why.
 */

export interface KeeperOptions {
  /** The plan as obtainCredentials returned it (with the MFA device found). */
  plan: Plan;
  /** What the first obtainCredentials returned. */
  entry: CacheEntry;
  /** --min-ttl: least validity handed out (capped at a quarter of short lifetimes). */
  minTtlSeconds: number;
  /** For obtainCredentials: endpoints, cache directory, code sources (session/resolving.ts resolvingEnvironment). */
  env: NodeJS.ProcessEnv;
  /** One line for a person on stderr; never given a secret. */
  notify: (message: string) => void;
  /** Replaceable in tests. */
  obtain?: (plan: Plan, options: ObtainOptions) => Promise<Obtained>;
  now?: () => number;
}

type Kind = "top" | "code";

interface Flight {
  running: boolean;
  /** This flight may ask for a code. */
  prompting: boolean;
  failures: number;
  retryAt: number | undefined;
  error: unknown;
  lastSuccessAt: number;
  /** Failure messages already printed since the last success. */
  reported: Set<string>;
}

/** Re-evaluate at least this often: timers do not run while a laptop sleeps, the wall clock does. */
const MAX_SLEEP_MS = 60_000;
/** Never renew the same thing twice within this, whatever the clocks say. */
const MIN_RENEW_INTERVAL_MS = 1_000;
/** A role is minted silently only from an MFA session with at least this much left. */
const SILENT_MARGIN_SECONDS = INTERMEDIATE_FLOOR_SECONDS + 5;

export class CredentialsKeeper {
  private plan: Plan;
  private current: CacheEntry;
  private codeEntry: CacheEntry | undefined;
  private readonly codeStep: CacheableStep | undefined;
  private readonly topIsCodeStep: boolean;
  private readonly flights: Record<Kind, Flight> = { top: newFlight(), code: newFlight() };
  private readonly told = new Set<string>();
  private readonly obtain: (plan: Plan, options: ObtainOptions) => Promise<Obtained>;
  private readonly now: () => number;
  private timer: NodeJS.Timeout | undefined;
  private wakeAt = Number.POSITIVE_INFINITY;
  private started = false;
  private stopped = false;

  constructor(private readonly options: KeeperOptions) {
    this.plan = options.plan;
    this.current = options.entry;
    this.obtain = options.obtain ?? obtainCredentials;
    this.now = options.now ?? Date.now;
    const steps = cacheableSteps(options.plan) ?? [];
    const withCode = asksForCode(steps, 0);
    this.topIsCodeStep = withCode && steps.length <= 1;
    this.codeStep = withCode && steps.length > 1 ? steps[0] : undefined;
    this.codeEntry = this.readCodeEntry();
  }

  start(): void {
    this.started = true;
    this.tick();
  }

  /** Stops renewing. True when a renewal is still running (it may be waiting at a prompt). */
  stop(): boolean {
    this.stopped = true;
    clearTimeout(this.timer);
    return this.flights.top.running || this.flights.code.running;
  }

  /** What a request gets now: from memory, at once. */
  answer(): Answer {
    const now = this.now();
    if (this.started && !this.stopped && now > this.wakeAt + MIN_RENEW_INTERVAL_MS) this.tick();
    const left = secondsLeft(this.current, now);
    if (left > serveFloorSeconds(lifetimeSeconds(this.current), this.options.minTtlSeconds)) {
      return { credentials: this.current.credentials };
    }
    const what = `the credentials of profile '${this.plan.profile}'`;
    const top = this.flights.top;
    const code = this.flights.code;
    const prompting = this.promptingBusy();
    if (top.error !== undefined && !prompting) {
      return { code: "RefreshFailed", message: `awsmfa could not renew ${what}: ${describe(top.error)}` };
    }
    if (prompting) {
      const last = top.error ?? code.error;
      return {
        code: "MfaCodeNeeded",
        message:
          `Renewing ${what} needs a new MFA session; awsmfa is waiting for an MFA code ` +
          `(on its terminal, or from the profile's code source).${last === undefined ? "" : ` Last attempt: ${describe(last)}`}`,
      };
    }
    if (code.error !== undefined) {
      return {
        code: "RefreshFailed",
        message: `awsmfa could not renew the MFA session of ${what}: ${describe(code.error)}`,
      };
    }
    return {
      code: "Renewing",
      message: `${capitalize(what)} expired and are being renewed; try again in a moment.`,
    };
  }

  private readCodeEntry(): CacheEntry | undefined {
    if (!this.codeStep) return undefined;
    try {
      return readEntry(cacheDirectory(this.options.env), this.codeStep);
    } catch {
      return undefined; // an unsafe cache file: the renewal reports it
    }
  }

  /** Renewing the handed-out credentials would ask for a code. */
  private topAsksForCode(): boolean {
    if (this.codeStep === undefined) return this.topIsCodeStep;
    return this.codeEntry === undefined || secondsLeft(this.codeEntry, this.now()) < SILENT_MARGIN_SECONDS;
  }

  private asksForCode(kind: Kind): boolean {
    return kind === "code" || this.topAsksForCode();
  }

  private promptingBusy(): boolean {
    return (this.flights.top.running && this.flights.top.prompting) || this.flights.code.running;
  }

  private canLaunch(kind: Kind): boolean {
    if (kind === "code" && !this.codeStep) return false;
    if (this.flights[kind].running) return false;
    return !(this.asksForCode(kind) && this.promptingBusy());
  }

  /** When `kind` should next be renewed (ms since the epoch). */
  private dueAt(kind: Kind): number {
    const flight = this.flights[kind];
    const earliest = flight.lastSuccessAt + MIN_RENEW_INTERVAL_MS;
    if (flight.retryAt !== undefined) return Math.max(flight.retryAt, earliest);
    if (kind === "top") {
      const lifetime = lifetimeSeconds(this.current);
      const floor = serveFloorSeconds(lifetime, this.options.minTtlSeconds);
      const lead = leadSeconds(lifetime, floor, this.topAsksForCode());
      return Math.max(expiresAt(this.current) - lead * 1000, earliest);
    }
    if (!this.codeEntry) return earliest;
    const lead = leadSeconds(lifetimeSeconds(this.codeEntry), INTERMEDIATE_FLOOR_SECONDS, true);
    return Math.max(expiresAt(this.codeEntry) - lead * 1000, earliest);
  }

  private tick(): void {
    if (this.stopped) return;
    const now = this.now();
    // The MFA session first: when both are due, the role then waits for (and uses) the new session.
    for (const kind of ["code", "top"] as const) {
      if (this.canLaunch(kind) && this.dueAt(kind) <= now) this.launch(kind);
    }
    let next = now + MAX_SLEEP_MS;
    for (const kind of ["code", "top"] as const) {
      if (this.canLaunch(kind)) next = Math.min(next, this.dueAt(kind));
    }
    clearTimeout(this.timer);
    this.wakeAt = Math.max(next, now);
    this.timer = setTimeout(() => this.tick(), Math.max(0, next - now));
    this.timer.unref();
  }

  private launch(kind: Kind): void {
    const flight = this.flights[kind];
    flight.running = true;
    flight.prompting = this.asksForCode(kind);
    this.renew(kind).finally(() => {
      flight.running = false;
      flight.prompting = false;
      this.tick();
    });
  }

  private async renew(kind: Kind): Promise<void> {
    const flight = this.flights[kind];
    const before = kind === "top" ? this.current : this.codeEntry;
    const left = before === undefined ? 0 : secondsLeft(before, this.now());
    // Ask for more than what is held now, or obtainCredentials would hand back the same from its cache.
    const floor = kind === "top" ? this.options.minTtlSeconds : INTERMEDIATE_FLOOR_SECONDS;
    const minTtlSeconds = Math.max(floor, Math.ceil(left) + 1);
    const plan = kind === "top" ? this.plan : { ...this.plan, roles: [] };
    try {
      const obtained = await this.obtain(plan, {
        env: this.options.env,
        minTtlSeconds,
        notify: (message) => this.tellOnce(message),
      });
      if (this.stopped) return;
      const entry = obtained.entry;
      const lifetime = lifetimeSeconds(entry);
      const usableFloor = kind === "top" ? serveFloorSeconds(lifetime, this.options.minTtlSeconds) : 0;
      if (secondsLeft(entry, this.now()) <= usableFloor) {
        throw new AppError(
          "renewed-expired",
          `STS gave credentials that expire at ${entry.credentials.expiration}, already (nearly) expired.`,
          { hint: "Check that this machine's clock is right." },
        );
      }
      const signedIn = entry.kind === "login-session" || entry.kind === "sso";
      if (signedIn && before !== undefined && expiresAt(entry) <= expiresAt(before)) {
        // A signed-in session whose refresh failed hands back what is left of it: not a renewal.
        throw new AppError(
          "not-renewed",
          "the session could not be refreshed yet; what is left of it is still served.",
          {},
        );
      }
      if (kind === "top") {
        this.current = entry;
        this.plan = { ...obtained.plan };
        this.codeEntry = this.readCodeEntry();
      } else {
        this.codeEntry = entry;
      }
      if (flight.reported.size > 0) {
        this.options.notify(`Renewed the ${noun(kind)} of profile '${this.plan.profile}' again.`);
      }
      Object.assign(flight, {
        failures: 0,
        retryAt: undefined,
        error: undefined,
        lastSuccessAt: this.now(),
        reported: new Set(),
      });
    } catch (error) {
      if (this.stopped) return;
      flight.failures += 1;
      flight.error = error;
      const lifetime = before ? lifetimeSeconds(before) : 0;
      flight.retryAt = this.now() + retryDelaySeconds(lifetime, flight.failures, flight.prompting) * 1000;
      const text = describe(error);
      if (!flight.reported.has(text)) {
        flight.reported.add(text);
        this.options.notify(
          `Could not renew the ${noun(kind)} of profile '${this.plan.profile}' (retrying in the background): ${text}`,
        );
      }
    }
  }

  private tellOnce(message: string): void {
    if (this.told.has(message)) return;
    this.told.add(message);
    this.options.notify(message);
  }
}

function newFlight(): Flight {
  return {
    running: false,
    prompting: false,
    failures: 0,
    retryAt: undefined,
    error: undefined,
    lastSuccessAt: Number.NEGATIVE_INFINITY,
    reported: new Set(),
  };
}

function noun(kind: Kind): string {
  return kind === "top" ? "credentials" : "MFA session";
}

function expiresAt(entry: CacheEntry): number {
  return Date.parse(entry.credentials.expiration);
}

/** Unrounded, unlike the cache's: the schedule works with sessions of a few seconds in tests. */
function secondsLeft(entry: CacheEntry, now: number): number {
  return (expiresAt(entry) - now) / 1000;
}

/** An error as one line for a person: AppError messages never carry secrets; anything else is a bug's message. */
function describe(error: unknown): string {
  if (error instanceof AppError) return error.hint ? `${error.message} ${error.hint}` : error.message;
  return `unexpected error: ${(error as Error)?.message ?? String(error)}`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
