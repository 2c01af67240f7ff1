import {
  closeSync,
  constants,
  fchmodSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  unlinkSync,
} from "node:fs";
import { dirname } from "node:path";
import { AppError, errnoCode } from "../errors";
import { writeAll } from "../fsio/write-all";

/**
 * `serve --token-file`: the server's token in a file of its own, for clients that read
 * AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE. The path is the user's to choose, so it may name
 * anything (a typo away from ~/.aws/credentials): the file is only ever created new (O_EXCL),
 * 0600, in a directory nobody else can write; an existing path is replaced only when it is
 * awsmfa's own earlier token file; and on exit only the file this process created is removed.
 */

/**
 * A file this process wrote at a path the user chose (the token file, `--container-env`): removed on
 * exit only while the path still names this very file, holding what was written.
 */
export interface OwnFile {
  readonly path: string;
  readonly contents: string;
  readonly dev: number;
  readonly ino: number;
}

/**
 * awsmfa's own token file, as an earlier `serve` killed before its clean-up left it: exactly one
 * token (43 characters of base64url, no newline), a regular file of ours with mode 0600 and one
 * link. No file a person keeps has that shape; see SECURITY.md.
 */
const TOKEN_FILE_SHAPE = /^[A-Za-z0-9_-]{43}$/;
const TOKEN_FILE: ChosenPath = { flag: "--token-file", example: "~/.aws/awsmfa/token" };

/** The flag that chose a path, and a good path to suggest instead, for the messages. */
export interface ChosenPath {
  readonly flag: string;
  readonly example: string;
}
export const OWN_FILE_MODE = 0o600;
const CREATE_NEW = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | (constants.O_NOFOLLOW ?? 0);

/** Creates `path` holding `token`, or refuses (nothing changed) and says why and what to do. */
export function createTokenFile(path: string, token: string, notify: (message: string) => void): OwnFile {
  checkOwnDirectory(dirname(path), TOKEN_FILE);
  try {
    return createNew(path, token);
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") throw cannotWrite(path, error);
  }
  if (!isEarlierOwnFile(path, TOKEN_FILE_SHAPE)) {
    throw new AppError(
      "token-file-exists",
      `--token-file ${path} already exists and is not a token file of awsmfa's; it was left as it is.`,
      { hint: "Give --token-file a path where nothing is yet, e.g. ~/.aws/awsmfa/token." },
    );
  }
  try {
    unlinkSync(path);
    const created = createNew(path, token);
    notify(`Replaced ${path}, a token file left behind by an earlier serve of awsmfa.`);
    return created;
  } catch (error) {
    throw cannotWrite(path, error);
  }
}

/** Removes the file if the path still names the one this process created, unchanged. */
export function removeOwnFile(file: OwnFile, notify: (message: string) => void): void {
  try {
    const stat = lstatSync(file.path);
    if (stat.dev !== file.dev || stat.ino !== file.ino || !stat.isFile()) return;
    if (readFileSync(file.path, "utf8") !== file.contents) return;
    unlinkSync(file.path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") notify(`Could not remove ${file.path}: ${(error as Error).message}`);
  }
}

function createNew(path: string, token: string): OwnFile {
  const fd = openSync(path, CREATE_NEW, OWN_FILE_MODE);
  let stat: { dev: number; ino: number };
  try {
    // Exactly 0600 whatever the umask; no newline: some SDKs send the file's bytes as they are.
    if (process.platform !== "win32") fchmodSync(fd, OWN_FILE_MODE);
    writeAll(fd, token);
    stat = fstatSync(fd);
  } catch (error) {
    closeSync(fd);
    unlinkSync(path);
    throw error;
  }
  closeSync(fd);
  return { path, contents: token, dev: stat.dev, ino: stat.ino };
}

/**
 * Whether `path` is a file an earlier awsmfa left there: a regular file of ours, mode 0600, one
 * link, small, whose whole text has `shape` (which no file a person keeps has).
 */
export function isEarlierOwnFile(path: string, shape: RegExp): boolean {
  try {
    const stat = lstatSync(path);
    if (!stat.isFile() || stat.nlink !== 1 || stat.size > EARLIER_FILE_MAX_BYTES) return false;
    if (!isOurs(stat) || (process.platform !== "win32" && (stat.mode & 0o777) !== OWN_FILE_MODE))
      return false;
    return shape.test(readFileSync(path, "latin1"));
  } catch {
    return false;
  }
}

/** Larger than any file awsmfa leaves at a chosen path. */
const EARLIER_FILE_MAX_BYTES = 4096;

/**
 * The directory must be ours and closed to others' writes: in one that others can write, they
 * could rename our file away or put theirs in its place between our checks. A missing last
 * directory (~/.aws/awsmfa before the first login) is made, 0700.
 */
export function checkOwnDirectory(dir: string, chosen: ChosenPath): void {
  const { flag, example } = chosen;
  const code = `${flag.slice(2)}-dir` as "token-file-dir" | "container-env-dir";
  try {
    mkdirSync(dir, { mode: 0o700 });
  } catch (error) {
    if (errnoCode(error) !== "EEXIST") {
      throw new AppError(code, `Cannot use ${dir} for ${flag}: ${(error as Error).message}`, {
        hint: `Give ${flag} a path in a directory of yours that exists, e.g. ${example}.`,
      });
    }
  }
  const stat = statSync(dir);
  if (!stat.isDirectory()) {
    throw new AppError(code, `${dir} is not a directory; ${flag} needs one.`, {
      hint: `Give ${flag} a path in a directory of yours, e.g. ${example}.`,
    });
  }
  if (process.platform === "win32") return;
  if (!isOurs(stat) || (stat.mode & 0o022) !== 0) {
    throw new AppError(
      `${code}-unsafe`,
      `Refusing ${flag} in ${dir}: ${isOurs(stat) ? "others can write to that directory" : `it belongs to uid ${stat.uid}`}.`,
      {
        hint: `Give ${flag} a path in a directory only you can write, e.g. ${example}.`,
      },
    );
  }
}

function isOurs(stat: { uid: number }): boolean {
  const uid = process.getuid?.();
  return uid === undefined || stat.uid === uid;
}

function cannotWrite(path: string, error: unknown): AppError {
  return new AppError("token-file", `Cannot write the token file ${path}: ${(error as Error).message}`, {
    hint: "Give --token-file a path in a directory of yours that exists, e.g. ~/.aws/awsmfa/token.",
    cause: error,
  });
}
