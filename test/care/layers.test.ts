// DESIGN.md's layering, checked: a module imports only from its own layer or the ones below it
// (errors ← fsio ← config ← secrets ← mfa, sts ← session ← output ← commands ← warm ← cli), and a
// command's module (commands/NAME.ts, defined in NAME.command.ts) imports no other command's: what
// two commands share lives in a module of its own, or lower down.
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { test } from "node:test";

const SRC = join(__dirname, "../../src");
const LAYERS = [
  "errors|error-codes",
  "fsio",
  "config",
  "secrets",
  "mfa|sts",
  "session",
  "output",
  "commands",
  "warm|direct",
  "cli",
];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [relative(SRC, path)] : [];
  });
}

/** The src/ modules a file imports (statically, with import(), or with require()), relative to src/. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(SRC, file), "utf8");
  const specifiers = [...text.matchAll(/(?:from |import |import\(|require\()"(\.[^"]+)"/g)].map(
    (match) => match[1] as string,
  );
  return specifiers.map((specifier) => {
    const target = resolve(SRC, dirname(file), specifier);
    const asFile = existsSync(`${target}.ts`) ? `${target}.ts` : join(target, "index.ts");
    return relative(SRC, asFile);
  });
}

function layerOf(file: string): number {
  const top = file.split("/")[0]?.replace(/\.ts$/, "") as string;
  const layer = LAYERS.findIndex((names) => names.split("|").includes(top));
  assert.notEqual(layer, -1, `${file} is in no layer of DESIGN.md`);
  return layer;
}

const files = sourceFiles(SRC);

test("no module imports from a layer above its own", () => {
  const upward = files.flatMap((file) =>
    importsOf(file)
      .filter((target) => layerOf(target) > layerOf(file))
      .map((target) => `${file} → ${target}`),
  );
  assert.deepEqual(upward, []);
});

/** Allowed, and why. */
const COMMAND_CALLS = new Set([
  // setup's last step is the login `awsmfa login` makes, with the same messages.
  "commands/setup.ts → commands/login.ts",
]);

test("no command's module imports another command's", () => {
  const commandModules = new Set(
    files.filter((file) => file.endsWith(".command.ts")).map((file) => file.replace(/\.command\.ts$/, ".ts")),
  );
  assert.ok(commandModules.size >= 14, [...commandModules].join(" "));
  const crossing = files
    .filter((file) => commandModules.has(file))
    .flatMap((file) =>
      importsOf(file)
        .filter((target) => target !== file && commandModules.has(target))
        .map((target) => `${file} → ${target}`),
    )
    .filter((call) => !COMMAND_CALLS.has(call));
  assert.deepEqual(crossing, []);
});
