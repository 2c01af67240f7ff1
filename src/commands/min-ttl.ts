import { AppError } from "../errors";

// No commander here: the warm path (warm.ts) reads --min-ttl with the same rule.

export const DEFAULT_MIN_TTL_SECONDS = 15 * 60;

/** --min-ttl: seconds, or with a unit (90s, 15m, 1h). */
export function parseMinTtl(text: string | undefined): number {
  if (text === undefined) return DEFAULT_MIN_TTL_SECONDS;
  const match = /^(\d+)([smh]?)$/.exec(text.trim());
  if (!match) {
    throw new AppError("bad-min-ttl", `--min-ttl '${text}' is not a duration.`, {
      hint: "Give seconds or a unit: 900, 15m, 1h.",
    });
  }
  const unit = { "": 1, s: 1, m: 60, h: 3600 }[match[2] as "" | "s" | "m" | "h"];
  return Number(match[1]) * unit;
}
