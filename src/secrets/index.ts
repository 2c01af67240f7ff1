import type { KeysStep } from "../config/plan";
import { AppError } from "../errors";
// Each import registers one store; adding a place to keep secrets is one file and one line here.
import "./file";
import "./keyring";
import "./encrypted";
import { type SecretRef, storeNamed } from "./registry";

export { secretsFilePath } from "./encrypted";
export {
  accountOf,
  describeRef,
  placeOf,
  type SecretRef,
  type SecretStore,
  type SecretsContext,
  storeNamed,
  storeNames,
} from "./registry";

/** Secrets already read in this process: a command reads each at most once. */
const loaded = new Map<string, string>();

/**
 * The long-term keys of a keys leaf, ready for an STS call: as they are when the secret is in
 * the credentials file, else with the secret read from the profile's store. Only obtain() calls
 * this, and only when a step needs the long-term keys: a cached session never opens a store.
 */
export async function withSecretKey(leaf: KeysStep, env: NodeJS.ProcessEnv): Promise<KeysStep> {
  if (!leaf.store || leaf.secretAccessKey) return leaf;
  const store = storeNamed(leaf.store, `awsmfa_keys in profile '${leaf.profile}'`);
  const ref: SecretRef = { kind: "secret_access_key", profile: leaf.profile, accessKeyId: leaf.accessKeyId };
  const memo = `${store.name}\n${leaf.profile}\n${leaf.accessKeyId}`;
  let secret = loaded.get(memo);
  if (secret === undefined) {
    secret = await store.read(ref, { env });
    if (!secret) {
      throw new AppError(
        "no-stored-keys",
        `Profile '${leaf.profile}' keeps its keys in ${store.name} (awsmfa_keys), but ${store.where({ env })} has no secret access key for it.`,
        {
          hint: `Put aws_access_key_id and aws_secret_access_key of '${leaf.profile}' back in the credentials file, remove awsmfa_keys from the profile, then run \`awsmfa keys move -p ${leaf.profile} --to ${store.name}\`.`,
        },
      );
    }
    loaded.set(memo, secret);
  }
  return { ...leaf, secretAccessKey: secret };
}
