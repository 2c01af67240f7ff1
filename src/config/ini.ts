import { AppError } from "../errors";
import type { FileKind, ProfileFile, ProfileSet, Properties } from "./types";
import { countParse } from "./work";

/**
 * The AWS shared config and credentials file format, read by the rules the SDKs share (the
 * smithy-rs profile-parser test suite is the reference). Every line keeps its text, its ending
 * and its number, so that errors can point at a line and edit.ts can change one line and put
 * every other byte back.
 */

export interface TextLine {
  text: string;
  eol: "" | "\n" | "\r\n";
}

export interface ParsedProperty {
  /** Lowercased (ASCII only), as the SDKs compare keys. */
  key: string;
  /** The key line's value, then "\n" and each continuation line, as the SDKs see it. */
  value: string;
  /** 1-based: the key line, then its continuation lines. */
  lines: number[];
  /** Where the key line's own value sits in that line's text (end exclusive). */
  valueStart: number;
  valueEnd: number;
}

export type SectionRole =
  /** `shadowed`: a config file's `[default]` that loses to its `[profile default]`. */
  | { type: "profile"; name: string; shadowed: boolean }
  | { type: "sso-session"; name: string }
  | { type: "ignored" };

export interface ParsedSection {
  /** 1-based line of the `[...]` header. */
  line: number;
  role: SectionRole;
  properties: ParsedProperty[];
}

export interface ParsedFile {
  lines: TextLine[];
  sections: ParsedSection[];
}

/** Both files merged: credentials after config, so the credentials file wins per property. */
export function parseProfileFiles(config?: ProfileFile, credentials?: ProfileFile): ProfileSet {
  const set = emptyProfileSet();
  if (config) mergeProfileFile(set, config, "config");
  if (credentials) mergeProfileFile(set, credentials, "credentials");
  return set;
}

export function emptyProfileSet(): ProfileSet {
  return { profiles: emptyRecord(), ssoSessions: emptyRecord(), origins: emptyRecord() };
}

/**
 * Beyond these a file is not a profile file anyone wrote, and parsing it would cost seconds and
 * gigabytes (some 500 bytes per line): a 20 MB file of `a=` lines took 30 s and 3 GB.
 */
export const MAX_PROFILE_FILE_CHARS = 16 * 1024 * 1024;
export const MAX_PROFILE_FILE_LINES = 500_000;

/** One file, line by line; throws AppError "config-parse" naming the file and line. */
export function parseSections(file: ProfileFile, kind: FileKind): ParsedFile {
  refuseOversized(file);
  countParse(file.path);
  const lines = splitLines(file.text);
  const headers: string[] = [];
  const sections: ParsedSection[] = [];
  let section: ParsedSection | undefined;
  let property: ParsedProperty | undefined;
  let expectSubProperties = false;
  const errorAt = (line: number, message: string) => parseError(file.path, line, message);

  for (const [index, { text }] of lines.entries()) {
    const lineNumber = index + 1;
    if (isBlank(text) || text.startsWith("#") || text.startsWith(";")) continue;

    if (text.startsWith("[")) {
      const header = withoutComment(text, false);
      if (!header.endsWith("]")) throw errorAt(lineNumber, "Profile definition must end with ']'");
      headers.push(header.slice(1, -1));
      section = { line: lineNumber, role: { type: "ignored" }, properties: [] };
      sections.push(section);
      property = undefined;
    } else if (section === undefined) {
      throw errorAt(lineNumber, "Expected a profile definition");
    } else if (isBlankChar(text[0])) {
      if (property === undefined)
        throw errorAt(lineNumber, "Expected a property definition, found continuation");
      if (expectSubProperties) {
        const sub = splitProperty(text);
        if (typeof sub === "string") throw errorAt(lineNumber, propertyProblem(sub, "sub-property"));
      }
      property.value += `\n${trimBlanks(text)}`;
      property.lines.push(lineNumber);
    } else {
      const parsed = splitProperty(text);
      if (typeof parsed === "string") throw errorAt(lineNumber, propertyProblem(parsed, "property"));
      property = { ...parsed, lines: [lineNumber] };
      section.properties.push(property);
      expectSubProperties = parsed.value === "";
    }
  }

  const roles = sectionRoles(headers, kind);
  sections.forEach((parsed, index) => {
    parsed.role = roles[index] ?? { type: "ignored" };
  });
  return { lines, sections };
}

