import { closeSync, readFileSync } from "node:fs";
import { join, posix, win32 } from "node:path";
import { AppError, fileError } from "../errors";
import { openRegularFile } from "../fsio/regular-file";
import {
  emptyProfileSet,
  emptyRecord,
  MAX_PROFILE_FILE_CHARS,
  mergeProfileFile,
  profileFileTooLarge,
} from "./ini";
import { awsmfaCredentialProcessProfile } from "./own-command";
import {
  type ConfigProfileReader,
  configProfileNames,
  configProfileReader,
  configProfileSet,
} from "./parsed-config";
import type { ProfileFile, ProfileSet } from "./types";

/**
 * Where the shared config and credentials files are, by the rules the SDKs share
 * (file-location-tests.json). Read on every aws CLI call through credential_process, so this
 * stays synchronous and imports nothing heavy.
 */

type Env = NodeJS.ProcessEnv;

export function configFilePath(env: Env = process.env, platform = process.platform, home?: string): string {
  return profileFilePath(env.AWS_CONFIG_FILE, "config", env, platform, home);
}

export function credentialsFilePath(
  env: Env = process.env,
  platform = process.platform,
  home?: string,
): string {
  return profileFilePath(env.AWS_SHARED_CREDENTIALS_FILE, "credentials", env, platform, home);
}

/** The profile the SDKs pick when none is named on the command line (AWS_DEFAULT_PROFILE: the aws CLI v1's). */
export function profileFromEnv(env: Env = process.env): string {
  return env.AWS_PROFILE || env.AWS_DEFAULT_PROFILE || "default";
}

/** Both files' text; a file that does not exist is undefined, as it is for the SDKs. */
export function readProfileFiles(env: Env = process.env): {
  config?: ProfileFile;
  credentials?: ProfileFile;
} {
  return {
    config: readProfileFile(configFilePath(env)),
    credentials: readProfileFile(credentialsFilePath(env)),
  };
}

/**
 * Both files merged. The config file's profiles come from awsmfa's cache while the file is
 * unchanged (parsed-config.ts); the credentials file is always read and parsed.
 */
export function loadProfileSet(env: Env = process.env): ProfileSet {
  const set = configProfileSet(configFilePath(env), cacheDirectory(env), readProfileFile);
  const credentials = readProfileFile(credentialsFilePath(env));
  if (credentials) mergeProfileFile(set, credentials, "credentials");
  return set;
}

/**
 * `resolve` (a plan's resolution) on the profiles that resolving `selected` can visit, merged
 * as loadProfileSet merges them: the selected profile and, transitively, every profile that one
 * of their values names (a source_profile, the -p of awsmfa's own credential_process).
 * Resolution reads no other profile, so a plan resolved on these is the one the whole set gives,
 * and over 10,000 profiles only a handful are built. When it throws, it runs once more on the
 * whole set, whose errors list the known profiles. Each file is parsed at most once.
 */
export function resolveOnProfilesOf<T>(env: Env, selected: string, resolve: (set: ProfileSet) => T): T {
  const config = configProfileReader(configFilePath(env), cacheDirectory(env), readProfileFile);
  const credentials = credentialsProfiles(env);
  try {
    return resolve(chainProfiles(config, credentials, selected));
  } catch {
    return resolve(withCredentials(config.whole(), credentials));
  }
}

/** The profiles resolveOnProfilesOf resolves `selected` on first. */
export function loadProfileSubset(env: Env, selected: string): ProfileSet {
  const config = configProfileReader(configFilePath(env), cacheDirectory(env), readProfileFile);
  return chainProfiles(config, credentialsProfiles(env), selected);
}

function credentialsProfiles(env: Env): ProfileSet {
  const set = emptyProfileSet();
  const file = readProfileFile(credentialsFilePath(env));
  if (file) mergeProfileFile(set, file, "credentials");
  return set;
}

/** `set` (the config file's part) with the credentials file's on top, as mergeProfileFile merges it. */
function withCredentials(set: ProfileSet, credentials: ProfileSet): ProfileSet {
  for (const [name, properties] of Object.entries(credentials.ssoSessions))
    set.ssoSessions[name] = Object.assign(set.ssoSessions[name] ?? emptyRecord(), properties);
  for (const [name, properties] of Object.entries(credentials.profiles)) {
    set.profiles[name] = Object.assign(set.profiles[name] ?? emptyRecord(), properties);
    set.origins[name] = [...(set.origins[name] ?? []), ...(credentials.origins[name] ?? [])];
  }
  return set;
}

