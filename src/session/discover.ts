import { editProfileFile, setProperty } from "../config/edit";
import { configFilePath, loadProfileSet } from "../config/files";
import { deviceSerial, type Plan, resolvePlan } from "../config/plan";
import { AppError } from "../errors";
import { userNameOf } from "../sts/credentials";
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
  const devices = await sts.listMfaDevices(leaf, userNameOf(caller.arn), where, context);
  const serial = await chooseDevice(
    plan,
    caller.arn,
    devices.map((device) => device.serial),
  );

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

async function chooseDevice(plan: Plan, userArn: string, serials: string[]): Promise<string> {
  if (serials.length === 1) return serials[0] as string;
  if (serials.length === 0) {
    throw new AppError(
      "no-mfa-device",
      `The IAM user ${userArn} (profile '${plan.profile}') has no MFA device.`,
      {
        hint: "Assign one in the IAM console (Users → Security credentials → Assign MFA device), then run awsmfa again.",
      },
    );
  }
  const terminal = await import("../mfa/terminal-device");
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
