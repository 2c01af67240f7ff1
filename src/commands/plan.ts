import { deviceSerial, type Plan, planSteps, type Step } from "../config/plan";
import { loadPlan, selectedProfile } from "./selection";

export interface PlanOptions {
  profile?: string;
  json?: boolean;
}

export function runPlan(options: PlanOptions): void {
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
  process.stdout.write(options.json ? `${JSON.stringify(planJson(plan))}\n` : planText(plan));
}

/** The documented `plan --json` shape; the secret key never appears. */
export function planJson(plan: Plan): { profile: string; steps: Record<string, unknown>[] } {
  return { profile: plan.profile, steps: planSteps(plan).map(stepJson) };
}

function stepJson(step: Step): Record<string, unknown> {
  switch (step.type) {
    case "keys":
      return { type: "keys", profile: step.profile, accessKeyId: step.accessKeyId };
    case "mfa-session":
      return {
        type: "mfa-session",
        profile: step.profile,
        serial: step.serial,
        durationSeconds: step.durationSeconds,
      };
    case "assume-role":
      return {
        type: "assume-role",
        profile: step.profile,
        roleArn: step.roleArn,
        roleSessionName: step.roleSessionName,
        externalId: step.externalId,
        durationSeconds: step.durationSeconds,
        ...(step.mfaSerial ? { mfaSerial: step.mfaSerial } : {}),
      };
    default:
      return { type: step.type, profile: step.profile, ...step.detail };
  }
}

function planText(plan: Plan): string {
  const lines = [`Profile '${plan.profile}':`];
  for (const [index, step] of planSteps(plan).entries()) lines.push(`  ${index + 1}. ${stepText(step)}`);
  if (!deviceSerial(plan) && plan.leaf.type === "keys") {
    lines.push("  (no mfa_serial: awsmfa will ask IAM for the user's MFA device on first login)");
  }
  return `${lines.join("\n")}\n`;
}

function stepText(step: Step): string {
  switch (step.type) {
    case "keys":
      return `access key ${step.accessKeyId} from profile '${step.profile}'`;
    case "mfa-session":
      return `MFA session (GetSessionToken) with ${step.serial}, ${step.durationSeconds} s — asks for a code`;
    case "assume-role": {
      const extras = [
        step.externalId ? "external id" : "",
        step.durationSeconds ? `${step.durationSeconds} s` : "",
        step.mfaSerial ? `code from ${step.mfaSerial} (awsmfa_session = false)` : "",
      ].filter(Boolean);
      return `assume ${step.roleArn} for profile '${step.profile}'${extras.length ? ` (${extras.join(", ")})` : ""}`;
    }
    default:
      return `${step.type} from profile '${step.profile}' (not handled by awsmfa)`;
  }
}
