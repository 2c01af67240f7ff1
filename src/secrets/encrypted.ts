import { closeSync, mkdirSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { awsmfaDirectory } from "../config/files";
import { AppError, errnoCode, fileError } from "../errors";
import { withLock } from "../fsio/lock";
import { privacyProblem } from "../fsio/private-file";
import { openRegularFile } from "../fsio/regular-file";
import { askHidden, canOpenTerminal } from "../fsio/terminal";
import { writeWhole } from "../fsio/write-whole";
import { assertReadable, keyParameters, open, seal } from "./envelope";
import { PASSPHRASE_VARIABLE } from "./passphrase-variable";
import { accountOf, registerStore, type SecretsContext } from "./registry";

/**
 * One file, 0600, AES-256-GCM under a key that scrypt derives from a passphrase (envelope.ts has
 * the byte layout). The passphrase comes from AWSMFA_PASSPHRASE, else it is asked on the
 * terminal with echo off; one command asks for it once. Every write re-reads the file under its
 * lock, so two awsmfa storing different secrets at once both keep theirs.
 */

const MIN_PASSPHRASE = 8;
const ASKS = 3;

export function secretsFilePath(env: NodeJS.ProcessEnv): string {
  if (env.AWSMFA_SECRETS_FILE) return env.AWSMFA_SECRETS_FILE;
  return join(awsmfaDirectory(env), "secrets.enc");
}

registerStore({
  name: "encrypted",
  summary:
    "a passphrase-protected file (AES-256-GCM, scrypt), ~/.aws/awsmfa/secrets.enc or AWSMFA_SECRETS_FILE",
  holdsSeeds: true,
  where: (context) => secretsFilePath(context.env),
  async read(ref, context) {
    const path = secretsFilePath(context.env);
    const bytes = readSecretsFile(path);
    if (bytes === undefined) return undefined;
    const { contents } = await unlock(path, bytes, context);
    return contents.secrets[accountOf(ref)];
  },
  async write(ref, value, context) {
    await update(context, (secrets) => {
      if (secrets[accountOf(ref)] === value) return false;
      secrets[accountOf(ref)] = value;
      return true;
    });
  },
  async remove(ref, context) {
    if (readSecretsFile(secretsFilePath(context.env)) === undefined) return false;
    return update(context, (secrets) => {
      const account = accountOf(ref);
      if (!(account in secrets)) return false;
      delete secrets[account];
      return true;
    });
  },
});

interface Contents {
  version: 1;
  secrets: Record<string, string>;
}

function describe(path: string): string {
  return `the encrypted secrets file ${path}`;
}

/** Applies `change` under the file's lock; the passphrase is got before, so a person typing it holds nobody up. */
async function update(
  context: SecretsContext,
  change: (secrets: Record<string, string>) => boolean,
): Promise<boolean> {
  const path = secretsFilePath(context.env);
  makeDirectory(dirname(path));
  const before = readSecretsFile(path);
  const passphrase = before
    ? (await unlock(path, before, context)).passphrase
    : await newPassphrase(path, context);
  return withLock(`${path}.lock`, { timeoutMs: 20_000, staleMs: 60_000, what: path }, async () => {
    const current = readSecretsFile(path);
    const contents = current ? decrypt(current, passphrase, path) : { version: 1 as const, secrets: {} };
    if (!change(contents.secrets)) return false;
    const plaintext = Buffer.from(JSON.stringify(contents), "utf8");
    const sealed = seal(plaintext, passphrase, current ? keyParameters(current, describe(path)) : undefined);
    plaintext.fill(0);
    try {
      writeWhole(path, sealed, 0o600);
    } catch (error) {
      throw fileError("secrets-write", `Cannot write ${path}`, error);
    }
    return true;
  });
}

/** Passphrases typed in this process, per file: one command asks once. */
const typed = new Map<string, string>();

async function unlock(
  path: string,
  bytes: Buffer,
  context: SecretsContext,
): Promise<{ contents: Contents; passphrase: string }> {
  assertReadable(bytes, describe(path));
  const given = context.env[PASSPHRASE_VARIABLE];
  if (given) return { contents: decrypt(bytes, given, path), passphrase: given };
  const remembered = typed.get(path);
  if (remembered !== undefined) {
    try {
      return { contents: decrypt(bytes, remembered, path), passphrase: remembered };
    } catch (error) {
      if ((error as AppError).code !== "secrets-passphrase") throw error;
      typed.delete(path);
    }
  }
  if (!canOpenTerminal()) throw noPassphrase(path);
  let notice = "";
  for (let ask = 1; ; ask++) {
    const passphrase = await askHidden(`${notice}Passphrase for ${path}: `);
    try {
      const contents = decrypt(bytes, passphrase, path);
      typed.set(path, passphrase);
      return { contents, passphrase };
    } catch (error) {
      if ((error as AppError).code !== "secrets-passphrase" || ask >= ASKS) throw error;
      notice = `Wrong passphrase (try ${ask} of ${ASKS}). `;
    }
  }
}

async function newPassphrase(path: string, context: SecretsContext): Promise<string> {
  const given = context.env[PASSPHRASE_VARIABLE];
  if (given) return checkLength(given, PASSPHRASE_VARIABLE);
  if (!canOpenTerminal()) throw noPassphrase(path);
  let notice = `${path} does not exist yet: choose a passphrase for it. It cannot be recovered if lost.\n`;
  for (let ask = 1; ; ask++) {
    const first = await askHidden(`${notice}New passphrase (at least ${MIN_PASSPHRASE} characters): `);
    const again = await askHidden("The same passphrase again: ");
    const problem =
      first !== again
        ? "The two did not match."
        : [...first].length < MIN_PASSPHRASE
          ? "That is too short."
          : "";
    if (!problem) {
      typed.set(path, first);
      return first;
    }
    if (ask >= ASKS) {
      throw new AppError("bad-passphrase", `No usable passphrase after ${ASKS} tries: ${problem}`, {});
    }
    notice = `${problem} `;
  }
}

function checkLength(passphrase: string, origin: string): string {
  if ([...passphrase].length >= MIN_PASSPHRASE) return passphrase;
  throw new AppError("bad-passphrase", `${origin} is too short for a new secrets file.`, {
    hint: `Use at least ${MIN_PASSPHRASE} characters.`,
  });
}

function decrypt(bytes: Buffer, passphrase: string, path: string): Contents {
  const plaintext = open(bytes, passphrase, describe(path));
  let parsed: unknown;
  try {
    parsed = JSON.parse(plaintext.toString("utf8"));
  } catch {
    parsed = undefined;
  } finally {
    plaintext.fill(0);
  }
  const contents = parsed as Contents | undefined;
  const secrets = contents?.secrets;
  const valid =
    contents?.version === 1 &&
    typeof secrets === "object" &&
    secrets !== null &&
    Object.values(secrets).every((value) => typeof value === "string");
  if (!valid) {
    throw new AppError("secrets-damaged", `${describe(path)} decrypts, but not to what awsmfa wrote.`, {
      hint: "Restore it from a backup, or remove it and store the secrets again.",
    });
  }
  return contents;
}

/** The file's bytes, after the owner and mode checks; undefined when there is no file. */
function readSecretsFile(path: string): Buffer | undefined {
  let opened: ReturnType<typeof openRegularFile>;
  try {
    opened = openRegularFile(path);
  } catch (error) {
    if (errnoCode(error) === "ENOTDIR") return undefined;
    throw fileError("secrets-read", `Cannot read ${path}`, error);
  }
  if ("missing" in opened) return undefined;
  if ("notRegular" in opened) {
    // A FIFO there would block the read for ever.
    throw new AppError(
      "secrets-read",
      `${path} is ${opened.notRegular}, not the secrets file; not reading it.`,
      { hint: "Set AWSMFA_SECRETS_FILE to the secrets file, or move what is at that path away." },
    );
  }
  try {
    checkPrivate(path, opened.stat);
    return readFileSync(opened.fd);
  } finally {
    closeSync(opened.fd);
  }
}

function checkPrivate(path: string, stat: { mode: number; uid: number }): void {
  const problem = privacyProblem(stat);
  if (problem === undefined) return;
  if ("otherOwner" in problem) {
    throw new AppError(
      "unsafe-secrets",
      `The secrets file ${path} belongs to another user (uid ${problem.otherOwner}); not using it.`,
      { hint: "Set AWSMFA_SECRETS_FILE to a file of your own." },
    );
  }
  throw new AppError(
    "unsafe-secrets",
    `The secrets file ${path} is open to other users (mode ${problem.openMode.toString(8)}); not using it.`,
    { hint: `Run \`chmod 600 ${path}\` and try again.` },
  );
}

function makeDirectory(dir: string): void {
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileError("secrets-dir", `Cannot create ${dir}`, error, {
      hint: "Set AWSMFA_SECRETS_FILE to a path in a directory you own.",
    });
  }
}

function noPassphrase(path: string): AppError {
  return new AppError(
    "no-passphrase",
    `The passphrase of ${path} is needed, but there is no terminal to ask on and AWSMFA_PASSPHRASE is not set.`,
    {
      hint: "Run the command once in a terminal (the session it starts is then cached), or set AWSMFA_PASSPHRASE for unattended use.",
    },
  );
}
