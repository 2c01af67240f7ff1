import { networkInterfaces } from "node:os";
import { AppError } from "../errors";
// Types only: program.ts reads CONTAINER_MODES, and must not load the server (nor the CA) to do so.
import type { CredentialsServer, EndpointTls } from "./server";

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
  /** tls: the https side of the endpoint, made ready (the CA made or read) before it listens. */
  serverTls?(env: NodeJS.ProcessEnv): Promise<EndpointTls & { mountDir: string }>;
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
      return tlsEndpoint();
  }
}

/** Docker Desktop's name for the host, inside its containers. */
export const DOCKER_DESKTOP_HOST = "host.docker.internal";

/**
 * https at host.docker.internal:PORT, which Docker Desktop's backend forwards to the host's
 * 127.0.0.1:PORT: so the endpoint listens on loopback only, https and http on one port (the host's
 * own clients keep plain http). Each SDK family is told of the CA its own way; which variable,
 * found in their sources and tested (README, "Docker Desktop"):
 * - the JS SDK v3 (Node): NODE_EXTRA_CA_CERTS, added to Node's roots when the process starts;
 * - the Go SDK v2: its container provider uses a client of its own with the system roots, which
 *   Go's crypto/x509 reads from SSL_CERT_DIR (added to the default bundle file) on Linux; older
 *   releases (Debian 12's 1.17) take only a loopback host, https or not;
 * - botocore (boto3, the aws CLI): no variable; its container provider trusts only its own
 *   bundle (certifi's), so the CA must be added to it in the image.
 * AWS_CA_BUNDLE is left out on purpose: botocore would use it, alone, for every AWS call, which
 * the public CAs would then no longer vouch for, and the container provider ignores it anyway.
 */
function tlsEndpoint(): ContainerEndpoint {
  return {
    mode: "tls",
    hosts: [],
    url: (port) => `https://${DOCKER_DESKTOP_HOST}:${port}/`,
    async serverTls(env) {
      const { loadContainerAuthority } = await import("./container-ca");
      const authority = await loadContainerAuthority(env);
      return {
        context: () => authority.serverContext(),
        hostNames: [DOCKER_DESKTOP_HOST, "localhost", "127.0.0.1"],
        mountDir: authority.publicDir,
      };
    },
    variables(server, region) {
      return {
        AWS_CONTAINER_CREDENTIALS_FULL_URI: this.url(server.port),
        AWS_CONTAINER_AUTHORIZATION_TOKEN: server.token,
        ...(region ? { AWS_REGION: region, AWS_DEFAULT_REGION: region } : {}),
        NODE_EXTRA_CA_CERTS: `${CONTAINER_CA_DIR}/${CA_FILE}`,
        SSL_CERT_DIR: CONTAINER_CA_DIR,
      };
    },
  };
}

/** Where a container mounts the CA's public directory (read-only), and the CA file in it. */
export const CONTAINER_CA_DIR = "/run/awsmfa";
export const CA_FILE = "ca.pem";

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
