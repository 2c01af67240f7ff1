import type { KeysStep } from "../config/plan";
import { AppError, isAppError } from "../errors";
import { spinWhileWaiting } from "../output/spinner";
import { tellStderr } from "../output/tell";
import { credentialsFor } from "../session/credentials-for";
import type { AwsCredentials } from "../sts/credentials";
import { userNameOf } from "../sts/credentials";
import { keysLeafOf, loadPlan, selectedProfile } from "./profile-plans";
import type { RotateOptions } from "./rotate.command";
import { checkWritable, type Store, storeFor } from "./rotate-store";

/**
 * `awsmfa rotate -p P`: a new access key for the IAM user behind P, stored where the old one
 * was, then the old one deleted. IAM calls are made with the MFA session (policies commonly
 * require MFA for them). Never loses a working key:
 *
 *   create new → prove it works (STS) → store it (read back) → delete old
 *
 * Any failure before the new key is stored deletes the new key again (or says how to) and leaves
 * the old one stored and working; a failure to delete the old key leaves the new one stored and
 * says which key to delete. Before creating anything it checks that there is room for a second
 * key and that the store can be written.
 */

/** IAM allows two access keys per user. */
const MAX_KEYS = 2;
/** A new key may take some seconds to be accepted everywhere (IAM is eventually consistent). */
const PROPAGATION_WAITS_MS = [1000, 2000, 3000, 4000, 5000];

export async function runRotate(options: RotateOptions): Promise<void> {
  const env = process.env;
  const selected = loadPlan(selectedProfile(options.profile, env), env);
  const leaf = keysLeafOf(selected, "rotate");
  const profile = leaf.profile;
  if (profile !== selected.profile) {
    tellStderr(`Profile '${selected.profile}' uses the keys of profile '${profile}'; rotating those.`);
  }
  const store = await storeFor(leaf, env);
  await checkWritable(leaf, env);

  const spinner = spinWhileWaiting();
  const notify = (message: string) => {
    spinner.clear();
    tellStderr(message);
  };
  try {
    await rotate(leaf, store, options, env, notify);
  } finally {
    spinner.stop();
  }
}

async function rotate(
  leaf: KeysStep,
  store: Store,
  options: RotateOptions,
  env: NodeJS.ProcessEnv,
  notify: (message: string) => void,
): Promise<void> {
  const profile = leaf.profile;
  const oldKeyId = leaf.accessKeyId;
  const sts = await import("../sts/client");
  const secrets = await import("../secrets");
  const oldKeys = await secrets.withSecretKey(leaf, env);
  const where = { region: "us-east-1", env };

  const { session, sessionContext, userName, userArn } = await userWithRoom(
    leaf,
    oldKeys,
    options,
    env,
    notify,
  );

  const created = await sts.createAccessKey(session, userName, where, sessionContext);
  notify(`Created access key ${created.accessKeyId} for IAM user ${userName}.`);

  // From here the new key exists: a failure must not leave the profile without a working key.
  try {
    await provenByStsCall(created, userArn as string, profile, env);
    await store.write(created);
    const now = await store.readBack();
    if (
      now.accessKeyId !== created.accessKeyId ||
      (now.secretAccessKey !== undefined && now.secretAccessKey !== created.secretAccessKey)
    ) {
      throw new AppError(
        "rotate-unverified",
        `${store.where} does not read back the new key after writing it.`,
      );
    }
  } catch (error) {
    throw await undoCreate(error, created.accessKeyId, oldKeys, userName, profile, store, async () =>
      sts.deleteAccessKey(session, userName as string, created.accessKeyId, where, sessionContext),
    );
  }
  notify(`Stored the new key in ${store.where}; the old key ${oldKeyId} is no longer used.`);

  try {
    await sts.deleteAccessKey(session, userName, oldKeyId, where, sessionContext);
  } catch (error) {
    throw new AppError(
      "rotate-old-key-left",
      `Profile '${profile}' now uses the new key ${created.accessKeyId}, which works, but deleting the old key ${oldKeyId} failed: ${messageOf(error)}`,
      {
        hint: `Delete it yourself once the problem is solved: aws iam delete-access-key --user-name ${userName} --access-key-id ${oldKeyId}`,
        cause: error,
      },
    );
  }
  tellStderr(
    `Rotated the access key of profile '${profile}' (IAM user ${userName}): ${oldKeyId} → ${created.accessKeyId}; ${oldKeyId} is deleted. The next session for '${profile}' asks for a new MFA code.`,
  );
  if (options.json) {
    process.stdout.write(
      `${JSON.stringify({ profile, userName, oldAccessKeyId: oldKeyId, newAccessKeyId: created.accessKeyId, store: store.name })}\n`,
    );
  }
}

/**
 * The IAM user the profile's keys belong to, with the MFA session that manages its keys, once it is
 * sure the key is one of the user's and there is room for a second one.
 */
