import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { hash128, stampOf } from "../fsio/file-stamp";
import { privacyProblem } from "../fsio/private-file";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";
import { emptyProfileSet, emptyRecord, mergeProfileFile } from "./ini";
import { awsmfaCredentialProcessProfile } from "./own-command";
import type { ProfileFile, ProfileSet, Properties } from "./types";
import { configWork } from "./work";

/**
 * The config file's profiles, kept as JSON in awsmfa's cache directory while the file is
 * unchanged: parsing a config of 10,000 profiles costs each command about 70 ms, reading them
 * back a fraction of it. The file's stamp (size, inode, mtime and ctime in ns) is
 * taken before it is read; any difference is a miss, and the file is parsed as before.
 *
 * Never a secret on disk: only the config file is kept, never the credentials file, and not
 * when its text names `aws_secret_access_key` or `aws_session_token` anywhere (AWS allows keys
 * in the config file), nor when it has a `_process` (any case) that is not part of a profile's
 * `credential_process` running awsmfa itself (own-command.ts), the line README recommends:
 * `mfa_process = oathtool --totp -b SEED` puts a TOTP seed there, and any other command may
 * hold a secret. Judged on the text, so a comment, an sso-session or an ignored section that
 * says `_process` keeps the file unstored too; decided once, after the parse that stores it,
 * and afterwards vouched for by the stamp, so a command that reads the stored parse checks
 * nothing. Stored 0600 in the 0700 cache directory; a stored file that is not ours and private
 * is ignored.
 */

/**
 * Lines of JSON: first what says which file and version of it the rest is for, with the
 * profile names (all that `completion --list-profiles` needs, read without the rest); then the
 * config file's sso-sessions ([[name, key, value…], …]); then one line per profile ([name,
 * header line, key, value, key, value…]), in the order the set holds them, so that rebuilding
 * it gives the same set. One profile is found by its line's start alone, without parsing the
 * others (configProfileReader).
 */
interface StoredHeader {
  version: 3;
  path: string;
  stamp: string;
  names: string[];
}

const SECRET_KEYS = /aws_secret_access_key|aws_session_token/i;
const PROCESS = /_process/gi;

/** The config file's profiles and sso-sessions, from the cache while the file is unchanged. */
export function configProfileSet(
  path: string,
  cacheDir: string,
  read: (path: string) => ProfileFile | undefined,
): ProfileSet {
  const stored = readStored(path, cacheDir);
  if (stored) {
    const set = setFrom(stored.text.slice(stored.body), path);
    if (set) return set;
  }
  return parseAndStore(path, cacheDir, read);
}

/** One profile of the config file: its properties (the reader's own copy) and its section's line. */
export interface ConfigProfile {
  properties: Properties;
  line: number;
}

/** The config file's profiles one at a time, for a command that needs a few of thousands. */
export interface ConfigProfileReader {
  path: string;
  names: string[];
  ssoSessions: Record<string, Properties>;
  profile(name: string): ConfigProfile | undefined;
  /** All of them, as configProfileSet gives them, without a second parse. */
  whole(): ProfileSet;
}

/**
 * While the file is unchanged, each profile is read from its own stored line, found by a search
 * of the stored text: 10,000 profiles are neither parsed nor built for the two that a role's
 * plan visits. Otherwise the file is parsed (and stored) as by configProfileSet.
 */
export function configProfileReader(
  path: string,
  cacheDir: string,
  read: (path: string) => ProfileFile | undefined,
): ConfigProfileReader {
  const stored = readStored(path, cacheDir);
  const sessionsEnd = stored ? stored.text.indexOf("\n", stored.body) : -1;
  const ssoSessions =
    stored && sessionsEnd > 0 ? sessionsFrom(stored.text.slice(stored.body, sessionsEnd)) : undefined;
  if (!stored || !ssoSessions) {
    const set = stored ? configProfileSet(path, cacheDir, read) : parseAndStore(path, cacheDir, read);
    return {
      path,
      names: Object.keys(set.profiles),
      ssoSessions: set.ssoSessions,
      profile: (name) => {
        const properties = set.profiles[name];
        if (properties === undefined) return undefined;
        return {
          properties: Object.assign(emptyRecord<string>(), properties),
          line: set.origins[name]?.[0]?.line ?? 0,
        };
      },
      whole: () => set,
    };
  }
  const { text } = stored;
  return {
    path,
    names: stored.header.names,
    ssoSessions,
    profile: (name) => {
      // Every profile line starts with its JSON-quoted name; no JSON string holds a raw newline.
      const start = text.indexOf(`\n[${JSON.stringify(name)},`, sessionsEnd);
      if (start < 0) return undefined;
      const end = text.indexOf("\n", start + 1);
      const entry = JSON.parse(text.slice(start + 1, end < 0 ? text.length : end)) as string[];
      configWork.storedProfilesRead += 1;
      return { properties: record(entry, 2), line: Number(entry[1]) };
    },
    whole: () => setFrom(text.slice(stored.body), path) ?? parseAndStore(path, cacheDir, read),
  };
}

