import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from "node:fs";
import { errnoCode } from "../errors";

/**
 * Reads one of awsmfa's own small files (a cache entry, the warm index, a lock, the step memory)
 * only if it is a regular file. It is opened with O_NONBLOCK, so that a FIFO or a device put in
 * its place never blocks the open, and judged by the fstat of the descriptor it would read, so
 * that nothing can be swapped in between: a FIFO is never read, and never hangs the caller.
 * Two syscalls besides the read, as a plain open and fstat would be.
 */
export type RegularFile = { text: string; stat: Stats } | { missing: true } | { notRegular: string };

// O_NONBLOCK does not exist on Windows, where a FIFO cannot stand in for a file this way.
const OPEN_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0);

export function readRegularFile(path: string): RegularFile {
  let opened: ReturnType<typeof openRegularFile>;
  try {
    opened = openRegularFile(path);
  } catch (error) {
    // A path through a file (damaged cache directory): nothing there, as for a missing file.
    if (errnoCode(error) === "ENOTDIR") return { missing: true };
    throw error;
  }
  if (!("fd" in opened)) return opened;
  try {
    return { text: readFileSync(opened.fd, "utf8"), stat: opened.stat };
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * The same check for a file read another way (bytes, a size limit first): the open descriptor and
 * its stat, which the caller closes; or why there is nothing to read. Only ENOENT is "missing":
 * a path through a file (ENOTDIR) is the caller's to judge.
 */
export function openRegularFile(
  path: string,
): { fd: number; stat: Stats } | { missing: true } | { notRegular: string } {
  let fd: number;
  try {
    fd = openSync(path, OPEN_FLAGS);
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") return { missing: true };
    // A unix socket cannot be opened at all.
    if (code === "ENXIO") return { notRegular: "a socket" };
    throw error;
  }
  try {
    const stat = fstatSync(fd);
    if (stat.isFile()) return { fd, stat };
    closeSync(fd);
    return { notRegular: kindOf(stat) };
  } catch (error) {
    closeSync(fd);
    throw error;
  }
}

function kindOf(stat: Stats): string {
  if (stat.isFIFO()) return "a FIFO";
  if (stat.isDirectory()) return "a directory";
  if (stat.isCharacterDevice() || stat.isBlockDevice()) return "a device";
  if (stat.isSocket()) return "a socket";
  return "something other than a regular file";
}
