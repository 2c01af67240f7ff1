import { defineCommand } from "./define";
import { minTtlFlag, type OptionsOf, profileFlag, switchFlag, textFlag, tokenCodeFlag } from "./flags";

const flags = {
  profile: profileFlag,
  tokenCode: tokenCodeFlag(),
  duration: textFlag(
    "--duration <seconds>",
    "MFA session length, 900-129600 (default awsmfa_session_duration or 43200)",
  ),
  force: switchFlag("--force", "ignore cached sessions and start a new one"),
  minTtl: minTtlFlag,
  writeProfile: textFlag(
    "--write-profile <name>",
    "also write the session to [name] in the credentials file",
  ),
};
export type LoginOptions = OptionsOf<typeof flags>;

export const loginCommand = defineCommand({
  name: "login",
  description:
    "get an MFA session now (and the role on top of it), asking for a code if needed; over an aws login or IAM Identity Center " +
    "session that has ended, run the aws CLI's sign-in on the terminal first (aws CLI v2)",
  flags,
  run: async (options) => (await import("./login")).runLogin(options),
});
