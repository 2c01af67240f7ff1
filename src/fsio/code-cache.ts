import { closeSync, fstatSync, openSync, readdirSync, readFileSync, statSync, unlinkSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Script } from "node:vm";
import { hash128, stampOfStat } from "./file-stamp";
import { privacyProblem } from "./private-file";
import { openRegularFile } from "./regular-file";
import { writeWhole } from "./write-whole";

/**
 * Runs a CommonJS bundle as Node's loader would, but from V8's code cache when awsmfa's cache
 * directory holds one made from exactly this file: compiling the warm bundle is a good part of
 * what the warm path costs above `node -e 0`, and Node 20 has no compile cache of its own
 * (`module.enableCompileCache` came in 22.1). One mechanism for every Node version.
 *
 * A code cache is code: it is used only when it is a regular file of ours that nobody else may
 * read or write, in a directory of ours that nobody else may write. V8 checks its own version and
 * flags but, of the source, only the length; so the file's name carries the bundle's stamp (size,
 * inode, mtime, ctime of the file that was read), Node's version and arch and the flags Node was
 * started with: another build of the same length is another name, never a stale hit. Made when
 * missing or refused, at exit, after the bundle's functions have run and been compiled; never by
 * creating the directory (the cache's own first write does). Any failure is only a slower start.
 */

const WRAPPER_START = "(function (exports, require, module, __filename, __dirname) { ";
const WRAPPER_END = "\n})";
const PREFIX = "code-";
const SUFFIX = ".v8cache";
/** More than any bundle of ours compiles to: a larger file is not one of ours. */
const MAX_BYTES = 16 * 1024 * 1024;
/** Code caches of other builds or Node versions are removed when this old (kept a while: two Node versions may share a home). */
const OTHER_BUILDS_KEPT_MS = 30 * 24 * 3600 * 1000;

export function runCompiled(bundle: string, cacheDir: string | undefined, hostRequire: NodeJS.Require): void {
  const fd = openSync(bundle, "r");
  let source: string;
  let stamp: string;
  try {
    stamp = stampOfStat(fstatSync(fd, { bigint: true }));
    source = readFileSync(fd, "utf8");
  } finally {
    closeSync(fd);
  }
  const cachePath = cacheDir === undefined ? undefined : codeCachePath(cacheDir, stamp);
  const cachedData = cachePath === undefined ? undefined : readCodeCache(cachePath);
  const script = new Script(`${WRAPPER_START}${source}${WRAPPER_END}`, { filename: bundle, cachedData });
  if (cachePath !== undefined && (cachedData === undefined || script.cachedDataRejected)) {
    process.once("exit", () => keepCodeCache(cachePath, script));
  }
  const module = { exports: {} };
  script.runInThisContext()(module.exports, hostRequire, module, bundle, dirname(bundle));
}

/** The code cache's path for a bundle of this stamp, run by this Node with these flags. */
export function codeCachePath(cacheDir: string, bundleStamp: string): string {
  const identity = [bundleStamp, process.version, process.arch, ...process.execArgv].join("\n");
  return join(cacheDir, `${PREFIX}${hash128(identity)}${SUFFIX}`);
}

function readCodeCache(path: string): Buffer | undefined {
  try {
    const opened = openRegularFile(path);
    if (!("fd" in opened)) return undefined;
    try {
      if (privacyProblem(opened.stat) !== undefined || opened.stat.size > MAX_BYTES) return undefined;
      return readFileSync(opened.fd);
    } finally {
      closeSync(opened.fd);
    }
  } catch {
    return undefined;
  }
}

function keepCodeCache(path: string, script: Script): void {
  try {
    const dir = dirname(path);
    if (privacyProblem(statSync(dir)) !== undefined) return;
    writeWhole(path, script.createCachedData(), 0o600);
    removeOtherBuilds(dir, basename(path));
  } catch {
    // no directory yet, a full disk, a directory not ours: the next start compiles, as without a cache
  }
}

function removeOtherBuilds(dir: string, kept: string): void {
  const now = Date.now();
  for (const name of readdirSync(dir)) {
    if (name === kept || !name.startsWith(PREFIX) || !name.endsWith(SUFFIX)) continue;
    const path = join(dir, name);
    try {
      if (now - statSync(path).mtimeMs > OTHER_BUILDS_KEPT_MS) unlinkSync(path);
    } catch {
      // removed by another process meanwhile
    }
  }
}
