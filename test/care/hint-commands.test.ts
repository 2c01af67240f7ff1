// Every awsmfa command line that src/ suggests to a user (in a hint, a message or --help) is one
// the program's own definitions accept: no unknown flag, no missing required option, no stray
// argument. hints.test.ts runs the ones a user meets most; this reads all of them from the source.
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { type Command, CommanderError } from "commander";
import { buildProgram } from "../../src/commands/program";

const SRC = join(__dirname, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** A program with every action a no-op and no output: parsing alone says whether a command line is accepted. */
function parserOnly(): Command {
  const program = buildProgram(() => {});
  const quiet = (command: Command) => {
    command.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    if (command !== program && command.commands.length === 0) command.action(() => {});
    for (const sub of command.commands) quiet(sub);
  };
  quiet(program);
  return program;
}

/**
 * `awsmfa <command> …` as written in the source, outside comments, up to where the command line
 * ends in its sentence; a template placeholder (${profile}) or <that profile> stands for one word.
 */
export function suggestedCommandLines(source: string, commands: string[]): string[] {
  const code = source
    .split("\n")
    .filter((line) => !/^\s*(\/\/|\/\*|\*)/.test(line))
    .join("\n")
    .replace(/\$\{[^}]*\}|<[^\s<>][^<>]*>/g, "WORD");
  const start = new RegExp(`\\bawsmfa (?:--debug )?(?:${commands.join("|")})\\b[^\`"'\\n]*`, "g");
  const lines: string[] = [];
  for (const match of code.matchAll(start)) {
    const line = match[0].split(/\\`| {2}|[\\`<>|;)…]|\.( |$)|, | for | to | then | again| and /)[0]?.trim();
    if (line) lines.push(line);
  }
  return lines;
}

test("every awsmfa command line suggested in src/ is accepted by the program's definitions", async () => {
  const names = parserOnly().commands.map((command) => command.name());
  const found = new Map<string, string>();
  for (const file of sourceFiles(SRC)) {
    for (const line of suggestedCommandLines(readFileSync(file, "utf8"), names)) {
      found.set(line, file.slice(SRC.length + 1));
    }
  }
  assert.ok(found.size > 20, `only ${found.size} command lines found: the extraction is broken`);
  const refused: string[] = [];
  for (const [line, file] of found) {
    const args = line.split(/\s+/).slice(1);
    try {
      await parserOnly().parseAsync(args, { from: "user" });
    } catch (error) {
      if (!(error instanceof CommanderError)) throw error;
      // A placeholder for a choice (--to ${store.name}) holds one of the choices at run time.
      if (/argument 'WORD' is invalid/.test(error.message)) continue;
      refused.push(`${file}: \`${line}\`: ${error.message}`);
    }
  }
  if (process.env.AWSMFA_LIST_HINTS) console.log([...found.keys()].join("\n"));
  assert.deepEqual(refused, []);
});

test("the extraction finds command lines in hints, and stops where the sentence goes on", () => {
  const names = ["login", "setup", "totp", "completion"];
  const source = [
    `hint: \`Run \\\`awsmfa login -p \${plan.profile} --force\\\` for a new session.\`,`,
    "// awsmfa setup in a comment is not a suggestion",
    `hint: \`Give it on standard input: \\\`awsmfa totp add -p \${x} --stdin < seed.txt\\\`.\`,`,
    'hint: "Name the shell: awsmfa completion bash|zsh|fish.",',
    "  awsmfa login -p dev                       ask for a code once",
    "Then run awsmfa setup again.",
  ].join("\n");
  assert.deepEqual(suggestedCommandLines(source, names), [
    "awsmfa login -p WORD --force",
    "awsmfa totp add -p WORD --stdin",
    "awsmfa completion bash",
    "awsmfa login -p dev",
    "awsmfa setup",
  ]);
});
