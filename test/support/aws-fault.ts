/** An error the test server answers with, shaped as AWS shapes it: HTTP status, code and message. */
export class AwsFault extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "AwsFault";
  }

  /** AWS says "Sender" for errors the caller can fix, "Receiver" for its own faults. */
  get type(): "Sender" | "Receiver" {
    return this.status >= 500 ? "Receiver" : "Sender";
  }
}

export const INVALID_CLIENT_TOKEN = "The security token included in the request is invalid.";
export const EXPIRED_TOKEN = "The security token included in the request is expired";
export const INVALID_MFA_CODE = "MultiFactorAuthentication failed with invalid MFA one time pass code. ";
export const UNKNOWN_MFA_SERIAL =
  "MultiFactorAuthentication failed, unable to validate MFA code. Please verify your MFA serial number is valid and associated with this user.";
export const SIGNATURE_MISMATCH =
  "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.";

export const invalidClientToken = (): AwsFault =>
  new AwsFault(403, "InvalidClientTokenId", INVALID_CLIENT_TOKEN);
export const accessDenied = (message: string): AwsFault => new AwsFault(403, "AccessDenied", message);
export const validationError = (message: string): AwsFault => new AwsFault(400, "ValidationError", message);
