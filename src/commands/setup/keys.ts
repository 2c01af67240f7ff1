import { keyStore } from "../../config/plan";
import type { ProfileSet, Properties } from "../../config/types";
import { AppError } from "../../errors";
import { readAnswerLines } from "../../fsio/terminal";
import { checkAccessKeyId, checkProfileName, checkSecret, missing, type SetupOptions, usage } from "./checks";
import { type Asker, askAccessKeyId, askSecret } from "./questions";

/** The access key setup works with: given now (flags, stdin, questions) or taken from a profile. */

export interface Keys {
  accessKeyId: string;
  secretAccessKey: string;
  /** Where they come from, for messages; undefined for keys given now. */
  from?: string;
  /** True when the credentials file must get them (new keys, or copied from another profile). */
  write: boolean;
}

/** More than a secret and a code: not read further. */
const MAX_STDIN_CHARS = 64 * 1024;

/**
 * --secret-access-key-stdin: the secret is the first line of stdin, never in argv. With
 * --token-code - as well, the code is the next line.
 */
export async function readStdinAnswers(
  options: SetupOptions,
): Promise<{ secret?: string; tokenCode?: string }> {
  if (!options.secretAccessKeyStdin) return {};
  if (process.stdin.isTTY) {
    throw usage(
      "--secret-access-key-stdin reads the secret from a pipe, and stdin is a terminal.",
      "Pipe it in: `pass show aws/alice | awsmfa setup --secret-access-key-stdin …`, or leave the flag out to be asked.",
    );
  }
  const wanted = options.tokenCode === "-" ? 2 : 1;
  const lines = await readAnswerLines(process.stdin, wanted, MAX_STDIN_CHARS).catch((error: Error) => {
    throw usage(`Could not read standard input: ${error.message}`);
  });
  const secret = (lines[0] ?? "").trim();
  if (secret === "") throw usage("--secret-access-key-stdin: standard input held no secret access key.");
  checkSecret(secret);
  return { secret, tokenCode: wanted === 2 ? (lines[1] ?? "").trim() : undefined };
}

export async function chooseKeys(
  options: SetupOptions,
  stdinSecret: string | undefined,
  profile: string,
  merged: ProfileSet,
  ask: Asker | undefined,
): Promise<Keys> {
  if (options.importFromCredentials !== undefined) {
    const from = typeof options.importFromCredentials === "string" ? options.importFromCredentials : profile;
    return importedKeys(from, profile, merged);
  }
  if (options.accessKeyId !== undefined || stdinSecret !== undefined) {
    const accessKeyId =
      options.accessKeyId ??
      (ask ? await askAccessKeyId(ask) : missing("the access key ID", "--access-key-id AKIA…", options.yes));
    const secretAccessKey =
      stdinSecret ??
      (ask
        ? await askSecret(ask)
        : missing(
            "the secret access key",
            "--secret-access-key-stdin (the secret as a line on stdin)",
            options.yes,
          ));
    return { accessKeyId, secretAccessKey, write: true };
  }
  if (!ask) {
    return missing(
      "the access key",
      "--access-key-id AKIA… --secret-access-key-stdin (the secret on stdin), or --import-from-credentials [profile]",
      options.yes,
    );
  }
  return chooseAmongProfiles(ask, profile, merged);
}

/** On a terminal with no key given: the keys of a profile that has some, or a new key. */
async function chooseAmongProfiles(ask: Asker, profile: string, merged: ProfileSet): Promise<Keys> {
  // Profiles with keys in the files; this profile also when its keys are in a store (awsmfa_keys).
  const withKeys = Object.entries(merged.profiles)
    .filter(
      ([name, properties]) =>
        (properties.aws_access_key_id && properties.aws_secret_access_key) ||
        (name === profile && keyStore(properties) && properties.awsmfa_access_key_id),
    )
    .map(([name, properties]) => ({
      name,
      id: (keyStore(properties) ? properties.awsmfa_access_key_id : properties.aws_access_key_id) as string,
    }));
  type Choice = "new" | `import:${string}`;
  const choices: { value: Choice; label: string; hint?: string }[] = [
    ...withKeys.map(({ name, id }) => ({
      value: `import:${name}` as Choice,
      label: name === profile ? `Use the keys profile '${name}' has` : `Copy the keys of profile '${name}'`,
      hint: id,
    })),
    {
      value: "new",
      label: "Enter an access key",
      hint: "IAM console → Users → Security credentials → Create access key",
    },
  ];
  const choice =
    withKeys.length === 0
      ? "new"
      : await ask.select(
          "Which access key?",
          choices,
          withKeys.some(({ name }) => name === profile) ? `import:${profile}` : "new",
        );
  if (choice.startsWith("import:")) return importedKeys(choice.slice("import:".length), profile, merged);
  return { accessKeyId: await askAccessKeyId(ask), secretAccessKey: await askSecret(ask), write: true };
}

async function importedKeys(from: string, profile: string, merged: ProfileSet): Promise<Keys> {
  checkProfileName(from, "--import-from-credentials");
  const properties = merged.profiles[from];
  const store = properties ? keyStore(properties) : undefined;
  if (store !== undefined && properties?.awsmfa_access_key_id) {
    // Keys already moved to a store (awsmfa keys move) stay there: used for the check, never copied out.
    if (from !== profile) {
      throw usage(
        `Profile '${from}' keeps its keys in ${store} (awsmfa_keys); setup does not copy them out of it.`,
        `Run setup for that profile itself: awsmfa setup -p ${from} --import-from-credentials`,
      );
    }
    const secrets = await import("../../secrets");
    const leaf = {
      type: "keys" as const,
      profile: from,
      accessKeyId: properties.awsmfa_access_key_id,
      secretAccessKey: "",
      store,
    };
    const withSecret = await secrets.withSecretKey(leaf, process.env);
    return { accessKeyId: leaf.accessKeyId, secretAccessKey: withSecret.secretAccessKey, from, write: false };
  }
  const accessKeyId = properties?.aws_access_key_id;
  const secretAccessKey = properties?.aws_secret_access_key;
  if (!accessKeyId || !secretAccessKey) {
    throw new AppError(
      "setup-no-keys-to-import",
      `Profile '${from}' has no aws_access_key_id and aws_secret_access_key in the credentials or config file to import.`,
      {
        hint: "Give the keys instead: --access-key-id AKIA… --secret-access-key-stdin (the secret on stdin).",
      },
    );
  }
  checkAccessKeyId(accessKeyId, `aws_access_key_id of profile '${from}'`);
  // The same profile: the keys stay where they are. Another one: they are copied to this one.
  return { accessKeyId, secretAccessKey, from, write: from !== profile };
}

/** Setup writes keys to the credentials file only; a profile whose keys are in a store keeps them there. */
export function refuseKeysOverStore(keys: Keys, current: Properties, profile: string): void {
  if (!keys.write || keyStore(current) === undefined) return;
  throw new AppError(
    "setup-keys-in-store",
    `Profile '${profile}' keeps its keys in ${keyStore(current)} (awsmfa_keys); setup writes keys to the credentials file only.`,
    {
      hint: `Move them back first (\`awsmfa keys move -p ${profile} --to file\`), run setup, then move them again.`,
    },
  );
}
