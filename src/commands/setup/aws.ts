import { keyStore } from "../../config/plan";
import type { Properties } from "../../config/types";
import { AppError, isAppError } from "../../errors";
import { spinWhileWaiting } from "../../output/spinner";
import { type CodeDevices, listCodeDevices, noCodeDevice } from "../../session/discover";
import type { AwsCredentials, CallerIdentity } from "../../sts/credentials";
import { userNameOf } from "../../sts/credentials";
import type { Keys } from "./keys";
import { type Asker, askAccessKeyId, askSecret, askSerial, say } from "./questions";

/** The checks against AWS: whose the keys are (GetCallerIdentity), and which MFA device they go with. */

/** Asked again this many times when AWS refuses a key; then its error ends setup. */
const KEY_RETRIES = 3;

/**
 * GetCallerIdentity with the keys. On a terminal, keys AWS refuses are asked for again — only
 * the part that is wrong: a secret that does not match asks for the secret, an unknown (or
 * inactive) key ID for the ID, keys from the files for a new key. Anything else ends setup.
 */
export async function identifyKeys(
  keys: Keys,
  where: { region: string; env: NodeJS.ProcessEnv },
  profile: string,
  current: Properties,
  ask: Asker | undefined,
): Promise<{ keys: Keys; identity: CallerIdentity }> {
  const sts = await import("../../sts/client");
  for (let retries = 0; ; retries++) {
    const spinner = spinWhileWaiting();
    let refused: unknown;
    try {
      return {
        keys,
        identity: await sts.getCallerIdentity(keys, where, { profile, accessKeyId: keys.accessKeyId }),
      };
    } catch (error) {
      refused = error;
    } finally {
      spinner.stop();
    }
    // New keys for a profile whose keys are in a store could not be written: its error stands.
    const canAsk =
      ask && retries < KEY_RETRIES && (keys.from === undefined || keyStore(current) === undefined);
    const again = canAsk ? await keysAgain(ask, keys, refused) : undefined;
    if (!again) throw refused;
    keys = again;
  }
}

async function keysAgain(ask: Asker, keys: Keys, error: unknown): Promise<Keys | undefined> {
  const code = isAppError(error) ? error.code : undefined;
  if (code !== "invalid-keys" && code !== "bad-signature") return undefined;
  if (keys.from !== undefined) {
    ask.warn(
      `AWS refused the keys of profile '${keys.from}' (${keys.accessKeyId}). Enter an access key instead.`,
    );
    return { accessKeyId: await askAccessKeyId(ask), secretAccessKey: await askSecret(ask), write: true };
  }
  if (code === "bad-signature") {
    ask.warn(
      `AWS refused the secret access key: it does not belong to ${keys.accessKeyId} (or this machine's clock is off). Enter the secret again.`,
    );
    return { ...keys, secretAccessKey: await askSecret(ask) };
  }
  ask.warn(
    `AWS does not know the access key ID ${keys.accessKeyId}, or it is inactive. Enter the ID again; the secret is kept.`,
  );
  return { ...keys, accessKeyId: await askAccessKeyId(ask) };
}

/** The IAM user's name; awsmfa sets up a user's keys, not a role's or the account's root keys. */
export function iamUserOf(identity: CallerIdentity, keys: Keys): string {
  const userName = userNameOf(identity.arn);
  if (userName) return userName;
  throw new AppError(
    "setup-not-a-user",
    `The access key ${keys.accessKeyId} belongs to ${identity.arn}, not to an IAM user; awsmfa sets up an IAM user's keys.`,
    {
      hint: identity.arn.endsWith(":root")
        ? "These are the account's root keys: delete them, and create an IAM user with an MFA device instead."
        : "Give the access key of an IAM user (AKIA…).",
    },
  );
}

export async function chooseDevice(
  keys: AwsCredentials,
  userName: string,
  identity: CallerIdentity,
  current: Properties,
  profile: string,
  ask: Asker | undefined,
): Promise<string> {
  const where = { region: "us-east-1", env: process.env };
  const existing = current.mfa_serial;
  const spinner = spinWhileWaiting();
  let devices: CodeDevices;
  try {
    devices = await listCodeDevices(keys, userName, where, { profile, accessKeyId: keys.accessKeyId });
  } catch (error) {
    // Some users may not list their devices; a device already configured, or one typed, still works.
    if (existing) {
      say(
        ask,
        `IAM did not list the MFA devices (${(error as Error).message}); keeping mfa_serial = ${existing}.`,
      );
      return existing;
    }
    if (ask) {
      say(ask, `IAM did not list the MFA devices: ${(error as Error).message}`);
      return askSerial(ask, identity);
    }
    throw error;
  } finally {
    spinner.stop();
  }
  const usable = devices.serials;
  if (usable.length === 0) throw noCodeDevice(identity.arn, devices, "run setup again");
  if (usable.length === 1) {
    say(ask, `MFA device: ${usable[0]}.`);
    return usable[0] as string;
  }
  if (ask) {
    return ask.select(
      "Which MFA device should awsmfa use?",
      usable.map((serial) => ({ value: serial, label: serial })),
      existing && usable.includes(existing) ? existing : undefined,
    );
  }
  if (existing && usable.includes(existing)) return existing;
  throw new AppError(
    "several-mfa-devices",
    `The IAM user ${identity.arn} has ${usable.length} MFA devices: ${usable.join(", ")}.`,
    { hint: "Choose one with --mfa-serial <ARN>." },
  );
}
