import assert from "node:assert/strict";
import {
  chmodSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import fc from "fast-check";
import {
  editProfileFile,
  removeProperties,
  removeProperty,
  removeSection,
  sectionNameFor,
  setProperty,
} from "../../src/config/edit";
import { type ParsedProperty, parseProfileFiles, parseSections, type TextLine } from "../../src/config/ini";
import type { FileKind, ProfileSet } from "../../src/config/types";
import { AppError } from "../../src/errors";

function isUnsafeEdit(error: unknown): boolean {
  return error instanceof AppError && error.code === "config-unsafe-edit";
}

describe("sectionNameFor", () => {
  test("prefixes config profiles except default, never credentials ones", () => {
    assert.equal(sectionNameFor("config", "work"), "profile work");
    assert.equal(sectionNameFor("config", "default"), "default");
    assert.equal(sectionNameFor("credentials", "work"), "work");
    assert.equal(sectionNameFor("credentials", "default"), "default");
  });
});

describe("setProperty", () => {
  test("replaces a value in place, keeping spacing and the comment after it", () => {
    const text = "# mine\n[profile a]\nregion   =  us-east-1   # home\noutput = json\n";
    assert.equal(
      setProperty(text, "config", "a", "region", "eu-west-1"),
      "# mine\n[profile a]\nregion   =  eu-west-1   # home\noutput = json\n",
    );
  });

  test("keeps the key's own spelling when the file has it in capitals", () => {
    assert.equal(setProperty("[a]\nRegion=x\n", "credentials", "a", "region", "y"), "[a]\nRegion=y\n");
  });

  test("fills an empty value, keeping a comment a comment", () => {
    assert.equal(setProperty("[a]\nk =\n", "credentials", "a", "k", "v"), "[a]\nk = v\n");
    assert.equal(setProperty("[a]\nk = # why\n", "credentials", "a", "k", "v"), "[a]\nk = v # why\n");
    assert.equal(setProperty("[a]\nk = v # why\n", "credentials", "a", "k", ""), "[a]\nk =  # why\n");
  });

  test("a comment that followed Unicode whitespace stays a comment", () => {
    const text = "[a]\nk = old\u00a0# c\n";
    const edited = setProperty(text, "credentials", "a", "k", "new");
    assert.equal(edited, "[a]\nk = new # c\n");
    assert.equal(parseProfileFiles(undefined, { path: "c", text: edited }).profiles.a?.k, "new");
  });

  test("replaces continuation lines with the one new line, keeping comments between them", () => {
    const text =
      "[profile a]\ns3 =\n  max_concurrent_requests = 10\n# note\n\n  addressing_style = path\nregion = r\n";
    assert.equal(
      setProperty(text, "config", "a", "s3", "off"),
      "[profile a]\ns3 = off\n# note\n\nregion = r\n",
    );
  });

  test("changes the last of duplicate keys, the one the SDKs read", () => {
    const text = "[profile a]\nk = 1\n[profile b]\n[profile a]\nk = 2\nk = 3\n";
    assert.equal(
      setProperty(text, "config", "a", "k", "4"),
      "[profile a]\nk = 1\n[profile b]\n[profile a]\nk = 2\nk = 4\n",
    );
  });

  test("appends a new key after the section's last property, before its trailing comments", () => {
    const text = "[profile a]\nk = 1\n  more = 2\n\n# about b\n[profile b]\n";
    assert.equal(
      setProperty(text, "config", "a", "new", "v"),
      "[profile a]\nk = 1\n  more = 2\nnew = v\n\n# about b\n[profile b]\n",
    );
    assert.equal(
      setProperty(text, "config", "b", "new", "v"),
      "[profile a]\nk = 1\n  more = 2\n\n# about b\n[profile b]\nnew = v\n",
    );
  });

  test("appends a new section at the end, in the file's line endings", () => {
    assert.equal(setProperty("", "config", "default", "region", "x"), "[default]\nregion = x\n");
    assert.equal(
      setProperty("[profile a]\r\nk = 1\r\n", "config", "b", "k", "2"),
      "[profile a]\r\nk = 1\r\n\r\n[profile b]\r\nk = 2\r\n",
    );
    assert.equal(setProperty("[a]\n\n", "credentials", "b", "k", "2"), "[a]\n\n[b]\nk = 2\n");
  });

  test("uses CRLF for a new key in a CRLF file", () => {
    assert.equal(
      setProperty("[profile a]\r\nk = 1\r\n[profile b]\r\n", "config", "a", "n", "2"),
      "[profile a]\r\nk = 1\r\nn = 2\r\n[profile b]\r\n",
    );
  });

  test("keeps a file that had no final newline without one", () => {
    assert.equal(setProperty("[a]\nk = 1", "credentials", "a", "n", "2"), "[a]\nk = 1\nn = 2");
    assert.equal(setProperty("[a]\nk = 1", "credentials", "a", "k", "2"), "[a]\nk = 2");
    assert.equal(setProperty("[a]\nk = 1", "credentials", "b", "n", "2"), "[a]\nk = 1\n\n[b]\nn = 2");
    assert.equal(setProperty("[a]\r\nk =\r\n  x = 1", "credentials", "a", "k", "2"), "[a]\r\nk = 2");
  });

  test("edits [profile default], not the [default] it shadows", () => {
    const text = "[default]\nregion = a\n\n[profile default]\noutput = json\n";
    assert.equal(
      setProperty(text, "config", "default", "region", "b"),
      "[default]\nregion = a\n\n[profile default]\noutput = json\nregion = b\n",
    );
    assert.equal(
      setProperty("[default]\nregion = a\n", "config", "default", "region", "b"),
      "[default]\nregion = b\n",
    );
  });

  test("ignores sections the SDKs ignore: [profile x] in credentials, [x] in config", () => {
    assert.equal(
      setProperty("[profile a]\nk = 1\n", "credentials", "a", "k", "2"),
      "[profile a]\nk = 1\n\n[a]\nk = 2\n",
    );
    assert.equal(setProperty("[a]\nk = 1\n", "config", "a", "k", "2"), "[a]\nk = 1\n\n[profile a]\nk = 2\n");
  });

  test("returns the very same string when the value is already there", () => {
    const text = "[a]\r\nk=v ; c\r\n";
    assert.equal(setProperty(text, "credentials", "a", "k", "v"), text);
    const multiline = "[a]\nk = v\n  w\n";
    assert.equal(setProperty(multiline, "credentials", "a", "k", "v\nw"), multiline);
  });

  test("refuses values that would read back differently, without echoing them", () => {
    for (const value of [
      "s3cr3t\nb",
      "s3cr3t\rb",
      " s3cr3t",
      "s3cr3t\t",
      "#s3cr3t",
      ";s3cr3t",
      "s3cr3t #b",
      "s3cr3t\u00a0;b",
    ]) {
      assert.throws(
        () => setProperty("[a]\n", "credentials", "a", "aws_secret_access_key", value),
        (error: unknown) => isUnsafeEdit(error) && !(error as Error).message.includes("s3cr3t"),
        JSON.stringify(value),
      );
    }
    assert.equal(setProperty("[a]\n", "credentials", "a", "k", "a#b;c=d"), "[a]\nk = a#b;c=d\n");
  });

  test("refuses profile names and keys that cannot be written safely", () => {
    for (const profile of ["", "a b", "a]", "x\ny", "é"]) {
      assert.throws(
        () => setProperty("", "config", profile, "k", "v"),
        isUnsafeEdit,
        JSON.stringify(profile),
      );
    }
    for (const key of ["", "Region", "a b", "k=", "#k", "[k]"]) {
      assert.throws(() => setProperty("", "config", "a", key, "v"), isUnsafeEdit, JSON.stringify(key));
    }
  });

  test("refuses to edit a file that does not parse", () => {
    assert.throws(() => setProperty("[a\n", "credentials", "a", "k", "v"), {
      code: "config-parse",
      message: /^the credentials file line 1: /,
    });
  });
});

describe("removeProperty", () => {
  test("removes every line that sets the key, continuation lines included", () => {
    const text = "[profile a]\nk = 1\n  x = y\n# keep\nother = 2\n[profile a]\nK = 3\n";
    assert.equal(removeProperty(text, "config", "a", "k"), "[profile a]\n# keep\nother = 2\n[profile a]\n");
  });

  test("keeps CRLF and a missing final newline", () => {
    assert.equal(removeProperty("[a]\r\nj = 1\r\nk = 2", "credentials", "a", "k"), "[a]\r\nj = 1");
  });

  test("keeps a blank line that ends up last, newline and all", () => {
    assert.equal(removeProperty("[a]\n\nk = 2", "credentials", "a", "k"), "[a]\n\n");
  });

  test("leaves a shadowed [default] alone", () => {
    const text = "[default]\nk = 1\n[profile default]\nk = 2\n";
    assert.equal(removeProperty(text, "config", "default", "k"), "[default]\nk = 1\n[profile default]\n");
  });

  test("returns the very same string when the key is not there", () => {
    const text = "[a]\nk = 1\n[b]\nj = 2";
    assert.equal(removeProperty(text, "credentials", "a", "j"), text);
    assert.equal(removeProperty(text, "credentials", "c", "k"), text);
  });
});

describe("removeProperties", () => {
  test("a section left with nothing in it goes, header and the blank lines after it", () => {
    const text = "[bob]\nk = 1\n\n[dev]\naws_access_key_id = A\naws_secret_access_key = S\n\n[c]\nk = 3\n";
    assert.equal(
      removeProperties(text, "credentials", "dev", ["aws_access_key_id", "aws_secret_access_key"]),
      "[bob]\nk = 1\n\n[c]\nk = 3\n",
    );
  });

  test("the last section goes with the blank lines before it; the first leaves an empty file", () => {
    const keys = ["aws_access_key_id", "aws_secret_access_key"];
    const text = "[bob]\nk = 1\n\n[dev]\naws_access_key_id = A\naws_secret_access_key = S\n";
    assert.equal(removeProperties(text, "credentials", "dev", keys), "[bob]\nk = 1\n");
    assert.equal(
      removeProperties(
        "[dev]\r\naws_access_key_id = A\r\naws_secret_access_key = S\r\n",
        "credentials",
        "dev",
        keys,
      ),
      "",
    );
  });

  test("a section that keeps another key or a comment stays", () => {
    const keys = ["aws_access_key_id", "aws_secret_access_key"];
    const other = "[dev]\naws_access_key_id = A\nregion = eu-west-1\naws_secret_access_key = S\n";
    assert.equal(removeProperties(other, "credentials", "dev", keys), "[dev]\nregion = eu-west-1\n");
    const comment =
      "[dev]\n# my work account\naws_access_key_id = A\naws_secret_access_key = S\n\n[c]\nk = 1\n";
    assert.equal(
      removeProperties(comment, "credentials", "dev", keys),
      "[dev]\n# my work account\n\n[c]\nk = 1\n",
    );
  });

  test("an empty section it did not empty stays, and nothing to remove is the very same string", () => {
    const text = "[dev]\n\n[other]\nk = 1\n";
    assert.equal(removeProperties(text, "credentials", "dev", ["k"]), text);
    assert.equal(removeProperties(text, "credentials", "nobody", ["k"]), text);
  });
});

describe("removeSection", () => {
  test("removes the section and the blank lines after it, not the comments about the next", () => {
    const text = "[a]\nk = 1\n\n[b]\nk = 2\n  x\n# b's last word\n\n# about c\n[c]\nk = 3\n";
    assert.equal(
      removeSection(text, "credentials", "b"),
      "[a]\nk = 1\n\n# b's last word\n\n# about c\n[c]\nk = 3\n",
    );
  });

  test("at the end of the file, takes the blank lines before it instead", () => {
    assert.equal(removeSection("[a]\nk = 1\n\n[b]\nk = 2\n", "credentials", "b"), "[a]\nk = 1\n");
    assert.equal(removeSection("[a]\r\nk = 1\r\n\r\n[b]\r\nk = 2", "credentials", "b"), "[a]\r\nk = 1");
  });

  test("removes every section of the profile, a shadowed [default] too", () => {
    const text = "[default]\nk = 1\n[profile a]\nk = 2\n[profile default]\nk = 3\n";
    assert.equal(removeSection(text, "config", "default"), "[profile a]\nk = 2\n");
  });

  test("returns the very same string when the profile is not there", () => {
    const text = "[profile a]\nk = 1\n";
    assert.equal(removeSection(text, "config", "b"), text);
    assert.equal(removeSection(text, "credentials", "a"), text);
  });
});

// ---------------------------------------------------------------------------------------------
// Property tests over generated files that look like real ones, and then some.

const PROFILES = ["default", "a", "dev-1", "x.y@z", "__proto__"];
const KEYS = ["region", "output", "mfa_serial", "role_arn", "s3", "awsmfa_totp"];

const blankLine = fc.constantFrom("", " ", "\t ");
const commentLine = fc.constantFrom("# c", ";", "# [profile a]", "; k = v", "#\u00a0x");
const valueText = fc.string({
  unit: fc.constantFrom("v", "1", " ", "=", "#", ";", "é", "\u00a0", "/"),
  maxLength: 6,
});
const continuationLine = fc
  .tuple(fc.constantFrom(" ", "\t", "   "), fc.constantFrom("x = 1", "y =", "z = a # b", "n=m"))
  .map(([indent, body]) => indent + body);

const propertyLines = fc
  .record({
    key: fc.oneof(fc.mixedCase(fc.constantFrom(...KEYS)), fc.constantFrom("in valid", "k!")),
    before: fc.constantFrom("", " ", "\t"),
    after: fc.constantFrom("", " ", "  "),
    value: valueText,
    continuations: fc.array(fc.oneof(continuationLine, continuationLine, blankLine, commentLine), {
      maxLength: 3,
    }),
  })
  .map(({ key, before, after, value, continuations }) => [
    `${key}${before}=${after}${value}`,
    ...continuations,
  ]);

function headerNames(kind: FileKind): fc.Arbitrary<string> {
  const name = fc.constantFrom(...PROFILES);
  const gap = fc.constantFrom(" ", "\t", "  ");
  if (kind === "credentials") {
    return fc.oneof(
      name,
      name,
      name.map((profile) => `profile ${profile}`),
      fc.constant("in valid"),
    );
  }
  return fc.oneof(
    fc.tuple(gap, name).map(([space, profile]) => `profile${space}${profile}`),
    fc.tuple(gap, name).map(([space, profile]) => `profile${space}${profile}`),
    fc.constant("default"),
    name,
    name.map((profile) => `sso-session ${profile}`),
    fc.constantFrom("services s", "profile in valid"),
  );
}

function sectionLines(kind: FileKind): fc.Arbitrary<string[]> {
  return fc
    .record({
      name: headerNames(kind),
      pad: fc.constantFrom("", " "),
      comment: fc.constantFrom("", " # c", ";c"),
      body: fc.array(
        fc.oneof(
          propertyLines,
          propertyLines,
          blankLine.map((l) => [l]),
          commentLine.map((l) => [l]),
        ),
        {
          maxLength: 5,
        },
      ),
    })
    .map(({ name, pad, comment, body }) => [`[${pad}${name}${pad}]${comment}`, ...body.flat()]);
}

interface GeneratedFile {
  kind: FileKind;
  text: string;
}

const profileFile: fc.Arbitrary<GeneratedFile> = fc
  .constantFrom<FileKind>("config", "credentials")
  .chain((kind) =>
    fc
      .record({
        preamble: fc.array(fc.oneof(blankLine, commentLine), { maxLength: 2 }),
        sections: fc.array(sectionLines(kind), { maxLength: 5 }),
        eol: fc.constantFrom("\n", "\r\n"),
        finalNewline: fc.boolean(),
      })
      .map(({ preamble, sections, eol, finalNewline }) => {
        const lines = [...preamble, ...sections.flat()];
        const text = lines.join(eol) + (finalNewline && lines.length > 0 ? eol : "");
        return { kind, text };
      }),
  );

const profileName = fc.oneof(
  fc.constantFrom(...PROFILES),
  fc.constantFrom(...PROFILES),
  fc.constantFrom("new", "a b"),
);
const keyName = fc.oneof(
  fc.constantFrom(...KEYS),
  fc.constantFrom(...KEYS),
  fc.constantFrom("fresh", "Region"),
);
const newValue = fc.oneof(
  fc.string({
    unit: fc.constantFrom("a", "Z", "0", " ", "\t", "#", ";", "=", "é", "\u00a0", "\n", "\r", "/"),
    maxLength: 8,
  }),
  fc.constantFrom("", "arn:aws:iam::123456789012:mfa/me", "eu-west-1"),
);

/** This file alone, as the SDKs would read it, in a form deepEqual compares without regard to order. */
function readBack(text: string, kind: FileKind) {
  const file = { path: kind, text };
  const set: ProfileSet = kind === "config" ? parseProfileFiles(file) : parseProfileFiles(undefined, file);
  const asMap = (records: Record<string, Record<string, string>>) =>
    new Map(Object.entries(records).map(([name, properties]) => [name, new Map(Object.entries(properties))]));
  return { profiles: asMap(set.profiles), ssoSessions: asMap(set.ssoSessions) };
}

function isWritableName(profile: string, key: string): boolean {
  return profile !== "a b" && key !== "Region";
}

/** Whether the SDKs would read `value` back from `k = value` exactly. */
function readsBackAs(value: string): boolean {
  if (/[\r\n]/.test(value)) return false;
  return readBack(`[a]\nk = ${value}`, "credentials").profiles.get("a")?.get("k") === value;
}

const RUNS = 4000;

test(`set, then parse: the key has the value and nothing else changed (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(profileFile, profileName, keyName, newValue, ({ kind, text }, profile, key, value) => {
      const before = readBack(text, kind);
      let edited: string;
      try {
        edited = setProperty(text, kind, profile, key, value);
      } catch (error) {
        assert.ok(isUnsafeEdit(error), String(error));
        assert.ok(!isWritableName(profile, key) || !readsBackAs(value), "refused a value that was safe");
        return;
      }
      assert.ok(isWritableName(profile, key), "wrote an unsafe name");
      const expected = before.profiles;
      expected.set(profile, new Map(expected.get(profile)).set(key, value));
      const now = readBack(edited, kind);
      assert.deepEqual(now.profiles, expected);
      assert.deepEqual(now.ssoSessions, before.ssoSessions);
    }),
    { numRuns: RUNS },
  );
});

test(`remove a key or a section, then parse: it is gone and nothing else changed (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(
      profileFile,
      fc.constantFrom(...PROFILES),
      fc.constantFrom(...KEYS),
      ({ kind, text }, profile, key) => {
        const before = readBack(text, kind);

        const withoutKey = readBack(removeProperty(text, kind, profile, key), kind);
        const expected = new Map(before.profiles);
        const properties = expected.get(profile);
        if (properties) expected.set(profile, new Map(properties));
        expected.get(profile)?.delete(key);
        assert.deepEqual(withoutKey.profiles, expected);
        assert.deepEqual(withoutKey.ssoSessions, before.ssoSessions);

        const withoutSection = readBack(removeSection(text, kind, profile), kind);
        const remaining = new Map(before.profiles);
        remaining.delete(profile);
        assert.deepEqual(withoutSection.profiles, remaining);
        assert.deepEqual(withoutSection.ssoSessions, before.ssoSessions);
      },
    ),
    { numRuns: RUNS },
  );
});

