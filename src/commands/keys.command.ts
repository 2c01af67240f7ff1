import { storeNames } from "../secrets";
import type { CommandGroup } from "./define";
import { defineCommand } from "./define";
import { choiceFlag, mandatory, type OptionsOf, profileFlag } from "./flags";

const moveFlags = {
  profile: profileFlag,
  to: mandatory(
    choiceFlag(
      "--to <store>",
      "where to keep them: credentials file, OS keychain, encrypted file",
      storeNames(),
    ),
  ),
};
export type KeysMoveOptions = OptionsOf<typeof moveFlags>;

export const keysCommand: CommandGroup = {
  name: "keys",
  description:
    "where a profile's long-term access keys are kept: credentials file, OS keyring, encrypted file",
  subcommands: [
    defineCommand({
      name: "move",
      description: "move a profile's keys to another store; leaves no plaintext copy behind",
      flags: moveFlags,
      run: async (options) => (await import("./keys")).runKeysMove(options),
    }),
  ],
};
