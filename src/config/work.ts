/**
 * What the config layer did in this process: parses per file path, profiles read back from the
 * stored parse of an unchanged config file (parsed-config.ts), and plan resolutions. Tests
 * read it to hold each command to one parse of each profile file and to resolutions linear in
 * the profiles (test/config/linear-work.test.ts); counting is an increment, nothing more.
 */
export const configWork = { parses: new Map<string, number>(), storedProfilesRead: 0, resolutions: 0 };

export function countParse(path: string): void {
  configWork.parses.set(path, (configWork.parses.get(path) ?? 0) + 1);
}