test(`an edit that changes nothing returns the identical text (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(profileFile, profileName, keyName, newValue, ({ kind, text }, profile, key, value) => {
      fc.pre(isWritableName(profile, key));
      const current = readBack(text, kind).profiles.get(profile);
      const existing = current?.get(key);
      if (existing !== undefined) assert.equal(setProperty(text, kind, profile, key, existing), text);
      else assert.equal(removeProperty(text, kind, profile, key), text);
      if (current === undefined) assert.equal(removeSection(text, kind, profile), text);
      if (readsBackAs(value)) {
        const once = setProperty(text, kind, profile, key, value);
        assert.equal(setProperty(once, kind, profile, key, value), once);
      }
    }),
    { numRuns: RUNS },
  );
});

/** The winning property's line numbers for `key` (empty if none). */
function keyLines(text: string, kind: FileKind, profile: string, key: string): number[] {
  const winning: ParsedProperty[] = parseSections({ path: kind, text }, kind)
    .sections.filter(({ role }) => role.type === "profile" && role.name === profile && !role.shadowed)
    .flatMap((section) => section.properties)
    .filter((property) => property.key === key);
  return winning.at(-1)?.lines ?? [];
}

function linesWithout(text: string, kind: FileKind, lineNumbers: number[]): TextLine[] {
  return parseSections({ path: kind, text }, kind).lines.filter(
    (_, index) => !lineNumbers.includes(index + 1),
  );
}

test(`editing one key changes no byte outside that key's lines (${RUNS} runs)`, () => {
  fc.assert(
    fc.property(
      profileFile,
      fc.constantFrom(...PROFILES),
      fc.constantFrom(...KEYS),
      fc.constantFrom("v2", "", "arn:aws:iam::1:mfa/x"),
      ({ kind, text }, profile, key, value) => {
        fc.pre(readBack(text, kind).profiles.has(profile));
        const oldLines = keyLines(text, kind, profile, key);
        const edited = setProperty(text, kind, profile, key, value);
        const newLines = keyLines(edited, kind, profile, key);
        assert.equal(newLines.length, 1);
        if (oldLines.length > 0) assert.equal(newLines[0], oldLines[0], "replaced in place");
        assertSameLines(linesWithout(text, kind, oldLines), linesWithout(edited, kind, newLines));
        assertFinalNewlineKept(text, edited, kind);

        const removed = removeProperty(text, kind, profile, key);
        const allOld = parseSections({ path: kind, text }, kind)
          .sections.filter(({ role }) => role.type === "profile" && role.name === profile && !role.shadowed)
          .flatMap((section) => section.properties)
          .filter((property) => property.key === key)
          .flatMap((property) => property.lines);
        assertSameLines(linesWithout(text, kind, allOld), linesWithout(removed, kind, []));
        assertFinalNewlineKept(text, removed, kind);
      },
    ),
    { numRuns: RUNS },
  );
});

