import { AppError } from "../errors";

/**
 * Where long-term secrets live: a profile's secret access key, and (opt-in) the TOTP seed of an
 * MFA device. One table, filled by the files that implement a store (each registers itself when
 * index.ts imports it), so that adding a store is adding a file, as in aws-vault:
 *
 * - `file`: the credentials file, as the aws CLI keeps keys (the default; keys only);
 * - `keyring`: the OS keychain (macOS Keychain, Windows Credential Manager, Secret Service);
 * - `encrypted`: one AES-256-GCM file under a passphrase.
 *
 * A profile names its store with `awsmfa_keys = NAME` and, for any store but `file`, keeps its
 * access key id readable as `awsmfa_access_key_id` (not a secret; cache keys and messages use it).
 */

/** What a secret is, and whose: a profile's secret access key, or a device's TOTP seed. */
export type SecretRef =
  | { kind: "secret_access_key"; profile: string; accessKeyId: string }
  | { kind: "totp_seed"; serial: string };

export interface SecretsContext {
  env: NodeJS.ProcessEnv;
}

export interface SecretStore {
  /** The value of awsmfa_keys / --to / --store that names it. */
  name: string;
  /** One line for help and messages: what it is. */
  summary: string;
  /** False for the credentials file: TOTP seeds never go into the config files. */
  holdsSeeds: boolean;
  /** Where the secrets are, for messages (a path, or "the OS keyring"). */
  where(context: SecretsContext): string;
  /** The secret, or undefined when the store has none for `ref`. */
  read(ref: SecretRef, context: SecretsContext): Promise<string | undefined>;
  write(ref: SecretRef, value: string, context: SecretsContext): Promise<void>;
  /** True when there was something to remove. */
  remove(ref: SecretRef, context: SecretsContext): Promise<boolean>;
}

const stores: SecretStore[] = [];

export function registerStore(store: SecretStore): void {
  if (stores.some((known) => known.name === store.name)) return;
  stores.push(store);
}

export function storeNames(): string[] {
  return stores.map((store) => store.name);
}

/** The store called `name`; a name nobody registered is a configuration error that lists the known ones. */
export function storeNamed(name: string, origin = "awsmfa_keys"): SecretStore {
  const wanted = name.trim().toLowerCase();
  const store = stores.find((known) => known.name === wanted);
  if (store) return store;
  throw new AppError("unknown-store", `${origin} is "${name}", which is not a place awsmfa keeps secrets.`, {
    hint: `Use one of: ${stores.map((known) => `${known.name} (${known.summary})`).join("; ")}.`,
  });
}

/**
 * The name of a secret inside a store: `<profile>:secret_access_key` or `<serial>:totp_seed`
 * (a profile's seed follows its device, so the device ARN is its key). In the OS keyring this is
 * the account of an entry of service "awsmfa".
 */
export function accountOf(ref: SecretRef): string {
  return ref.kind === "secret_access_key" ? `${ref.profile}:secret_access_key` : `${ref.serial}:totp_seed`;
}

/** How messages name a secret, never with its value. */
export function describeRef(ref: SecretRef): string {
  return ref.kind === "secret_access_key"
    ? `the secret access key of profile '${ref.profile}' (${ref.accessKeyId})`
    : `the TOTP seed of MFA device ${ref.serial}`;
}

/** Where a store keeps its secrets, as a message names it: a keychain entry, or the file and its path. */
export function placeOf(store: SecretStore, env: NodeJS.ProcessEnv): string {
  const where = store.where({ env });
  return store.name === "keyring"
    ? where
    : `${store.name === "file" ? "the credentials file" : "the encrypted file"} ${where}`;
}
