import { defineCommand } from "./define";
import { CODE_ELSEWHERE_HELP, minTtlFlag, type OptionsOf, profileFlag } from "./flags";

const flags = { profile: profileFlag, minTtl: minTtlFlag };
export type CredentialProcessOptions = OptionsOf<typeof flags>;

export const credentialProcessCommand = defineCommand({
  name: "credential-process",
  description: "print credentials as JSON for `credential_process` in ~/.aws/config",
  flags,
  helpAfter: CODE_ELSEWHERE_HELP,
  run: async (options, _args, _program, read) =>
    (await import("./credential-process")).runCredentialProcess(options, read),
});
