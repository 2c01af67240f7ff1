import { join } from "node:path";

/**
 * Where ~ and awsmfa's own directories are, as far as the environment tells: imports nothing of
 * awsmfa's, so that the entry (boot.ts), compiled from source on every call, can find the cache
 * directory too. config/files.ts adds node:os and the error for when no variable says where home is.
 */

type Env = NodeJS.ProcessEnv;

/** Where ~ is by the variables the SDKs look at; undefined when only node:os can tell. */
export function homeFromVariables(
  env: Env,
  platform: NodeJS.Platform = process.platform,
): string | undefined {
  if (env.HOME) return env.HOME;
  if (platform === "win32") {
    if (env.USERPROFILE) return env.USERPROFILE;
    if (env.HOMEDRIVE && env.HOMEPATH) return env.HOMEDRIVE + env.HOMEPATH;
  }
  return undefined;
}

/** Where awsmfa keeps its own files under a home: the cache, the secrets file, the containers' CA. */
export function awsmfaDirectoryUnder(home: string): string {
  return join(home, ".aws", "awsmfa");
}

/** awsmfa's cache: AWSMFA_CACHE_DIR, else ~/.aws/awsmfa/cache with ~ from `home()`. */
export function cacheDirectoryFrom(env: Env, home: () => string): string;
export function cacheDirectoryFrom(env: Env, home: () => string | undefined): string | undefined;
export function cacheDirectoryFrom(env: Env, home: () => string | undefined): string | undefined {
  if (env.AWSMFA_CACHE_DIR) return env.AWSMFA_CACHE_DIR;
  const dir = home();
  return dir === undefined ? undefined : join(awsmfaDirectoryUnder(dir), "cache");
}
