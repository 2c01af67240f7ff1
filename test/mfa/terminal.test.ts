import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { test } from "node:test";
import { terminalPaths } from "../../src/fsio/terminal";
import { recordCodeOutcome } from "../../src/mfa/index";
import { findProgram, programCandidates } from "../../src/mfa/run";
import { makeRequest, SERIAL, tempDir } from "./helpers";

const ROOT = resolve(__dirname, "../..");
const ASK = join(__dirname, "fixtures", "ask.ts");
const DRIVE = join(__dirname, "fixtures", "pty_drive.py");
const QUESTION = `MFA code for profile 'dev' (${SERIAL}): `;

interface Driven {
  status: number | null;
  terminal: string;
  stdout: string;
  stderr: string;
}

/**
 * Runs fixtures/ask.ts on a fresh pseudo-terminal, typing each answer when its prompt shows.
 * The fixture's stdout and stderr go to files, so what shows on the terminal came through the
 * terminal device and nothing else.
 */
function onTerminal(
  dir: string,
  input: object,
  steps: [string, string][],
  env: NodeJS.ProcessEnv = {},
): Driven {
  const out = join(dir, "stdout");
  const err = join(dir, "stderr");
  const command = `exec "${process.execPath}" --import tsx "${ASK}" >"${out}" 2>"${err}"`;
  const run = spawnSync("python3", [DRIVE, JSON.stringify(steps), "/bin/sh", "-c", command], {
    cwd: ROOT,
    env: { ...process.env, ...env, AWSMFA_TEST_INPUT: JSON.stringify(input) },
    encoding: "utf8",
  });
  return {
    status: run.status,
    terminal: run.stdout,
    stdout: readFileSync(out, "utf8"),
    stderr: readFileSync(err, "utf8"),
  };
}

/** Runs fixtures/ask.ts in a new session: no controlling terminal, like a CI job or a daemon. */
function withoutTerminal(input: object, env: NodeJS.ProcessEnv = {}, stdinText?: string) {
  return new Promise<{ status: number | null; stdout: string; stderr: string }>((done, fail) => {
    const child = spawn(process.execPath, ["--import", "tsx", ASK], {
      cwd: ROOT,
      detached: true,
      env: { PATH: process.env.PATH, ...env, AWSMFA_TEST_INPUT: JSON.stringify(input) },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    // Left open on purpose: reading one line must not wait for the end of input.
    if (stdinText !== undefined) child.stdin.write(stdinText);
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      fail(new Error(`fixture did not finish; stdout: ${stdout}`));
    }, 20_000);
    child.on("close", (status) => {
      clearTimeout(timer);
      child.stdin.destroy();
      done({ status, stdout, stderr });
    });
  });
}

test("the terminal prompt asks on the terminal device, names profile and device, and keeps stdout clean", (t) => {
  const dir = tempDir(t);
  const driven = onTerminal(dir, { action: "code", request: makeRequest(dir) }, [[QUESTION, "123456\r"]]);
  assert.equal(driven.status, 0, driven.terminal + driven.stdout);
  assert.ok(driven.terminal.includes(QUESTION), driven.terminal);
  assert.deepEqual(JSON.parse(driven.stdout), {
    result: { code: "123456", source: "terminal", interactive: true },
  });
  assert.equal(driven.stdout.split("\n").length, 2, "stdout holds the one JSON line and nothing else");
  assert.equal(driven.stderr, "");
});

test("on the terminal, a code just accepted gets the message and a second ask", (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { notice: "That code was not accepted." });
  recordCodeOutcome(request, { code: "111111", source: "terminal", interactive: true }, true);
  const driven = onTerminal(dir, { action: "code", request }, [
    [`That code was not accepted.\r\n${QUESTION}`, "111111\r"],
    [`That code was just used; wait for the next one.\r\n${QUESTION}`, "222222\r"],
  ]);
  assert.equal(driven.status, 0, driven.terminal);
  assert.equal(JSON.parse(driven.stdout).result.code, "222222");
});

test("mfa_process may ask on the terminal, and its stderr goes there, not to ours", (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, {
    properties: {
      mfa_process: 'printf \'unlock PIN: \' >&2; read pin; echo "vault unlocked" >&2; echo "$pin"',
    },
  });
  const driven = onTerminal(dir, { action: "code", request }, [["unlock PIN: ", "975310\r"]]);
  assert.equal(driven.status, 0, driven.terminal + driven.stdout);
  assert.ok(driven.terminal.includes("vault unlocked"), driven.terminal);
  assert.equal(JSON.parse(driven.stdout).result.code, "975310");
  assert.equal(driven.stderr, "");
});

test("askChoiceOnTerminal lists the choices and asks again after a wrong number", (t) => {
  const dir = tempDir(t);
  const choices = ["arn:aws:iam::1:mfa/phone", "arn:aws:iam::1:mfa/yubikey"];
  const driven = onTerminal(dir, { action: "choice", question: "Which MFA device?", choices }, [
    ["Choice [1-2]: ", "3\r"],
    ["Please type a number from 1 to 2.\r\nWhich MFA device?", "2\r"],
  ]);
  assert.equal(driven.status, 0, driven.terminal);
  assert.ok(
    driven.terminal.includes(
      "Which MFA device?\r\n  1) arn:aws:iam::1:mfa/phone\r\n  2) arn:aws:iam::1:mfa/yubikey\r\n",
    ),
  );
  assert.deepEqual(JSON.parse(driven.stdout), { result: { index: 1 } });
});