/** A file without a final newline still has none, unless it now ends in a blank line (which needs one). */
function assertFinalNewlineKept(before: string, after: string, kind: FileKind): void {
  const last = parseSections({ path: kind, text: after }, kind).lines.at(-1);
  if (before === "" || last?.text === "") return;
  assert.equal(last?.eol === "", !/\n$/.test(before), "final newline kept");
}

/** Same text line for line; the last line's ending may differ (a file without a final newline). */
function assertSameLines(expected: TextLine[], actual: TextLine[]): void {
  assert.deepEqual(
    actual.map((line) => line.text),
    expected.map((line) => line.text),
  );
  assert.deepEqual(
    actual.slice(0, -1).map((line) => line.eol),
    expected.slice(0, -1).map((line) => line.eol),
  );
}

test(`the edits throw nothing but AppError, whatever the text (${RUNS} runs)`, () => {
  const piece = fc.constantFrom("[", "]", "[profile a]", "[a]", "=", " ", "\n", "\r\n", "#", ";", "k", "a");
  fc.assert(
    fc.property(
      fc.string({ unit: piece, maxLength: 30 }),
      fc.constantFrom<FileKind>("config", "credentials"),
      (text, kind) => {
        for (const edit of [
          () => setProperty(text, kind, "a", "k", "v"),
          () => removeProperty(text, kind, "a", "k"),
          () => removeSection(text, kind, "a"),
        ]) {
          try {
            edit();
          } catch (error) {
            assert.ok(error instanceof AppError && error.code === "config-parse", String(error));
          }
        }
      },
    ),
    { numRuns: RUNS },
  );
});

