import { loadProfileNames } from "../config/files";

/**
 * `awsmfa completion --list-profiles`, which the completion scripts run at each Tab: the profile
 * names, one a line. Its own module, so that direct.ts runs it without commander.
 */
export function runListProfiles(env: NodeJS.ProcessEnv = process.env): void {
  process.stdout.write(
    profileNames(env)
      .map((name) => `${name}\n`)
      .join(""),
  );
}

/** Every profile of the config and credentials files, sorted; nothing (not an error) when they cannot be read. */
function profileNames(env: NodeJS.ProcessEnv): string[] {
  try {
    return loadProfileNames(env).sort();
  } catch {
    return [];
  }
}
