import { editProfileFile, removeProperties, setProperty } from "../config/edit";
import { configFilePath, credentialsFilePath } from "../config/files";
import type { KeysStep } from "../config/plan";
import { AppError } from "../errors";
import { tellStderr } from "../output/tell";
import { placeOf, type SecretRef, storeNamed, withSecretKey } from "../secrets";
import type { KeysMoveOptions } from "./keys.command";
import { keysLeafOf, loadPlan, selectedProfile } from "./profile-plans";

/**
 * `awsmfa keys move -p P --to file|keyring|encrypted`: moves a profile's long-term keys between
 * the credentials file and the secret stores. Each step leaves a working profile behind, so an
 * interruption never loses the keys: write the new copy, read it back, point the profile at it
 * (awsmfa_keys, awsmfa_access_key_id in the config file), only then remove the old copy.
 */

const MARKERS = ["awsmfa_keys", "awsmfa_access_key_id"];

export async function runKeysMove(options: KeysMoveOptions): Promise<void> {
  const env = process.env;
  const context = { env };
  const to = storeNamed(options.to, "--to");
  const plan = loadPlan(selectedProfile(options.profile, env), env);
  const leaf = keysLeafOf(plan, "move");
  const from = storeNamed(leaf.store ?? "file", `awsmfa_keys in profile '${leaf.profile}'`);
  const whose = `profile '${leaf.profile}'${leaf.profile === plan.profile ? "" : ` (the keys under '${plan.profile}')`}`;
  if (from.name === to.name) {
    tellStderr(`The keys of ${whose} are in ${placeOf(to, env)} already; nothing to move.`);
    return;
  }
  const { secretAccessKey } = await withSecretKey(leaf, env);
  const ref: SecretRef = { kind: "secret_access_key", profile: leaf.profile, accessKeyId: leaf.accessKeyId };
  await to.write(ref, secretAccessKey, context);
  if ((await to.read(ref, context)) !== secretAccessKey) {
    throw new AppError(
      "keys-move-unverified",
      `The keys of ${whose} were written to ${placeOf(to, env)} but did not read back the same; nothing else was changed.`,
      { hint: `They are still in ${placeOf(from, env)}.` },
    );
  }
  await pointAt(env, leaf, to.name);
  await from.remove(ref, context);
  tellStderr(
    `Moved the keys of ${whose} (${leaf.accessKeyId}) from ${placeOf(from, env)} to ${placeOf(to, env)}.`,
  );
  if (from.name === "file") {
    tellStderr(
      `They are no longer in the credentials file: tools that read it directly do not find them. Point those at \`credential_process = awsmfa credential-process -p ${plan.profile}\`.`,
    );
  }
}

/** The config file says where the keys are; the credentials file must not say otherwise (it would win). */
async function pointAt(env: NodeJS.ProcessEnv, leaf: KeysStep, store: string): Promise<void> {
  await editProfileFile(configFilePath(env), "config", (text) => {
    if (store === "file") return removeProperties(text, "config", leaf.profile, MARKERS);
    const marked = setProperty(text, "config", leaf.profile, "awsmfa_keys", store);
    return setProperty(marked, "config", leaf.profile, "awsmfa_access_key_id", leaf.accessKeyId);
  });
  await editProfileFile(credentialsFilePath(env), "credentials", (text) =>
    removeProperties(text, "credentials", leaf.profile, MARKERS),
  );
}
