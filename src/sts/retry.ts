import { MAX_ATTEMPTS } from "./sdk-config";

/**
 * A call that carries an MFA code is retried only when AWS cannot have used the code: refused
 * connections, throttling and server errors. After a timeout or a reset the answer may be lost
 * while the code is spent, and a retry would only turn success into "invalid MFA code".
 */
export async function sendSpendingCode<T>(send: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await send();
    } catch (error) {
      if (attempt >= MAX_ATTEMPTS || !codeUnspent(error)) throw withAttempts(error, attempt);
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

function codeUnspent(error: unknown): boolean {
  const e = error as {
    code?: string;
    name?: string;
    Code?: string;
    message?: string;
    $metadata?: { httpStatusCode?: number };
  };
  if (e.code === "ECONNREFUSED") return true;
  const status = e.$metadata?.httpStatusCode ?? 0;
  const code = e.Code ?? e.name ?? "";
  // A skewed clock is refused at authentication; the SDK has corrected its offset by the retry.
  const skewed =
    /^(RequestExpired|RequestTimeTooSkewed)$/.test(code) ||
    /Signature (expired|not yet current)/i.test(e.message ?? "");
  const throttled = /^(Throttling|ThrottlingException|RequestLimitExceeded|TooManyRequestsException)$/.test(
    code,
  );
  return status >= 500 || skewed || throttled;
}
