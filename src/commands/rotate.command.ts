import { defineCommand } from "./define";
import { jsonFlag, type OptionsOf, profileFlag, tokenCodeFlag } from "./flags";

const flags = {
  profile: profileFlag,
  tokenCode: tokenCodeFlag(
    "the six-digit MFA code (if a new MFA session is needed), or - to read it from stdin",
  ),
  json: jsonFlag("also print the old and new access key IDs as JSON on stdout"),
};
export type RotateOptions = OptionsOf<typeof flags>;

export const rotateCommand = defineCommand({
  name: "rotate",
  description:
    "replace the profile's access key: create a new one, check it, store it where the old one was, delete the old one",
  flags,
  run: async (options) => (await import("./rotate")).runRotate(options),
});
