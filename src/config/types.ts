/** The shapes that config/ hands to the rest of the program. */

/** A profile's properties as the SDKs see them; sub-properties stay raw ("\nk = v"). */
export type Properties = Record<string, string>;

/** One profile file's text and where it came from (for error messages). */
export interface ProfileFile {
  path: string;
  text: string;
}

export type FileKind = "config" | "credentials";

/** Where a profile's winning section starts, for messages and for edits. */
export interface ProfileOrigin {
  kind: FileKind;
  path: string;
  line: number;
}

/** Both files merged by the cross-SDK rules (credentials file wins per property). */
export interface ProfileSet {
  profiles: Record<string, Properties>;
  ssoSessions: Record<string, Properties>;
  /** Every file a profile was found in, config first. */
  origins: Record<string, ProfileOrigin[]>;
}
