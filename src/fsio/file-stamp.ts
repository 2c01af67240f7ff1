import { type BigIntStats, statSync } from "node:fs";
import { errnoCode } from "../errors";

/** A file's stamp (stampOf) under its path. */
export interface FileStamp {
  path: string;
  stamp: string | null;
}

/**
 * What says a file is unchanged without reading it: size, inode, mtime and ctime in nanoseconds,
 * taken before the file is read, so that a write during the read shows at the next comparison.
 * Null when the file does not exist.
 */
export function stampOf(path: string): string | null {
  let stat: BigIntStats;
  try {
    stat = statSync(path, { bigint: true });
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw error;
  }
  return `${stat.size}:${stat.ino}:${stat.mtimeNs}:${stat.ctimeNs}`;
}

/**
 * Whether the file still has the stamp recorded: false when it changed, is gone, or cannot be
 * looked at (a stat that fails is a change, never an error: the caller reads the file itself and
 * says why).
 */
export function stillStamped(recorded: FileStamp): boolean {
  try {
    return recorded.stamp !== null && stampOf(recorded.path) === recorded.stamp;
  } catch {
    return false;
  }
}

/**
 * A name for a file of awsmfa's own from its key. Non-cryptographic: the content is checked on
 * read, so a collision is a miss, never a wrong answer; and the warm path is spared loading
 * node:crypto (about as costly as everything else it does). 32 hex digits.
 */
/** cyrb128 (bryc, public domain): four 32-bit lanes over the UTF-16 code units, then mixed. */
export function hash128(text: string): string {
  let h1 = 1779033703;
  let h2 = 3144134277;
  let h3 = 1013904242;
  let h4 = 2773480762;
  for (let index = 0; index < text.length; index++) {
    const k = text.charCodeAt(index);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1, h2, h3, h4].map((lane) => (lane >>> 0).toString(16).padStart(8, "0")).join("");
}
