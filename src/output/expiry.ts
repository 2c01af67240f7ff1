import { type CacheEntry, secondsLeft } from "../session/cache";

/**
 * When credentials expire: local time with its offset from UTC, and how long that is from now.
 * The offset comes from Date alone: a time-zone name (toLocaleString) loads ICU's locale and zone
 * data, about 15 ms on every `plan`, `login` and `logout`.
 */
export function expiryText(entry: CacheEntry): string {
  return `${localTimeText(new Date(entry.credentials.expiration))} (in ${humanDuration(secondsLeft(entry))})`;
}

/** "2026-11-30 16:03:27 UTC-05:00" (TZ=America/New_York), "2026-11-30 21:03:27 UTC" (TZ=UTC). */
function localTimeText(date: Date): string {
  const two = (n: number) => String(n).padStart(2, "0");
  const day = `${date.getFullYear()}-${two(date.getMonth() + 1)}-${two(date.getDate())}`;
  const time = `${two(date.getHours())}:${two(date.getMinutes())}:${two(date.getSeconds())}`;
  // getTimezoneOffset is UTC minus local time, in minutes: -330 for UTC+05:30.
  const offset = -date.getTimezoneOffset();
  const sign = offset < 0 ? "-" : "+";
  const zone =
    offset === 0
      ? "UTC"
      : `UTC${sign}${two(Math.floor(Math.abs(offset) / 60))}:${two(Math.abs(offset) % 60)}`;
  return `${day} ${time} ${zone}`;
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
