import { type CacheEntry, secondsLeft } from "../session/cache";

/** When cached credentials expire, in the local time zone, and how long that is from now. */
export function expiryText(entry: CacheEntry): string {
  const local = new Date(entry.credentials.expiration).toLocaleString(undefined, {
    dateStyle: "medium",
    timeStyle: "long",
  });
  return `${local} (in ${humanDuration(secondsLeft(entry))})`;
}

/** Time left, as a person reads it: 89 days, 11 h 58 min, 14 min, 40 s, expired. */
export function humanDuration(seconds: number): string {
  if (seconds <= 0) return "expired";
  const hours = Math.floor(seconds / 3600);
  // An Identity Center client registration lasts 90 days.
  if (hours >= 48) return `${Math.floor(hours / 24)} days`;
  const minutes = Math.floor((seconds % 3600) / 60);
  if (hours > 0) return `${hours} h ${minutes} min`;
  if (minutes > 0) return `${minutes} min`;
  return `${seconds} s`;
}
