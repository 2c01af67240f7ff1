import { Argument } from "commander";
import { defineCommand } from "./define";
import {
  CODE_ELSEWHERE_HELP,
  containerEnvFlag,
  containersFlag,
  minTtlFlag,
  type OptionsOf,
  profileFlag,
  switchFlag,
} from "./flags";

const flags = {
  profile: profileFlag,
  force: switchFlag("--force", "run even inside another `awsmfa exec`"),
  minTtl: minTtlFlag,
  /** Serve the credentials from 127.0.0.1 for the child's lifetime instead of putting keys in its environment. */
  server: switchFlag(
    "--server",
    "serve the credentials to the command from 127.0.0.1, renewed for as long as it runs",
  ),
  containers: containersFlag("with --server: "),
  containerEnv: containerEnvFlag(
    "with --containers: where the container's variables go (default: a new private temp file); the command gets its path in AWSMFA_CONTAINER_ENV",
  ),
};
export type ExecOptions = OptionsOf<typeof flags>;

export const execCommand = defineCommand({
  name: "exec",
  description:
    "run a command with the session in its environment; exits with its status (127: not found, 126: cannot run). " +
    "Without a command, starts $SHELL (else /bin/sh) with the session; leave it with exit or Ctrl-D",
  usage: "[options] [-- <command> [args...]]",
  arguments: () => [new Argument("[command...]", "the command and its arguments (default: $SHELL)")],
  flags,
  passThrough: true,
  helpAfter: CODE_ELSEWHERE_HELP,
  run: async (options, command, _program, read) => (await import("./exec")).runExec(command, options, read),
});
