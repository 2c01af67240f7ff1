// Lists what is too long to hold in one's head (issue 15): src/ files over 400 lines, and functions
// over 80 lines, unless a comment at their top says why ("Long because …"). Uses the TypeScript
// compiler's parser (a devDependency), so a function is what the language says it is.
//   node --import tsx scripts/long-code.ts    one line per finding (test/care/long-code.test.ts judges them)
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";

export const MAX_FILE_LINES = 400;
export const MAX_FUNCTION_LINES = 80;
const REASON = /\bLong because\b/;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

/** The comments before `node` and, for a function with a body, the ones at the top of its body. */
function topComments(text: string, node: ts.SignatureDeclaration): string {
  const ranges = [...(ts.getLeadingCommentRanges(text, node.getFullStart()) ?? [])];
  // A variable's arrow function: the comment sits before the statement, not the function.
  let holder: ts.Node | undefined = node.parent;
  while (holder && !ts.isStatement(holder) && !ts.isClassElement(holder)) holder = holder.parent;
  if (holder) ranges.push(...(ts.getLeadingCommentRanges(text, holder.getFullStart()) ?? []));
  const body = "body" in node ? node.body : undefined;
  if (body && ts.isBlock(body)) {
    const first = body.statements[0];
    ranges.push(
      ...(ts.getLeadingCommentRanges(text, first ? first.getFullStart() : body.getStart() + 1) ?? []),
    );
  }
  return ranges.map((range) => text.slice(range.pos, range.end)).join("\n");
}

function functionName(node: ts.SignatureDeclaration): string {
  if (node.name) return node.name.getText();
  const parent = node.parent;
  if (
    parent &&
    (ts.isVariableDeclaration(parent) || ts.isPropertyAssignment(parent) || ts.isPropertyDeclaration(parent))
  )
    return parent.name.getText();
  return "(anonymous)";
}

/** Findings for the files under `root`/src, paths relative to `root`: "path: N lines" or "path:LINE name(): N lines". */
export function longCode(root: string): string[] {
  const findings: string[] = [];
  for (const path of sourceFiles(join(root, "src")).sort()) {
    const text = readFileSync(path, "utf8");
    const name = relative(root, path);
    const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
    const lines = file.getLineAndCharacterOfPosition(text.length).line + (text.endsWith("\n") ? 0 : 1);
    // The file's top: everything before its first statement that is not an import.
    const first = file.statements.find((statement) => !ts.isImportDeclaration(statement));
    const fileReason = REASON.test(text.slice(0, first ? first.getStart() : text.length));
    if (lines > MAX_FILE_LINES && !fileReason) findings.push(`${name}: ${lines} lines`);
    const visit = (node: ts.Node): void => {
      if (ts.isFunctionLike(node) && "body" in node && node.body) {
        const start = file.getLineAndCharacterOfPosition(node.getStart()).line;
        const end = file.getLineAndCharacterOfPosition(node.getEnd()).line;
        const span = end - start + 1;
        if (span > MAX_FUNCTION_LINES && !REASON.test(topComments(text, node)))
          findings.push(`${name}:${start + 1} ${functionName(node)}(): ${span} lines`);
      }
      ts.forEachChild(node, visit);
    };
    visit(file);
  }
  return findings;
}

if (require.main === module) {
  for (const finding of longCode(process.cwd())) process.stdout.write(`${finding}\n`);
}
