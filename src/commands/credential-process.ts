import type { Plan } from "../config/plan";
import { credentialProcessJson } from "../output/credential-process";
import { tellStderr } from "../output/tell";
import { credentialsFor } from "../session/credentials-for";
import type { CredentialProcessOptions } from "./credential-process.command";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";

/**
 * stdout is exactly the JSON object and nothing else, whatever happens: the aws CLI and the SDKs
 * parse it. Prompts go to the terminal device; notices (a wait for another awsmfa, credentials
 * that could not be cached) go to stderr, which the callers show or drop.
 */
export async function runCredentialProcess(options: CredentialProcessOptions, read?: Plan): Promise<void> {
  const plan = loadPlan(selectedProfile(options.profile, process.env), process.env, read);
  const { entry } = await credentialsFor(plan, {
    minTtlSeconds: parseMinTtl(options.minTtl),
    notify: tellStderr,
  });
  process.stdout.write(`${credentialProcessJson(entry.credentials)}\n`);
}
