/**
 * The unified diff setup shows before it writes the config files: as `diff -u` writes it, so that
 * GNU `patch` applies it, with the values of secret keys masked so that it can go to a screen or a log.
 */

/** Keys whose values are never shown in the diff. */
const SECRET_KEY = /secret|token|password|passphrase/i;

export interface DiffOptions {
  /** Replace the values of secret keys (aws_secret_access_key, …) with asterisks. */
  mask?: boolean;
  colour?: boolean;
}

/** Equal lines shown around each change, as `diff -u`. */
const CONTEXT_LINES = 3;

/**
 * A unified diff (as `diff -u` writes it, `patch` applies it) of two texts, line by line; empty
 * when they are the same. With `mask`, every shown line that sets a secret key shows ******** in
 * place of the value, so the diff can go to a screen or a log.
 */
export function unifiedDiff(
  before: string,
  after: string,
  fromName: string,
  toName: string,
  options: DiffOptions = {},
): string {
  if (before === after) return "";
  const a = diffLines(before);
  const b = diffLines(after);
  const script = editScript(a, b);
  const context = CONTEXT_LINES;
  const show = (line: DiffLine) => (options.mask ? maskLine(line.text) : line.text);
  const paint = (code: string, text: string) => (options.colour ? `\x1b[${code}m${text}\x1b[0m` : text);

  let out = `${paint("1", `--- ${fromName}`)}\n${paint("1", `+++ ${toName}`)}\n`;
  let index = 0;
  while (index < script.length) {
    // The next change, with up to `context` equal lines around it; changes closer than 2×context share a hunk.
    while (index < script.length && (script[index] as Op).type === "=") index++;
    if (index >= script.length) break;
    let start = index;
    let lead = 0;
    while (start > 0 && lead < context && (script[start - 1] as Op).type === "=") {
      start--;
      lead++;
    }
    let end = index;
    for (;;) {
      while (end < script.length && (script[end] as Op).type !== "=") end++;
      let equal = 0;
      while (end + equal < script.length && (script[end + equal] as Op).type === "=") equal++;
      if (end + equal < script.length && equal <= 2 * context) {
        end += equal;
        continue;
      }
      end += Math.min(equal, context);
      break;
    }
    const ops = script.slice(start, end);
    const first = ops[0] as Op;
    const aCount = ops.filter((op) => op.type !== "+").length;
    const bCount = ops.filter((op) => op.type !== "-").length;
    const aStart = aCount === 0 ? first.aIndex : first.aIndex + 1;
    const bStart = bCount === 0 ? first.bIndex : first.bIndex + 1;
    out += `${paint("36", `@@ -${range(aStart, aCount)} +${range(bStart, bCount)} @@`)}\n`;
    for (const op of ops) {
      const line = op.type === "+" ? (b[op.bIndex] as DiffLine) : (a[op.aIndex] as DiffLine);
      const prefix = op.type === "=" ? " " : op.type;
      const text = `${prefix}${show(line)}`;
      out += `${op.type === "-" ? paint("31", text) : op.type === "+" ? paint("32", text) : text}\n`;
      if (!line.newline) out += "\\ No newline at end of file\n";
    }
    index = end;
  }
  return out;
}

interface DiffLine {
  /** Without its line ending; a "\r" of a CRLF file stays part of the text. */
  text: string;
  newline: boolean;
}

interface Op {
  type: "=" | "-" | "+";
  aIndex: number;
  bIndex: number;
}

function diffLines(text: string): DiffLine[] {
  if (text === "") return [];
  const parts = text.split("\n");
  const last = parts.pop() as string;
  const lines = parts.map((part) => ({ text: part, newline: true }));
  if (last !== "") lines.push({ text: last, newline: false });
  return lines;
}

function sameLine(x: DiffLine, y: DiffLine): boolean {
  return x.text === y.text && x.newline === y.newline;
}

/** Longest common subsequence on what is left between the common head and tail (profile files are small). */
function editScript(a: DiffLine[], b: DiffLine[]): Op[] {
  let head = 0;
  while (head < a.length && head < b.length && sameLine(a[head] as DiffLine, b[head] as DiffLine)) head++;
  let tail = 0;
  while (
    tail < a.length - head &&
    tail < b.length - head &&
    sameLine(a[a.length - 1 - tail] as DiffLine, b[b.length - 1 - tail] as DiffLine)
  ) {
    tail++;
  }
  const n = a.length - head - tail;
  const m = b.length - head - tail;
  const ops: Op[] = [];
  for (let i = 0; i < head; i++) ops.push({ type: "=", aIndex: i, bIndex: i });
  if (n * m > 4_000_000) {
    for (let i = 0; i < n; i++) ops.push({ type: "-", aIndex: head + i, bIndex: head });
    for (let j = 0; j < m; j++) ops.push({ type: "+", aIndex: head + n, bIndex: head + j });
  } else {
    // lengths[i][j]: LCS of a[head+i..] and b[head+j..].
    const width = m + 1;
    const lengths = new Int32Array((n + 1) * width);
    for (let i = n - 1; i >= 0; i--) {
      for (let j = m - 1; j >= 0; j--) {
        lengths[i * width + j] = sameLine(a[head + i] as DiffLine, b[head + j] as DiffLine)
          ? (lengths[(i + 1) * width + j + 1] as number) + 1
          : Math.max(lengths[(i + 1) * width + j] as number, lengths[i * width + j + 1] as number);
      }
    }
    let i = 0;
    let j = 0;
    while (i < n || j < m) {
      if (i < n && j < m && sameLine(a[head + i] as DiffLine, b[head + j] as DiffLine)) {
        ops.push({ type: "=", aIndex: head + i, bIndex: head + j });
        i++;
        j++;
      } else if (
        i < n &&
        (j === m || (lengths[(i + 1) * width + j] as number) >= (lengths[i * width + j + 1] as number))
      ) {
        // Removals before additions, as diff -u shows them.
        ops.push({ type: "-", aIndex: head + i, bIndex: head + j });
        i++;
      } else {
        ops.push({ type: "+", aIndex: head + i, bIndex: head + j });
        j++;
      }
    }
  }
  for (let k = 0; k < tail; k++)
    ops.push({ type: "=", aIndex: a.length - tail + k, bIndex: b.length - tail + k });
  return ops;
}

function range(start: number, count: number): string {
  return count === 1 ? `${start}` : `${start},${count}`;
}

/** `key = value` with a secret-looking key: the value as asterisks (its length not shown either). */
function maskLine(text: string): string {
  const match = /^(\s*([^=\s]+)\s*=\s*)(\S.*?)(\s*)(\r?)$/.exec(text);
  if (!match || !SECRET_KEY.test(match[2] as string)) return text;
  return `${match[1]}********${match[4]}${match[5]}`;
}
