import { storeNames } from "../secrets";
import { type CommandGroup, defineCommand } from "./define";
import { choiceFlag, type OptionsOf, profileFlag, switchFlag } from "./flags";

/** A seed is never kept in the credentials file. */
const SEED_STORES = storeNames().filter((name) => name !== "file");

const addFlags = {
  profile: profileFlag,
  stdin: switchFlag("--stdin", "read the seed (base32, or an otpauth:// URI) from standard input"),
  store: choiceFlag(
    "--store <store>",
    "where to keep it (default: the keys' store, else encrypted)",
    SEED_STORES,
  ),
};
export type TotpAddOptions = OptionsOf<typeof addFlags>;

const removeFlags = {
  profile: profileFlag,
  store: choiceFlag("--store <store>", "where to look (default: the profile's awsmfa_totp)", SEED_STORES),
};
export type TotpRemoveOptions = OptionsOf<typeof removeFlags>;

export const totpCommand: CommandGroup = {
  name: "totp",
  description: "opt-in: keep the MFA device's TOTP seed so that awsmfa makes the codes itself",
  subcommands: [
    defineCommand({
      name: "add",
      description: "store the TOTP seed of the profile's MFA device (asked on the terminal, echo off)",
      flags: addFlags,
      run: async (options) => (await import("./totp")).runTotpAdd(options),
    }),
    defineCommand({
      name: "remove",
      description: "forget the stored TOTP seed of the profile's MFA device; codes are asked for again",
      flags: removeFlags,
      run: async (options) => (await import("./totp")).runTotpRemove(options),
    }),
  ],
};
