import { editProfileFile, removeProperties, setProperty } from "../config/edit";
import { configFilePath, credentialsFilePath, loadProfileSet } from "../config/files";
import { AppError } from "../errors";
import { registerStore, type SecretRef, type SecretsContext } from "./registry";

/**
 * The credentials file, as the aws CLI keeps keys: `aws_access_key_id` and
 * `aws_secret_access_key` in the profile's section. The default, and what every other tool reads.
 * It keeps access keys only: a TOTP seed never goes into the config files.
 */

const KEY_NAMES = ["aws_access_key_id", "aws_secret_access_key"];

registerStore({
  name: "file",
  summary: "the credentials file, as the aws CLI keeps keys (default)",
  holdsSeeds: false,
  where: (context) => credentialsFilePath(context.env),
  async read(ref, context) {
    const keys = keysOnly(ref);
    const properties = loadProfileSet(context.env).profiles[keys.profile];
    if (properties?.aws_access_key_id !== keys.accessKeyId) return undefined;
    return properties.aws_secret_access_key || undefined;
  },
  async write(ref, value, context) {
    const keys = keysOnly(ref);
    await editProfileFile(credentialsFilePath(context.env), "credentials", (text) => {
      const withId = setProperty(text, "credentials", keys.profile, "aws_access_key_id", keys.accessKeyId);
      return setProperty(withId, "credentials", keys.profile, "aws_secret_access_key", value);
    });
  },
  /** Both keys, from both files (the AWS rules allow them in the config file too), and a section they leave empty. */
  async remove(ref, context) {
    const keys = keysOnly(ref);
    let removed = false;
    for (const [path, kind] of filesOf(context)) {
      const { changed } = await editProfileFile(path, kind, (text) =>
        removeProperties(text, kind, keys.profile, KEY_NAMES),
      );
      removed ||= changed;
    }
    return removed;
  },
});

function filesOf(context: SecretsContext): [string, "credentials" | "config"][] {
  return [
    [credentialsFilePath(context.env), "credentials"],
    [configFilePath(context.env), "config"],
  ];
}

function keysOnly(ref: SecretRef): Extract<SecretRef, { kind: "secret_access_key" }> {
  if (ref.kind === "secret_access_key") return ref;
  throw new AppError("seed-in-file", "TOTP seeds are never kept in the AWS config or credentials files.", {
    hint: "Use --store keyring or --store encrypted.",
  });
}
