/**
 * When the credentials server renews what it holds, as plain arithmetic on seconds.
 *
 * For credentials of lifetime L (issue to expiry):
 * - `floor`: they are served while more than this is left, then never again (503 instead).
 *   For the credentials handed out, min(--min-ttl, L/4); for an MFA session under a role, the
 *   60 s below which awsmfa would not mint a role from it.
 * - `lead`: renewal starts this long before expiry: the floor plus a 10-minute window for retries
 *   (and for a person to answer a prompt), but never earlier than after a fraction of the
 *   lifetime, so that sessions of minutes (or seconds, in tests) are not renewed continuously:
 *   half of it for silent renewals, a fifth for ones that ask for a code (those must start at
 *   least 10 minutes before the end, and a 15-minute session, the shortest STS gives, still has
 *   12 left after a fifth).
 */

/** Time for retries between the start of a renewal and the moment the old credentials stop being served. */
export const RETRY_WINDOW_SECONDS = 600;
/** awsmfa does not build a role on an MFA session with less than this left (obtain.ts). */
export const INTERMEDIATE_FLOOR_SECONDS = 60;
const SILENT_AFTER_FRACTION = 0.5;
const CODE_AFTER_FRACTION = 0.2;

export function serveFloorSeconds(lifetimeSeconds: number, minTtlSeconds: number): number {
  return Math.max(0, Math.min(minTtlSeconds, lifetimeSeconds / 4));
}

export function leadSeconds(lifetimeSeconds: number, floorSeconds: number, asksForCode: boolean): number {
  const fraction = asksForCode ? CODE_AFTER_FRACTION : SILENT_AFTER_FRACTION;
  return Math.max(0, Math.min(floorSeconds + RETRY_WINDOW_SECONDS, lifetimeSeconds * (1 - fraction)));
}

/** Retry delay after `failures` failed renewals in a row: quick for short sessions, then backing off. */
export function retryDelaySeconds(lifetimeSeconds: number, failures: number, asksForCode: boolean): number {
  // A code source that failed is not asked again within the same 30-second code window.
  const base = asksForCode ? 30 : Math.min(30, Math.max(1, lifetimeSeconds / 8));
  return Math.min(base * 2 ** Math.max(0, failures - 1), asksForCode ? 600 : 300);
}
