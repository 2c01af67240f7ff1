import assert from "node:assert/strict";
import type { RunResult } from "./run-awsmfa";

export interface Reported {
  status: number;
  /** The profile the message names. */
  profile: string;
  message: RegExp;
  hint: RegExp;
}

/** An error as awsmfa reports it: the exit status, one message line naming the profile, one hint line; nothing on stdout, none of `secrets`. */
export function assertReportedError(result: RunResult, expected: Reported, secrets: string[]): void {
  const shown = `stderr was:\n${result.stderr}`;
  assert.equal(result.status, expected.status, shown);
  assert.equal(result.stdout, "", "nothing on stdout");
  const lines = result.stderr.replace(/\n$/, "").split("\n");
  assert.equal(lines.length, 2, `a message line and a hint line; ${shown}`);
  const [message = "", hint = ""] = lines;
  assert.match(message, /^awsmfa: \S/, shown);
  assert.ok(
    message.toLowerCase().includes(`profile '${expected.profile}'`),
    `the message names the profile; ${shown}`,
  );
  assert.match(message, expected.message);
  assert.match(hint, /^ {2}\S/, `the hint is indented under the message; ${shown}`);
  assert.match(hint, expected.hint);
  for (const secret of secrets) assert.ok(!result.stderr.includes(secret), "no secret in the output");
}