test("tellTerminal writes a line to the terminal and nothing to stdout or stderr", (t) => {
  const dir = tempDir(t);
  const driven = onTerminal(dir, { action: "tell", message: "next code in 12 s" }, []);
  assert.equal(driven.status, 0);
  assert.ok(driven.terminal.includes("next code in 12 s\r\n"));
  assert.deepEqual(JSON.parse(driven.stdout), { result: { told: true } });
  assert.equal(driven.stderr, "");
});

test("redrawTerminalLine draws over the current line of the terminal; not on TERM=dumb, not without one", async (t) => {
  const dir = tempDir(t);
  const driven = onTerminal(dir, { action: "redraw", message: "next code in 12 s" }, []);
  assert.equal(driven.status, 0);
  assert.ok(driven.terminal.includes("\r\x1b[2Knext code in 12 s"), JSON.stringify(driven.terminal));
  assert.deepEqual(JSON.parse(driven.stdout), { result: { drawn: true } });
  assert.equal(driven.stderr, "");
  const dumb = onTerminal(tempDir(t), { action: "redraw", message: "x" }, [], { TERM: "dumb" });
  assert.deepEqual(JSON.parse(dumb.stdout), { result: { drawn: false } });
  assert.ok(!dumb.terminal.includes("\x1b[2K"));
  const none = await withoutTerminal({ action: "redraw", message: "x" });
  assert.deepEqual(JSON.parse(none.stdout), { result: { drawn: false } });
});

test("without a controlling terminal there is no terminal, and nothing configured fails with the list", async (t) => {
  const dir = tempDir(t);
  assert.deepEqual(JSON.parse((await withoutTerminal({ action: "can-open" })).stdout), {
    result: { canOpen: false },
  });
  const run = await withoutTerminal({ action: "code", request: makeRequest(dir) });
  assert.equal(run.status, 1);
  const { error } = JSON.parse(run.stdout);
  assert.equal(error.code, "no-code-source");
  assert.equal(error.status, 4);
  assert.match(error.message, /profile 'dev'.*no terminal/);
  for (const way of [
    "--token-code 123456",
    "--token-code -",
    "mfa_process",
    "awsmfa_prompt",
    "AWSMFA_PROMPT",
  ]) {
    assert.ok(error.hint.includes(way), `hint lacks ${way}: ${error.hint}`);
  }
});

test("without a terminal, mfa_process stderr is discarded, never passed to our streams", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { mfa_process: "echo leaked-to-stderr >&2; echo 112233" } });
  const run = await withoutTerminal({ action: "code", request });
  assert.equal(run.status, 0, run.stdout);
  assert.equal(JSON.parse(run.stdout).result.code, "112233");
  assert.ok(!run.stdout.includes("leaked") && !run.stderr.includes("leaked"), run.stderr);
});

test("--token-code - in a real process takes the first line while stdin stays open", async (t) => {
  const dir = tempDir(t);
  const run = await withoutTerminal(
    { action: "code", request: makeRequest(dir, { tokenCode: "-" }) },
    {},
    "334455\n",
  );
  assert.equal(run.status, 0, run.stdout + run.stderr);
  assert.deepEqual(JSON.parse(run.stdout).result, { code: "334455", source: "stdin", interactive: false });
});

test("the terminal device is /dev/tty on POSIX and CONIN$/CONOUT$ on Windows", () => {
  assert.deepEqual(terminalPaths("linux"), { input: "/dev/tty", output: "/dev/tty" });
  assert.deepEqual(terminalPaths("darwin"), { input: "/dev/tty", output: "/dev/tty" });
  assert.deepEqual(terminalPaths("win32"), { input: "CONIN$", output: "CONOUT$" });
});

test("programs are looked for on PATH, with PATHEXT and ; on Windows", (t) => {
  assert.deepEqual(programCandidates("powershell", { PATH: "C:\\a;;C:\\b", PATHEXT: ".COM;.EXE" }, "win32"), [
    "C:\\a\\powershell",
    "C:\\a\\powershell.COM",
    "C:\\a\\powershell.EXE",
    "C:\\b\\powershell",
    "C:\\b\\powershell.COM",
    "C:\\b\\powershell.EXE",
  ]);
  assert.deepEqual(programCandidates("zenity", { PATH: "/a::/b" }, "linux"), ["/a/zenity", "/b/zenity"]);
  const dir = tempDir(t);
  writeFileSync(join(dir, "zenity"), "", { mode: 0o755 });
  writeFileSync(join(dir, "kdialog"), "", { mode: 0o644 });
  assert.equal(findProgram("zenity", { PATH: `/nowhere:${dir}` }, "linux"), join(dir, "zenity"));
  assert.equal(findProgram("kdialog", { PATH: dir }, "linux"), undefined, "not executable");
  assert.equal(findProgram("zenity", {}, "linux"), undefined);
});
