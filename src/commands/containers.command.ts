import type { CommandGroup } from "./define";
import { defineCommand } from "./define";

export const containersCommand: CommandGroup = {
  name: "containers",
  description:
    "Linux, as root: let containers reach serve --containers at 169.254.170.2 (an address on the loopback interface)",
  subcommands: [
    defineCommand({
      name: "enable",
      description: "add 169.254.170.2/32 to the loopback interface (until reboot); nothing if it is there",
      flags: {},
      run: async () => (await import("./containers")).runContainersEnable(),
    }),
    defineCommand({
      name: "disable",
      description: "remove 169.254.170.2/32 from the loopback interface; nothing if it is not there",
      flags: {},
      run: async () => (await import("./containers")).runContainersDisable(),
    }),
  ],
};
