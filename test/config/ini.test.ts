import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import fc from "fast-check";
import { parseProfileFiles, parseSections, splitLines } from "../../src/config/ini";
import type { ProfileFile } from "../../src/config/types";
import { AppError } from "../../src/errors";

interface ParserCase {
  name: string;
  input: { configFile?: string; credentialsFile?: string };
  output:
    | { config: { profiles: Record<string, unknown>; sso_sessions?: Record<string, unknown> } }
    | { errorContaining: string };
}

const suite = JSON.parse(
  readFileSync(join(__dirname, "../fixtures/aws-sdk-spec/profile-parser-tests.json"), "utf8"),
) as { tests: ParserCase[] };

const CONFIG_PATH = "~/.aws/config";
const CREDENTIALS_PATH = "~/.aws/credentials";

function filesOf(input: ParserCase["input"]): [ProfileFile | undefined, ProfileFile | undefined] {
  return [
    input.configFile === undefined ? undefined : { path: CONFIG_PATH, text: input.configFile },
    input.credentialsFile === undefined ? undefined : { path: CREDENTIALS_PATH, text: input.credentialsFile },
  ];
}

/** The parser's records have no prototype; the suite's JSON objects do. */
function plain(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value));
}

describe("profile-parser-tests.json", () => {
  assert.equal(suite.tests.length, 65);
  suite.tests.forEach((spec, index) => {
    test(`${index + 1}. ${spec.name}`, () => {
      const [config, credentials] = filesOf(spec.input);
      if ("errorContaining" in spec.output) {
        assert.throws(
          () => parseProfileFiles(config, credentials),
          (error: unknown) =>
            error instanceof AppError &&
            error.code === "config-parse" &&
            /^~\/\.aws\/(config|credentials) line \d+: /.test(error.message),
        );
        return;
      }
      const parsed = parseProfileFiles(config, credentials);
      assert.deepEqual(plain(parsed.profiles), spec.output.config.profiles);
      assert.deepEqual(plain(parsed.ssoSessions), spec.output.config.sso_sessions ?? {});
    });
  });
});

describe("parse errors", () => {
  test("name the file and the 1-based line", () => {
    const file = { path: "/home/u/.aws/config", text: "# top\n\n[profile a\nk = v" };
    assert.throws(() => parseProfileFiles(file), {
      name: "AppError",
      code: "config-parse",
      message: "/home/u/.aws/config line 3: Profile definition must end with ']'",
    });
  });

  test("count CRLF lines as lines", () => {
    const file = { path: "c", text: "[profile a]\r\nk = v\r\n\r\nbroken\r\n" };
    assert.throws(() => parseProfileFiles(file), {
      message: "c line 4: Expected an '=' sign defining a property",
    });
  });

  test("come from the credentials file too", () => {
    const credentials = { path: "creds", text: "[a]\n= v" };
    assert.throws(() => parseProfileFiles(undefined, credentials), {
      message: "creds line 2: Property did not have a name",
    });
  });

  test("leave the line's text out: it may hold a secret", () => {
    const credentials = { path: "creds", text: "[a]\naws_secret_access_key: SECRETSECRET" };
    assert.throws(
      () => parseProfileFiles(undefined, credentials),
      (error: unknown) => error instanceof AppError && !error.message.includes("SECRET"),
    );
  });
});

