import { AppError } from "../errors";

/** node:crypto when it is used: every command registers the encrypted store, few open it. */
const crypto = () => process.getBuiltinModule("node:crypto");

/**
 * The bytes of the encrypted secrets file. Binary, all lengths fixed but the ciphertext's:
 *
 *   offset  size  field
 *        0     8  magic "AWSMFAS" and format version 0x02
 *        8     1  scrypt log2(N)   (15: N = 32768)
 *        9     1  scrypt r         (8)
 *       10     1  scrypt p         (1)
 *       11    16  salt             (random, per file)
 *       27    16  passphrase check: HMAC-SHA256(check key, "awsmfa passphrase check"), first 16 bytes
 *       43    12  AES-GCM nonce    (random, per write)
 *       55     n  AES-256-GCM ciphertext of the JSON {"version":1,"secrets":{account: value}}
 *     55+n    16  GCM tag
 *     71+n    32  SHA-256 of bytes 0 to 70+n
 *
 * scrypt(passphrase, salt) gives 64 bytes: the AES key, then the check key. The whole header
 * (bytes 0–54) is the GCM additional data, so no byte can change unnoticed by the key holder.
 *
 * Three checks, in this order, tell the failures apart:
 * - the SHA-256 does not match → the file was damaged (any byte, the passphrase check and the
 *   format marker too: see hasDigest). It is unkeyed, so it is checked before the passphrase is
 *   asked for; it is no defence against someone who rewrites it, which is the GCM tag's job.
 * - the passphrase check does not match → wrong passphrase. On an intact file nothing else can
 *   cause it, short of a deliberate change that also rewrote the SHA-256.
 * - the GCM tag does not match → the file was altered deliberately (the SHA-256 was rewritten).
 *
 * Format 0x01 is the same without the SHA-256. It is still read, and written as 0x02 the next time
 * the file is saved. In it a damaged salt, scrypt parameter or passphrase check looks like a wrong
 * passphrase, and the message says so.
 */

const VERSION = 2;
const LEGACY_VERSION = 1;
const MAGIC = Buffer.from(`AWSMFAS${String.fromCharCode(VERSION)}`, "latin1");
const SALT_BYTES = 16;
const CHECK_BYTES = 16;
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const DIGEST_BYTES = 32;
const HEADER_BYTES = MAGIC.length + 3 + SALT_BYTES + CHECK_BYTES + NONCE_BYTES;
const CHECK_TEXT = "awsmfa passphrase check";
const RESTORE =
  "Restore it from a backup, or remove it and store the secrets again (`awsmfa keys move -p PROFILE --to encrypted`, `awsmfa totp add -p PROFILE`).";

export interface KdfParams {
  log2N: number;
  r: number;
  p: number;
}

/** About 100 ms and 32 MiB on a laptop: cheap once per command, costly for a guesser. */
const DEFAULT_KDF: KdfParams = { log2N: 15, r: 8, p: 1 };

/** Limits on what a file may ask for, so that a damaged byte cannot ask for gigabytes. */
const KDF_LIMITS = { log2N: [14, 18], r: [1, 16], p: [1, 4] } as const;

interface Parsed {
  version: number;
  kdf: KdfParams;
  salt: Buffer;
  check: Buffer;
  nonce: Buffer;
  /** Bytes 0–54: the GCM additional data. */
  header: Buffer;
  ciphertext: Buffer;
  tag: Buffer;
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
  const sealed = Buffer.concat([header, body, cipher.getAuthTag()]);
  return Buffer.concat([sealed, crypto().createHash("sha256").update(sealed).digest()]);
}

/** The salt and scrypt parameters of a sealed file, to write it again under the same key. */
export function keyParameters(bytes: Buffer, what: string): { salt: Buffer; kdf: KdfParams } {
  const { salt, kdf } = parse(bytes, what);
  return { salt, kdf };
}

/** Throws when the file is not one awsmfa reads, or is damaged: needs no passphrase, so comes first. */
export function assertReadable(bytes: Buffer, what: string): void {
  parse(bytes, what);
}

