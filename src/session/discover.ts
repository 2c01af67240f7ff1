import { editProfileFile, setProperty } from "../config/edit";
import { configFilePath, loadProfileSet } from "../config/files";
import { deviceSerial, type Plan, resolvePlan } from "../config/plan";
import { AppError } from "../errors";
import type { Endpoints } from "../sts/client";
import type { AwsCredentials } from "../sts/credentials";
import { userNameOf } from "../sts/credentials";
import type { CallContext } from "../sts/errors";
import { stsEndpoints } from "./steps";

/**
 * When no profile in the chain names an MFA device, ask IAM which devices the key's own user
 * has. One: use it and record mfa_serial in the config file, so this happens once. Several:
 * the person chooses on the terminal. None: say how to assign one.
 */
export async function discoverDevice(
  plan: Plan,
  options: { env: NodeJS.ProcessEnv; notify: (message: string) => void },
): Promise<Plan> {
  const leaf = plan.leaf;
  if (leaf.type !== "keys" || deviceSerial(plan)) return plan;
  const sts = await import("../sts/client");
  const where = stsEndpoints(plan, options.env);
  const context = { profile: plan.profile, accessKeyId: leaf.accessKeyId };
  const caller = await sts.getCallerIdentity(leaf, where, context);
  const devices = await listCodeDevices(leaf, userNameOf(caller.arn), where, context);
  const serial = await chooseDevice(plan, caller.arn, devices);

  const path = configFilePath(options.env);
  await editProfileFile(path, "config", (text) =>
    setProperty(text, "config", leaf.profile, "mfa_serial", serial),
  );
  options.notify(
    `Found MFA device ${serial} for ${caller.arn}; saved it as mfa_serial of profile '${leaf.profile}' in ${path}.`,
  );

  // Read back what was written, so the plan is the one every later run will resolve.
  return resolvePlan(loadProfileSet(options.env), plan.profile);
}

/** The MFA devices an IAM user has, as setup and discovery at login both see them. */
export interface CodeDevices {
  /** Those that give six-digit codes: the ones STS can take. */
  serials: string[];
  /** FIDO/U2F security keys: IAM lists them, but STS cannot take a code from them. */
  securityKeys: string[];
}

/** ListMFADevices, split into the devices that give codes and the security keys. */
export async function listCodeDevices(
  keys: AwsCredentials,
  userName: string | undefined,
  where: Endpoints,
  context: CallContext,
): Promise<CodeDevices> {
  const sts = await import("../sts/client");
  const listed = (await sts.listMfaDevices(keys, userName, where, context)).map((device) => device.serial);
  const isSecurityKey = (serial: string) => /:u2f\//.test(serial);
  return {
    serials: listed.filter((serial) => !isSecurityKey(serial)),
    securityKeys: listed.filter(isSecurityKey),
  };
}

/** None of the user's devices gives codes; `then` is what to run once one is assigned. */
export function noCodeDevice(userArn: string, devices: CodeDevices, then: string): AppError {
  const keysOnly = devices.securityKeys.length > 0 ? " (security keys cannot be used with the API)" : "";
  return new AppError(
    "no-mfa-device",
    `The IAM user ${userArn} has no MFA device that gives codes${keysOnly}.`,
    {
      hint: `Assign a virtual or hardware TOTP device in the IAM console (Users → Security credentials → Assign MFA device), then ${then}.`,
    },
  );
}

async function chooseDevice(plan: Plan, userArn: string, devices: CodeDevices): Promise<string> {
  const serials = devices.serials;
  if (serials.length === 1) return serials[0] as string;
  if (serials.length === 0)
    throw noCodeDevice(`${userArn} (profile '${plan.profile}')`, devices, "run awsmfa again");
  const terminal = await import("../fsio/terminal");
  if (!terminal.canOpenTerminal()) {
    throw new AppError(
      "several-mfa-devices",
      `The IAM user ${userArn} (profile '${plan.profile}') has ${serials.length} MFA devices: ${serials.join(", ")}.`,
      { hint: `Choose one: add mfa_serial = <one of them> to [profile ${plan.leaf.profile}].` },
    );
  }
  const index = await terminal.askChoiceOnTerminal(
    `Which MFA device should profile '${plan.profile}' use?`,
    serials,
  );
  return serials[index] as string;
}