export function profileFileTooLarge(path: string, what: string): AppError {
  return new AppError(
    "config-too-large",
    `${path} is too large to be a profile file (${what}); awsmfa will not read it.`,
    { hint: "Check that AWS_CONFIG_FILE and AWS_SHARED_CREDENTIALS_FILE name the right files." },
  );
}

/** Throws AppError "config-too-large" for a file beyond the bounds, counting lines without splitting. */
function refuseOversized({ path, text }: ProfileFile): void {
  let lines = 1;
  for (
    let at = text.indexOf("\n");
    at >= 0 && lines <= MAX_PROFILE_FILE_LINES;
    at = text.indexOf("\n", at + 1)
  ) {
    lines += 1;
  }
  if (text.length <= MAX_PROFILE_FILE_CHARS && lines <= MAX_PROFILE_FILE_LINES) return;
  const what =
    text.length > MAX_PROFILE_FILE_CHARS
      ? `${(text.length / 1048576).toFixed(1)} MB, more than 16 MB`
      : `more than ${MAX_PROFILE_FILE_LINES} lines`;
  throw profileFileTooLarge(path, what);
}

/** Splits on "\n", taking a "\r" before it as part of the ending (as Rust's `str::lines` does). */
export function splitLines(text: string): TextLine[] {
  const lines: TextLine[] = [];
  let start = 0;
  while (start < text.length) {
    const newline = text.indexOf("\n", start);
    if (newline < 0) {
      lines.push({ text: text.slice(start), eol: "" });
      break;
    }
    const crlf = newline > start && text[newline - 1] === "\r";
    lines.push({ text: text.slice(start, crlf ? newline - 1 : newline), eol: crlf ? "\r\n" : "\n" });
    start = newline + 1;
  }
  return lines;
}

/** The SDKs' identifier rule for profile, sso-session and property names. */
export function isIdentifier(name: string): boolean {
  return /^[A-Za-z0-9_\-/.%@:+]+$/.test(name);
}

/** What merging needs of a section: its role, its header's line, its keys and values. */
interface SectionValues {
  role: SectionRole;
  line: number;
  properties: readonly { key: string; value: string }[];
}

/** Parses `file` into `set`; a file merged later wins per property, as the credentials file does. */
export function mergeProfileFile(set: ProfileSet, file: ProfileFile, kind: FileKind): void {
  const named = new Set<string>();
  const sections: readonly SectionValues[] = plainSections(file, kind) ?? parseSections(file, kind).sections;
  for (const { role, line, properties } of sections) {
    if (role.type === "profile" && !role.shadowed) {
      mergeProperties(entryOf(set.profiles, role.name), properties);
      if (named.has(role.name)) continue;
      named.add(role.name);
      set.origins[role.name] ??= [];
      set.origins[role.name]?.push({ kind, path: file.path, line });
    } else if (role.type === "sso-session") {
      mergeProperties(entryOf(set.ssoSessions, role.name), properties);
    }
  }
}

/**
 * The sections of a file written the plain way — headers, `key = value` lines, blank lines and
 * whole-line comments, nothing else — read without what editing needs (every line's text, each
 * value's columns), at a fraction of parseSections' cost: `status` and `plan` over 10,000
 * profiles read 60,000 lines. Undefined at the first line of any other kind (a continuation, a
 * `#` or `;` after text, an error): parseSections then reads the file, and decides. On the
 * lines it accepts, the result is parseSections' own: the same trims, the same header roles.
 */