// ---------------------------------------------------------------------------------------------

describe("editProfileFile", () => {
  const dir = mkdtempSync(join(tmpdir(), "awsmfa-edit-"));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const set = (key: string, value: string) => (text: string) =>
    setProperty(text, "credentials", "a", key, value);

  test("creates a new file 0600 in a new directory 0700", {
    skip: process.platform === "win32",
  }, async () => {
    const path = join(dir, "new", ".aws", "credentials");
    assert.deepEqual(await editProfileFile(path, "credentials", set("k", "v")), { changed: true });
    assert.equal(readFileSync(path, "utf8"), "[a]\nk = v\n");
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, "new", ".aws")).mode & 0o777, 0o700);
    assert.equal(existsSync(`${path}.lock`), false);
  });

  test("keeps an existing file's mode", { skip: process.platform === "win32" }, async () => {
    const path = join(dir, "config-0640");
    writeFileSync(path, "[profile a]\r\nregion = x\r\n");
    chmodSync(path, 0o640);
    await editProfileFile(path, "config", (text) => setProperty(text, "config", "a", "region", "y"));
    assert.equal(readFileSync(path, "utf8"), "[profile a]\r\nregion = y\r\n");
    assert.equal(statSync(path).mode & 0o777, 0o640);
  });

  test("a rewritten credentials file loses group/other bits", {
    skip: process.platform === "win32",
  }, async () => {
    const path = join(dir, "credentials-0644");
    writeFileSync(path, "[a]\naws_access_key_id = AKIA\n");
    chmodSync(path, 0o644);
    await editProfileFile(path, "credentials", (text) =>
      setProperty(text, "credentials", "a", "region", "y"),
    );
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });

  test("does not write at all when nothing changes", async () => {
    const path = join(dir, "unchanged");
    writeFileSync(path, "[a]\nk = v");
    const before = statSync(path);
    assert.deepEqual(await editProfileFile(path, "credentials", set("k", "v")), { changed: false });
    assert.equal(statSync(path).ino, before.ino);
    assert.equal(statSync(path).mtimeMs, before.mtimeMs);
    const missing = join(dir, "still-missing");
    assert.deepEqual(await editProfileFile(missing, "credentials", (text) => text), { changed: false });
    assert.equal(existsSync(missing), false);
  });

  test("loses no edit when several run at once", async () => {
    const path = join(dir, "concurrent");
    const keys = Array.from({ length: 8 }, (_, index) => `k${index}`);
    await Promise.all(keys.map((key) => editProfileFile(path, "credentials", set(key, key))));
    const parsed = parseProfileFiles(undefined, { path, text: readFileSync(path, "utf8") });
    assert.deepEqual(Object.keys(parsed.profiles.a ?? {}).sort(), keys);
  });

  test("writes through a symlink, keeping the link", { skip: process.platform === "win32" }, async () => {
    const target = join(dir, "dotfiles-credentials");
    const link = join(dir, "linked-credentials");
    writeFileSync(target, "[a]\n");
    symlinkSync(target, link);
    await editProfileFile(link, "credentials", set("k", "v"));
    assert.ok(lstatSync(link).isSymbolicLink());
    assert.equal(readFileSync(target, "utf8"), "[a]\nk = v\n");
  });

  test("refuses a file that does not parse, naming it, and leaves it alone", async () => {
    const path = join(dir, "broken");
    writeFileSync(path, "[a]\nnot a property\n");
    await assert.rejects(editProfileFile(path, "credentials", set("k", "v")), {
      code: "config-parse",
      message: `${path} line 2: Expected an '=' sign defining a property`,
    });
    assert.equal(readFileSync(path, "utf8"), "[a]\nnot a property\n");
  });

  test("refuses a file that is not UTF-8, since it could not be written back byte for byte", async () => {
    const path = join(dir, "latin1");
    writeFileSync(path, Buffer.from("# caf\xe9\n[a]\n", "latin1"));
    await assert.rejects(editProfileFile(path, "credentials", set("k", "v")), { code: "config-encoding" });
  });
});