/** The config file's profile names, in the set's order: from the cache's first line while the file is unchanged. */
export function configProfileNames(
  path: string,
  cacheDir: string,
  read: (path: string) => ProfileFile | undefined,
): string[] {
  return (
    readStored(path, cacheDir)?.header.names ?? Object.keys(parseAndStore(path, cacheDir, read).profiles)
  );
}

function storedPath(path: string, cacheDir: string): string {
  return join(cacheDir, `config-${hash128(JSON.stringify(["parsed-config", path]))}.json`);
}

function parseAndStore(
  path: string,
  cacheDir: string,
  read: (path: string) => ProfileFile | undefined,
): ProfileSet {
  const stamp = stampOf(path);
  const set = emptyProfileSet();
  const file = read(path);
  if (!file) return set;
  mergeProfileFile(set, file, "config");
  if (stamp !== null && mayStore(file.text, set))
    store(cacheDir, storedPath(path, cacheDir), set, path, stamp);
  return set;
}

/**
 * Whether the config file, parsed into `set`, may be kept: no keys, and every `_process` in its
 * text is in a profile's credential_process that runs awsmfa (its key, or its value's profile
 * name). Counted, not located: those properties are distinct parts of the text, so when they
 * hold as many as the whole text does, nothing else does.
 */
function mayStore(text: string, set: ProfileSet): boolean {
  if (SECRET_KEYS.test(text)) return false;
  const inText = countProcess(text);
  if (inText === 0) return true;
  let inOwnCommands = 0;
  for (const name in set.profiles) {
    const command = set.profiles[name]?.credential_process;
    if (command !== undefined && awsmfaCredentialProcessProfile(command) !== undefined)
      inOwnCommands += 1 + countProcess(command);
  }
  return inOwnCommands === inText;
}

function countProcess(text: string): number {
  return text.match(PROCESS)?.length ?? 0;
}

function readStored(
  path: string,
  cacheDir: string,
): { header: StoredHeader; text: string; body: number } | undefined {
  const stamp = stampOf(path);
  if (stamp === null) return undefined;
  try {
    const file = readRegularFile(storedPath(path, cacheDir));
    if (!("text" in file) || privacyProblem(file.stat) !== undefined) return undefined;
    const body = file.text.indexOf("\n") + 1;
    if (body === 0) return undefined;
    const header = JSON.parse(file.text.slice(0, body)) as Partial<StoredHeader>;
    if (
      header.version !== 3 ||
      header.path !== path ||
      header.stamp !== stamp ||
      !Array.isArray(header.names)
    )
      return undefined;
    return { header: header as StoredHeader, text: file.text, body };
  } catch {
    // Unreadable or damaged: parse the config file, as without the cache.
    return undefined;
  }
}

function setFrom(body: string, path: string): ProfileSet | undefined {
  try {
    // The lines, sso-sessions first, as one JSON array: one parse instead of one per profile.
    const rows = JSON.parse(`[${body.trimEnd().replaceAll("\n", ",")}]`) as unknown[];
    const ssoSessions = sessionsOf(rows[0]);
    if (!ssoSessions) return undefined;
    const set = emptyProfileSet();
    set.ssoSessions = ssoSessions;
    // Index loops, no destructuring: this runs once per profile before V8 has compiled it.
    for (let index = 1; index < rows.length; index++) {
      const entry = rows[index] as string[];
      const name = entry[0] as string;
      set.profiles[name] = record(entry, 2);
      set.origins[name] = [{ kind: "config", path, line: Number(entry[1]) }];
    }
    configWork.storedProfilesRead += rows.length - 1;
    return set;
  } catch {
    return undefined;
  }
}

function sessionsFrom(line: string): Record<string, Properties> | undefined {
  try {
    return sessionsOf(JSON.parse(line));
  } catch {
    return undefined;
  }
}

function sessionsOf(stored: unknown): Record<string, Properties> | undefined {
  if (!Array.isArray(stored)) return undefined;
  const sessions = emptyRecord<Properties>();
  for (const entry of stored as string[][]) sessions[entry[0] as string] = record(entry, 1);
  return sessions;
}

/** The key-value pairs of a stored entry from `start` on. */
function record(entry: string[], start: number): Properties {
  const properties = emptyRecord<string>();
  for (let index = start; index + 1 < entry.length; index += 2)
    properties[entry[index] as string] = entry[index + 1] as string;
  return properties;
}

function store(cacheDir: string, storedAt: string, set: ProfileSet, path: string, stamp: string): void {
  const pairs = (properties: Properties) => Object.entries(properties).flat();
  const header: StoredHeader = { version: 3, path, stamp, names: Object.keys(set.profiles) };
  const sessions = Object.entries(set.ssoSessions).map(([name, properties]) => [name, ...pairs(properties)]);
  const lines = [JSON.stringify(header), JSON.stringify(sessions)];
  for (const [name, properties] of Object.entries(set.profiles))
    lines.push(JSON.stringify([name, String(set.origins[name]?.[0]?.line ?? 0), ...pairs(properties)]));
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (privacyProblem(statSync(cacheDir)) !== undefined) return;
    writeWhole(storedAt, `${lines.join("\n")}\n`, 0o600);
  } catch {
    // Only a shortcut: the next command parses the file again.
  }
}
