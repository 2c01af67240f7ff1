import { networkInterfaces } from "node:os";
import { AppError } from "../errors";
// Types only: program.ts reads CONTAINER_MODES, and must not load the server to do so.
import type { CredentialsServer } from "./server";

/**
 * Where containers reach the credentials endpoint (`serve --containers`, `exec --server
 * --containers`). The SDKs accept a plain-http container endpoint only on loopback or on the
 * ECS/EKS link-local addresses, and a container on a bridge network cannot reach the host's
 * loopback: so on Linux the endpoint also listens on the ECS address, 169.254.170.2, which
 * `containers enable` puts on the host's loopback interface (a container's packets to it go to
 * its default gateway, the host, which accepts them as its own). Where containers run in a VM
 * (Docker Desktop on macOS and Windows) that address is not the host: `tls` serves https there.
 */

export const CONTAINER_MODES = ["ecs", "tls"] as const;
export type ContainerMode = (typeof CONTAINER_MODES)[number];

/** The ECS task metadata address: one of the plain-http hosts every SDK accepts. */
export const ECS_ADDRESS = "169.254.170.2";
/** What `containers enable` adds to the loopback interface, and `disable` removes. */
export const ECS_ADDRESS_CIDR = `${ECS_ADDRESS}/32`;
export const LOOPBACK_INTERFACE = "lo";

/** How containers reach the endpoint: extra addresses it listens on (same port), and the URI they are given. */
export interface ContainerEndpoint {
  readonly mode: ContainerMode;
  /** Listened on besides 127.0.0.1, with the same port; never 0.0.0.0. */
  readonly hosts: readonly string[];
  /** AWS_CONTAINER_CREDENTIALS_FULL_URI inside a container, once the port is known. */
  url(port: number): string;
  /** What a container is given (`--container-env`): how to reach the endpoint, its token, the region. */
  variables(
    server: Pick<CredentialsServer, "port" | "token">,
    region: string | undefined,
  ): Record<string, string>;
}

/** ecs on Linux, where containers share the host's kernel; tls where they run in a VM. */
export function defaultContainerMode(platform: NodeJS.Platform = process.platform): ContainerMode {
  return platform === "linux" ? "ecs" : "tls";
}

/**
 * The endpoint for `--containers [mode]` (`true`: the flag without a mode), checked now: a missing
 * set-up step fails before anyone is asked for a code.
 */
export function containerEndpoint(flag: string | true): ContainerEndpoint {
  const mode = flag === true ? defaultContainerMode() : parseContainerMode(flag);
  switch (mode) {
    case "ecs":
      if (!ecsAddressPresent()) throw containersNotEnabled();
      return {
        mode,
        hosts: [ECS_ADDRESS],
        url: (port) => `http://${ECS_ADDRESS}:${port}/`, // server.ts's SERVER_PATH
        variables(server, region) {
          return {
            AWS_CONTAINER_CREDENTIALS_FULL_URI: this.url(server.port),
            AWS_CONTAINER_AUTHORIZATION_TOKEN: server.token,
            ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
          };
        },
      };
    case "tls":
      throw new AppError("containers-tls-not-built", "--containers tls is not built yet.", {
        hint:
          process.platform === "linux"
            ? "On Linux use --containers ecs (the default here), after sudo awsmfa containers enable."
            : "Containers on this system cannot reach the ECS address; nothing else is available yet.",
      });
  }
}

function parseContainerMode(text: string): ContainerMode {
  const mode = CONTAINER_MODES.find((name) => name === text);
  if (mode === undefined) {
    throw new AppError("bad-containers-mode", `--containers '${text}' is not a mode.`, {
      hint: `Give one of ${CONTAINER_MODES.join(", ")}, or none for this system's default.`,
    });
  }
  return mode;
}

/** Whether this machine has the ECS address on an interface (`containers enable` puts it on lo). */
export function ecsAddressPresent(): boolean {
  return interfacesWith(ECS_ADDRESS).length > 0;
}

/** The names of the interfaces that carry `address`. */
export function interfacesWith(address: string): string[] {
  return Object.entries(networkInterfaces())
    .filter(([, addresses]) => addresses?.some((entry) => entry.address === address))
    .map(([name]) => name);
}

function containersNotEnabled(): AppError {
  return new AppError(
    "containers-not-enabled",
    `--containers needs ${ECS_ADDRESS} on this machine's loopback interface, and it is not there.`,
    {
      hint: "Add it once (it needs root, and lasts until reboot): sudo awsmfa containers enable",
    },
  );
}
