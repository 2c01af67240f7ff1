import { closeSync, mkdirSync, readFileSync, realpathSync } from "node:fs";
import { dirname } from "node:path";
import { AppError, fileError } from "../errors";
import { withLock } from "../fsio/lock";
import { openRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";
import {
  isIdentifier,
  type ParsedFile,
  type ParsedProperty,
  type ParsedSection,
  parseSections,
  type TextLine,
} from "./ini";
import type { FileKind } from "./types";

/**
 * Round-trip edits of a profile file: each one touches only the lines of the key or section it
 * is about, and keeps every other byte (comments, blank lines, order, CRLF, a missing final
 * newline). An edit that would change nothing returns the very same string, so the caller can
 * skip the write. What cannot be written so that every SDK reads it back unchanged is refused.
 */

/** The header a new section for `profile` gets in a file of this kind. */
export function sectionNameFor(kind: FileKind, profile: string): string {
  if (kind === "credentials" || profile === "default") return profile;
  return `profile ${profile}`;
}

/** Sets `key` in the section that wins for `profile`, adding the key or the section if missing. */
export function setProperty(
  text: string,
  kind: FileKind,
  profile: string,
  key: string,
  value: string,
): string {
  requireProfileName(profile);
  requireKey(key);
  const file = parseText(text, kind);
  const sections = winningSections(file, profile);
  const current = propertiesNamed(sections, key).at(-1);
  if (current?.value === value) return text;
  requireValue(kind, key, value);
  if (current) {
    const [keyLine, ...continuation] = current.lines.map(toIndex);
    const lines = file.lines.map((line, index) =>
      index === keyLine
        ? { ...line, text: withValue(line.text, current.valueStart, current.valueEnd, value) }
        : line,
    );
    return render(withoutLines(lines, new Set(continuation)));
  }
  const newLine = `${key} = ${value}`;
  const last = sections.at(-1);
  if (last) return render(insertAfter(file.lines, toIndex(lastLineOf(last)), newLine));
  return render(appendSection(file.lines, sectionNameFor(kind, profile), newLine));
}

/** Removes every line that gives `key` a value in `profile`, so that none is left. */
export function removeProperty(text: string, kind: FileKind, profile: string, key: string): string {
  requireProfileName(profile);
  requireKey(key);
  const file = parseText(text, kind);
  const doomed = propertiesNamed(winningSections(file, profile), key).flatMap((property) =>
    property.lines.map(toIndex),
  );
  return doomed.length === 0 ? text : render(withoutLines(file.lines, new Set(doomed)));
}

/**
 * Removes every line that gives one of `keys` a value in `profile`, and then each section this
 * leaves with nothing in it (no key, no comment), header and all: an empty `[dev]` left behind
 * looks like a profile that is still there. A section that keeps a key or a comment stays.
 */
export function removeProperties(text: string, kind: FileKind, profile: string, keys: string[]): string {
  requireProfileName(profile);
  for (const key of keys) requireKey(key);
  const file = parseText(text, kind);
  const doomed = new Set<number>();
  for (const section of winningSections(file, profile)) {
    const removed = section.properties.filter((property) => keys.includes(property.key));
    if (removed.length === 0) continue;
    for (const property of removed) for (const line of property.lines) doomed.add(toIndex(line));
    if (removed.length === section.properties.length && !holdsComment(file, section)) {
      const [first, last] = sectionBlock(file.lines, section);
      for (let index = first; index <= last; index += 1) doomed.add(index);
    }
  }
  return doomed.size === 0 ? text : render(withoutLines(file.lines, doomed));
}

/** Whether a line other than a blank or a property's sits between the section's header and the next. */
function holdsComment(file: ParsedFile, section: ParsedSection): boolean {
  const next = file.sections.find((other) => other.line > section.line)?.line ?? file.lines.length + 1;
  const own = new Set(section.properties.flatMap((property) => property.lines));
  for (let line = section.line + 1; line < next; line += 1)
    if (!own.has(line) && !isBlankLine(file.lines[toIndex(line)])) return true;
  return false;
}

/**
 * Removes every section of `profile`, a config file's shadowed `[default]` included (it would
 * come back to life otherwise). A section's trailing comments stay: they may be about the next.
 */
export function removeSection(text: string, kind: FileKind, profile: string): string {
  requireProfileName(profile);
  const file = parseText(text, kind);
  const doomed = new Set<number>();
  for (const section of file.sections) {
    if (section.role.type !== "profile" || section.role.name !== profile) continue;
    const [first, last] = sectionBlock(file.lines, section);
    for (let index = first; index <= last; index += 1) doomed.add(index);
  }
  return doomed.size === 0 ? text : render(withoutLines(file.lines, doomed));
}

/**
 * Applies `edit` to the file under its lock, re-reading it there so that a concurrent edit is
 * never lost. Writes only if the text changed, whole (temp file + rename), with the file's own
 * mode; a new file gets 0600 in a directory made 0700. The credentials file holds secrets, so
 * a rewrite of it also drops any group/other bits it had (DESIGN: no secret in such a file).
 */
export async function editProfileFile(
  path: string,
  kind: FileKind,
  edit: (text: string) => string,
): Promise<{ changed: boolean }> {
  makeParentDirectory(path);
  const lockOptions = { timeoutMs: 20_000, staleMs: 30_000, what: path };
  return withLock(`${path}.lock`, lockOptions, async () => {
    const existing = readForEdit(path);
    const text = existing?.text ?? "";
    // Parsed here too so that a broken file is reported with its path, not just "the config file".
    parseSections({ path, text }, kind);
    const edited = edit(text);
    if (edited === text) return { changed: false };
    // Through a symlink (dotfiles repositories), the link stays and its target is replaced.
    const target = existing?.realPath ?? path;
    try {
      const mode = existing?.mode ?? 0o600;
      writeWhole(target, edited, kind === "credentials" ? mode & 0o700 : mode);
    } catch (error) {
      throw fileError("config-write", `Cannot write ${target}`, error);
    }
    return { changed: true };
  });
}

function parseText(text: string, kind: FileKind): ParsedFile {
  return parseSections({ path: `the ${kind} file`, text }, kind);
}

/** The sections whose properties the SDKs read for `profile` (a shadowed `[default]` is not one). */
function winningSections(file: ParsedFile, profile: string): ParsedSection[] {
  return file.sections.filter(
    ({ role }) => role.type === "profile" && role.name === profile && !role.shadowed,
  );
}

/** In file order, so the last is the one the SDKs read. */
function propertiesNamed(sections: readonly ParsedSection[], key: string): ParsedProperty[] {
  return sections.flatMap((section) => section.properties).filter((property) => property.key === key);
}

function lastLineOf(section: ParsedSection): number {
  return section.properties.at(-1)?.lines.at(-1) ?? section.line;
}

/**
 * Header through last property, with the blank lines after it; at the end of the file, the
 * blank lines before it instead, so that the file does not end in a gap it did not have.
 */
function sectionBlock(lines: readonly TextLine[], section: ParsedSection): [number, number] {
  let first = toIndex(section.line);
  let last = toIndex(lastLineOf(section));
  while (last + 1 < lines.length && isBlankLine(lines[last + 1])) last += 1;
  if (last === lines.length - 1) while (first > 0 && isBlankLine(lines[first - 1])) first -= 1;
  return [first, last];
}

/**
 * The key line with a new value in place of the old. Whatever followed the old value (blanks
 * and a comment) stays, kept apart from the new value so that it is still read as a comment.
 */
function withValue(text: string, valueStart: number, valueEnd: number, value: string): string {
  const before = text.slice(0, valueStart);
  let after = text.slice(valueEnd);
  if (after !== "" && !/^[ \t]/.test(after)) after = ` ${after}`;
  const gap = valueStart === valueEnd && value !== "" && before.endsWith(" =") ? " " : "";
  return `${before}${gap}${value}${after}`;
}

function insertAfter(lines: readonly TextLine[], index: number, text: string): TextLine[] {
  const eol = lineEndingOf(lines);
  const anchor = lines[index];
  if (anchor === undefined) return [...lines, { text, eol }];
  // Inserting after a final line that has no newline: it gets one, the new line goes without.
  const added: TextLine[] =
    anchor.eol === ""
      ? [
          { ...anchor, eol },
          { text, eol: "" },
        ]
      : [anchor, { text, eol }];
  return [...lines.slice(0, index), ...added, ...lines.slice(index + 1)];
}

function appendSection(lines: readonly TextLine[], sectionName: string, propertyLine: string): TextLine[] {
  const eol = lineEndingOf(lines);
  const last = lines.at(-1);
  const result = [...lines];
  if (last !== undefined) {
    if (last.eol === "") result[result.length - 1] = { ...last, eol };
    if (!isBlankLine(last)) result.push({ text: "", eol });
  }
  const endsWithNewline = last === undefined || last.eol !== "";
  result.push({ text: `[${sectionName}]`, eol }, { text: propertyLine, eol: endsWithNewline ? eol : "" });
  return result;
}

/**
 * Drops the lines at `indexes`; a file that ended without a newline still does, unless its new
 * last line is empty: without its newline that line would be gone too.
 */
function withoutLines(lines: readonly TextLine[], indexes: ReadonlySet<number>): TextLine[] {
  const kept = lines.filter((_, index) => !indexes.has(index));
  const last = kept.at(-1);
  if (lines.at(-1)?.eol === "" && last !== undefined && last.text !== "" && last.eol !== "") {
    kept[kept.length - 1] = { ...last, eol: "" };
  }
  return kept;
}

/** The file's own line ending, by its first line; "\n" for a file that has none yet. */
function lineEndingOf(lines: readonly TextLine[]): TextLine["eol"] {
  return lines.find((line) => line.eol !== "")?.eol ?? "\n";
}

function render(lines: readonly TextLine[]): string {
  return lines.map((line) => line.text + line.eol).join("");
}

function isBlankLine(line: TextLine | undefined): boolean {
  return line !== undefined && /^[ \t]*$/.test(line.text);
}

function toIndex(lineNumber: number): number {
  return lineNumber - 1;
}

function requireProfileName(profile: string): void {
  if (isIdentifier(profile)) return;
  throw unsafe(
    `The profile name "${profile}" cannot be written to a profile file.`,
    "Use only letters, digits and - _ . / % @ : + in profile names.",
  );
}

/** Lowercase only: the SDKs lowercase keys as they read them, so `Region` would come back `region`. */
function requireKey(key: string): void {
  if (isIdentifier(key) && key === key.toLowerCase()) return;
  throw unsafe(
    `The key "${key}" cannot be written to a profile file.`,
    "Use only lowercase letters, digits and - _ . / % @ : + in keys.",
  );
}

/** The value itself stays out of the message: it may be a secret key. */
function requireValue(kind: FileKind, key: string, value: string): void {
  const problem = valueProblem(value);
  if (problem === undefined) return;
  throw unsafe(`The value for ${key} cannot be written to the ${kind} file: it ${problem}.`);
}

/** What would make the SDKs read back something else than `value`, if anything. */
function valueProblem(value: string): string | undefined {
  if (/[\r\n]/.test(value)) return "contains a line break";
  if (/^[ \t]|[ \t]$/.test(value)) return "starts or ends with a space or tab, which the SDKs trim";
  if (/^[#;]|\p{White_Space}[#;]/u.test(value))
    return "contains # or ; where the SDKs take it for the start of a comment";
  return undefined;
}

function unsafe(message: string, hint?: string): AppError {
  return new AppError("config-unsafe-edit", message, { hint });
}

function makeParentDirectory(path: string): void {
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  } catch (error) {
    throw fileError("config-write", `Cannot create ${dirname(path)}`, error);
  }
}

interface ExistingFile {
  text: string;
  mode: number;
  realPath: string;
}

/** Strict UTF-8: a file in another encoding would not survive a decode and re-encode byte for byte. */
const utf8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function readForEdit(path: string): ExistingFile | undefined {
  let opened: ReturnType<typeof openRegularFile>;
  try {
    opened = openRegularFile(path);
  } catch (error) {
    throw readError(path, error);
  }
  if ("missing" in opened) return undefined;
  if ("notRegular" in opened) {
    // Checked on the descriptor that is read: a FIFO swapped in after the profile files were read would block for ever.
    throw new AppError(
      "config-read",
      `${path} is ${opened.notRegular}, not a regular file; awsmfa will not rewrite it.`,
      { hint: "Check that AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name the right files." },
    );
  }
  try {
    const bytes = readFileSync(opened.fd);
    return { text: decodeUtf8(bytes, path), mode: opened.stat.mode & 0o777, realPath: realpathSync(path) };
  } catch (error) {
    throw error instanceof AppError ? error : readError(path, error);
  } finally {
    closeSync(opened.fd);
  }
}

function decodeUtf8(bytes: Uint8Array, path: string): string {
  try {
    return utf8.decode(bytes);
  } catch {
    throw new AppError("config-encoding", `${path} is not UTF-8 text; awsmfa will not rewrite it.`, {
      hint: "Save it as UTF-8 and try again.",
    });
  }
}

function readError(path: string, error: unknown): AppError {
  return fileError("config-read", `Cannot read ${path}`, error);
}
