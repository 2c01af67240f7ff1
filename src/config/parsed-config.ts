import { mkdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { hash128, stampOf } from "../fsio/file-stamp";
import { privacyProblem } from "../fsio/private-file";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";
import { emptyProfileSet, emptyRecord, mergeProfileFile } from "./ini";
import type { ProfileFile, ProfileSet, Properties } from "./types";

/**
 * The config file's profiles, kept as JSON in awsmfa's cache directory while the file is
 * unchanged: parsing a config of 10,000 profiles costs each command about 70 ms, reading them
 * back a fraction of it. The file's stamp (size, inode, mtime and ctime in ns) is
 * taken before it is read; any difference is a miss, and the file is parsed as before.
 *
 * Never a secret on disk: only the config file is kept, never the credentials file, and not
 * when its text names `aws_secret_access_key` or `aws_session_token` anywhere (AWS allows keys
 * in the config file), nor a `*_process` command (`mfa_process = oathtool --totp -b SEED` puts
 * a TOTP seed there). Stored 0600 in the 0700 cache directory; a stored file that is not ours
 * and private is ignored.
 */

/**
 * Two lines of JSON: first what says which file and version of it the rest is for, with the
 * profile names (all that `completion --list-profiles` needs, read without the rest); then the
 * config file's part of the merged profile set, flat: one array per profile ([name, header
 * line, key, value, key, value…]) and per sso-session ([name, key, value…]), in the order the
 * set holds them, so that rebuilding it gives the same set.
 */
interface StoredHeader {
  version: 2;
  path: string;
  stamp: string;
  names: string[];
}

interface StoredProfiles {
  profiles: string[][];
  ssoSessions: string[][];
}

const SECRET_KEYS = /aws_secret_access_key|aws_session_token|_process/i;

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
  if (stamp !== null && !SECRET_KEYS.test(file.text))
    store(cacheDir, storedPath(path, cacheDir), set, path, stamp);
  return set;
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
      header.version !== 2 ||
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
    const stored = JSON.parse(body) as Partial<StoredProfiles>;
    if (!Array.isArray(stored.profiles) || !Array.isArray(stored.ssoSessions)) return undefined;
    const set = emptyProfileSet();
    for (const [name, line, ...pairs] of stored.profiles) {
      set.profiles[name as string] = record(pairs);
      set.origins[name as string] = [{ kind: "config", path, line: Number(line) }];
    }
    for (const [name, ...pairs] of stored.ssoSessions) set.ssoSessions[name as string] = record(pairs);
    return set;
  } catch {
    return undefined;
  }
}

function record(pairs: string[]): Properties {
  const properties = emptyRecord<string>();
  for (let index = 0; index + 1 < pairs.length; index += 2)
    properties[pairs[index] as string] = pairs[index + 1] as string;
  return properties;
}

function store(cacheDir: string, storedAt: string, set: ProfileSet, path: string, stamp: string): void {
  const pairs = (properties: Properties) => Object.entries(properties).flat();
  const header: StoredHeader = { version: 2, path, stamp, names: Object.keys(set.profiles) };
  const body: StoredProfiles = {
    profiles: Object.entries(set.profiles).map(([name, properties]) => [
      name,
      String(set.origins[name]?.[0]?.line ?? 0),
      ...pairs(properties),
    ]),
    ssoSessions: Object.entries(set.ssoSessions).map(([name, properties]) => [name, ...pairs(properties)]),
  };
  try {
    mkdirSync(cacheDir, { recursive: true, mode: 0o700 });
    if (privacyProblem(statSync(cacheDir)) !== undefined) return;
    writeWhole(storedAt, `${JSON.stringify(header)}\n${JSON.stringify(body)}\n`, 0o600);
  } catch {
    // Only a shortcut: the next command parses the file again.
  }
}
