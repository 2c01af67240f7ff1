import { lstatSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, errnoCode, fileError } from "../errors";
import { writeWhole } from "../fsio/write-whole";
import {
  type ChosenPath,
  checkOwnDirectory,
  isEarlierOwnFile,
  OWN_FILE_MODE,
  type OwnFile,
} from "./server-token-file";

/**
 * `--container-env`: what a container needs to reach the credentials endpoint, in the format of
 * `docker run --env-file`, compose's `env_file:` and devcontainer `runArgs` (KEY=VALUE a line, no
 * quotes, no `export`). It holds the token, so it is 0600 and written whole (temp file + rename).
 * The path is the user's to choose, so the rules of the token file (server-token-file.ts) hold:
 * a directory of ours that others cannot write; an existing file replaced only when it is an env
 * file an earlier awsmfa left there; on exit, removed only while it is still the file written.
 */

const ENV_FILE: ChosenPath = { flag: "--container-env", example: "~/.aws/awsmfa/container.env" };
/** The names an env file of awsmfa's holds, and nothing else. */
const ENV_FILE_NAMES = [
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_AUTHORIZATION_TOKEN",
  "AWS_REGION",
  "AWS_DEFAULT_REGION",
  // --containers tls: where the container finds the CA (output/containers.ts).
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_DIR",
];
/** An earlier env file of awsmfa's: only its names, the token among them, each line `NAME=value`. */
const ENV_FILE_SHAPE = new RegExp(
  `^(?=(?:[^]*\\n)?AWS_CONTAINER_AUTHORIZATION_TOKEN=[A-Za-z0-9_-]{43}\\n)(?:(?:${ENV_FILE_NAMES.join("|")})=[\\x21-\\x7e]*\\n)+$`,
);

/**
 * Refuses, before anything else happens (before a code is asked for), a path where the env
 * file must not go: a directory others can write, or an existing file that is not an earlier
 * env file of awsmfa's.
 */
export function checkEnvFilePath(path: string): void {
  checkOwnDirectory(dirname(path), ENV_FILE);
  let exists = true;
  try {
    lstatSync(path);
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw cannotWrite(path, error);
    exists = false;
  }
  if (exists && !isEarlierOwnFile(path, ENV_FILE_SHAPE)) {
    throw new AppError(
      "container-env-exists",
      `--container-env ${path} already exists and is not an env file of awsmfa's; it was left as it is.`,
      {
        hint: `Give --container-env a path where nothing is yet, e.g. ${ENV_FILE.example}.`,
      },
    );
  }
}

/** Writes the variables to `path` (checked again: time has passed since the first check). */
export function writeEnvFile(path: string, variables: Record<string, string>): OwnFile {
  checkEnvFilePath(path);
  const contents = envFileText(variables);
  try {
    writeWhole(path, contents, OWN_FILE_MODE);
    const stat = lstatSync(path);
    return { path, contents, dev: stat.dev, ino: stat.ino };
  } catch (error) {
    throw cannotWrite(path, error);
  }
}

/** `NAME=value` lines; a value the format cannot carry (a newline) is a bug, not something to quote. */
export function envFileText(variables: Record<string, string>): string {
  return Object.entries(variables)
    .map(([name, value]) => {
      if (!ENV_FILE_NAMES.includes(name) || /[\s]/.test(value)) {
        throw new Error(`not for an env file: ${name}`);
      }
      return `${name}=${value}\n`;
    })
    .join("");
}

function cannotWrite(path: string, error: unknown): AppError {
  return fileError("container-env", `Cannot write the env file ${path}`, error, {
    hint: `Give --container-env a path in a directory of yours, e.g. ${ENV_FILE.example}.`,
  });
}
