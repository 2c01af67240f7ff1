import { defineCommand } from "./define";
import { minTtlFlag, type OptionsOf, profileFlag, switchFlag, textFlag, tokenCodeFlag } from "./flags";

const flags = {
  profile: profileFlag,
  print: switchFlag("--print", "print the sign-in URL on stdout instead of opening a browser"),
  duration: textFlag(
    "--duration <seconds>",
    "console session length, 900-43200 (default 43200; 3600 at most for a role assumed on a session)",
  ),
  tokenCode: tokenCodeFlag("the six-digit MFA code if one is needed, or - to read it from stdin"),
  minTtl: minTtlFlag,
};
export type ConsoleOptions = OptionsOf<typeof flags>;

export const consoleCommand = defineCommand({
  name: "console",
  description: "sign in to the AWS console as a role profile's role, in the browser or as a URL",
  flags,
  run: async (options) => (await import("./console")).runConsole(options),
});