/** Decrypts; a damaged file, a wrong passphrase and a deliberately altered file each fail clearly. */
export function open(bytes: Buffer, passphrase: string, what: string): Buffer {
  const sealed = parse(bytes, what);
  const { encryptionKey, checkKey } = deriveKeys(passphrase, sealed.salt, sealed.kdf);
  if (!crypto().timingSafeEqual(checkOf(checkKey), sealed.check)) throw wrongPassphrase(what, sealed.version);
  const decipher = crypto().createDecipheriv("aes-256-gcm", encryptionKey, sealed.nonce);
  decipher.setAAD(sealed.header);
  decipher.setAuthTag(sealed.tag);
  try {
    return Buffer.concat([decipher.update(sealed.ciphertext), decipher.final()]);
  } catch (error) {
    throw altered(what, "its contents fail authentication", error);
  }
}

function wrongPassphrase(what: string, version: number): AppError {
  const ask = "Give the passphrase the file was made with (typed on the terminal, or AWSMFA_PASSPHRASE).";
  return new AppError("secrets-passphrase", `Wrong passphrase for ${what}.`, {
    hint:
      version === LEGACY_VERSION
        ? `${ask} If it is right, the file's header was damaged (this older format cannot tell): restore it from a backup.`
        : ask,
  });
}

function altered(what: string, why: string, cause?: unknown): AppError {
  return new AppError(
    "secrets-tampered",
    `${capitalised(what)} has been altered or damaged: ${why}, so none of it is used.`,
    { hint: RESTORE, cause },
  );
}

function parse(bytes: Buffer, what: string): Parsed {
  const marker = bytes.subarray(0, MAGIC.length);
  if (!marker.equals(MAGIC) && hasDigest(bytes, MAGIC)) {
    throw altered(what, "its first bytes (the format marker) were changed");
  }
  const ours = marker.subarray(0, -1).equals(MAGIC.subarray(0, -1));
  const version = marker.at(-1);
  const trailer = version === LEGACY_VERSION ? 0 : DIGEST_BYTES;
  if (!ours || bytes.length < HEADER_BYTES + TAG_BYTES + trailer) {
    throw damaged(what, "it is not an awsmfa secrets file");
  }
  if (version !== VERSION && version !== LEGACY_VERSION) {
    throw damaged(what, `its format version ${version} is not one this awsmfa reads`);
  }
  if (trailer > 0 && !hasDigest(bytes, MAGIC)) {
    throw altered(what, "its SHA-256 checksum does not match its bytes");
  }
  const sealed = bytes.subarray(0, bytes.length - trailer);
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
  return {
    version,
    kdf,
    salt,
    check,
    nonce: bytes.subarray(offset, offset + NONCE_BYTES),
    header: sealed.subarray(0, HEADER_BYTES),
    ciphertext: sealed.subarray(HEADER_BYTES, sealed.length - TAG_BYTES),
    tag: sealed.subarray(sealed.length - TAG_BYTES),
  };
}

function damaged(what: string, why: string): AppError {
  return new AppError("secrets-damaged", `${capitalised(what)} cannot be read: ${why}.`, { hint: RESTORE });
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

/**
 * Whether `bytes` end in the SHA-256 of the rest, read as starting with `marker`. Damage to the
 * marker itself can make a file look like another format or no awsmfa file at all (format 1 has
 * no SHA-256); trying it with the current marker put back tells that damage, too, from a wrong
 * passphrase.
 */
function hasDigest(bytes: Buffer, marker: Buffer): boolean {
  if (bytes.length < HEADER_BYTES + TAG_BYTES + DIGEST_BYTES) return false;
  const end = bytes.length - DIGEST_BYTES;
  const digest = crypto()
    .createHash("sha256")
    .update(marker)
    .update(bytes.subarray(marker.length, end))
    .digest();
  return crypto().timingSafeEqual(digest, bytes.subarray(end));
}

function checkOf(checkKey: Buffer): Buffer {
  return crypto().createHmac("sha256", checkKey).update(CHECK_TEXT).digest().subarray(0, CHECK_BYTES);
}

function capitalised(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