function plainSections(file: ProfileFile, kind: FileKind): SectionValues[] | undefined {
  refuseOversized(file);
  const text = file.text;
  if (!commentsOnWholeLines(text, "#") || !commentsOnWholeLines(text, ";")) return undefined;
  const headers: string[] = [];
  const sections: SectionValues[] = [];
  let properties: { key: string; value: string }[] | undefined;
  let lineNumber = 0;
  // By index into the text, slicing only names and values: a file of 10,000 profiles is 60,000 lines.
  for (let start = 0; start < text.length; ) {
    const newline = text.indexOf("\n", start);
    let end = newline < 0 ? text.length : newline;
    if (newline > start && text.charCodeAt(newline - 1) === CR) end -= 1;
    const lineStart = start;
    start = newline < 0 ? text.length : newline + 1;
    lineNumber += 1;
    const first = text.charCodeAt(lineStart);
    if (lineStart === end || first === HASH || first === SEMICOLON) continue;
    let from = lineStart;
    let to = end;
    while (from < to && isBlankCode(text.charCodeAt(from))) from += 1;
    while (to > from && isBlankCode(text.charCodeAt(to - 1))) to -= 1;
    if (from === to) continue;
    if (from !== lineStart) return undefined;
    if (first === OPEN_BRACKET) {
      if (text.charCodeAt(to - 1) !== CLOSE_BRACKET) return undefined;
      headers.push(text.slice(from + 1, to - 1));
      properties = [];
      sections.push({ line: lineNumber, properties, role: { type: "ignored" } });
      continue;
    }
    const equals = text.indexOf("=", from);
    if (properties === undefined || equals < 0 || equals >= to) return undefined;
    let keyEnd = equals;
    while (keyEnd > from && isBlankCode(text.charCodeAt(keyEnd - 1))) keyEnd -= 1;
    let valueStart = equals + 1;
    while (valueStart < to && isBlankCode(text.charCodeAt(valueStart))) valueStart += 1;
    // An empty value starts sub-properties: parseSections' business.
    if (keyEnd === from || valueStart === to) return undefined;
    const key = text.slice(from, keyEnd);
    properties.push({
      key: /[A-Z]/.test(key) ? key.replace(/[A-Z]/g, (letter) => letter.toLowerCase()) : key,
      value: text.slice(valueStart, to),
    });
  }
  countParse(file.path);
  const roles = sectionRoles(headers, kind);
  sections.forEach((section, index) => {
    section.role = roles[index] ?? { type: "ignored" };
  });
  return sections;
}

const [CR, HASH, SEMICOLON, OPEN_BRACKET, CLOSE_BRACKET] = [13, 35, 59, 91, 93];

/** Whether every `mark` in the text starts its line: one after text is a comment only parseSections cuts right. */
function commentsOnWholeLines(text: string, mark: "#" | ";"): boolean {
  for (let at = text.indexOf(mark); at >= 0; at = text.indexOf(mark, at + 1)) {
    if (at > 0 && text.charCodeAt(at - 1) !== 10) return false;
  }
  return true;
}

function isBlankCode(code: number): boolean {
  return code === 32 || code === 9;
}

function mergeProperties(target: Properties, properties: readonly { key: string; value: string }[]): void {
  for (const { key, value } of properties) if (isIdentifier(key)) target[key] = value;
}

function entryOf(records: Record<string, Properties>, name: string): Properties {
  records[name] ??= emptyRecord();
  return records[name];
}

/** No prototype: profile and key names such as `__proto__` or `constructor` are valid. */
export function emptyRecord<T>(): Record<string, T> {
  return Object.create(null) as Record<string, T>;
}

function sectionRoles(headers: readonly string[], kind: FileKind): SectionRole[] {
  const keys = headers.map(splitHeader);
  const hasProfileDefault =
    kind === "config" && keys.some((key) => key.prefix === "profile" && key.name === "default");
  return keys.map((key) => (kind === "config" ? configRole(key, hasProfileDefault) : credentialsRole(key)));
}

interface SectionKey {
  prefix: string | undefined;
  name: string;
}

