import { AppError } from "../errors";
import { storeNamed } from "../secrets";
import { registerSource } from "./registry";

/**
 * Codes generated from a stored TOTP seed (opt-in: `awsmfa totp add`). The seed lives in the
 * keyring or the encrypted file, keyed by the device ARN, never in the config files; the profile
 * only says where with `awsmfa_totp = keyring|encrypted`. Kind "generated": like mfa_process, a
 * code is never handed out twice in one 30-second step (step-memory.ts). otpauth is loaded only
 * when a code is made.
 */

/** AWS virtual MFA devices: RFC 6238 with HMAC-SHA1, six digits, 30-second steps. */
const AWS_TOTP = { algorithm: "SHA1", digits: 6, period: 30 } as const;
/** 80 bits: the least an authenticator hands out (AWS gives 320). */
const MIN_SEED_BYTES = 10;

registerSource({
  rank: 40,
  describe: (request) => ({
    how: `awsmfa totp add -p ${request.profile}`,
    what: "keeps the device's TOTP seed (keyring or encrypted file) to make codes",
  }),
  select(request, runtime) {
    const where = request.properties.awsmfa_totp?.trim();
    if (!where) return undefined;
    const store = storeNamed(where, `awsmfa_totp of profile '${request.profile}'`);
    return {
      source: "totp",
      label: `the TOTP seed in ${store.name}`,
      kind: "generated",
      async produce(current) {
        const seed = await store.read({ kind: "totp_seed", serial: current.serial }, { env: current.env });
        if (!seed) {
          throw new AppError(
            "no-totp-seed",
            `Profile '${current.profile}' has awsmfa_totp = ${store.name}, but ${store.where({ env: current.env })} holds no TOTP seed for ${current.serial}.`,
            {
              hint: `Run \`awsmfa totp add -p ${current.profile}\`, or remove awsmfa_totp from the profile.`,
            },
          );
        }
        return totpCode(seed, runtime.now());
      },
    };
  },
});

/** The six-digit code for a base32 seed at `timeMs`. */
export async function totpCode(seedBase32: string, timeMs: number): Promise<string> {
  const { Secret, TOTP } = await import("otpauth");
  return TOTP.generate({ secret: Secret.fromBase32(seedBase32), ...AWS_TOTP, timestamp: timeMs });
}

/**
 * A seed as typed or pasted — base32 (spaces, dashes and padding allowed, any case) or an
 * `otpauth://totp/…` URI as in the QR code — as canonical base32. Errors never repeat the input.
 */
export async function parseTotpSeed(text: string): Promise<string> {
  const given = text.trim();
  let base32: string;
  if (/^otpauth:/i.test(given)) {
    const { TOTP, URI } = await import("otpauth");
    let otp: ReturnType<typeof URI.parse>;
    try {
      otp = URI.parse(given);
    } catch {
      throw badSeed("it is not a valid otpauth:// URI");
    }
    if (!(otp instanceof TOTP)) throw badSeed("it is a counter-based (HOTP) URI; AWS MFA devices use TOTP");
    if (
      otp.algorithm !== AWS_TOTP.algorithm ||
      otp.digits !== AWS_TOTP.digits ||
      otp.period !== AWS_TOTP.period
    ) {
      throw badSeed(
        `it asks for ${otp.algorithm}, ${otp.digits} digits, ${otp.period} s steps; AWS MFA devices use SHA1, 6 digits, 30 s`,
      );
    }
    base32 = otp.secret.base32;
  } else {
    base32 = given.replace(/[\s-]/g, "").replace(/=+$/, "").toUpperCase();
    if (base32 === "") throw badSeed("it is empty");
    if (!/^[A-Z2-7]+$/.test(base32)) throw badSeed("it is not base32 (letters A-Z and digits 2-7)");
  }
  if (Math.floor((base32.length * 5) / 8) < MIN_SEED_BYTES)
    throw badSeed("it is too short to be a TOTP seed");
  return base32;
}

function badSeed(why: string): AppError {
  return new AppError("bad-totp-seed", `That is not a usable TOTP seed: ${why}.`, {
    hint: "Give the secret key shown under the QR code when the virtual MFA device was assigned (64 base32 characters for AWS), or the otpauth:// URI of the QR code.",
  });
}
