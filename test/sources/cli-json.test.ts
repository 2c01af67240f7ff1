// The aws CLI writes its token files with Python's json.dumps; awsmfa's rewrite must be the same bytes.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { test } from "node:test";
import fc from "fast-check";
import { pythonJson } from "../../src/session/sources/cli-json";

function pythonDumps(values: unknown[]): string[] {
  const out = execFileSync(
    "python3",
    ["-c", "import json,sys; print('\\n'.join(json.dumps(v) for v in json.load(sys.stdin)))"],
    { input: JSON.stringify(values), encoding: "utf8" },
  );
  return out.replace(/\n$/, "").split("\n");
}

test("pythonJson writes what Python's json.dumps writes, for token-file shapes and awkward strings", () => {
  const values: unknown[] = [
    {
      accessToken: { accessKeyId: "ASIA1", expiresAt: "2026-11-30T18:45:00Z", n: 900 },
      refreshToken: "rt/+=",
      dpopKey: "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
      empty: {},
      list: [],
      nested: [1, [true, false, null], { "k\u00e9y": "v" }],
    },
    'caf\u00e9 \u{1F600} \u007f \u0000 \t \u2028 \\ " /',
  ];
  const sample = fc.sample(
    fc.dictionary(
      fc.string({ unit: "binary" }),
      fc.oneof(fc.string({ unit: "binary" }), fc.integer(), fc.boolean()),
    ),
    { numRuns: 200, seed: 16 },
  );
  values.push(...sample);
  const expected = pythonDumps(values);
  for (const [index, value] of values.entries()) {
    assert.equal(pythonJson(value), expected[index], JSON.stringify(value));
  }
});
