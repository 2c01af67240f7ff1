// The awsmfa command lines a message tells the user to run, for tests that then run them.

const COMMANDS =
  "plan|login|credential-process|env|exec|serve|status|logout|setup|rotate|console|completion|keys|totp";

/**
 * The awsmfa command lines a message suggests: `awsmfa …` in backquotes, or a hint
 * line that starts with one (the ways to give a code, each followed by two spaces and what it does).
 */
export function suggestedCommands(message: string): string[] {
  const found = new Set<string>();
  for (const match of message.matchAll(/`(awsmfa [^`]+)`/g)) found.add(match[1] as string);
  const line = new RegExp(`^\\s+(awsmfa (?:${COMMANDS})\\b.*?)(?: {2,}|$)`, "gm");
  for (const match of message.matchAll(line)) found.add((match[1] as string).trim());
  return [...found];
}
