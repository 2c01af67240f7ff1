import { classifyAwsFailure, codeUnspent } from "./error-kind";
import { MAX_ATTEMPTS } from "./sdk-config";

/**
 * A call that carries an MFA code is retried only when AWS cannot have used the code
 * (error-kind.ts codeUnspent): a retry after a lost answer would only turn success into
 * "invalid MFA code".
 */
export async function sendSpendingCode<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !codeUnspent(classifyAwsFailure(error)))
        throw withAttempts(error, attempt);
      await new Promise((resolve) => setTimeout(resolve, 100 * 2 ** attempt * (0.5 + Math.random())));
    }
  }
}

/** Tells the error mapping how many attempts were made, as the SDK's own retries do. */
function withAttempts(error: unknown, attempts: number): unknown {
  const e = error as { $metadata?: { attempts?: number } } | null;
  if (e && typeof e === "object") e.$metadata = { ...e.$metadata, attempts };
  return error;
}
