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
  signOut: switchFlag(
    "--sign-out",
    "for a profile over an aws login or IAM Identity Center session: also delete the aws CLI's token file of that session, which signs `aws` itself (and every profile on the session) out too",
  ),
  writeProfile: textFlag("--write-profile <name>", "also remove [name] that login --write-profile wrote"),
};
export type LogoutOptions = OptionsOf<typeof flags>;

export const logoutCommand = defineCommand({
  name: "logout",
  description:
    "forget a profile's cached sessions, its MFA session included (other profiles that share it then ask for a code; each is named), or all of them; " +
    "the aws CLI's own aws login or IAM Identity Center session stays signed in unless --sign-out",
  flags,
  run: async (options) => (await import("./logout")).runLogout(options),
});
