import { loadPlan, parseMinTtl, selectedProfile } from "./commands/selection";
import { credentialProcessJson } from "./output/credential-process";
import { credentialVariables, parseShell, shellFromEnv, shellLines } from "./output/shell";
import { type CacheEntry, cacheDirectory, freshEntry } from "./session/cache";
import { cachedEntry, chainRegion, regionFrom } from "./session/steps";
import { readWarmIndex, writeWarmIndex } from "./session/warm-index";

/**
 * The path paid on every aws CLI call: `credential-process` (and `env`) with valid cached
 * credentials. It understands only the simple forms of those commands and returns undefined for
 * anything else, or on a cache miss, and the full CLI takes over. Nothing heavy is loaded here,
 * and while the config files are unchanged they are not even parsed (session/warm-index.ts).
 */
export function warmCredentials(argv: string[]): string | undefined {
  const [command, ...rest] = argv;
  if (command !== "credential-process" && command !== "env") return undefined;
  const options = simpleOptions(rest, command === "env" ? ["--shell"] : []);
  if (!options) return undefined;
  const env = process.env;
  if ((env.AWSMFA_RESOLVING ?? "") !== "") return undefined; // the full path reports loops
  const profile = selectedProfile(options["--profile"], env);
  const minTtl = parseMinTtl(options["--min-ttl"]);
  const found = warmEntry(profile, env, minTtl);
  if (!found) return undefined;
  if (command === "credential-process") return `${credentialProcessJson(found.entry.credentials)}\n`;
  const shell = options["--shell"] ? parseShell(options["--shell"]) : shellFromEnv(env);
  return shellLines(credentialVariables(found.entry.credentials, regionFrom(env, found.region)), shell);
}

function warmEntry(
  profile: string,
  env: NodeJS.ProcessEnv,
  minTtl: number,
): { entry: CacheEntry; region: string | undefined } | undefined {
  const dir = cacheDirectory(env);
  const target = readWarmIndex(dir, profile, env);
  if (target) {
    const entry = freshEntry(dir, target.entry, minTtl);
    return entry ? { entry, region: target.region } : undefined;
  }
  const plan = loadPlan(profile, env);
  const entry = cachedEntry(plan, env, minTtl);
  if (!entry) return undefined;
  writeWarmIndex(dir, plan, env);
  return { entry, region: chainRegion(plan) };
}

/** `-p X`, `--profile X`, `--profile=X`, `--min-ttl X` and the extras; anything else → undefined. */
function simpleOptions(args: string[], extras: string[]): Record<string, string> | undefined {
  const known = new Set(["--profile", "--min-ttl", ...extras]);
  const options: Record<string, string> = {};
  for (let index = 0; index < args.length; index++) {
    const arg = args[index] as string;
    const equals = arg.indexOf("=");
    const name = arg === "-p" ? "--profile" : equals > 0 ? arg.slice(0, equals) : arg;
    if (!known.has(name)) return undefined;
    const value = equals > 0 && arg.startsWith("--") ? arg.slice(equals + 1) : args[++index];
    if (value === undefined) return undefined;
    options[name] = value;
  }
  return options;
}
