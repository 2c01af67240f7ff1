import { createPrivateKey, type KeyObject, X509Certificate } from "node:crypto";
import { chmodSync, lstatSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { createSecureContext, type SecureContext } from "node:tls";
import { awsmfaDirectory } from "../config/files";
import { AppError, fileError } from "../errors";
import { acquireLock } from "../fsio/lock";
import { privacyProblem } from "../fsio/private-file";
import { readRegularFile } from "../fsio/regular-file";
import { writeWhole } from "../fsio/write-whole";
import { CA_FILE } from "./containers";
import { CONTAINER_HOST_NAMES, issueAuthority, issueServerCertificate } from "./x509";

/**
 * The certificate authority of this install, for the https endpoint that containers in a VM
 * (Docker Desktop) reach at host.docker.internal (`--containers tls`). Made once, under a lock,
 * in ~/.aws/awsmfa/container-ca/: the key (0600, in a 0700 directory, never sent anywhere nor
 * mounted) and, in `public/`, the CA certificate alone: that directory is what a container
 * mounts, so that a new certificate written there (rename) is seen inside without a restart.
 * The server certificate is made from it at each start, kept in memory only, and made again
 * before it expires. The CA may sign only for host.docker.internal, localhost and 127.0.0.0/8
 * (x509.ts): trusting it inside a container trusts nothing else.
 */

const DAY_MS = 86_400_000;
const AUTHORITY_VALID_MS = 10 * 365 * DAY_MS;
/** A CA this close to its end is replaced (containers that mount `public/` see the new one). */
const AUTHORITY_RENEW_MS = 30 * DAY_MS;
const SERVER_VALID_MS = 7 * DAY_MS;
/** The server certificate is made again when this little is left. */
const SERVER_RENEW_MS = DAY_MS;
/** The VM's clock may lag the host's: certificates are valid from an hour before they are made. */
const CLOCK_SKEW_MS = 3_600_000;

export interface ContainerAuthority {
  /** The directory to mount into containers (`-v DIR:/run/awsmfa:ro`); holds only ca.pem. */
  readonly publicDir: string;
  /** The CA certificate, PEM. */
  readonly certificate: string;
  /** The server's TLS context, with a certificate valid for at least a day more. */
  serverContext(): SecureContext;
}

export function containerAuthorityDirectory(env: NodeJS.ProcessEnv): string {
  return join(awsmfaDirectory(env), "container-ca");
}

/** The install's CA (made now if there is none, or it is near its end) and its server certificates. */
export async function loadContainerAuthority(
  env: NodeJS.ProcessEnv,
  now: () => number = Date.now,
): Promise<ContainerAuthority> {
  const dir = containerAuthorityDirectory(env);
  const publicDir = join(dir, "public");
  makeDirectory(dir, 0o700);
  refuseUnlessPrivate(dir, lstatSync(dir), "directory", dir);
  makeDirectory(publicDir, 0o755);
  // Whatever the umask: a container's user (often not the host's uid) reads the mounted certificate.
  if (process.platform !== "win32") chmodSync(publicDir, 0o755);
  const lock = await acquireLock(join(dir, "ca.lock"), {
    timeoutMs: 15_000,
    staleMs: 60_000,
    what: `the containers' certificate authority in ${dir}`,
  });
  let authority: { cert: X509Certificate; key: KeyObject };
  try {
    authority = readAuthority(dir, now()) ?? makeAuthority(dir, now());
  } finally {
    lock.release();
  }
  const { cert, key } = authority;
  const authorityEnds = Date.parse(cert.validTo);
  let server: { context: SecureContext; renewAt: number } | undefined;
  return {
    publicDir,
    certificate: cert.toString(),
    serverContext() {
      const at = now();
      if (server === undefined || at >= server.renewAt) {
        const notAfter = Math.min(at + SERVER_VALID_MS, authorityEnds);
        const issued = issueServerCertificate({ certDer: cert.raw, key }, CONTAINER_HOST_NAMES, {
          notBefore: new Date(at - CLOCK_SKEW_MS),
          notAfter: new Date(notAfter),
        });
        server = {
          context: createSecureContext({ cert: issued.cert, key: issued.key, minVersion: "TLSv1.2" }),
          renewAt: notAfter - SERVER_RENEW_MS,
        };
      }
      return server.context;
    },
  };
}

/** The CA on disk if it is whole, ours, private, its key its own, and not near its end. */
function readAuthority(dir: string, at: number): { cert: X509Certificate; key: KeyObject } | undefined {
  const keyPath = join(dir, "key.pem");
  const keyFile = readRegularFile(keyPath);
  const certFile = readRegularFile(join(dir, "public", CA_FILE));
  if (!("text" in keyFile) || !("text" in certFile)) return undefined;
  refuseUnlessPrivate(keyPath, keyFile.stat, "file", dir);
  try {
    const cert = new X509Certificate(certFile.text);
    const key = createPrivateKey(keyFile.text);
    // Killed between writing the key and the certificate: a pair that does not match is made anew.
    if (!cert.ca || !cert.checkPrivateKey(key)) return undefined;
    if (Date.parse(cert.validTo) - at < AUTHORITY_RENEW_MS) return undefined;
    return { cert, key };
  } catch {
    return undefined;
  }
}

function makeAuthority(dir: string, at: number): { cert: X509Certificate; key: KeyObject } {
  const issued = issueAuthority(
    `Containers' CA (awsmfa), ${new Date(at).toISOString().slice(0, 10)}`,
    CONTAINER_HOST_NAMES,
    {
      notBefore: new Date(at - CLOCK_SKEW_MS),
      notAfter: new Date(at + AUTHORITY_VALID_MS),
    },
  );
  const keyPath = join(dir, "key.pem");
  const certPath = join(dir, "public", CA_FILE);
  try {
    writeWhole(keyPath, issued.key, 0o600);
    writeWhole(certPath, issued.cert, 0o644);
  } catch (error) {
    throw fileError("container-ca", `Cannot write the containers' certificate authority in ${dir}`, error, {
      hint: "Check that the directory is yours and the disk has room.",
    });
  }
  return { cert: new X509Certificate(issued.cert), key: createPrivateKey(issued.key) };
}

function makeDirectory(dir: string, mode: number): void {
  try {
    mkdirSync(dir, { recursive: true, mode });
  } catch (error) {
    throw fileError("container-ca", `Cannot create ${dir}`, error, {
      hint: "Check that ~/.aws/awsmfa is yours and the disk has room.",
    });
  }
}

/** The key, and the directory it is in, must be ours and closed to others (as the session cache). */
function refuseUnlessPrivate(
  path: string,
  stat: { mode: number; uid: number },
  what: "file" | "directory",
  dir: string,
): void {
  const problem = privacyProblem(stat);
  if (problem === undefined) return;
  const why =
    "otherOwner" in problem
      ? `belongs to another user (uid ${problem.otherOwner})`
      : `is open to other users (mode ${problem.openMode.toString(8)})`;
  throw new AppError(
    "unsafe-container-ca",
    `The containers' certificate authority ${what} ${path} ${why}; not using it.`,
    {
      hint: `Remove ${dir} (awsmfa makes a new CA; containers then trust the new ca.pem), or run \`chmod ${what === "file" ? "600" : "700"} ${path}\`.`,
    },
  );
}
