import { defineCommand } from "./define";
import {
  type OptionsOf,
  optionalTextFlag,
  repeatableFlag,
  switchFlag,
  textFlag,
  tokenCodeFlag,
} from "./flags";

const flags = {
  profile: textFlag(
    "-p, --profile <name>",
    "profile for the IAM user's keys, or an `aws login` or IAM Identity Center profile to add roles and a credential_process profile on top of (default: $AWS_PROFILE, else 'default')",
  ),
  accessKeyId: textFlag("--access-key-id <id>", "the IAM user's access key ID (AKIA…)"),
  secretAccessKeyStdin: switchFlag(
    "--secret-access-key-stdin",
    "read the secret access key as one line from stdin (never give it in argv)",
  ),
  importFromCredentials: optionalTextFlag(
    "--import-from-credentials [profile]",
    "use the keys already in the files (this profile's, or [profile]'s)",
  ),
  mfaSerial: textFlag("--mfa-serial <arn>", "the MFA device (default: the one IAM lists for the user)"),
  role: repeatableFlag(
    "--role <name=arn>",
    "add [profile NAME] that assumes role ARN on top of the keys (repeatable)",
  ),
  credentialProcessProfile: textFlag(
    "--credential-process-profile <name[=profile]>",
    "add [profile NAME] with `credential_process = awsmfa credential-process -p PROFILE` (PROFILE: the keys profile, or a --role name; default the keys profile)",
  ),
  region: textFlag(
    "--region <region>",
    "set region in the profile and in the --credential-process-profile one",
  ),
  yes: switchFlag(
    "--yes",
    "ask nothing: write without confirmation; unanswered questions take their defaults",
  ),
  dryRun: switchFlag("--dry-run", "show the change to the files and stop"),
  tokenCode: tokenCodeFlag("the MFA code for the final login, or - for the next line of stdin"),
};
export type SetupOptions = OptionsOf<typeof flags>;

export const setupCommand = defineCommand({
  name: "setup",
  description:
    "set up a profile: check the access key, find the MFA device, add roles, write ~/.aws (the diff is shown first), log in",
  flags,
  run: async (options) => (await import("./setup")).runSetup(options),
});