describe("merging", () => {
  test("origins list config first, each at its first winning section", () => {
    const config = {
      path: "cfg",
      text: "[default]\na = 1\n[profile default]\nb = 2\n[profile default]\nc = 3",
    };
    const credentials = { path: "creds", text: "\n[default]\nd = 4\n[other]\n" };
    const set = parseProfileFiles(config, credentials);
    assert.deepEqual(plain(set.origins), {
      default: [
        { kind: "config", path: "cfg", line: 3 },
        { kind: "credentials", path: "creds", line: 2 },
      ],
      other: [{ kind: "credentials", path: "creds", line: 4 }],
    });
  });

  test("profile and key names like __proto__ are plain entries", () => {
    const config = { path: "cfg", text: "[profile __proto__]\nconstructor = x\n[profile toString]" };
    const set = parseProfileFiles(config);
    assert.deepEqual(Object.keys(set.profiles), ["__proto__", "toString"]);
    const protoName = "__proto__";
    assert.equal(set.profiles[protoName]?.constructor, "x");
    assert.equal(set.profiles.valueOf, undefined);
  });

  test("a continuation after an interleaved comment or blank line still continues", () => {
    const config = { path: "cfg", text: "[profile a]\nk = v\n# note\n\n  more\n" };
    assert.equal(parseProfileFiles(config).profiles.a?.k, "v\nmore");
  });

  test("an indented comment is a continuation, not a comment", () => {
    const config = { path: "cfg", text: "[profile a]\nk = v\n  # not a comment\n" };
    assert.equal(parseProfileFiles(config).profiles.a?.k, "v\n# not a comment");
  });

  test("other prefixed sections (services) are left out", () => {
    const config = { path: "cfg", text: "[services s]\ns3 =\n  endpoint_url = x\n[profile a]\nservices = s" };
    const set = parseProfileFiles(config);
    assert.deepEqual(plain(set.profiles), { a: { services: "s" } });
    assert.deepEqual(plain(set.ssoSessions), {});
  });
});

describe("parseSections", () => {
  test("records line numbers of key and continuation lines, and the value's columns", () => {
    const { sections } = parseSections(
      { path: "p", text: "[a]\r\nk =  v1 # c\r\n\r\n x\r\n" },
      "credentials",
    );
    assert.equal(sections.length, 1);
    assert.deepEqual(sections[0]?.role, { type: "profile", name: "a", shadowed: false });
    const property = sections[0]?.properties[0];
    assert.deepEqual(property, { key: "k", value: "v1\nx", lines: [2, 4], valueStart: 5, valueEnd: 7 });
  });

  test("marks [default] shadowed only in a config file that has [profile default]", () => {
    const roles = (text: string, kind: "config" | "credentials") =>
      parseSections({ path: "p", text }, kind).sections.map((section) => section.role);
    assert.deepEqual(roles("[default]\n[profile default]", "config"), [
      { type: "profile", name: "default", shadowed: true },
      { type: "profile", name: "default", shadowed: false },
    ]);
    assert.deepEqual(roles("[default]", "config"), [{ type: "profile", name: "default", shadowed: false }]);
    assert.deepEqual(roles("[default]\n[profile default]", "credentials"), [
      { type: "profile", name: "default", shadowed: false },
      { type: "ignored" },
    ]);
  });

  test("splitLines puts every byte back", () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("a", " ", "\r", "\n", "\r\n") }), (text) => {
        assert.equal(
          splitLines(text)
            .map((line) => line.text + line.eol)
            .join(""),
          text,
        );
      }),
      { numRuns: 2000 },
    );
  });
});

/** Pieces that steer random text towards the parser's interesting corners. */
const iniPiece = fc.constantFrom(
  "[",
  "]",
  "[profile ",
  "[default]",
  "[sso-session ",
  "profile",
  "default",
  "=",
  " = ",
  " ",
  "\t",
  "\n",
  "\r\n",
  "\r",
  "#",
  ";",
  " #",
  "a",
  "Key",
  "x y",
  "__proto__",
  "\u00a0",
  "\u0085",
  "\ufeff",
  "é",
  "😂",
  "\ud800",
);

test("the parser throws nothing but AppError, whatever the text (5000 runs)", () => {
  const text = fc.oneof(
    fc.string({ unit: iniPiece, maxLength: 40 }),
    fc.string({ unit: "binary", maxLength: 80 }),
  );
  fc.assert(
    fc.property(text, text, (config, credentials) => {
      try {
        parseProfileFiles({ path: CONFIG_PATH, text: config }, { path: CREDENTIALS_PATH, text: credentials });
      } catch (error) {
        assert.ok(error instanceof AppError, String(error));
        assert.equal(error.code, "config-parse");
        assert.match(error.message, /^~\/\.aws\/(config|credentials) line [1-9]\d*: /);
      }
    }),
    { numRuns: 5000 },
  );
});
