// Containers in a VM (issue 17, Docker Desktop): `serve --containers tls`, tested without Docker
// Desktop. A "host" network namespace stands for the Mac or Windows machine, awsmfa listening on
// its 127.0.0.1 only; a relay in it from 169.254.170.1:PORT to 127.0.0.1:PORT stands for Docker
// Desktop's backend, which hands a container's connection to host.docker.internal:PORT to the
// host's loopback; a "container" namespace resolves host.docker.internal to 169.254.170.1 (its
// own /etc/hosts, as Docker Desktop's DNS does). The CA's public directory stands where
// `-v DIR:/run/awsmfa:ro` would mount it: the env file's /run/awsmfa paths are read as that
// directory. What was not run here (a real Docker Desktop) README says.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { X509Certificate } from "node:crypto";
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, test } from "node:test";
import {
  createServerHome,
  FIXTURES,
  ROLE_SESSION_ARN,
  roleKeysThatCalled,
  SEED,
  startServe,
} from "../server/helpers";
import { awsCliAvailable } from "../support/moto";
import { HOST_SIDE, NETNS_SKIP_REASON } from "../support/netns";
import { AWSMFA, type RunResult } from "../support/run-awsmfa";
import { type ContainerWorld, listeningOn, parseEnvFile, statusesFrom, useContainerWorld } from "./world";

const SDK_CALLS = join(FIXTURES, "sdk-calls.cjs");
const BOTO3_CALLS = join(__dirname, "fixtures", "boto3-calls.py");
const skip = NETNS_SKIP_REASON;
const skipBoto3 =
  skip || (spawnSync("python3", ["-c", "import boto3, certifi"]).status === 0 ? false : boto3Missing());

function boto3Missing(): string {
  if (process.env.CI === "true")
    throw new Error("python3 cannot import boto3; CI must have it (moto brings it)");
  return "skipped: python3 has no boto3";
}

let world: ContainerWorld;

/**
 * What `docker run --env-file FILE -v CA_DIR:/run/awsmfa:ro` gives a process: the file's
 * variables, with /run/awsmfa standing for the mounted directory; PATH, an empty HOME; where STS is.
 */
function containerEnv(envText: string, caDir: string, extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const mounted = Object.entries(parseEnvFile(envText)).map(([name, value]) => [
    name,
    value.replace(/^\/run\/awsmfa(?=\/|$)/, caDir),
  ]);
  return {
    PATH: process.env.PATH,
    HOME: world.containerHome,
    AWS_ENDPOINT_URL_STS: world.stsUrl,
    ...Object.fromEntries(mounted),
    ...extra,
  };
}

