import { defineCommand } from "./define";
import { jsonFlag, type OptionsOf, profileFlag } from "./flags";

const flags = { profile: profileFlag, json: jsonFlag() };
export type PlanOptions = OptionsOf<typeof flags>;

export const planCommand = defineCommand({
  name: "plan",
  description:
    "show how a profile resolves (keys, MFA session, roles), what is cached, and whether the next use asks for a code (no AWS calls)",
  flags,
  run: async (options) => (await import("./plan")).runPlan(options),
});
