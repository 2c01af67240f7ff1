import assert from "node:assert/strict";
import { AppError, ExitStatus } from "../../src/errors";

/** For assert.throws/rejects: an AppError with this code and exit status, whose message holds each of `inMessage`. */
export function isAppErrorWith(code: string, status: keyof typeof ExitStatus, ...inMessage: string[]) {
  return (error: unknown) => {
    assert.ok(error instanceof AppError, `expected an AppError, got ${String(error)}`);
    assert.equal(error.code, code);
    assert.equal(error.status, ExitStatus[status]);
    for (const text of inMessage)
      assert.ok(error.message.includes(text), `"${error.message}" lacks "${text}"`);
    return true;
  };
}
