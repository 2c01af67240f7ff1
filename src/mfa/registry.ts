import { AppError } from "../errors";
import type { CodeKind, CodeRequest, Runtime } from "./types";

/**
 * Two tables, filled by the files that implement them (each file registers itself when
 * index.ts imports it), so that adding a way to get a code is adding a file:
 *
 * - code sources, tried in rank order, the first that applies wins:
 *   10 --token-code, 20 --token-code -, 30 mfa_process, 40 stored TOTP seed, 50 prompt;
 * - prompt methods, the values of awsmfa_prompt / AWSMFA_PROMPT that the prompt source
 *   chooses among.
 */

/** A source that applies to this request, ready to produce a code. */
export interface Producer {
  /** Stable name, reported as MfaCode.source. */
  source: string;
  /** How messages name it, e.g. "mfa_process" or "standard input (--token-code -)". */
  label: string;
  kind: CodeKind;
  produce(request: CodeRequest): Promise<string>;
}

/** One line of describeCodeSources(): what to type or set, and what it does. */
export interface SourceHint {
  how: string;
  what: string;
}

export interface CodeSource {
  rank: number;
  /** How a user turns this source on for this request: a command line they can run as it is, or a setting. */
  describe(request: CodeRequest): SourceHint;
  /** A producer when this source applies; may throw an AppError when it applies but cannot work. */
  select(request: CodeRequest, runtime: Runtime): Producer | undefined;
}

export interface PromptMethod {
  /** The value of awsmfa_prompt that chooses it. */
  name: string;
  /** How messages name it, e.g. "the terminal". */
  label: string;
  kind: "typed" | "generated";
  /** Where `auto` considers it: its order, and the platforms it is tried on (all when absent). */
  auto?: { rank: number; platforms?: NodeJS.Platform[] };
  /** Why it cannot be used here (program missing, no display, no terminal), or undefined. */
  unavailable(request: CodeRequest, runtime: Runtime): string | undefined;
  ask(request: CodeRequest, runtime: Runtime): Promise<string>;
}

const sources: CodeSource[] = [];
const prompts: PromptMethod[] = [];

export function registerSource(source: CodeSource): void {
  sources.push(source);
  sources.sort((a, b) => a.rank - b.rank);
}

export function registeredSources(): readonly CodeSource[] {
  return sources;
}

export function registerPrompt(method: PromptMethod): void {
  prompts.push(method);
}

export function promptMethods(): readonly PromptMethod[] {
  return prompts;
}

export function describeCodeSources(request: CodeRequest): string {
  const hints = sources.map((source) => source.describe(request));
  const width = Math.max(...hints.map((hint) => hint.how.length));
  const lines = hints.map((hint) => `    ${hint.how.padEnd(width)}   ${hint.what}`);
  return ["Give the MFA code one of these ways:", ...lines].join("\n");
}

/**
 * How --token-code is given: on the running command when it has the flag, else on `awsmfa login`
 * first (the command then finds the session in the cache).
 */
export function tokenCodeHint(request: CodeRequest, value: string, what: string): SourceHint {
  if (request.takesTokenCode) return { how: `--token-code ${value}`, what };
  return {
    how: `awsmfa login -p ${request.profile} --token-code ${value}`,
    what: `${what}; then run this command again`,
  };
}

/** The failure for "nothing here can give a code": immediate, never a wait. */
export function noCodeSource(request: CodeRequest, reason: string): AppError {
  return new AppError(
    "no-code-source",
    `No way to get an MFA code for profile '${request.profile}': ${reason}.`,
    { hint: describeCodeSources(request) },
  );
}

/** The question every prompt asks, naming the profile and the device. */
export function codeQuestion(request: CodeRequest): string {
  return `MFA code for profile '${request.profile}' (${request.serial}): `;
}