async function userWithRoom(
  leaf: KeysStep,
  oldKeys: AwsCredentials,
  options: RotateOptions,
  env: NodeJS.ProcessEnv,
  notify: (message: string) => void,
): Promise<{
  session: AwsCredentials;
  sessionContext: { profile: string; accessKeyId: string };
  userName: string;
  userArn: string;
}> {
  const profile = leaf.profile;
  const oldKeyId = leaf.accessKeyId;
  const sts = await import("../sts/client");
  const where = { region: "us-east-1", env };
  const context = { profile, accessKeyId: oldKeyId };
  // The MFA session of the user profile: IAM policies commonly allow key management only with MFA.
  const userPlan = loadPlan(profile, env);
  const { entry } = await credentialsFor(userPlan, {
    minTtlSeconds: 5 * 60,
    tokenCode: options.tokenCode,
    takesTokenCode: true,
    notify,
  });
  const session = entry.credentials;
  const sessionContext = { ...context, accessKeyId: session.accessKeyId };
  let userName = entry.userName ?? (entry.identity ? userNameOf(entry.identity.arn) : undefined);
  let userArn = entry.identity?.arn;
  if (!userName || !userArn || !userNameOf(userArn)) {
    // Some servers answer GetCallerIdentity on a session with something else than the user; the key itself is sure.
    const caller = await sts.getCallerIdentity(oldKeys, where, context);
    userName = userNameOf(caller.arn);
    userArn = caller.arn;
  }
  if (!userName) {
    throw new AppError(
      "rotate-not-a-user",
      `The keys of profile '${profile}' belong to ${userArn}, not to an IAM user; awsmfa rotates IAM users' keys only.`,
      {},
    );
  }

  const keys = await sts.listAccessKeys(session, userName, where, sessionContext);
  if (!keys.some((key) => key.accessKeyId === oldKeyId)) {
    throw new AppError(
      "rotate-key-unknown",
      `The access key ${oldKeyId} of profile '${profile}' is not one of IAM user ${userName}'s keys (${keys.map((key) => key.accessKeyId).join(", ") || "none"}).`,
      { hint: `Check aws_access_key_id of '${profile}'.` },
    );
  }
  if (keys.length >= MAX_KEYS) {
    const others = keys.filter((key) => key.accessKeyId !== oldKeyId).map((key) => key.accessKeyId);
    throw new AppError(
      "rotate-no-room",
      `IAM user ${userName} has ${keys.length} access keys already (${keys.map((key) => key.accessKeyId).join(", ")}), the most IAM allows, so there is no room for a new one.`,
      {
        hint: `Delete the one profile '${profile}' does not use, if nothing else needs it: aws iam delete-access-key --user-name ${userName} --access-key-id ${others[0]}. Then run \`awsmfa rotate -p ${profile}\` again.`,
      },
    );
  }

  return { session, sessionContext, userName, userArn: userArn as string };
}

/**
 * A new key is not used before STS accepts it. IAM is eventually consistent, so "unknown key"
 * is asked again a few times; any other answer is final.
 */
async function provenByStsCall(
  key: AwsCredentials,
  userArn: string,
  profile: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const sts = await import("../sts/client");
  const context = { profile, accessKeyId: key.accessKeyId };
  for (let attempt = 0; ; attempt++) {
    try {
      const caller = await sts.getCallerIdentity(key, { region: "us-east-1", env }, context);
      if (caller.arn && caller.arn !== userArn && userNameOf(caller.arn) !== userNameOf(userArn)) {
        throw new AppError(
          "rotate-wrong-user",
          `STS says the new key belongs to ${caller.arn}, not to ${userArn}.`,
        );
      }
      return;
    } catch (error) {
      const propagating =
        isAppError(error) && (error.code === "invalid-keys" || error.code === "bad-signature");
      const wait = PROPAGATION_WAITS_MS[attempt];
      if (!propagating || wait === undefined) throw error;
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
}

/**
 * After a failure between create and delete: the new key is deleted again only when the profile
 * provably still resolves to the old key and secret; otherwise deleting it could leave the
 * profile with no key that works, so both stay and the message says what to check.
 */
async function undoCreate(
  error: unknown,
  newKeyId: string,
  oldKeys: AwsCredentials,
  userName: string,
  profile: string,
  store: Store,
  deleteNewKey: () => Promise<void>,
): Promise<AppError> {
  const why = messageOf(error);
  const oldKeyId = oldKeys.accessKeyId;
  let stillOld = false;
  try {
    const now = await store.readBack();
    stillOld =
      now.accessKeyId === oldKeyId &&
      (now.secretAccessKey === undefined || now.secretAccessKey === oldKeys.secretAccessKey);
  } catch {
    stillOld = false;
  }
  if (!stillOld) {
    // The store may hold the new key: deleting it could leave the profile with none that works.
    return new AppError(
      "rotate-incomplete",
      `Rotating the key of profile '${profile}' stopped after the new key ${newKeyId} was written to ${store.where}: ${why}`,
      {
        hint: `Both keys still exist. Check which one '${profile}' uses (\`awsmfa plan -p ${profile}\`), then delete the other: aws iam delete-access-key --user-name ${userName} --access-key-id <the unused one>.`,
        cause: error,
      },
    );
  }
  try {
    await deleteNewKey();
    return new AppError(
      "rotate-failed",
      `Rotating the key of profile '${profile}' failed: ${why} The new key ${newKeyId} was deleted again; the old key ${oldKeyId} is unchanged and still in use.`,
      { cause: error },
    );
  } catch (cleanup) {
    return new AppError(
      "rotate-failed",
      `Rotating the key of profile '${profile}' failed: ${why} The old key ${oldKeyId} is unchanged and still in use, but the unused new key ${newKeyId} could not be deleted (${messageOf(cleanup)}).`,
      {
        hint: `Delete it: aws iam delete-access-key --user-name ${userName} --access-key-id ${newKeyId}`,
        cause: error,
      },
    );
  }
}

function messageOf(error: unknown): string {
  const text = isAppError(error) ? error.message : ((error as Error)?.message ?? String(error));
  return /[.!?]$/.test(text) ? text : `${text}.`;
}
