import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { describe, test } from "node:test";
import { ExitStatus } from "../../src/errors";
import { ALICE_CONFIG, KEYS, useAliceWorld } from "../support/alice-world";
import { locateTool } from "../support/moto";
import { type RunResult, runAwsmfa, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

// The zenity dialog for real, as a desktop user without a terminal meets it: `credential-process`
// started by a GUI program (no controlling terminal, stdin not a tty) with DISPLAY set. A private
// X server (Xvfb, on a display number it picks itself) shows the dialog; xdotool finds the window
// by its title, types the code and presses Return, or presses Escape. Needs Xvfb, zenity and
// xdotool (Debian: apt-get install xvfb zenity xdotool xauth); skipped, saying so, where they are
// missing, and failed under CI=true, where .ci/run installs them.

const TOOLS = ["Xvfb", "zenity", "xdotool"];

function missingTools(): string | undefined {
  if (process.platform !== "linux")
    return `the X11 dialog test runs on Linux only (this is ${process.platform})`;
  const missing = TOOLS.filter((tool) => locateTool(tool) === undefined);
  return missing.length === 0
    ? undefined
    : `${missing.join(", ")} not installed (apt-get install xvfb zenity xdotool xauth)`;
}

const skip = missingTools();
const SEED = randomBase32Seed();
const TITLE = "awsmfa: MFA code for profile 'alice'";
const world = useAliceWorld({
  seed: SEED,
  config: ALICE_CONFIG.replace("[profile alice]\n", "[profile alice]\nawsmfa_prompt = zenity\n"),
  credentials: `[alice]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
});

interface XServer {
  display: string;
  close(): Promise<void>;
}

/** Xvfb on the first free display number (-displayfd: it tells us which), local connections only. */
function startXvfb(): Promise<XServer> {
  const child = spawn("Xvfb", ["-displayfd", "3", "-nolisten", "tcp", "-screen", "0", "1024x768x24"], {
    stdio: ["ignore", "ignore", "pipe", "pipe"],
  });
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      if (child.exitCode !== null || child.signalCode !== null) return resolve();
      child.once("exit", () => resolve());
      child.kill("SIGTERM");
    });
  let errors = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    errors = (errors + chunk).slice(-4096);
  });
  return new Promise((resolve, reject) => {
    let announced = "";
    const timer = setTimeout(() => {
      void close();
      reject(new Error(`Xvfb named no display within 20 s:\n${errors}`));
    }, 20_000);
    child.once("error", reject);
    child.once("exit", (status, signal) => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited (${status ?? signal}) before naming a display:\n${errors}`));
    });
    (child.stdio[3] as NodeJS.ReadableStream).setEncoding("utf8").on("data", (chunk: string) => {
      announced += chunk;
      if (!announced.includes("\n")) return;
      clearTimeout(timer);
      resolve({ display: `:${announced.trim()}`, close });
    });
  });
}

function xdotool(display: string, args: string[]): Promise<RunResult> {
  return runProcess("xdotool", args, { env: { ...process.env, DISPLAY: display }, timeoutMs: 15_000 });
}

/** The id of the visible window titled exactly `title`, once it is there. */
async function waitForWindow(display: string, title: string): Promise<string> {
  const pattern = `^${title.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`;
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const found = await xdotool(display, ["search", "--onlyvisible", "--name", pattern]);
    const ids = found.stdout.split("\n").filter(Boolean);
    if (ids.length > 1) throw new Error(`${ids.length} windows are titled ${title}`);
    if (ids[0] !== undefined) return ids[0];
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
  throw new Error(`no window titled ${title} within 60 s`);
}

/** Focuses the window and sends real key events (XTEST): GTK ignores events sent to a window. */
async function keys(display: string, window: string, ...commands: string[][]): Promise<void> {
  for (const args of [["windowfocus", "--sync", window], ...commands]) {
    const done = await xdotool(display, args);
    assert.equal(done.status, 0, `xdotool ${args[0]}: ${done.stderr}`);
  }
}

describe("the zenity dialog on a real X server, without a terminal", { skip }, () => {
  let x: XServer;

  /** credential-process for alice, started detached (no controlling terminal), stdin a pipe. */
  function credentialProcess(): Promise<RunResult> {
    const env: NodeJS.ProcessEnv = { ...world.home.env, DISPLAY: x.display, NO_AT_BRIDGE: "1" };
    delete env.WAYLAND_DISPLAY;
    return runAwsmfa(["credential-process", "-p", "alice"], { env, timeoutMs: 120_000 });
  }

  test("shows the dialog; the code typed into it is sent once, and the JSON comes out", async (t) => {
    x = await startXvfb();
    t.after(() => x.close());
    const run = credentialProcess();
    const window = await waitForWindow(x.display, TITLE);
    assert.equal(world.server.calls.GetSessionToken, undefined, "nothing is sent before the code is typed");

    const code = world.server.totp(SEED);
    await keys(x.display, window, ["type", "--delay", "30", code], ["key", "Return"]);
    const result = await run;
    assert.equal(result.status, 0, result.stderr);
    assert.equal(world.server.calls.GetSessionToken, 1, "exactly one GetSessionToken");
    assert.equal(world.server.accepted.GetSessionToken, 1, "with the code typed, which STS accepted");
    assert.equal(world.server.rejectedReuses, 0);
    const issued = world.server.issued.find((credentials) => credentials.kind === "GetSessionToken");
    // The credential_process JSON (its shape is test/integration/sessions.test.ts's business).
    const output = JSON.parse(result.stdout);
    assert.equal(output.Version, 1);
    assert.equal(output.AccessKeyId, issued?.accessKeyId);
    assert.equal(output.SessionToken, issued?.sessionToken);
    assert.ok(!result.stderr.includes(code), "the code is not echoed on stderr");
  });

  test("Escape cancels the dialog: the no-code exit (4) at once, nothing sent", async (t) => {
    x = await startXvfb();
    t.after(() => x.close());
    const run = credentialProcess();
    const window = await waitForWindow(x.display, TITLE);
    await keys(x.display, window, ["key", "Escape"]);
    const cancelledAt = Date.now();
    const result = await run;
    const seconds = (Date.now() - cancelledAt) / 1000;
    assert.equal(result.status, ExitStatus.noCode, result.stderr);
    assert.equal(result.stdout, "");
    assert.match(
      result.stderr,
      /The MFA code was not given: the zenity dialog for profile 'alice' was cancelled/,
    );
    // The dialog would wait 300 s for an answer; a cancel must not. Generous for a loaded machine.
    assert.ok(seconds < 20, `exited ${seconds.toFixed(1)} s after Escape`);
    assert.equal(world.server.calls.GetSessionToken, undefined);
  });
});
