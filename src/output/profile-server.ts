import { loadProfileSet } from "../config/files";
import type { Plan } from "../config/plan";
import { credentialsFor } from "../session/credentials-for";
import { resolvingEnvironment } from "../session/resolving";
import type { ContainerEndpoint } from "./containers";
import { type CredentialsServer, startCredentialsServer } from "./server";
import { CredentialsKeeper } from "./server-keeper";
import { tellStderr } from "./tell";

export interface ProfileServer {
  server: CredentialsServer;
  /** --containers tls: the CA's public directory, which containers mount at /run/awsmfa. */
  containerCaDir?: string;
  /** Stops renewing and closes the server; an unanswered prompt does not keep the process alive after it. */
  close(): Promise<void>;
}

/** Settings that make the SDKs and the aws CLI resolve a profile from the files, before the container endpoint. */
const OWN_CREDENTIALS = [
  "aws_access_key_id",
  "credential_process",
  "login_session",
  "role_arn",
  "sso_session",
  "sso_start_url",
  "web_identity_token_file",
];

/**
 * Listens on 127.0.0.1, gets the profile's credentials (asking for a code now if needed), then
 * serves them from memory and keeps them fresh in the background.
 */
export async function startProfileServer(
  plan: Plan,
  options: { minTtlSeconds: number; port: number; token?: string; containers?: ContainerEndpoint },
): Promise<ProfileServer> {
  const { minTtlSeconds } = options;
  // Listen first: a port in use fails before anyone is asked for a code. Until the keeper is
  // there, a client that already has the token (from a token file) is told to try again.
  let keeper: CredentialsKeeper | undefined;
  const tls = await options.containers?.serverTls?.(process.env);
  const server = await startCredentialsServer({
    answer: () =>
      keeper?.answer() ?? { code: "Starting", message: "awsmfa is still starting; try again in a moment." },
    port: options.port,
    token: options.token,
    extraHosts: options.containers?.hosts,
    tls,
  });
  try {
    const obtained = await credentialsFor(plan, { minTtlSeconds, notify: tellStderr });
    keeper = new CredentialsKeeper({
      plan: obtained.plan,
      entry: obtained.entry,
      minTtlSeconds,
      env: resolvingEnvironment(process.env, plan.profile),
      notify: tellStderr,
    });
  } catch (error) {
    await server.close();
    throw error;
  }
  const kept = keeper;
  kept.start();
  warnIfDefaultProfileWins();
  return {
    server,
    containerCaDir: tls?.mountDir,
    async close() {
      const pending = kept.stop();
      await server.close();
      // A renewal still waiting at a prompt would hold the process open: end once the caller has
      // set its exit status. The timer itself keeps nothing alive.
      if (pending) setTimeout(() => process.exit(), 100).unref();
    },
  };
}

/**
 * With no profile selected, the SDKs' and the aws CLI's default chains read the `default` profile
 * from the shared files before they reach the container endpoint: keys there (the usual place for
 * an IAM user's) would be used instead of the served session, silently and without MFA.
 */
function warnIfDefaultProfileWins(): void {
  let properties: Record<string, string> | undefined;
  try {
    properties = loadProfileSet(process.env).profiles.default;
  } catch {
    return; // the plan was read from these files already; nothing to add here
  }
  const own = OWN_CREDENTIALS.find((name) => properties?.[name]);
  if (own === undefined) return;
  tellStderr(
    `Profile 'default' has credentials of its own (${own}): with no profile selected, the aws CLI and SDKs ` +
      "use those before this endpoint.\n  Give that profile another name (and point mfa profiles' source_profile at it).",
  );
}
