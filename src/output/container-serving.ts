import { resolve } from "node:path";
import { AppError } from "../errors";
import { type ContainerEndpoint, containerEndpoint } from "./containers";
import type { CredentialsServer } from "./server";
import { checkEnvFilePath, writeEnvFile } from "./server-env-file";
import type { OwnFile } from "./server-token-file";

/** The env file's path, for `docker run --env-file "$AWSMFA_CONTAINER_ENV"`. */
export const CONTAINER_ENV = "AWSMFA_CONTAINER_ENV";
/** --containers tls: the directory to mount, for `docker run -v "$AWSMFA_CONTAINER_CA:/run/awsmfa:ro"`. */
export const CONTAINER_CA = "AWSMFA_CONTAINER_CA";

/** --containers and --container-env, as given to serve or exec --server. */
export interface ContainerServing {
  endpoint: ContainerEndpoint;
  /** Absolute. */
  envFilePath?: string;
}

/**
 * Checks --containers and --container-env before anything else happens: a missing `containers enable`
 * or a path that must not be replaced fails before anyone is asked for a code.
 */
export function containerServing(
  mode: string | true | undefined,
  envFile: string | undefined,
): ContainerServing | undefined {
  if (mode === undefined) {
    if (envFile === undefined) return undefined;
    throw new AppError("container-env-without-containers", "--container-env is for --containers.", {
      hint: "Add --containers: the file tells a container how to reach the endpoint.",
    });
  }
  const endpoint = containerEndpoint(mode);
  const envFilePath = envFile === undefined ? undefined : resolve(envFile);
  if (envFilePath !== undefined) checkEnvFilePath(envFilePath);
  return { endpoint, envFilePath };
}

/** The env file, once the endpoint listens with credentials to answer. */
export function writeContainerEnvFile(
  containers: ContainerServing | undefined,
  server: CredentialsServer,
  region: string | undefined,
): OwnFile | undefined {
  if (containers?.envFilePath === undefined) return undefined;
  return writeEnvFile(containers.envFilePath, containers.endpoint.variables(server, region));
}
