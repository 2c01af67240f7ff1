import { defineCommand } from "./define";
import { jsonFlag, type OptionsOf } from "./flags";

const flags = { json: jsonFlag() };
export type StatusOptions = OptionsOf<typeof flags>;

export const statusCommand = defineCommand({
  name: "status",
  description:
    "list profiles with MFA, their device and the time left on each cached step; over an aws login or IAM Identity Center " +
    "session, the time left on its access token and its refreshing (read only: nothing is refreshed)",
  flags,
  run: async (options) => (await import("./status")).runStatus(options),
});
