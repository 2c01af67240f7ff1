import { createHash } from "node:crypto";
import { join } from "node:path";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";

/**
 * AWS accepts each TOTP code once. A generator asked twice in one 30-second step prints the
 * same code, and a person who runs two commands quickly types the same code: both would be
 * rejected. So per device we remember the step and a hash of the last code AWS accepted, and
 * the step of the last code it rejected, and refuse to hand out such a code again.
 */

export const STEP_MS = 30_000;
/** A typed code equal to the one just accepted is refused for this long (AWS allows ±1 step). */
const REUSE_WINDOW_MS = 90_000;

export interface StepMemory {
  acceptedStep?: number;
  acceptedHash?: string;
  acceptedAt?: number;
  rejectedStep?: number;
}

export function stepAt(ms: number): number {
  return Math.floor(ms / STEP_MS);
}

export function stepMemoryPath(stateDir: string, serial: string): string {
  return join(stateDir, `mfa-step-${sha256(serial)}.json`);
}

/** What is remembered for this device; a missing or damaged file remembers nothing. */
export function readStepMemory(stateDir: string, serial: string): StepMemory {
  let parsed: unknown;
  try {
    // A FIFO or a device in its place remembers nothing too, rather than hang the read.
    const file = readRegularFile(stepMemoryPath(stateDir, serial));
    parsed = "text" in file ? JSON.parse(file.text) : undefined;
  } catch {
    return {};
  }
  if (typeof parsed !== "object" || parsed === null) return {};
  const record = parsed as Record<string, unknown>;
  const memory: StepMemory = {};
  if (typeof record.acceptedStep === "number") memory.acceptedStep = record.acceptedStep;
  if (typeof record.acceptedHash === "string") memory.acceptedHash = record.acceptedHash;
  if (typeof record.acceptedAt === "number") memory.acceptedAt = record.acceptedAt;
  if (typeof record.rejectedStep === "number") memory.rejectedStep = record.rejectedStep;
  return memory;
}

export function rememberOutcome(
  stateDir: string,
  serial: string,
  outcome: { code: string; step: number; accepted: boolean; at: number },
): void {
  const memory = readStepMemory(stateDir, serial);
  if (outcome.accepted) {
    memory.acceptedStep = outcome.step;
    memory.acceptedHash = codeHash(serial, outcome.code);
    memory.acceptedAt = outcome.at;
  } else {
    memory.rejectedStep = outcome.step;
  }
  writeWhole(stepMemoryPath(stateDir, serial), `${JSON.stringify(memory)}\n`, 0o600);
}

/** The latest step whose code was used up: accepted, or rejected (a retry in it gives the same code). */
export function lastUsedStep(memory: StepMemory): number | undefined {
  const steps = [memory.acceptedStep, memory.rejectedStep].filter((step) => step !== undefined);
  return steps.length === 0 ? undefined : Math.max(...steps);
}

export function isJustAccepted(memory: StepMemory, serial: string, code: string, now: number): boolean {
  if (memory.acceptedHash === undefined || memory.acceptedAt === undefined) return false;
  return now - memory.acceptedAt < REUSE_WINDOW_MS && memory.acceptedHash === codeHash(serial, code);
}

// Salted with the serial so that equal codes on two devices do not hash alike.
function codeHash(serial: string, code: string): string {
  return sha256(`${serial}\n${code}`);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
