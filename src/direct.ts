import { simpleOptions } from "./commands/simple-options";
import { endQuietlyWhenStdoutCloses } from "./output/stdout";

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

/** Only once the form is one of ours: a form this declines goes to the full CLI, which sets up stdout itself. */
function directCommands(): typeof import("./commands/direct") {
  endQuietlyWhenStdoutCloses();
  return require("./commands/direct");
}