function inContainer(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<RunResult> {
  return world.pair.container.run(file, args, { env, timeoutMs: 60_000 });
}

/** A copy of certifi (the bundle botocore trusts) with `ca` added: what a Dockerfile's one line does to an image. */
function certifiWith(ca: string, into: string): string {
  const found = spawnSync("python3", ["-c", "import certifi; print(certifi.where())"], { encoding: "utf8" });
  const bundle = found.stdout.trim();
  cpSync(dirname(bundle), join(into, "certifi"), { recursive: true });
  const copied = join(into, "certifi", "cacert.pem");
  writeFileSync(copied, `${readFileSync(bundle, "utf8")}\n${ca}`);
  return into;
}

describe("containers in a VM: https at host.docker.internal with awsmfa's CA", { skip }, () => {
  world = useContainerWorld(({ pair }: ContainerWorld) => {
    pair.container.mapHostNames({ "host.docker.internal": HOST_SIDE });
  });

  test("serve --containers tls --container-env: the JS SDK and botocore inside get the session over https; the CA's rules hold", async () => {
    const login = await world.pair.host.run(
      process.execPath,
      [AWSMFA, "login", "-p", "admin", "--token-code", world.sts.totp(SEED)],
      {
        env: world.home.env,
        timeoutMs: 60_000,
      },
    );
    assert.equal(login.status, 0, login.stderr);
    const envPath = join(world.home.home, "container.env");
    const serve = await startServe(
      ["--containers", "tls", "-p", "admin", "--container-env", envPath],
      world.home.env,
      30_000,
      world.pair.host.command,
    );
    const scratch = mkdtempSync(join(tmpdir(), "awsmfa-tls-test-"));
    let relay: { stop(): void } | undefined;
    try {
      const port = Number(new URL(serve.url).port);
      const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN as string;
      const caDir = serve.variables.AWSMFA_CONTAINER_CA as string;
      assert.equal(caDir, join(world.home.home, ".aws", "awsmfa", "container-ca", "public"));
      const envText = readFileSync(envPath, "utf8");
      assert.equal(
        envText,
        `AWS_CONTAINER_CREDENTIALS_FULL_URI=https://host.docker.internal:${port}/\n` +
          `AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}\nAWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\n` +
          "NODE_EXTRA_CA_CERTS=/run/awsmfa/ca.pem\nSSL_CERT_DIR=/run/awsmfa\n",
      );
      assert.equal(statSync(envPath).mode & 0o777, 0o600);
      assert.equal(
        serve.url,
        `http://127.0.0.1:${port}/`,
        "the host's own clients keep plain http on 127.0.0.1",
      );
      assert.deepEqual(
        await listeningOn(world.pair.host, port),
        [`127.0.0.1:${port}`],
        "loopback only, as Docker Desktop needs",
      );
      const caDirFiles = spawnSync("ls", ["-A", caDir], { encoding: "utf8" }).stdout.trim();
      assert.equal(caDirFiles, "ca.pem", "the mounted directory holds the CA certificate, never its key");
      const keyPath = join(world.home.home, ".aws", "awsmfa", "container-ca", "key.pem");
      assert.equal(statSync(keyPath).mode & 0o777, 0o600);
      assert.equal(statSync(dirname(keyPath)).mode & 0o777, 0o700);
      const ca = readFileSync(join(caDir, "ca.pem"), "utf8");
      assert.ok(new X509Certificate(ca).ca);

      relay = await world.pair.host.relayToLoopback(HOST_SIDE, port);
      const env = containerEnv(envText, caDir);
      const from = world.sts.requests.length;

      for (const mode of ["chain", "http"]) {
        const js = await inContainer(process.execPath, [SDK_CALLS, mode, "0"], env);
        assert.equal(js.status, 0, `JS SDK ${mode}: ${js.stdout}\n${js.stderr}`);
        assert.deepEqual(JSON.parse(js.stdout).arns, [ROLE_SESSION_ARN], `JS SDK ${mode}`);
      }

      // Another CA (another install's) in NODE_EXTRA_CA_CERTS: the endpoint's certificate is refused.
      const otherCaPath = join(scratch, "other-ca.pem");
      const otherHome = await createServerHome({ url: world.stsUrl });
      try {
        const { loadContainerAuthority } = await import("../../src/output/container-ca");
        writeFileSync(otherCaPath, (await loadContainerAuthority(otherHome.env)).certificate);
      } finally {
        await otherHome.cleanup();
      }
      const wrongCa = await inContainer(process.execPath, [SDK_CALLS, "http", "0"], {
        ...env,
        NODE_EXTRA_CA_CERTS: otherCaPath,
      });
      assert.notEqual(wrongCa.status, 0);
      assert.doesNotMatch(wrongCa.stdout, /assumed-role/);
      assert.match(wrongCa.stdout, /certificate/i, "refused for its certificate");

      if (!skipBoto3) {
        // botocore's container provider trusts its certifi bundle and nothing else: the env file alone fails…
        const alone = await inContainer("python3", [BOTO3_CALLS, "0"], env);
        assert.notEqual(
          alone.status,
          0,
          "botocore does not read a CA from the environment for this endpoint",
        );
        assert.match(
          `${alone.stdout}\n${alone.stderr}`,
          /CERTIFICATE_VERIFY_FAILED|certificate verify failed|SSL/i,
        );
        // …and with the CA added to that bundle (README's one line for the image) it works.
        const withCa = await inContainer("python3", [BOTO3_CALLS, "0"], {
          ...env,
          PYTHONPATH: certifiWith(ca, join(scratch, "site")),
        });
        assert.equal(withCa.status, 0, `${withCa.stdout}\n${withCa.stderr}`);
        const summary = JSON.parse(withCa.stdout);
        assert.deepEqual(summary.arns, [ROLE_SESSION_ARN], "boto3");
        assert.equal(summary.method, "container-role");
        if (awsCliAvailable()) {
          const aws = await inContainer("aws", ["sts", "get-caller-identity", "--output", "json"], {
            ...env,
            PYTHONPATH: join(scratch, "site"),
          });
          assert.equal(aws.status, 0, aws.stderr);
          assert.equal(JSON.parse(aws.stdout).Arn, ROLE_SESSION_ARN, "the aws CLI v1, botocore as boto3");
        }
      }
      assert.ok(roleKeysThatCalled(world.sts, from).length >= 1);
      assert.match(serve.stderr(), new RegExp(`-v ${caDir}:/run/awsmfa:ro`), "the mount, on stderr");

      assert.deepEqual(
        await statusesFrom(world.pair.container, env, [
          { token },
          {},
          { token: "x".repeat(43) },
          { token, host: `evil.example:${port}` },
          { token, plain: true },
        ]),
        [200, 403, 403, 403, 403],
        "token and Host checked over https; host.docker.internal over plain http refused",
      );
    } finally {
      relay?.stop();
      rmSync(scratch, { recursive: true, force: true });
      const stopped = await serve.stop();
      assert.equal(stopped.status, 0, serve.stderr());
    }
  });
});
