import { simpleOptions } from "./commands/simple-options";

/**
 * `plan [-p P] [--json]`, `status [--json]` and `completion --list-profiles` in these simple
 * forms, run without commander or the full bundle (about half of their start-up): they only read
 * the config files and the cache, and print. Returns false for any other form (--help, a
 * mistake, another command): the full CLI then parses it and explains.
 */
export function runDirect(argv: string[]): boolean {
  const [command, ...rest] = argv;
  if (command === "plan") {
    const options = simpleOptions(rest, ["--profile"], ["--json"]);
    if (!options) return false;
    directCommands().runPlan({ profile: options["--profile"], json: "--json" in options });
    return true;
  }
  if (command === "status") {
    const options = simpleOptions(rest, [], ["--json"]);
    if (!options) return false;
    directCommands().runStatus({ json: "--json" in options });
    return true;
  }
  if (command === "completion") {
    // What the completion scripts run at each Tab; writing a script needs commander's definitions.
    const options = simpleOptions(rest, [], ["--list-profiles"]);
    if (!options || !("--list-profiles" in options)) return false;
    directCommands().runListProfiles();
    return true;
  }
  return false;
}

function directCommands(): typeof import("./commands/direct") {
  return require("./commands/direct");
}
