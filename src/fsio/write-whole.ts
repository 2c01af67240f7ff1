import { randomBytes } from "node:crypto";
import { closeSync, fchmodSync, fsyncSync, openSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";

/**
 * Writes `data` to `path` whole or not at all: a temp file in the same directory (so the
 * rename stays on one filesystem), fsync, rename over the target, fsync the directory.
 * The temp file is created with `mode` directly (O_EXCL, never a moment with wider bits)
 * and chmod'ed by fd too, because the umask may have narrowed or the caller asks exact bits.
 */
export function writeWhole(path: string, data: string | Uint8Array, mode: number): void {
  const dir = dirname(path);
  const temp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(4).toString("hex")}.tmp`);
  const fd = openSync(temp, "wx", mode);
  try {
    try {
      const bytes = typeof data === "string" ? Buffer.from(data, "utf8") : data;
      let offset = 0;
      while (offset < bytes.length) offset += writeSync(fd, bytes, offset, bytes.length - offset);
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
