import { childEnvironment, EXEC_MARK, spawnChild } from "./commands/child";
import { parseMinTtl } from "./commands/min-ttl";
import { selectedProfile } from "./commands/profile-plans";
import { simpleOptions } from "./commands/simple-options";
import type { WarmFound } from "./commands/warm-miss";
import type { Plan } from "./config/plan";
import { credentialProcessJson } from "./output/credential-process";
import { credentialVariables, parseShell, shellFromEnv, shellLines } from "./output/shell";
import { cacheDirectory, freshEntry } from "./session/cache";
import { RESOLVING_MARK } from "./session/resolving";
import { regionFrom } from "./session/steps";
import { readWarmIndex } from "./session/warm-index";

const WARM_OPTIONS = ["--profile", "--min-ttl"];

/**
 * What the warm path found: the answer, or else the plan it read before the cache missed, which
 * the full path takes instead of reading the profile files again (undefined: it read none).
 */
export type WarmOutcome<T> = { answer: T } | { read: Plan | undefined };

const NOT_READ = { read: undefined };

/**
 * The path paid on every aws CLI call: `credential-process` (and `env`) with valid cached
 * credentials. It understands only the simple forms of those commands and returns undefined for
 * anything else, or on a cache miss, and the full CLI takes over. Nothing heavy is loaded here,
 * and while the config files are unchanged they are not even parsed (session/warm-index.ts).
 */
export function warmCredentials(argv: string[]): WarmOutcome<string> {
  const [command, ...rest] = argv;
  if (command !== "credential-process" && command !== "env") return NOT_READ;
  const options = simpleOptions(rest, command === "env" ? [...WARM_OPTIONS, "--shell"] : WARM_OPTIONS);
  if (!options) return NOT_READ;
  const env = process.env;
  if ((env[RESOLVING_MARK] ?? "") !== "") return NOT_READ; // the full path reports loops
  const profile = selectedProfile(options["--profile"], env);
  const minTtl = parseMinTtl(options["--min-ttl"]);
  const found = warmEntry(profile, env, minTtl);
  if (!("entry" in found)) return found;
  if (command === "credential-process")
    return { answer: `${credentialProcessJson(found.entry.credentials)}\n` };
  const shell = options["--shell"] ? parseShell(options["--shell"]) : shellFromEnv(env);
  return {
    answer: shellLines(credentialVariables(found.entry.credentials, regionFrom(env, found.region)), shell),
  };
}

/**
 * `exec [-p P] [--min-ttl T] [--] CMD ARGS…` with valid cached credentials: runs CMD with them
 * as the full `exec` does (commands/child.ts), and returns its status. Undefined for any other
 * form, inside another exec, on a cache miss, or when CMD cannot be started: the full command
 * then runs, and says why.
 */
export async function warmExec(argv: string[]): Promise<WarmOutcome<number>> {
  const [command, ...rest] = argv;
  if (command !== "exec") return NOT_READ;
  const split = execCommandAt(rest);
  if (split === undefined) return NOT_READ;
  const options = simpleOptions(rest.slice(0, split.options), WARM_OPTIONS);
  const [file, ...args] = rest.slice(split.command);
  if (!options || file === undefined || args.includes("--")) return NOT_READ;
  const env = process.env;
  if ((env[RESOLVING_MARK] ?? "") !== "" || (env[EXEC_MARK] ?? "") !== "") return NOT_READ;
  const profile = selectedProfile(options["--profile"], env);
  const found = warmEntry(profile, env, parseMinTtl(options["--min-ttl"]));
  if (!("entry" in found)) return found;
  const variables = {
    ...credentialVariables(found.entry.credentials, regionFrom(env, found.region)),
    [EXEC_MARK]: profile,
  };
  const outcome = await spawnChild(file, args, childEnvironment(env, variables));
  return "status" in outcome ? { answer: outcome.status } : NOT_READ;
}

/** Where exec's options end and its command starts: after `--`, or at the first argument that is not an option. */
function execCommandAt(args: string[]): { options: number; command: number } | undefined {
  for (let index = 0; index < args.length; ) {
    const arg = args[index] as string;
    if (arg === "--") return { options: index, command: index + 1 };
    if (!arg.startsWith("-")) return { options: index, command: index };
    index += arg.startsWith("--") && arg.includes("=") ? 1 : 2;
  }
  return undefined;
}

function warmEntry(profile: string, env: NodeJS.ProcessEnv, minTtl: number): WarmFound {
  const dir = cacheDirectory(env);
  const target = readWarmIndex(dir, profile, env);
  if (target) {
    const entry = freshEntry(dir, target.entry, minTtl);
    return entry ? { entry, region: target.region } : NOT_READ;
  }
  // require, as cli.ts loads the other bundles: the config parser and the plan are compiled only here.
  const { warmFromPlan } = require("./commands/direct") as typeof import("./commands/direct");
  return warmFromPlan(profile, env, minTtl);
}
