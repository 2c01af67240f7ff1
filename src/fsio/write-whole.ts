import { closeSync, fchmodSync, fsyncSync, openSync, readdirSync, renameSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { processIsAlive } from "./process-alive";
import { writeAll } from "./write-all";

/**
 * Writes `data` to `path` whole or not at all: a temp file in the same directory (so the
 * rename stays on one filesystem), fsync, rename over the target, fsync the directory.
 * The temp file is created with `mode` directly (O_EXCL, never a moment with wider bits)
 * and chmod'ed by fd too, because the umask may have narrowed or the caller asks exact bits.
 */
export function writeWhole(path: string, data: string | Uint8Array, mode: number): void {
  const dir = dirname(path);
  // node:crypto loaded here, not at the top: this module is in the warm bundle, which must not pay for it.
  const { randomBytes } = process.getBuiltinModule("node:crypto");
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", mode);
  try {
    try {
      writeAll(fd, data);
      fchmodExact(fd, mode);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    try {
      unlinkSync(temp);
    } catch {
      // the temp file is gone already or was never made
    }
    throw error;
  }
  syncDirectory(dir);
  removeOrphanedTemps(dir, basename(path));
}

/**
 * A writer killed between creating its temp file and the rename leaves the temp file behind;
 * it may hold secrets (a credentials file's keys), so the next writer of the same file removes
 * those whose process is gone.
 */
function removeOrphanedTemps(dir: string, name: string): void {
  const prefix = `.${name}.`;
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return;
  }
  for (const entry of entries) {
    if (!entry.startsWith(prefix) || !entry.endsWith(".tmp")) continue;
    const pid = Number(entry.slice(prefix.length).split(".")[0]);
    if (!Number.isInteger(pid) || pid === process.pid || processIsAlive(pid)) continue;
    try {
      unlinkSync(join(dir, entry));
    } catch {
      // removed by another writer meanwhile
    }
  }
}

function fchmodExact(fd: number, mode: number): void {
  if (process.platform === "win32") return;
  fchmodSync(fd, mode);
}

/** Makes a rename durable across power loss; not possible (nor needed) on Windows. */
function syncDirectory(dir: string): void {
  if (process.platform === "win32") return;
  let fd: number | undefined;
  try {
    fd = openSync(dir, "r");
    fsyncSync(fd);
  } catch {
    // some filesystems refuse fsync on a directory; the rename itself is still atomic
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
