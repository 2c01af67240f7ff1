import type { Readable } from "node:stream";
import type { Properties } from "../config/types";
import type { TerminalFds } from "../fsio/terminal";

/** What the caller knows when it needs a code; every source reads what it needs from here. */
export interface CodeRequest {
  /** The profile the user selected, named in every prompt and message. */
  profile: string;
  /** MFA device ARN. */
  serial: string;
  /** Merged properties of the selected profile chain: mfa_process, awsmfa_prompt, awsmfa_ykman_account. */
  properties: Properties;
  env: NodeJS.ProcessEnv;
  /** From --token-code; "-" means one line from stdin. */
  tokenCode?: string;
  /** The running command has --token-code; when not, hints name `awsmfa login -p PROFILE --token-code …` instead. */
  takesTokenCode?: boolean;
  /** Directory (0700, exists) where step memory may be kept. */
  stateDir: string;
  /** Shown before asking again, e.g. "That code was not accepted." */
  notice?: string;
}

export interface MfaCode {
  code: string;
  /** Which source gave it: "token-code", "stdin", "mfa_process", "terminal", "zenity", "ykman", … */
  source: string;
  /** A person typed it into a prompt just now, so asking again is possible and means asking them. */
  interactive: boolean;
  /** For generated codes (mfa_process, ykman, totp): the 30-second step it was produced in. */
  step?: number;
}

/**
 * How a source's code is treated before it is returned: `given` is returned as is, `generated`
 * is never returned twice for one 30-second step, `typed` is asked again when it repeats the
 * code AWS just accepted or one sent without a recorded answer.
 */
export type CodeKind = "given" | "generated" | "typed";

/** Everything a source touches besides the request, so that tests can replace it. */
export interface Runtime {
  platform: NodeJS.Platform;
  now(): number;
  sleep(ms: number): Promise<void>;
  terminal: TerminalIO;
  stdin: Readable;
  /** Limit for mfa_process and ykman. */
  processTimeoutMs: number;
  /** Limit for a dialog a person answers; long, but a forgotten dialog must not hold the lock forever. */
  dialogTimeoutMs: number;
  /** More output than this from a program is an error, not a code. */
  maxOutputBytes: number;
}

/** The terminal as the rest of mfa/ uses it (fsio/terminal.ts); tests put a recording fake in its place. */
export interface TerminalIO {
  canOpen(): boolean;
  open(): TerminalFds | undefined;
  ask(question: string): Promise<string>;
  tell(message: string): boolean;
  /** See redrawTerminalLine. */
  redraw(text: string): boolean;
}