function chainProfiles(config: ConfigProfileReader, credentials: ProfileSet, selected: string): ProfileSet {
  const set = emptyProfileSet();
  for (const [name, properties] of Object.entries(config.ssoSessions))
    set.ssoSessions[name] = Object.assign(emptyRecord(), properties);
  const pending = [selected];
  const seen = new Set<string>();
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (seen.has(name)) continue;
    seen.add(name);
    const own = config.profile(name);
    if (own) {
      set.profiles[name] = own.properties;
      set.origins[name] = [{ kind: "config", path: config.path, line: own.line }];
    }
    for (const value of Object.values({ ...own?.properties, ...credentials.profiles[name] })) {
      const named = awsmfaCredentialProcessProfile(value) ?? value;
      if (config.names.includes(named) || credentials.profiles[named] !== undefined) pending.push(named);
    }
  }
  // The credentials file's part on top, as it is merged into the whole set.
  return withCredentials(set, credentials);
}

/** Every profile's name, config file first: what completion lists, without the profiles' properties. */
export function loadProfileNames(env: Env = process.env): string[] {
  const names = configProfileNames(configFilePath(env), cacheDirectory(env), readProfileFile);
  const credentials = readProfileFile(credentialsFilePath(env));
  if (!credentials) return names;
  const set = emptyProfileSet();
  mergeProfileFile(set, credentials, "credentials");
  return [...new Set([...names, ...Object.keys(set.profiles)])];
}

function profileFilePath(
  override: string | undefined,
  name: "config" | "credentials",
  env: Env,
  platform: NodeJS.Platform,
  home: string | undefined,
): string {
  const paths = platform === "win32" ? win32 : posix;
  const homeDir = () => home ?? homeDirectory(env, platform);
  if (!override) return paths.join(homeDir(), ".aws", name);
  if (override === "~") return homeDir();
  const homeRelative = override.startsWith("~/") || (platform === "win32" && override.startsWith("~\\"));
  return homeRelative ? paths.join(homeDir(), override.slice(2)) : override;
}

/** awsmfa's cache: session credentials, the warm index, parsed config files. */
export function cacheDirectory(env: Env): string {
  if (env.AWSMFA_CACHE_DIR) return env.AWSMFA_CACHE_DIR;
  return join(awsmfaDirectory(env), "cache");
}

/** Where awsmfa keeps its own files: the cache, the secrets file, the containers' CA. */
export function awsmfaDirectory(env: Env): string {
  return join(homeDirectory(env), ".aws", "awsmfa");
}

/** Where ~ is, as the SDKs find it; ~/.aws and awsmfa's own files under it all come from here. */
export function homeDirectory(env: Env, platform: NodeJS.Platform = process.platform): string {
  if (env.HOME) return env.HOME;
  if (platform === "win32") {
    if (env.USERPROFILE) return env.USERPROFILE;
    if (env.HOMEDRIVE && env.HOMEPATH) return env.HOMEDRIVE + env.HOMEPATH;
  }
  try {
    // node:os only here, when no variable says where home is: not paid on every credential_process call.
    return process.getBuiltinModule("node:os").homedir();
  } catch (error) {
    throw new AppError("no-home", "Cannot tell where your home directory is, so not where ~/.aws is.", {
      hint: "Set HOME, or AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE.",
      cause: error,
    });
  }
}

/**
 * Only a regular file of a sane size is read: a FIFO would block the read forever, and a huge
 * file would be read whole before the parser could refuse it.
 */
export function readProfileFile(path: string): ProfileFile | undefined {
  try {
    // Judged on the descriptor that is read, so that nothing can be swapped in after the check.
    const opened = openRegularFile(path);
    if ("missing" in opened) return undefined;
    if ("notRegular" in opened) {
      throw new AppError("config-read", `${path} is not a regular file; awsmfa will not read it.`, {
        hint: "Check that AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name the right files.",
      });
    }
    try {
      if (opened.stat.size > MAX_PROFILE_FILE_CHARS) {
        throw profileFileTooLarge(path, `${(opened.stat.size / 1048576).toFixed(1)} MB, more than 16 MB`);
      }
      return { path, text: readFileSync(opened.fd, "utf8") };
    } finally {
      closeSync(opened.fd);
    }
  } catch (error) {
    if (error instanceof AppError) throw error;
    throw fileError("config-read", `Cannot read ${path}`, error, {
      hint: "Check that it is a file you can read.",
    });
  }
}
