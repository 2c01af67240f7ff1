import { AppError } from "../errors";
import {
  askOnTerminal,
  canOpenTerminal,
  openTerminal,
  redrawTerminalLine,
  tellTerminal,
} from "../fsio/terminal";
// Each import registers one source or prompt; adding a way to get a code is one file and one line here.
import "./flag";
import "./stdin";
import "./process";
import "./totp";
import "./prompt";
import "./terminal";
import "./zenity";
import "./kdialog";
import "./osascript";
import "./powershell";
import "./ykman";
import { noCodeSource, type Producer, registeredSources } from "./registry";
import {
  isJustUsed,
  lastUsedStep,
  readStepMemory,
  rememberOutcome,
  rememberSending,
  STEP_MS,
  stepAt,
} from "./step-memory";
import type { CodeRequest, MfaCode, Runtime, TerminalIO } from "./types";

export {
  askChoiceOnTerminal,
  askOnTerminal,
  canOpenTerminal,
  redrawTerminalLine,
  tellTerminal,
} from "../fsio/terminal";
export { describeCodeSources } from "./registry";
export { deviceLockPath } from "./step-memory";
export type { CodeRequest, MfaCode, Runtime, TerminalIO } from "./types";

/** A person gets this many tries to type a usable code before the command gives up. */
const MAX_ASKS = 3;
const REUSED = "That code was just used; wait for the next one.";
const NOT_SIX_DIGITS = "That is not a six-digit code.";

function deviceTerminal(platform: NodeJS.Platform): TerminalIO {
  return {
    canOpen: () => canOpenTerminal(platform),
    open: () => openTerminal(platform),
    ask: (question) => askOnTerminal(question, platform),
    tell: (message) => tellTerminal(message, platform),
    redraw: (text) => redrawTerminalLine(text, process.env, platform),
  };
}

function defaultRuntime(overrides: Partial<Runtime> = {}): Runtime {
  const platform = overrides.platform ?? process.platform;
  return {
    platform,
    now: Date.now,
    sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    terminal: deviceTerminal(platform),
    stdin: process.stdin,
    processTimeoutMs: 60_000,
    dialogTimeoutMs: 300_000,
    maxOutputBytes: 4096,
    ...overrides,
  };
}

/** A six-digit code from the first source that applies; fails at once when none can give one. */
export async function getMfaCode(request: CodeRequest, overrides: Partial<Runtime> = {}): Promise<MfaCode> {
  const runtime = defaultRuntime(overrides);
  for (const source of registeredSources()) {
    const producer = source.select(request, runtime);
    if (producer === undefined) continue;
    switch (producer.kind) {
      case "given":
        return {
          code: sixDigits(await producer.produce(request), producer, request),
          source: producer.source,
          interactive: false,
        };
      case "generated":
        return generated(producer, request, runtime);
      case "typed":
        return typed(producer, request, runtime);
    }
  }
  throw noCodeSource(request, "there is no terminal to ask on, and nothing else is configured");
}

/**
 * Tells the step memory that `code` is about to go to AWS: from now on it counts as spent, even
 * if this process dies before the answer comes. Call it under the device's lock (deviceLockPath).
 */
export function recordCodeSending(
  request: CodeRequest,
  code: MfaCode,
  overrides: Pick<Partial<Runtime>, "now"> = {},
): void {
  const at = (overrides.now ?? Date.now)();
  keepMemory(() =>
    rememberSending(request.stateDir, request.serial, { code: code.code, step: code.step ?? stepAt(at), at }),
  );
}

/** Tells the step memory what AWS made of `code`, so that it is not handed out again. */
export function recordCodeOutcome(
  request: CodeRequest,
  code: MfaCode,
  accepted: boolean,
  overrides: Pick<Partial<Runtime>, "now"> = {},
): void {
  const at = (overrides.now ?? Date.now)();
  keepMemory(() =>
    rememberOutcome(request.stateDir, request.serial, {
      code: code.code,
      step: code.step ?? stepAt(at),
      accepted,
      at,
    }),
  );
}

function keepMemory(write: () => void): void {
  try {
    write();
  } catch {
    // The memory spares AWS a spent code; failing to keep it (a full disk) must not fail a command
    // whose code is not sent yet or already accepted. The device lock still keeps concurrent
    // senders apart; only a crash right after such a failure could lead to a code sent twice.
  }
}

/**
 * A generator asked again within the step whose code was used gives that code again, so wait
 * for the next step before asking it (once: a YubiKey touch or a password manager unlock is not
 * something to make a person do twice).
 */
async function generated(producer: Producer, request: CodeRequest, runtime: Runtime): Promise<MfaCode> {
  const used = lastUsedStep(readStepMemory(request.stateDir, request.serial));
  const now = runtime.now();
  const wait = used === undefined ? 0 : (used + 1) * STEP_MS - now;
  // More than one step ahead means the remembered step came from a clock that was wrong.
  if (wait > 0 && wait <= STEP_MS) await waitForNextStep(runtime, wait);
  const code = sixDigits(await producer.produce(request), producer, request);
  // The step when the code arrived: if production straddled a boundary, the later step is the
  // one that must count as used, or the next request could get this very code.
  return { code, source: producer.source, interactive: false, step: stepAt(runtime.now()) };
}

/** Waits `ms` saying why: a countdown redrawn each second on a terminal that can, else one line. */
async function waitForNextStep(runtime: Runtime, ms: number): Promise<void> {
  const line = (left: number) =>
    `awsmfa: the code of this 30-second window was already used; next code in ${Math.ceil(left / 1000)} s`;
  if (!runtime.terminal.redraw(line(ms))) {
    runtime.terminal.tell(line(ms));
    await runtime.sleep(ms);
    return;
  }
  for (let left = ms; left > 0; ) {
    // On whole seconds of what is left, so that the number shown is never behind.
    const tick = left % 1000 || 1000;
    await runtime.sleep(tick);
    left -= tick;
    runtime.terminal.redraw(left > 0 ? line(left) : "");
  }
}

async function typed(producer: Producer, request: CodeRequest, runtime: Runtime): Promise<MfaCode> {
  let notice = request.notice;
  for (let ask = 1; ; ask++) {
    const answer = (await producer.produce({ ...request, notice })).replace(/\s/g, "");
    const last = ask === MAX_ASKS;
    if (!/^\d{6}$/.test(answer)) {
      if (last) throw badCode(producer, request);
      notice = NOT_SIX_DIGITS;
      continue;
    }
    if (isJustUsed(readStepMemory(request.stateDir, request.serial), request.serial, answer, runtime.now())) {
      if (last) {
        throw new AppError(
          "code-reused",
          `The MFA code typed for profile '${request.profile}' was the one just used, ${MAX_ASKS} times.`,
          { hint: "AWS accepts each code once: wait for the authenticator to show the next code." },
        );
      }
      notice = REUSED;
      continue;
    }
    return { code: answer, source: producer.source, interactive: true };
  }
}

function sixDigits(raw: string, producer: Producer, request: CodeRequest): string {
  const code = raw.trim();
  if (/^\d{6}$/.test(code)) return code;
  throw badCode(producer, request);
}

// The value itself stays out of the message: it may be something pasted by mistake, like a key.
function badCode(producer: Producer, request: CodeRequest): AppError {
  return new AppError(
    "bad-code",
    `The MFA code from ${producer.label} for profile '${request.profile}' is not six digits.`,
    { hint: "An MFA code is the six digits the authenticator shows now." },
  );
}
