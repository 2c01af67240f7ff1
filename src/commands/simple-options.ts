/**
 * The simple forms of a command's options, for the paths that run a command without commander
 * (warm.ts, direct.ts): `-p X`, `--profile X`, `--profile=X` and the other `valued` options,
 * and the `flags` alone (given: a key with the value ""). Anything else, a short option but -p
 * among them, is undefined, and the full CLI parses the command line and explains a mistake.
 */
export function simpleOptions(
  args: string[],
  valued: readonly string[],
  flags: readonly string[] = [],
): Record<string, string> | undefined {
  const options: Record<string, string> = {};
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    if (flags.includes(arg)) {
      options[arg] = "";
      continue;
    }
    const equals = arg.indexOf("=");
    const name = arg === "-p" ? "--profile" : equals > 0 ? arg.slice(0, equals) : arg;
    if (!valued.includes(name)) return undefined;
    const value = equals > 0 && arg.startsWith("--") ? arg.slice(equals + 1) : args[++index];
    if (value === undefined) return undefined;
    options[name] = value;
  }
  return options;
}
