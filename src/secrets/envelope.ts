import { AppError } from "../errors";

/** node:crypto when it is used: every command registers the encrypted store, few open it. */
const crypto = () => process.getBuiltinModule("node:crypto");

/**
 * The bytes of the encrypted secrets file. Binary, all lengths fixed but the ciphertext's:
 *
 *   offset  size  field
 *        0     8  magic "AWSMFAS" and format version 0x01
 *        8     1  scrypt log2(N)   (15: N = 32768)
 *        9     1  scrypt r         (8)
 *       10     1  scrypt p         (1)
 *       11    16  salt             (random, per file)
 *       27    16  passphrase check: HMAC-SHA256(check key, "awsmfa passphrase check"), first 16 bytes
 *       43    12  AES-GCM nonce    (random, per write)
 *       55     n  AES-256-GCM ciphertext of the JSON {"version":1,"secrets":{account: value}}
 *     55+n    16  GCM tag
 *
 * scrypt(passphrase, salt) gives 64 bytes: the AES key, then the check key. The whole header
 * (bytes 0–54) is the GCM additional data, so no byte of the file can change unnoticed. The
 * check tells a wrong passphrase from a damaged file: it does not match → wrong passphrase (or
 * an altered salt or scrypt parameter, which no passphrase can tell apart); it matches but the
 * tag does not → the file was altered.
 */

const MAGIC = Buffer.from("AWSMFAS\x01", "latin1");
const SALT_BYTES = 16;
const CHECK_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 3 + SALT_BYTES + CHECK_BYTES + NONCE_BYTES;
const CHECK_TEXT = "awsmfa passphrase check";

export interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

/** About 100 ms and 32 MiB on a laptop: cheap once per command, costly for a guesser. */
const DEFAULT_KDF: KdfParams = { log2N: 15, r: 8, p: 1 };

/** Limits on what a file may ask for, so that a damaged byte cannot ask for gigabytes. */
const KDF_LIMITS = { log2N: [14, 18], r: [1, 16], p: [1, 4] } as const;

interface Header {
  kdf: KdfParams;
  salt: Buffer;
  check: Buffer;
  nonce: Buffer;
}

/** Encrypts `plaintext`: the given salt and scrypt parameters (to keep a file's), else new ones. */
export function seal(
  plaintext: Buffer,
  passphrase: string,
  keep: { salt: Buffer; kdf: KdfParams } = { salt: crypto().randomBytes(SALT_BYTES), kdf: DEFAULT_KDF },
): Buffer {
  const { encryptionKey, checkKey } = deriveKeys(passphrase, keep.salt, keep.kdf);
  const header = Buffer.concat([
    MAGIC,
    Buffer.from([keep.kdf.log2N, keep.kdf.r, keep.kdf.p]),
    keep.salt,
    checkOf(checkKey),
    crypto().randomBytes(NONCE_BYTES),
  ]);
  const cipher = crypto().createCipheriv(
    "aes-256-gcm",
    encryptionKey,
    header.subarray(HEADER_BYTES - NONCE_BYTES),
  );
  cipher.setAAD(header);
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, body, cipher.getAuthTag()]);
}

/** The salt and scrypt parameters of a sealed file, to write it again under the same key. */
export function keyParameters(bytes: Buffer, what: string): { salt: Buffer; kdf: KdfParams } {
  const { salt, kdf } = parseHeader(bytes, what);
  return { salt, kdf };
}

