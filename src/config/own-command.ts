/**
 * Recognises a `credential_process` that runs awsmfa itself — `awsmfa credential-process -p X`,
 * by any path, through `node …/awsmfa.cjs` or `npx awsmfa` — so that a profile set up the way the
 * README says (`[profile dev-cli] credential_process = awsmfa credential-process -p dev-admin`)
 * resolves to profile X in-process instead of starting awsmfa inside awsmfa.
 */

const AWSMFA_PROGRAM = /^awsmfa(\.(c?js|mjs|cmd|exe))?$/i;
const NODE_PROGRAM = /^node(js)?(\.exe)?$/i;

/** The profile an awsmfa `credential-process` command line names; undefined when it is not one, or names none. */
export function awsmfaCredentialProcessProfile(commandLine: string): string | undefined {
  const words = shellWords(commandLine);
  if (words === undefined) return undefined;
  let at = 0;
  if (NODE_PROGRAM.test(baseName(words[at]))) at++;
  else if (baseName(words[at]) === "npx") {
    at++;
    while (words[at]?.startsWith("-")) at++;
  }
  if (!AWSMFA_PROGRAM.test(baseName(words[at]))) return undefined;
  const args = words.slice(at + 1).filter((word) => word !== "--debug");
  if (args[0] !== "credential-process") return undefined;
  for (let index = 1; index < args.length; index++) {
    const arg = args[index] as string;
    if (arg === "-p" || arg === "--profile") return args[index + 1] || undefined;
    if (arg.startsWith("--profile=")) return arg.slice("--profile=".length) || undefined;
  }
  return undefined;
}

/** The last part of a path, with either separator. */
function baseName(path: string | undefined): string {
  return (path ?? "").split(/[\\/]/).at(-1) ?? "";
}

/**
 * Words as a POSIX shell splits them (quotes and backslashes; no expansions); undefined for an
 * unterminated quote or anything a shell would run as more than one command.
 */
function shellWords(text: string): string[] | undefined {
  const words: string[] = [];
  let word: string | undefined;
  for (let index = 0; index < text.length; index++) {
    const char = text[index] as string;
    if (/\s/.test(char)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else if (char === "'") {
      const end = text.indexOf("'", index + 1);
      if (end === -1) return undefined;
      word = (word ?? "") + text.slice(index + 1, end);
      index = end;
    } else if (char === '"') {
      let quoted = "";
      for (index++; index < text.length && text[index] !== '"'; index++) {
        if (text[index] === "\\" && /["\\$`]/.test(text[index + 1] ?? "")) index++;
        quoted += text[index];
      }
      if (index >= text.length) return undefined;
      word = (word ?? "") + quoted;
    } else if (char === "\\") {
      word = (word ?? "") + (text[++index] ?? "");
    } else if (/[;&|<>()`$]/.test(char)) {
      return undefined;
    } else {
      word = (word ?? "") + char;
    }
  }
  if (word !== undefined) words.push(word);
  return words;
}
