import { editProfileFile, removeProperty, setProperty } from "../config/edit";
import { configFilePath, credentialsFilePath } from "../config/files";
import { nearest, type Plan } from "../config/plan";
import { AppError } from "../errors";
import { askHidden, canOpenTerminal } from "../fsio/terminal";
import { parseTotpSeed } from "../mfa/totp";
import { tellStderr } from "../output/tell";
import { placeOf, type SecretStore, storeNamed } from "../secrets";
import { loadPlan, selectedProfile } from "./profile-plans";
import type { TotpAddOptions, TotpRemoveOptions } from "./totp.command";

/**
 * `awsmfa totp add|remove -p P`: keep (or forget) the TOTP seed of the profile's MFA device, so
 * that awsmfa makes the codes itself (mfa/totp.ts). Opt-in, with a plain warning: the second
 * factor then lives on the same machine as the first. The seed goes to the keyring or the
 * encrypted file under the device ARN; the config file only gets `awsmfa_totp = <store>` on the
 * profile that holds the keys, so every profile built on them uses it.
 */

const MARKER = "awsmfa_totp";
const MAX_STDIN_BYTES = 64 * 1024;

export async function runTotpAdd(options: TotpAddOptions): Promise<void> {
  const env = process.env;
  const plan = loadPlan(selectedProfile(options.profile, env), env);
  const { serial, owner } = deviceOf(plan);
  const store = seedStore(
    options.store ?? defaultStore(plan),
    options.store === undefined ? "the default store" : "--store",
  );
  if (!options.stdin && !canOpenTerminal()) {
    throw new AppError("no-terminal", "There is no terminal to type the TOTP seed on.", {
      hint: `Give it on standard input: \`awsmfa totp add -p ${plan.profile} --stdin < seed.txt\`.`,
    });
  }
  tellStderr(
    `Warning: storing the TOTP seed of ${serial} puts the second factor on the same machine as the first. ` +
      `Whoever can use your access keys and ${placeOf(store, env)} can then make MFA codes without your phone or token. ` +
      "Do this only where that trade-off is acceptable; `awsmfa totp remove` undoes it.",
  );
  const text = options.stdin
    ? await readStdin()
    : await askHidden(`TOTP secret key (base32) or otpauth:// URI of ${serial}: `);
  const seed = await parseTotpSeed(text);
  await store.write({ kind: "totp_seed", serial }, seed, { env });
  await editProfileFile(configFilePath(env), "config", (config) =>
    setProperty(config, "config", owner, MARKER, store.name),
  );
  tellStderr(
    `Stored the TOTP seed of ${serial} in ${placeOf(store, env)}; profile '${owner}' and the profiles built on it now make their MFA codes from it.`,
  );
}

export async function runTotpRemove(options: TotpRemoveOptions): Promise<void> {
  const env = process.env;
  const plan = loadPlan(selectedProfile(options.profile, env), env);
  const { serial } = deviceOf(plan);
  const named = options.store ?? nearest(plan.chain, MARKER);
  if (named === undefined) {
    tellStderr(
      `Profile '${plan.profile}' has no ${MARKER}: no stored TOTP seed to remove (--store names a store to look in).`,
    );
    return;
  }
  const store = seedStore(
    named,
    options.store === undefined ? `${MARKER} of profile '${plan.profile}'` : "--store",
  );
  const removed = await store.remove({ kind: "totp_seed", serial }, { env });
  // From every profile of the chain: the seed is gone for the device, whoever named it.
  const profiles = [...plan.roles.map((role) => role.profile), plan.leaf.profile];
  for (const [path, kind] of [
    [configFilePath(env), "config"],
    [credentialsFilePath(env), "credentials"],
  ] as const) {
    await editProfileFile(path, kind, (text) =>
      profiles.reduce((edited, profile) => removeProperty(edited, kind, profile, MARKER), text),
    );
  }
  tellStderr(
    removed
      ? `Removed the TOTP seed of ${serial} from ${placeOf(store, env)}; profile '${plan.profile}' asks for codes again.`
      : `${placeOf(store, env)} held no TOTP seed for ${serial}; removed ${MARKER} from the profiles.`,
  );
}

/** The device whose seed it is, and the profile (the one with the keys) that gets awsmfa_totp. */
function deviceOf(plan: Plan): { serial: string; owner: string } {
  if (plan.leaf.type !== "keys") {
    throw new AppError(
      "unsupported-profile",
      `Profile '${plan.profile}' gets its credentials from ${plan.leaf.type}, not from an IAM user's keys and MFA device.`,
    );
  }
  const serial = plan.mfa?.serial ?? plan.roles.find((role) => role.mfaSerial)?.mfaSerial;
  if (serial === undefined) {
    throw new AppError("no-mfa-serial", `Profile '${plan.profile}' names no MFA device (mfa_serial) yet.`, {
      hint: `Run \`awsmfa login -p ${plan.profile}\` once (it finds the device and records mfa_serial), or add mfa_serial = <device ARN> to the profile.`,
    });
  }
  return { serial, owner: plan.leaf.profile };
}

/** The profile's own store when its keys are in one, else the encrypted file. */
function defaultStore(plan: Plan): string {
  return plan.leaf.type === "keys" && plan.leaf.store ? plan.leaf.store : "encrypted";
}

function seedStore(name: string, origin: string): SecretStore {
  const store = storeNamed(name, origin);
  if (store.holdsSeeds) return store;
  throw new AppError("seed-in-file", "TOTP seeds are never kept in the AWS config or credentials files.", {
    hint: "Use --store keyring or --store encrypted.",
  });
}

/** The first non-empty line of standard input. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const bytes = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk);
    size += bytes.length;
    if (size > MAX_STDIN_BYTES) {
      throw new AppError("bad-totp-seed", "Standard input holds more than a TOTP seed.");
    }
    chunks.push(bytes);
  }
  const text = Buffer.concat(chunks).toString("utf8");
  return text.split(/\r?\n/).find((line) => line.trim() !== "") ?? "";
}
