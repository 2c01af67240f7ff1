import { AppError } from "../errors";
import { accountOf, describeRef, registerStore, type SecretRef } from "./registry";

/**
 * The OS keychain through @napi-rs/keyring: one entry per secret, service "awsmfa", account
 * `<profile>:secret_access_key` or `<serial>:totp_seed`. The native module is loaded only when a
 * keyring secret is actually needed. On Linux the entry is pinned to the Secret Service (GNOME
 * Keyring, KWallet, KeePassXC): the library would otherwise fall back to the kernel keyring,
 * which forgets everything at logout, so a machine without a Secret Service is told so.
 */

const SERVICE = "awsmfa";

type KeyringModule = typeof import("@napi-rs/keyring");
type Entry = InstanceType<KeyringModule["Entry"]>;

registerStore({
  name: "keyring",
  summary: "the OS keychain: macOS Keychain, Windows Credential Manager, Secret Service on Linux",
  holdsSeeds: true,
  where: () => "the OS keyring",
  async read(ref) {
    const entry = await entryFor(ref);
    return attempt(ref, "read", () => entry.getPassword() ?? undefined);
  },
  async write(ref, value) {
    const entry = await entryFor(ref);
    attempt(ref, "write", () => entry.setPassword(value));
  },
  async remove(ref) {
    const entry = await entryFor(ref);
    return attempt(ref, "remove", () => entry.deleteCredential());
  },
});

let loaded: Promise<KeyringModule> | undefined;

async function entryFor(ref: SecretRef): Promise<Entry> {
  loaded ??= import("@napi-rs/keyring");
  let keyring: KeyringModule;
  try {
    keyring = await loaded;
  } catch (error) {
    loaded = undefined;
    throw new AppError(
      "keyring-unavailable",
      `The OS keyring cannot be used here: its module did not load (${(error as Error).message}).`,
      { hint: encryptedHint(ref), cause: error },
    );
  }
  return attempt(
    ref,
    "open",
    () => new keyring.Entry(SERVICE, accountOf(ref), { linux: { store: "secret-service" } }),
  );
}

/** The same secret in the passphrase-protected file instead, as a command line that puts it there. */
function encryptedHint(ref: SecretRef): string {
  const command =
    ref.kind === "secret_access_key"
      ? `awsmfa keys move -p ${ref.profile} --to encrypted`
      : "awsmfa totp add -p PROFILE --store encrypted";
  return `Keep the secret in a passphrase-protected file instead: \`${command}\`.`;
}

function attempt<T>(ref: SecretRef, what: string, work: () => T): T {
  try {
    return work();
  } catch (error) {
    throw keyringError(ref, what, error);
  }
}

/** The library's messages name the platform failure, never the secret: safe to show. */
function keyringError(ref: SecretRef, what: string, error: unknown): AppError {
  const detail = (error as Error)?.message ?? String(error);
  if (isNoService(detail)) {
    return new AppError(
      "keyring-unavailable",
      `No keyring service is running here to ${what} ${describeRef(ref)}${process.platform === "linux" ? " (no Secret Service on the session D-Bus)" : ""}.`,
      {
        hint: `${process.platform === "linux" ? "Start one (GNOME Keyring, KWallet or KeePassXC with Secret Service) in your desktop session, or k" : "K"}${encryptedHint(ref).slice(1)}`,
        cause: error,
      },
    );
  }
  return new AppError("keyring-failed", `The OS keyring refused to ${what} ${describeRef(ref)}: ${detail}`, {
    hint: `Unlock the keyring and try again. ${encryptedHint(ref)}`,
    cause: error,
  });
}

function isNoService(detail: string): boolean {
  return /failed to connect|autolaunch|DBUS_SESSION_BUS_ADDRESS|not provided by any|ServiceUnknown|NoStorageAccess|no secret service/i.test(
    detail,
  );
}
