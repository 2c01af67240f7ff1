import type { Plan } from "../config/plan";
import { credentialVariables, parseShell, shellFromEnv, shellLines } from "../output/shell";
import { tellStderr } from "../output/tell";
import { credentialsFor } from "../session/credentials-for";
import { regionOf } from "../session/steps";
import type { EnvOptions } from "./env.command";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";

export async function runEnv(options: EnvOptions, read?: Plan): Promise<void> {
  const shell = options.shell ? parseShell(options.shell) : shellFromEnv(process.env);
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env, read);
  const { entry } = await credentialsFor(plan, {
    minTtlSeconds: parseMinTtl(options.minTtl),
    notify: tellStderr,
  });
  process.stdout.write(
    shellLines(credentialVariables(entry.credentials, regionOf(plan, process.env)), shell),
  );
}
