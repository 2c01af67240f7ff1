// Containers on Linux (issue 17): `serve --containers` and `exec --server --containers` with the
// ECS address, tested without Docker. A "host" network namespace stands for the user's machine
// (awsmfa and `containers enable` run there) and a "container" namespace joined to it by a veth
// pair stands for a container on a bridge network (test/support/netns.ts). Inside the container,
// with nothing but the env file's variables (plus PATH, an empty HOME, and where the STS test
// server is), the real aws CLI, boto3 and the AWS SDK for JavaScript v3 get the session's role
// credentials. The strict STS server answers on 169.254.170.1 in the host namespace and records
// which access key signed each call: "signed with a role key" means the client really used what
// the endpoint handed it.
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import {
  createServerHome,
  FIXTURES,
  ROLE_SESSION_ARN,
  roleKeysThatCalled,
  SEED,
  type ServeProcess,
  startServe,
  startServerSts,
} from "../server/helpers";
import { AWS_CLI_SKIP_REASON, awsCliAvailable } from "../support/moto";
import { createNamespace, ECS_ADDRESS, ip, type Namespace, NETNS_SKIP_REASON } from "../support/netns";
import { AWSMFA, type RunResult } from "../support/run-awsmfa";
import { type ContainerWorld, listeningOn, parseEnvFile, statusesFrom, useContainerWorld } from "./world";

const SDK_CALLS = join(FIXTURES, "sdk-calls.cjs");
const BOTO3_CALLS = join(__dirname, "fixtures", "boto3-calls.py");
const skip = NETNS_SKIP_REASON;
const skipAws = skip || (awsCliAvailable() ? false : AWS_CLI_SKIP_REASON);
/** boto3 comes with moto (its dependency), so where CI has moto_server it has boto3. */
const skipBoto3 = skip || boto3SkipReason();

function boto3SkipReason(): string | false {
  if (spawnSync("python3", ["-c", "import boto3"]).status === 0) return false;
  if (process.env.CI === "true")
    throw new Error("python3 cannot import boto3; CI must have it (moto brings it)");
  return "skipped: python3 has no boto3";
}

let world: ContainerWorld;

/** awsmfa in the host namespace. */
function inHost(
  args: string[],
  env: NodeJS.ProcessEnv = world.home.env,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return world.pair.host.run(process.execPath, [AWSMFA, ...args], { env, timeoutMs });
}

/** What a container started with `docker run --env-file FILE` has: the file's variables, PATH, HOME; and where STS is. */
function containerEnv(envFileText: string): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH,
    HOME: world.containerHome,
    AWS_ENDPOINT_URL_STS: world.stsUrl,
    ...parseEnvFile(envFileText),
  };
}

function inContainer(
  file: string,
  args: string[],
  envFileText: string,
  timeoutMs = 60_000,
): Promise<RunResult> {
  return world.pair.container.run(file, args, { env: containerEnv(envFileText), timeoutMs });
}

async function login(profile: string): Promise<void> {
  const result = await inHost(["login", "-p", profile, "--token-code", world.sts.totp(SEED)]);
  assert.equal(result.status, 0, result.stderr);
}

function serveContainers(args: string[]): Promise<ServeProcess> {
  return startServe(["--containers", ...args], world.home.env, 30_000, world.pair.host.command);
}

