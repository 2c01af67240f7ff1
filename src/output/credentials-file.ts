import { editProfileFile, removeSection, setProperty } from "../config/edit";
import { credentialsFilePath, readProfileFiles } from "../config/files";
import { parseProfileFiles } from "../config/ini";
import type { Properties } from "../config/types";
import { AppError } from "../errors";
import type { SessionCredentials } from "../sts/credentials";

/**
 * `login --write-profile NAME`: the session as a plain [NAME] in the credentials file, for
 * tools that read only that file (the workflow of `aws configure mfa-login`). A section is
 * marked as awsmfa's, and awsmfa overwrites or removes only sections that carry the mark:
 * a user's long-term keys under the same name are never touched.
 */

const MARK = "awsmfa_managed";

export async function writeSessionProfile(
  env: NodeJS.ProcessEnv,
  name: string,
  credentials: SessionCredentials,
  region: string | undefined,
): Promise<string> {
  const path = credentialsFilePath(env);
  await editProfileFile(path, "credentials", (text) => {
    refuseForeignSection(sectionIn(text, path, name), path, name);
    let edited = text;
    const values: [string, string | undefined][] = [
      ["aws_access_key_id", credentials.accessKeyId],
      ["aws_secret_access_key", credentials.secretAccessKey],
      ["aws_session_token", credentials.sessionToken],
      ["region", region],
      ["awsmfa_expiration", credentials.expiration],
      [MARK, "true"],
    ];
    for (const [key, value] of values) {
      if (value !== undefined) edited = setProperty(edited, "credentials", name, key, value);
    }
    return edited;
  });
  return path;
}

/** Removes [NAME] if awsmfa wrote it; returns whether it did. */
export async function removeSessionProfile(env: NodeJS.ProcessEnv, name: string): Promise<boolean> {
  const path = credentialsFilePath(env);
  const { changed } = await editProfileFile(path, "credentials", (text) => {
    const section = sectionIn(text, path, name);
    if (section === undefined) return text;
    refuseForeignSection(section, path, name);
    return removeSection(text, "credentials", name);
  });
  return changed;
}

/** The sections of the credentials file that awsmfa wrote (for `logout --all`). */
export function managedSessionProfiles(env: NodeJS.ProcessEnv): string[] {
  const { credentials } = readProfileFiles(env);
  if (!credentials) return [];
  const profiles = parseProfileFiles(undefined, credentials).profiles;
  return Object.keys(profiles).filter((name) => profiles[name]?.[MARK] === "true");
}

function sectionIn(text: string, path: string, name: string): Properties | undefined {
  return parseProfileFiles(undefined, { path, text }).profiles[name];
}

function refuseForeignSection(section: Properties | undefined, path: string, name: string): void {
  if (section !== undefined && section[MARK] !== "true") {
    throw new AppError(
      "profile-not-ours",
      `[${name}] in ${path} was not written by awsmfa; not touching it.`,
      { hint: "Choose another name for --write-profile (for example NAME-mfa)." },
    );
  }
}
