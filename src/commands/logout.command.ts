import { defineCommand } from "./define";
import { type OptionsOf, profileFlag, switchFlag, textFlag } from "./flags";

const flags = {
  profile: profileFlag,
  roleOnly: switchFlag(
    "--role-only",
    "forget only the profile's own role credentials; keep the MFA session others share",
  ),
  all: switchFlag(
    "--all",
    "forget every cached session and remove every profile written with --write-profile",
  ),
  writeProfile: textFlag("--write-profile <name>", "also remove [name] that login --write-profile wrote"),
};
export type LogoutOptions = OptionsOf<typeof flags>;

export const logoutCommand = defineCommand({
  name: "logout",
  description:
    "forget a profile's cached sessions, its MFA session included (other profiles that share it then ask for a code; each is named), or all of them",
  flags,
  run: async (options) => (await import("./logout")).runLogout(options),
});