describe("containers on Linux: the ECS address, a network namespace for a container", { skip }, () => {
  world = useContainerWorld(async ({ pair }: ContainerWorld) => {
    // The one root step, in the host namespace: 169.254.170.2 on its loopback.
    const enabled = await pair.host.run(process.execPath, [AWSMFA, "containers", "enable"], {
      env: process.env,
    });
    assert.equal(enabled.status, 0, enabled.stderr);
  });

  test("serve --containers --container-env: the env file, the two listening addresses, and the clients inside", async () => {
    await login("admin");
    const envPath = join(world.home.home, "container.env");
    const serve = await serveContainers(["-p", "admin", "--container-env", envPath]);
    const from = world.sts.requests.length;
    let envText: string;
    try {
      const port = Number(new URL(serve.url).port);
      const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN as string;
      envText = readFileSync(envPath, "utf8");
      assert.equal(
        envText,
        `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://${ECS_ADDRESS}:${port}/\n` +
          `AWS_CONTAINER_AUTHORIZATION_TOKEN=${token}\nAWS_REGION=us-east-1\nAWS_DEFAULT_REGION=us-east-1\n`,
        "docker run --env-file lines: no quotes, no export",
      );
      assert.equal(statSync(envPath).mode & 0o777, 0o600);
      assert.equal(serve.variables.AWSMFA_CONTAINER_ENV, envPath);
      assert.equal(serve.url, `http://127.0.0.1:${port}/`, "the host's own clients keep 127.0.0.1");
      assert.deepEqual(await listeningOn(world.pair.host, port), [
        `127.0.0.1:${port}`,
        `${ECS_ADDRESS}:${port}`,
      ]);
      assert.ok(!serve.stderr().includes(token), "the token is never on stderr");

      const aws = skipAws
        ? undefined
        : await inContainer("aws", ["sts", "get-caller-identity", "--output", "json"], envText);
      if (aws !== undefined) {
        assert.equal(aws.status, 0, aws.stderr);
        assert.equal(JSON.parse(aws.stdout).Arn, ROLE_SESSION_ARN, "the aws CLI");
      }
      if (!skipBoto3) {
        const boto3 = await inContainer("python3", [BOTO3_CALLS, "0"], envText);
        assert.equal(boto3.status, 0, `${boto3.stdout}\n${boto3.stderr}`);
        const summary = JSON.parse(boto3.stdout);
        assert.deepEqual(summary.arns, [ROLE_SESSION_ARN], "boto3");
        assert.equal(summary.method, "container-role", "botocore found them at the container endpoint");
      }
      for (const mode of ["chain", "http"]) {
        const js = await inContainer(process.execPath, [SDK_CALLS, mode, "0"], envText);
        assert.equal(js.status, 0, `JS SDK ${mode}: ${js.stdout}\n${js.stderr}`);
        assert.deepEqual(JSON.parse(js.stdout).arns, [ROLE_SESSION_ARN], `JS SDK ${mode}`);
      }
      // fromContainerMetadata on its own takes a full URI on 127.0.0.1/localhost only (README says so).
      const imds = await inContainer(process.execPath, [SDK_CALLS, "container", "0"], envText);
      assert.match(JSON.parse(imds.stdout).failures.join("\n"), /169\.254\.170\.2 is not a valid container/);
      assert.ok(roleKeysThatCalled(world.sts, from).length >= 1);
      assert.equal(world.sts.calls.GetSessionToken, 1, "the MFA session from login, reused: no code asked");

      assert.deepEqual(
        await statusesFrom(world.pair.container, containerEnv(envText), [
          { token },
          {},
          { token: "x".repeat(43) },
          { token, host: `evil.example:${port}` },
          { token, host: `127.0.0.1:${port}` },
        ]),
        [200, 403, 403, 403, 200],
        "token and Host checked on the container's address as on 127.0.0.1",
      );
    } finally {
      const stopped = await serve.stop();
      assert.equal(stopped.status, 0, serve.stderr());
    }
    assert.ok(!existsSync(envPath), "the env file goes with the server");
  });

  test("a role's credentials renewed by the server are picked up inside, without restarting anything; then a 503, never stale", async () => {
    await login("alice");
    world.sts.setOption({ sessionDurationOverrideSeconds: 8 });
    const envPath = join(world.home.home, "container.env");
    const serve = await serveContainers(["-p", "admin", "--min-ttl", "2s", "--container-env", envPath]);
    try {
      const envText = readFileSync(envPath, "utf8");
      const from = world.sts.requests.length;
      const [js, boto3] = await Promise.all([
        inContainer(process.execPath, [SDK_CALLS, "chain", "20", "200"], envText, 90_000),
        skipBoto3 ? undefined : inContainer("python3", [BOTO3_CALLS, "20", "200"], envText, 90_000),
      ]);
      assert.equal(js.status, 0, `${js.stdout}\n${js.stderr}`);
      assert.deepEqual(JSON.parse(js.stdout).failures, [], "every JS SDK call succeeded");
      if (boto3 !== undefined) {
        assert.equal(boto3.status, 0, `${boto3.stdout}\n${boto3.stderr}`);
        assert.deepEqual(JSON.parse(boto3.stdout).failures, [], "every boto3 call succeeded");
      }
      const keys = roleKeysThatCalled(world.sts, from);
      assert.ok(keys.length >= 3, `${keys.length} role sessions used in 20 s (sessions of 8 s)`);
      assert.equal(world.sts.calls.GetSessionToken, 1, "no new MFA session: nothing asked for a code");

      // The role can no longer be renewed: the container gets a 503 that says why, never expired keys.
      world.sts.setOption({
        failures: [
          { action: "AssumeRole", count: 1000, status: 403, code: "AccessDenied", message: "Not today." },
        ],
      });
      const poll = `
        const until = Date.now() + 25_000;
        const ask = async () => {
          const response = await fetch(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI, {
            headers: { Authorization: process.env.AWS_CONTAINER_AUTHORIZATION_TOKEN },
          });
          const body = await response.json();
          if (response.status === 200 && Date.parse(body.Expiration) <= Date.now()) return { expired: body.Expiration };
          if (response.status !== 200 || Date.now() > until) return { status: response.status, body };
          await new Promise((resolve) => setTimeout(resolve, 300));
          return ask();
        };
        ask().then((seen) => process.stdout.write(JSON.stringify(seen)));`;
      const refused = await inContainer(process.execPath, ["-e", poll], envText, 60_000);
      assert.equal(refused.status, 0, refused.stderr);
      const seen = JSON.parse(refused.stdout);
      assert.equal(seen.status, 503, refused.stdout);
      assert.equal(seen.body.Code, "RefreshFailed");
      assert.match(seen.body.Message, /profile 'admin'/);
    } finally {
      await serve.stop();
    }
  });

  test("exec --server --containers: the command gets AWSMFA_CONTAINER_ENV and the endpoint; the file goes with it", async () => {
    await login("admin");
    // The command does what `docker run --env-file "$AWSMFA_CONTAINER_ENV" … aws sts get-caller-identity`
    // does, with the container namespace for the container, then calls AWS itself.
    const script = `
      echo "$AWSMFA_CONTAINER_ENV"
      env -i PATH="$PATH" HOME="$CONTAINER_HOME" AWS_ENDPOINT_URL_STS="$AWS_ENDPOINT_URL_STS" $(cat "$AWSMFA_CONTAINER_ENV") \\
        ip netns exec "$CONTAINER_NS" "$NODE" "$SDK_CALLS" chain 0 || exit 1
      "$NODE" "$SDK_CALLS" chain 0`;
    const env = {
      ...world.home.env,
      CONTAINER_NS: world.pair.container.name,
      CONTAINER_HOME: world.containerHome,
      NODE: process.execPath,
      SDK_CALLS,
    };
    const from = world.sts.requests.length;
    const run = await inHost(
      ["exec", "--server", "--containers", "-p", "admin", "--", "sh", "-c", script],
      env,
    );
    assert.equal(run.status, 0, `${run.stdout}\n${run.stderr}`);
    const [path, inside, itself] = run.stdout.trim().split("\n") as [string, string, string];
    assert.match(path, /\/awsmfa-container-[^/]+\/container\.env$/);
    assert.deepEqual(JSON.parse(inside).arns, [ROLE_SESSION_ARN], "inside the container");
    assert.deepEqual(JSON.parse(itself).arns, [ROLE_SESSION_ARN], "the command itself");
    assert.equal(roleKeysThatCalled(world.sts, from).length, 1);
    assert.ok(!existsSync(join(path, "..")), "the env file and its private directory are gone");
  });

  test("--container-env never destroys a file: one of yours is refused before any code is asked for; only ours is removed", async () => {
    const envPath = join(world.home.home, "container.env");
    writeFileSync(envPath, "KEEP=me\n", { mode: 0o600 });
    const refused = await inHost(["serve", "-p", "admin", "--containers", "--container-env", envPath]);
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /already exists and is not an env file of awsmfa's; it was left as it is/);
    assert.equal(readFileSync(envPath, "utf8"), "KEEP=me\n");
    assert.equal(world.sts.requests.length, 0, "refused before STS or a code");

    const open = join(world.home.home, "open");
    mkdirSync(open, { mode: 0o777 });
    chmodSync(open, 0o777);
    const unsafe = await inHost([
      "serve",
      "-p",
      "admin",
      "--containers",
      "--container-env",
      join(open, "c.env"),
    ]);
    assert.equal(unsafe.status, 9, unsafe.stderr);
    assert.match(unsafe.stderr, /Refusing --container-env in .*others can write to that directory/);

    // An env file an earlier serve left behind (killed before its clean-up) is replaced.
    await login("admin");
    const earlier = `AWS_CONTAINER_CREDENTIALS_FULL_URI=http://${ECS_ADDRESS}:1/\nAWS_CONTAINER_AUTHORIZATION_TOKEN=${"e".repeat(43)}\n`;
    writeFileSync(envPath, earlier, { mode: 0o600 });
    const serve = await serveContainers(["-p", "admin", "--container-env", envPath]);
    const written = readFileSync(envPath, "utf8");
    assert.notEqual(written, earlier);
    assert.match(written, /^AWS_CONTAINER_CREDENTIALS_FULL_URI=http:\/\/169\.254\.170\.2:\d+\/\n/);
    // Swapped for another file while serving: that one is not ours, and stays.
    writeFileSync(`${envPath}.new`, "MINE=1\n", { mode: 0o600 });
    renameSync(`${envPath}.new`, envPath);
    const stopped = await serve.stop();
    assert.equal(stopped.status, 0, serve.stderr());
    assert.equal(readFileSync(envPath, "utf8"), "MINE=1\n");
  });

  test("serve --detach --containers: returns once listening, with AWSMFA_CONTAINER_ENV; kill removes the file", async () => {
    await login("admin");
    const envPath = join(world.home.home, "container.env");
    // As a user would, in one shell; the stand-in for `docker run --env-file "$AWSMFA_CONTAINER_ENV"` as in exec's test.
    const script = [
      "set -eu",
      `eval "$("$NODE" "$AWSMFA" serve --detach -p admin --containers --container-env "${envPath}")"`,
      'echo "$AWSMFA_CONTAINER_ENV"',
      'env -i PATH="$PATH" HOME="$CONTAINER_HOME" AWS_ENDPOINT_URL_STS="$AWS_ENDPOINT_URL_STS" $(cat "$AWSMFA_CONTAINER_ENV") \\',
      '  ip netns exec "$CONTAINER_NS" "$NODE" "$SDK_CALLS" chain 0',
      'kill "$AWSMFA_SERVE_PID"',
      'while kill -0 "$AWSMFA_SERVE_PID" 2>/dev/null; do sleep 0.1; done',
      'if [ -e "$AWSMFA_CONTAINER_ENV" ]; then echo left; else echo gone; fi',
    ].join("\n");
    const env = {
      ...world.home.env,
      AWSMFA,
      CONTAINER_NS: world.pair.container.name,
      CONTAINER_HOME: world.containerHome,
      NODE: process.execPath,
      SDK_CALLS,
    };
    const result = await world.pair.host.run("bash", ["-c", script], { env, timeoutMs: 60_000 });
    assert.equal(result.status, 0, `${result.stdout}\n${result.stderr}`);
    const [path, inside, after] = result.stdout.trim().split("\n") as [string, string, string];
    assert.equal(path, envPath);
    assert.deepEqual(JSON.parse(inside).arns, [ROLE_SESSION_ARN], "inside the container");
    assert.equal(after, "gone", "the env file goes with the server");
  });
});

