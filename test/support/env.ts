// An environment for child processes (awsmfa, the aws CLI) that can reach nothing of the
// developer's own AWS setup: its own HOME with its own ~/.aws files, endpoints pointed at a
// local server, and no AWS_* variable inherited from the shell that runs the tests.
import { existsSync, readdirSync } from "node:fs";
import { chmod, mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export interface IsolatedEnvOptions {
  /** Base URL of the local STS/IAM server (or moto) every AWS endpoint points to. */
  endpointUrl: string;
  /** Contents of ~/.aws/config; the file is not created when absent. */
  config?: string;
  /** Contents of ~/.aws/credentials; the file is not created when absent. */
  credentials?: string;
  /** Variables set last, over everything else (AWS_PROFILE, NO_COLOR, …). */
  vars?: Record<string, string>;
}

export interface IsolatedEnv {
  home: string;
  configPath: string;
  credentialsPath: string;
  /** Where AWSMFA_CACHE_DIR points; left for awsmfa to create, so its mode can be checked. */
  cacheDir: string;
  env: NodeJS.ProcessEnv;
  cleanup(): Promise<void>;
}

/**
 * Inherited variables that would let a child read or write outside the temp HOME, or tell it about
 * the developer's own display, browser and SSH session (which decide `aws login --remote`).
 */
function isLeakyVariable(name: string): boolean {
  return /^(AWS_|AWSMFA_|XDG_|SSH_(CONNECTION|CLIENT|TTY)$|DISPLAY$|WAYLAND_DISPLAY$|BROWSER$)/.test(name);
}

export async function createIsolatedEnv(options: IsolatedEnvOptions): Promise<IsolatedEnv> {
  const home = await mkdtemp(join(tmpdir(), "awsmfa-test-"));
  const awsDir = join(home, ".aws");
  await mkdir(awsDir, { mode: 0o700 });
  const configPath = join(awsDir, "config");
  const credentialsPath = join(awsDir, "credentials");
  for (const [path, contents] of [
    [configPath, options.config],
    [credentialsPath, options.credentials],
  ] as const) {
    if (contents === undefined) continue;
    await writeFile(path, contents, { mode: 0o600 });
    await chmod(path, 0o600);
  }
  const cacheDir = join(home, "awsmfa-cache");

  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (!isLeakyVariable(name)) env[name] = value;
  }
  Object.assign(env, {
    HOME: home,
    USERPROFILE: home,
    AWSMFA_CACHE_DIR: cacheDir,
    AWS_ENDPOINT_URL: options.endpointUrl,
    AWS_ENDPOINT_URL_STS: options.endpointUrl,
    AWS_ENDPOINT_URL_IAM: options.endpointUrl,
    AWS_ENDPOINT_URL_SIGNIN: options.endpointUrl,
    AWS_ENDPOINT_URL_SSO: options.endpointUrl,
    AWS_ENDPOINT_URL_SSO_OIDC: options.endpointUrl,
    AWS_REGION: "us-east-1",
    AWS_EC2_METADATA_DISABLED: "true",
    ...options.vars,
  });

  return {
    home,
    configPath,
    credentialsPath,
    cacheDir,
    env,
    cleanup: () => rm(home, { recursive: true, force: true }),
  };
}

/** The cached credentials in the home's cache directory, sorted: the entries, not the warm index, locks or MFA step memory beside them. */
export function cacheEntryFiles(home: IsolatedEnv): string[] {
  return existsSync(home.cacheDir)
    ? readdirSync(home.cacheDir)
        .filter((name) => /^[0-9a-f]{32}\.json$/.test(name))
        .sort()
    : [];
}
