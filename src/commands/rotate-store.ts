import { readFileSync } from "node:fs";
import { editProfileFile, removeProperty, setProperty } from "../config/edit";
import { configFilePath, credentialsFilePath, loadProfileSet } from "../config/files";
import { parseProfileFiles } from "../config/ini";
import type { KeysStep } from "../config/plan";
import { AppError } from "../errors";
import type { AwsCredentials } from "../sts/credentials";
import { loadPlan } from "./profile-plans";

// Where `awsmfa rotate` finds the profile's key and puts the new one (rotate.ts has the order of the steps).

const MARKER = "awsmfa_access_key_id";

export interface Store {
  name: string;
  where: string;
  /** Writes the new key; on failure the old one is still what the profile uses. */
  write(newKey: AwsCredentials): Promise<void>;
  /** The key id and secret the profile now resolves to. */
  readBack(): Promise<{ accessKeyId: string; secretAccessKey: string | undefined }>;
}

/**
 * Where the key lives now: the credentials file (or, for keys written there, the config file),
 * or the store awsmfa_keys names, with awsmfa_access_key_id in the config file pointing at it.
 */
export async function storeFor(leaf: KeysStep, env: NodeJS.ProcessEnv): Promise<Store> {
  const profile = leaf.profile;
  const readBack = async () => {
    const fresh = loadPlan(profile, env).leaf;
    if (fresh.type !== "keys") return { accessKeyId: "", secretAccessKey: undefined };
    return {
      accessKeyId: fresh.accessKeyId,
      secretAccessKey: fresh.store ? undefined : fresh.secretAccessKey,
    };
  };
  if (leaf.store) {
    const secrets = await import("../secrets");
    const store = secrets.storeNamed(leaf.store, `awsmfa_keys in profile '${profile}'`);
    const context = { env };
    const where =
      store.name === "keyring" ? store.where(context) : `${store.name} store ${store.where(context)}`;
    const old = await secrets.withSecretKey(leaf, env);
    return {
      name: store.name,
      where,
      async write(newKey) {
        // One entry per profile: the new secret replaces the old, then the config file names the new id.
        const newRef = { kind: "secret_access_key" as const, profile, accessKeyId: newKey.accessKeyId };
        await store.write(newRef, newKey.secretAccessKey, context);
        try {
          if ((await store.read(newRef, context)) !== newKey.secretAccessKey) {
            throw new AppError(
              "rotate-unverified",
              `${where} does not read back the new secret after writing it.`,
            );
          }
          await editProfileFile(configFilePath(env), "config", (text) =>
            setProperty(text, "config", profile, MARKER, newKey.accessKeyId),
          );
        } catch (error) {
          // Put the old secret back, so that the profile (still naming the old id) keeps working.
          const oldRef = { kind: "secret_access_key" as const, profile, accessKeyId: leaf.accessKeyId };
          await store.write(oldRef, old.secretAccessKey, context);
          throw error;
        }
      },
      async readBack() {
        const fresh = await readBack();
        const ref = { kind: "secret_access_key" as const, profile, accessKeyId: fresh.accessKeyId };
        return { accessKeyId: fresh.accessKeyId, secretAccessKey: (await store.read(ref, context)) ?? "" };
      },
    };
  }
  const inFile = keysFile(profile, leaf.accessKeyId, env);
  return {
    name: "file",
    where: inFile.path,
    async write(newKey) {
      // Both lines in one whole-file write, under the file's lock; only if the old key is still what it holds.
      await editProfileFile(inFile.path, inFile.kind, (text) => {
        const now = parseProfile(text, inFile.kind, profile);
        if (now.aws_access_key_id !== leaf.accessKeyId) {
          throw new AppError(
            "rotate-file-changed",
            `${inFile.path} no longer holds the key ${leaf.accessKeyId} for profile '${profile}' (something else changed it).`,
          );
        }
        const withId = setProperty(text, inFile.kind, profile, "aws_access_key_id", newKey.accessKeyId);
        const both = setProperty(
          withId,
          inFile.kind,
          profile,
          "aws_secret_access_key",
          newKey.secretAccessKey,
        );
        // A session token next to long-term keys would be sent along with them and fail.
        return removeProperty(both, inFile.kind, profile, "aws_session_token");
      });
    },
    readBack,
  };
}

/** The file whose section gives `profile` its key: the credentials file, unless only the config file has it. */
function keysFile(
  profile: string,
  accessKeyId: string,
  env: NodeJS.ProcessEnv,
): { path: string; kind: "credentials" | "config" } {
  const set = loadProfileSet(env);
  const origins = set.origins[profile] ?? [];
  const credentials = credentialsFilePath(env);
  const config = configFilePath(env);
  const inCredentials = origins.some((origin) => origin.kind === "credentials");
  if (!inCredentials && origins.some((origin) => origin.kind === "config")) {
    if (parseProfile(readFileSync(config, "utf8"), "config", profile).aws_access_key_id === accessKeyId) {
      return { path: config, kind: "config" };
    }
  }
  return { path: credentials, kind: "credentials" };
}

function parseProfile(text: string, kind: "credentials" | "config", profile: string): Record<string, string> {
  const file = { path: `the ${kind} file`, text };
  const set = kind === "config" ? parseProfileFiles(file) : parseProfileFiles(undefined, file);
  return set.profiles[profile] ?? {};
}

/** Before anything is created: the files the new key goes to can be read, parsed and rewritten. */
export async function checkWritable(leaf: KeysStep, env: NodeJS.ProcessEnv): Promise<void> {
  const { path, kind } = leaf.store
    ? { path: configFilePath(env), kind: "config" as const }
    : keysFile(leaf.profile, leaf.accessKeyId, env);
  // An edit that changes nothing writes nothing, but still takes the lock and checks the file.
  await editProfileFile(path, kind, (text) => text);
}