/** Decrypts; a wrong passphrase, an altered byte and a file that is not ours each fail clearly. */
export function open(bytes: Buffer, passphrase: string, what: string): Buffer {
  const header = parseHeader(bytes, what);
  const { encryptionKey, checkKey } = deriveKeys(passphrase, header.salt, header.kdf);
  if (!crypto().timingSafeEqual(checkOf(checkKey), header.check)) throw wrongPassphrase(what);
  const decipher = crypto().createDecipheriv("aes-256-gcm", encryptionKey, header.nonce);
  decipher.setAAD(bytes.subarray(0, HEADER_BYTES));
  decipher.setAuthTag(bytes.subarray(bytes.length - TAG_BYTES));
  try {
    return Buffer.concat([
      decipher.update(bytes.subarray(HEADER_BYTES, bytes.length - TAG_BYTES)),
      decipher.final(),
    ]);
  } catch (error) {
    throw new AppError(
      "secrets-tampered",
      `${capitalised(what)} has been altered or damaged: its contents fail authentication, so none of it is used.`,
      {
        status: "config",
        hint: "Restore it from a backup, or remove it and store the secrets again (`awsmfa keys move`, `awsmfa totp add`).",
        cause: error,
      },
    );
  }
}

function wrongPassphrase(what: string): AppError {
  return new AppError("secrets-passphrase", `Wrong passphrase for ${what}.`, {
    status: "config",
    hint: "Give the passphrase the file was made with (typed on the terminal, or AWSMFA_PASSPHRASE). If it is right, the file's header was altered: restore it from a backup.",
  });
}

function parseHeader(bytes: Buffer, what: string): Header {
  if (
    bytes.length < HEADER_BYTES + TAG_BYTES ||
    !bytes.subarray(0, MAGIC.length - 1).equals(MAGIC.subarray(0, -1))
  ) {
    throw damaged(what, "it is not an awsmfa secrets file");
  }
  const version = bytes[MAGIC.length - 1];
  if (version !== MAGIC.at(-1))
    throw damaged(what, `its format version ${version} is not one this awsmfa reads`);
  let offset = MAGIC.length;
  const kdf: KdfParams = {
    log2N: bytes[offset] as number,
    r: bytes[offset + 1] as number,
    p: bytes[offset + 2] as number,
  };
  for (const name of ["log2N", "r", "p"] as const) {
    const [low, high] = KDF_LIMITS[name];
    if (kdf[name] < low || kdf[name] > high)
      throw damaged(what, "its key-derivation parameters are out of range");
  }
  offset += 3;
  const salt = bytes.subarray(offset, offset + SALT_BYTES);
  offset += SALT_BYTES;
  const check = bytes.subarray(offset, offset + CHECK_BYTES);
  offset += CHECK_BYTES;
  return { kdf, salt, check, nonce: bytes.subarray(offset, offset + NONCE_BYTES) };
}

function damaged(what: string, why: string): AppError {
  return new AppError("secrets-damaged", `${capitalised(what)} cannot be read: ${why}.`, {
    status: "config",
    hint: "Restore it from a backup, or remove it and store the secrets again (`awsmfa keys move`, `awsmfa totp add`).",
  });
}

/** scrypt is the slow part; one command may open the file more than once (keys, then a seed). */
const derived = new Map<string, Buffer>();

function deriveKeys(
  passphrase: string,
  salt: Buffer,
  kdf: KdfParams,
): { encryptionKey: Buffer; checkKey: Buffer } {
  const normalised = passphrase.normalize("NFC");
  const memo = crypto()
    .createHash("sha256")
    .update(JSON.stringify([kdf.log2N, kdf.r, kdf.p, salt.toString("hex"), normalised]))
    .digest("hex");
  let keys = derived.get(memo);
  if (keys === undefined) {
    const N = 2 ** kdf.log2N;
    keys = crypto().scryptSync(normalised, salt, 64, {
      N,
      r: kdf.r,
      p: kdf.p,
      maxmem: 256 * N * kdf.r + 1024 * 1024,
    });
    derived.set(memo, keys);
  }
  return { encryptionKey: keys.subarray(0, 32), checkKey: keys.subarray(32) };
}

function checkOf(checkKey: Buffer): Buffer {
  return crypto().createHmac("sha256", checkKey).update(CHECK_TEXT).digest().subarray(0, CHECK_BYTES);
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
