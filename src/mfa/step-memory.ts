import { createHash } from "node:crypto";
import { join } from "node:path";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";

/**
 * AWS accepts each TOTP code once. A generator asked twice in one 30-second step prints the
 * same code, and a person who runs two commands quickly types the same code: both would be
 * rejected. So per device we remember the step and a hash of the last code AWS accepted, and
 * the step of the last code it rejected, and refuse to hand out such a code again.
 *
 * A code is remembered as sent *before* it goes to AWS, and stays so until AWS's answer is
 * recorded: a process killed mid-call, or a call whose answer was lost, may have spent it, so
 * the next process must treat it as spent. The memory is one file per device, shared by every
 * profile that names the device; the caller serialises "get a code and send it" per device with
 * the lock at deviceLockPath().
 */

export const STEP_MS = 30_000;
/** A typed code equal to the one just accepted is refused for this long (AWS allows ±1 step). */
const REUSE_WINDOW_MS = 90_000;

export interface StepMemory {
  acceptedStep?: number;
  acceptedHash?: string;
  acceptedAt?: number;
  rejectedStep?: number;
  /** A code sent (or about to be) whose answer was not recorded: AWS may have taken it. */
  sentStep?: number;
  sentHash?: string;
  sentAt?: number;
}

export function stepAt(ms: number): number {
  return Math.floor(ms / STEP_MS);
}

export function stepMemoryPath(stateDir: string, serial: string): string {
  return join(stateDir, `mfa-step-${sha256(serial)}.json`);
}

/** The lock under which one process at a time, per device, gets a code and sends it. */
export function deviceLockPath(stateDir: string, serial: string): string {
  return `${stepMemoryPath(stateDir, serial)}.lock`;
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
  if (typeof record.sentStep === "number") memory.sentStep = record.sentStep;
  if (typeof record.sentHash === "string") memory.sentHash = record.sentHash;
  if (typeof record.sentAt === "number") memory.sentAt = record.sentAt;
  return memory;
}

/** Written (temp file, fsync, rename) before the code goes to AWS, so that a crash cannot forget it. */
export function rememberSending(
  stateDir: string,
  serial: string,
  sending: { code: string; step: number; at: number },
): void {
  const memory = readStepMemory(stateDir, serial);
  memory.sentStep = sending.step;
  memory.sentHash = codeHash(serial, sending.code);
  memory.sentAt = sending.at;
  writeMemory(stateDir, serial, memory);
}

/** AWS's answer to the code sent: it replaces the record of the sending. */
export function rememberOutcome(
  stateDir: string,
  serial: string,
  outcome: { code: string; step: number; accepted: boolean; at: number },
): void {
  const { sentStep: _step, sentHash: _hash, sentAt: _at, ...memory } = readStepMemory(stateDir, serial);
  if (outcome.accepted) {
    memory.acceptedStep = outcome.step;
    memory.acceptedHash = codeHash(serial, outcome.code);
    memory.acceptedAt = outcome.at;
  } else {
    memory.rejectedStep = outcome.step;
  }
  writeMemory(stateDir, serial, memory);
}

/**
 * The latest step whose code was used up: accepted, rejected (a retry in it gives the same
 * code), or sent without a recorded answer.
 */
export function lastUsedStep(memory: StepMemory): number | undefined {
  const steps = [memory.acceptedStep, memory.rejectedStep, memory.sentStep].filter(
    (step) => step !== undefined,
  );
  return steps.length === 0 ? undefined : Math.max(...steps);
}

/** `code` is the one AWS accepted, or the one sent without a recorded answer, within the reuse window. */
export function isJustUsed(memory: StepMemory, serial: string, code: string, now: number): boolean {
  const hash = codeHash(serial, code);
  const recent = (spentHash: string | undefined, at: number | undefined) =>
    spentHash === hash && at !== undefined && now - at < REUSE_WINDOW_MS;
  return recent(memory.acceptedHash, memory.acceptedAt) || recent(memory.sentHash, memory.sentAt);
}

function writeMemory(stateDir: string, serial: string, memory: StepMemory): void {
  writeWhole(stepMemoryPath(stateDir, serial), `${JSON.stringify(memory)}\n`, 0o600);
}

// Salted with the serial so that equal codes on two devices do not hash alike.
function codeHash(serial: string, code: string): string {
  return sha256(`${serial}\n${code}`);
}

function sha256(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}