describe("containers enable / disable, and --containers without them", { skip }, () => {
  let alone: Namespace & { remove(): void };
  before(() => {
    alone = createNamespace("alone");
  });
  after(() => alone?.remove());

  /** Everything about the namespace's network that enable could change. */
  function networkState(): string {
    return ["addr", "route show table all", "-6 route show table all", "rule"]
      .map((what) => ip("-n", alone.name, ...what.split(" ")))
      .join("\n");
  }
  const run = (args: string[], env: NodeJS.ProcessEnv = process.env) =>
    alone.run(process.execPath, [AWSMFA, ...args], { env });

  test("enable adds 169.254.170.2/32 to lo, once; disable leaves the network as it was", async () => {
    const before = networkState();
    const enabled = await run(["containers", "enable"]);
    assert.equal(enabled.status, 0, enabled.stderr);
    assert.match(enabled.stderr, /Added 169\.254\.170\.2\/32 to the loopback interface lo \(ip addr add/);
    assert.match(enabled.stderr, /until the next reboot/);
    assert.match(ip("-n", alone.name, "-o", "addr", "show", "dev", "lo"), /inet 169\.254\.170\.2\/32 /);
    const withAddress = networkState();

    const again = await run(["containers", "enable"]);
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already: nothing changed/);
    assert.equal(networkState(), withAddress, "idempotent");

    const disabled = await run(["containers", "disable"]);
    assert.equal(disabled.status, 0, disabled.stderr);
    assert.equal(networkState(), before, "nothing left behind");
    const disabledAgain = await run(["containers", "disable"]);
    assert.equal(disabledAgain.status, 0, disabledAgain.stderr);
    assert.match(disabledAgain.stderr, /not on lo: nothing changed/);
    assert.equal(networkState(), before);
  });

  test("not as root: refused with the sudo command when there is something to change, nothing changed", async (t) => {
    // uid 65534 must be able to read the checkout (bundles and node_modules): a checkout in a
    // directory only root may enter (mktemp -d is 0700) cannot run as nobody at all.
    const nobodyReads = spawnSync("setpriv", [
      "--reuid=65534",
      "--regid=65534",
      "--clear-groups",
      process.execPath,
      "-e",
      `require(${JSON.stringify(require.resolve("commander"))}); require("fs").accessSync(${JSON.stringify(AWSMFA)})`,
    ]);
    if (nobodyReads.status !== 0) {
      t.skip("uid 65534 cannot read this checkout (a directory only root may enter)");
      return;
    }
    const asNobody = (verb: string) =>
      alone.run(
        "setpriv",
        ["--reuid=65534", "--regid=65534", "--clear-groups", process.execPath, AWSMFA, "containers", verb],
        { env: process.env },
      );
    const before = networkState();
    const refused = await asNobody("enable");
    assert.equal(refused.status, 1, refused.stderr);
    assert.match(refused.stderr, /needs root/);
    assert.match(refused.stderr, /sudo awsmfa containers enable/);
    assert.equal(networkState(), before);

    assert.equal((await run(["containers", "enable"])).status, 0);
    const enabled = networkState();
    const already = await asNobody("enable");
    assert.equal(already.status, 0, `nothing to change needs no root: ${already.stderr}`);
    const refusedDisable = await asNobody("disable");
    assert.equal(refusedDisable.status, 1, refusedDisable.stderr);
    assert.match(refusedDisable.stderr, /sudo awsmfa containers disable/);
    assert.equal(networkState(), enabled);
    assert.equal((await run(["containers", "disable"])).status, 0);
    assert.equal(networkState(), before);
  });

  test("--containers before containers enable fails at once, naming the command; no code is asked for", async () => {
    const sts = await startServerSts();
    const home = await createServerHome(sts);
    try {
      for (const args of [
        ["serve", "-p", "admin", "--containers"],
        ["exec", "--server", "--containers", "-p", "admin", "--", "true"],
      ]) {
        const result = await run(args, home.env);
        assert.equal(result.status, 3, `${args.join(" ")}: ${result.stderr}`);
        assert.match(result.stderr, /169\.254\.170\.2/);
        assert.match(result.stderr, /sudo awsmfa containers enable/);
      }
      assert.equal(sts.requests.length, 0);
    } finally {
      await home.cleanup();
      await sts.close();
    }
  });
});
