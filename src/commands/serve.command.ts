import { defineCommand } from "./define";
import {
  CODE_ELSEWHERE_HELP,
  containerEnvFlag,
  containersFlag,
  hidden,
  minTtlFlag,
  type OptionsOf,
  profileFlag,
  shellFlag,
  switchFlag,
  textFlag,
} from "./flags";

const flags = {
  profile: profileFlag,
  port: textFlag("--port <port>", "port to listen on (default 0: any free one)"),
  tokenFile: textFlag(
    "--token-file <file>",
    "write the token to this new 0600 file instead of printing it (never replaces a file but awsmfa's own earlier one); " +
      "only for clients that read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (aws CLI v2 2.9 and the Go SDKs packaged in Debian 12 do not)",
  ),
  /** Return once a background copy of this serve listens (see runDetached in serve.ts). */
  detach: switchFlag(
    "--detach",
    'serve in the background and return once listening: eval "$(awsmfa serve -p P --detach)"',
  ),
  containers: containersFlag(),
  containerEnv: containerEnvFlag(
    "with --containers: once listening, write the container's variables to this file (0600, docker run --env-file format); removed on exit",
  ),
  /** Set by --detach: write the lines to this inherited fd once listening, not to stdout. */
  readyFd: hidden(textFlag("--ready-fd <fd>", "")),
  shell: shellFlag,
  minTtl: minTtlFlag,
};
export type ServeOptions = OptionsOf<typeof flags>;

export const serveCommand = defineCommand({
  name: "serve",
  description:
    "serve the session on 127.0.0.1 (and to containers, with --containers) to SDKs and the aws CLI, renewed in the background",
  flags,
  helpAfter:
    CODE_ELSEWHERE_HELP +
    '\nIn the background: eval "$(awsmfa serve -p dev-admin --detach)" returns once the server listens\n' +
    '(asking for a code first if needed) and sets AWSMFA_SERVE_PID; kill "$AWSMFA_SERVE_PID" stops it.',
  run: async (options) => (await import("./serve")).runServe(options),
});
