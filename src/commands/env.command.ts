import { defineCommand } from "./define";
import { CODE_ELSEWHERE_HELP, minTtlFlag, type OptionsOf, profileFlag, shellFlag } from "./flags";

const flags = { profile: profileFlag, shell: shellFlag, minTtl: minTtlFlag };
export type EnvOptions = OptionsOf<typeof flags>;

export const envCommand = defineCommand({
  name: "env",
  description: 'print shell lines that export the session: eval "$(awsmfa env -p dev)"',
  flags,
  helpAfter: CODE_ELSEWHERE_HELP,
  run: async (options, _args, _program, read) => (await import("./env")).runEnv(options, read),
});
