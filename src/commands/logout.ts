import { basename } from "node:path";
import { AppError } from "../errors";
import { managedSessionProfiles, removeSessionProfile } from "../output/credentials-file";
import { cacheDirectory, listCacheFiles, removeCacheFile, removeEntry } from "../session/cache";
import { cacheableSteps } from "../session/steps";
import { loadPlan, selectedProfile, tellStderr } from "./selection";

export interface LogoutOptions {
  profile?: string;
  all?: boolean;
  writeProfile?: string;
}

/** Forgets cached sessions: one profile's steps (its MFA session included), or everything. */
export async function runLogout(options: LogoutOptions): Promise<void> {
  if (options.all && options.profile) {
    throw new AppError("bad-logout", "Give either --profile or --all, not both.", { status: "usage" });
  }
  const dir = cacheDirectory(process.env);
  let removed = 0;
  if (options.all) {
    for (const path of listCacheFiles(dir))
      if (removeCacheFile(path) && !basename(path).startsWith("warm-")) removed++;
    for (const name of managedSessionProfiles(process.env)) {
      if (await removeSessionProfile(process.env, name))
        tellStderr(`Removed [${name}] from the credentials file.`);
    }
  } else {
    const plan = loadPlan(selectedProfile(options.profile, process.env), process.env);
    for (const { key } of cacheableSteps(plan) ?? []) if (removeEntry(dir, key)) removed++;
    tellStderr(`Forgot ${removed} cached step${removed === 1 ? "" : "s"} of profile '${plan.profile}'.`);
  }
  if (options.all) tellStderr(`Forgot ${removed} cached step${removed === 1 ? "" : "s"}.`);
  if (options.writeProfile && (await removeSessionProfile(process.env, options.writeProfile))) {
    tellStderr(`Removed [${options.writeProfile}] from the credentials file.`);
  }
}
