/** Messages for a person go to stderr; a command whose stdout is read by a program never mixes them. */
export function tellStderr(message: string): void {
  process.stderr.write(`awsmfa: ${message}\n`);
}