/** `profile foo` → prefix "profile", name "foo"; `foo` → no prefix. */
function splitHeader(header: string): SectionKey {
  const trimmed = trimBlanks(header);
  const gap = trimmed.search(/[ \t]/);
  if (gap < 0) return { prefix: undefined, name: trimWhitespace(trimmed) };
  return { prefix: trimWhitespace(trimmed.slice(0, gap)), name: trimWhitespace(trimmed.slice(gap + 1)) };
}

function configRole(key: SectionKey, hasProfileDefault: boolean): SectionRole {
  if (key.prefix === undefined) {
    if (key.name !== "default") return { type: "ignored" };
    return { type: "profile", name: "default", shadowed: hasProfileDefault };
  }
  if (!isIdentifier(key.name)) return { type: "ignored" };
  if (key.prefix === "profile") return { type: "profile", name: key.name, shadowed: false };
  if (key.prefix === "sso-session") return { type: "sso-session", name: key.name };
  return { type: "ignored" };
}

function credentialsRole(key: SectionKey): SectionRole {
  if (key.prefix !== undefined || !isIdentifier(key.name)) return { type: "ignored" };
  return { type: "profile", name: key.name, shadowed: false };
}

type PropertyProblem = "no-equals" | "no-name";

function splitProperty(text: string): Omit<ParsedProperty, "lines"> | PropertyProblem {
  const content = withoutComment(text, true);
  const equals = content.indexOf("=");
  if (equals < 0) return "no-equals";
  const key = trimBlanks(content.slice(0, equals));
  if (key === "") return "no-name";
  // Key lines start unindented, so `content` is a prefix of `text` and its columns are text's.
  let valueStart = equals + 1;
  while (isBlankChar(content[valueStart])) valueStart += 1;
  return {
    key: key.replace(/[A-Z]/g, (letter) => letter.toLowerCase()),
    value: content.slice(valueStart),
    valueStart,
    valueEnd: content.length,
  };
}

function propertyProblem(problem: PropertyProblem, what: "property" | "sub-property"): string {
  if (problem === "no-equals") return `Expected an '=' sign defining a ${what}`;
  return `${what[0]?.toUpperCase()}${what.slice(1)} did not have a name`;
}

/**
 * Cuts a trailing comment. In a header any `#` or `;` starts one; in a property line only one
 * that follows whitespace (Unicode whitespace, as the reference parser checks), so that
 * `name = value;x` keeps its semicolon.
 */
function withoutComment(text: string, commentNeedsWhitespace: boolean): string {
  const trimmed = trimBlanks(text);
  const match = (commentNeedsWhitespace ? /\p{White_Space}[#;]/u : /[#;]/).exec(trimmed);
  if (match === null) return trimmed;
  const comment = match.index + match[0].length - 1;
  return trimBlanks(trimmed.slice(0, comment));
}

function parseError(path: string, line: number, message: string): AppError {
  return new AppError("config-parse", `${path} line ${line}: ${message}`, {
    hint: "Fix that line: awsmfa reads this file by the rules the AWS SDKs share.",
  });
}

/** The format's own whitespace is only space and tab; "\r" or "\f" is text. */
function isBlankChar(char: string | undefined): boolean {
  return char === " " || char === "\t";
}

function isBlank(text: string): boolean {
  return trimBlanks(text) === "";
}

function trimBlanks(text: string): string {
  return trimWhere(text, isBlankChar);
}

function isWhitespace(char: string | undefined): boolean {
  if (char === undefined) return false;
  const code = char.charCodeAt(0);
  // ASCII answered without the Unicode regex: every header's name is trimmed with this.
  if (code < 128) return code === 32 || (code >= 9 && code <= 13);
  return /\p{White_Space}/u.test(char);
}

/** Section names are trimmed of all Unicode whitespace, as the reference does. */
function trimWhitespace(text: string): string {
  return trimWhere(text, isWhitespace);
}

function trimWhere(text: string, drop: (char: string | undefined) => boolean): string {
  let start = 0;
  let end = text.length;
  while (start < end && drop(text[start])) start += 1;
  while (end > start && drop(text[end - 1])) end -= 1;
  return text.slice(start, end);
}
