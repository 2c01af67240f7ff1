// parseProfileFiles reads a plainly written file (headers, `key = value`, blank lines, whole-line
// comments) on a lean path of its own, and anything else with parseSections. The two must agree:
// the same file with one more line that only the full parser takes (a header with a comment,
// naming a section the config file ignores) must merge to the very same profiles.
import assert from "node:assert/strict";
import { test } from "node:test";
import fc from "fast-check";
import { parseProfileFiles } from "../../src/config/ini";

const LINES = [
  "[profile a]",
  "[profile b]",
  "[ profile\tc ]",
  "[default]",
  "[profile default]",
  "[sso-session s]",
  "[services x]",
  "[plain]",
  "[profile bad name]",
  "[profile a",
  "region = eu-west-1",
  "Region=US-EAST-1",
  "role_arn\t=\tarn:aws:iam::1:role/R",
  "source_profile = a",
  "key =  value with  spaces  ",
  "k=v=w",
  "=novalue",
  "empty =",
  "  sub = 1",
  "x = y # comment",
  "x = y;not-a-comment",
  "",
  "   ",
  "# comment",
  "; comment",
  "ünïcode = välue",
];
const ENDINGS = ["\n", "\r\n", "\r"];

function merged(text: string): unknown {
  try {
    return parseProfileFiles({ path: "config", text });
  } catch (error) {
    return { error: (error as Error).message };
  }
}

test("the lean path and parseSections merge every file to the same profiles", () => {
  fc.assert(
    fc.property(
      fc.array(fc.tuple(fc.constantFrom(...LINES), fc.constantFrom(...ENDINGS)), { maxLength: 30 }),
      (lines) => {
        const text = lines.map(([line, ending]) => line + ending).join("");
        // A lone "\r" at the end would join the added line's "\n" into one CRLF.
        fc.pre(!text.endsWith("\r"));
        const full = merged(`${text}\n[ignored-by-config] # only the full parser reads this line\n`);
        assert.deepEqual(merged(text), full);
      },
    ),
    { numRuns: 2000 },
  );
});
