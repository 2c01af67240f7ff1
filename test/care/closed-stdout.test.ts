// A reader of stdout that goes away early (`awsmfa … | head`, quitting `less`) ends awsmfa as
// SIGPIPE ends other tools: nothing on stderr, exit 141 (128 + SIGPIPE). Node ignores SIGPIPE, so
// each path awsmfa prints on meets EPIPE instead: commander and the commands (process.stdout), the
// direct `plan`/`status`, and the warm answers (written straight to fd 1). stdout here is a FIFO
// whose only reader has closed: a real pipe, closed before awsmfa starts, so no timing is involved.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { closeSync, constants, existsSync, openSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { ALICE_CONFIG, KEYS, useAliceWorld } from "../support/alice-world";
import { type RunResult, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const SEED = randomBase32Seed();
const CREDENTIALS = `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`;
const CLOSED_STDOUT = 141;

const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });

/** `awsmfa ARGS` with stdout the write end of a pipe nobody reads any more, as `| head` leaves it once head has quit. */
async function withClosedStdout(args: string[]): Promise<RunResult> {
  const fifo = join(world.home.home, `stdout-${process.hrtime.bigint()}.fifo`);
  execFileSync("mkfifo", [fifo]);
  const reader = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
  const writer = openSync(fifo, constants.O_WRONLY);
  closeSync(reader);
  try {
    return await runAwsmfa(args, { env: world.home.env, stdoutFd: writer, timeoutMs: 30_000 });
  } finally {
    closeSync(writer);
  }
}

function assertEndedQuietly(result: RunResult, what: string): void {
  assert.equal(result.stderr, "", `${what}: nothing on stderr`);
  assert.equal(result.status, CLOSED_STDOUT, `${what}: exit 141`);
}

/** A background server a failing test left running. */
function stopIfRunning(pid: number): void {
  try {
    if (pid > 0) process.kill(pid, "SIGTERM");
  } catch {
    // Already gone, as it should be.
  }
}

async function login(profile: string): Promise<void> {
  const result = await runAwsmfa(["login", "-p", profile, "--token-code", world.server.totp(SEED)], {
    env: world.home.env,
  });
  assert.equal(result.status, 0, result.stderr);
}

describe("a closed stdout ends awsmfa quietly with 141", () => {
  test("the full CLI: --help and --version (commander's writeOut), completion bash (a command)", async () => {
    for (const args of [["--help"], ["--version"], ["completion", "bash"]]) {
      assertEndedQuietly(await withClosedStdout(args), args.join(" "));
    }
  });

  test("the direct path: status and plan -p alice", async () => {
    for (const args of [["status"], ["plan", "-p", "alice"]]) {
      assertEndedQuietly(await withClosedStdout(args), args.join(" "));
    }
  });

  test("the warm path: credential-process and env from the cache", async () => {
    await login("admin");
    for (const args of [
      ["credential-process", "-p", "admin"],
      ["env", "-p", "admin", "--shell", "bash"],
    ]) {
      assertEndedQuietly(await withClosedStdout(args), args.join(" "));
    }
    assert.equal(world.server.calls.AssumeRole, 1, "answered from the cache");
  });

  test("exec: the command meets the closed stdout itself (SIGPIPE) and exec exits with its 141", async () => {
    await login("alice");
    assertEndedQuietly(await withClosedStdout(["exec", "-p", "alice", "--", "yes"]), "exec -- yes");
  });

  test("serve stops before serving what nobody was told of: its token file is removed", async () => {
    await login("admin");
    const tokenFile = join(world.home.home, "serve-token");
    assertEndedQuietly(await withClosedStdout(["serve", "-p", "admin", "--token-file", tokenFile]), "serve");
    assert.equal(existsSync(tokenFile), false, "token file removed");
  });

  test("serve --detach stops the server in the background, whose pid nobody read", async (t) => {
    await login("admin");
    const tokenFile = join(world.home.home, "serve-token");
    const result = await withClosedStdout(["serve", "-p", "admin", "--detach", "--token-file", tokenFile]);
    const pid = Number(/\(pid (\d+)\)/.exec(result.stderr)?.[1]);
    t.after(() => stopIfRunning(pid));
    // The background server's own line, written before the lines awsmfa could not pass on.
    assert.match(
      result.stderr,
      /^awsmfa: Serving the credentials of profile 'admin' on \S+ in the background \(pid \d+\)[^\n]*\n$/,
    );
    assert.equal(result.status, CLOSED_STDOUT, result.stderr);
    assert.equal(existsSync(tokenFile), false, "the background server ended and removed its token file");
  });
});
