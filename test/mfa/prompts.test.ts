import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import type { AppError } from "../../src/errors";
import { getMfaCode } from "../../src/mfa/index";
import { isAppErrorWith } from "../support/app-error";
import { FakeTerminal, fakeProgram, fakeRuntime, invocations, makeRequest, SERIAL, tempDir } from "./helpers";

/** No argument of any run may carry the code: argv is visible to every user of the machine. */
function assertCodeNotInArgv(runs: string[][], code: string): void {
  for (const argv of runs)
    for (const arg of argv) assert.ok(!arg.includes(code), `argv carries the code: ${arg}`);
}

test("zenity is run with argv naming profile and device, and its answer is the code", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "printf '%s\\n' 482910");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "zenity" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  const code = await getMfaCode(request, fakeRuntime());
  assert.deepEqual(code, { code: "482910", source: "zenity", interactive: true });
  const runs = invocations(dir, "zenity");
  assert.equal(runs.length, 1);
  assert.deepEqual(runs[0]?.slice(0, 2), ["--entry", "--title=awsmfa: MFA code for profile 'dev'"]);
  assert.equal(runs[0]?.[2], `--text=MFA code for profile 'dev' (${SERIAL}):`);
  assertCodeNotInArgv(runs, "482910");
});

test("zenity text is Pango markup, so profile names are escaped", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "echo 482910");
  const request = makeRequest(dir, {
    profile: "a&b<c>",
    properties: { awsmfa_prompt: "zenity" },
    env: { PATH: dir, WAYLAND_DISPLAY: "wayland-0" },
  });
  await getMfaCode(request, fakeRuntime());
  assert.ok(invocations(dir, "zenity")[0]?.[2]?.includes("profile 'a&amp;b&lt;c&gt;'"));
});

test("a cancelled dialog is an AppError, not an empty code", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "exit 1");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "zenity" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  await assert.rejects(
    getMfaCode(request, fakeRuntime()),
    isAppErrorWith("code-cancelled", "noCode", "cancelled", "profile 'dev'"),
  );
});

test("a dialog program that fails otherwise is reported as a failure", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "exit 5");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "zenity" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  await assert.rejects(
    getMfaCode(request, fakeRuntime()),
    isAppErrorWith("prompt-failed", "noCode", "exit status 5"),
  );
});

test("a chosen dialog that is missing, or has no display, fails at once naming why", async (t) => {
  const dir = tempDir(t);
  const missing = makeRequest(dir, {
    properties: { awsmfa_prompt: "kdialog" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  await assert.rejects(
    getMfaCode(missing, fakeRuntime()),
    isAppErrorWith("no-code-source", "noCode", "profile 'dev'", 'awsmfa_prompt is "kdialog"', "not on PATH"),
  );
  fakeProgram(dir, "zenity", "echo 123456");
  const noDisplay = makeRequest(dir, { env: { PATH: dir, AWSMFA_PROMPT: "zenity" } });
  await assert.rejects(
    getMfaCode(noDisplay, fakeRuntime()),
    isAppErrorWith("no-code-source", "noCode", 'AWSMFA_PROMPT is "zenity"', "DISPLAY"),
  );
  assert.equal(invocations(dir, "zenity").length, 0);
});

test("kdialog gets an inputbox naming profile and device", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "kdialog", "echo 700001");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "kdialog" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  const code = await getMfaCode(request, fakeRuntime());
  assert.equal(code.code, "700001");
  const runs = invocations(dir, "kdialog");
  assert.deepEqual(runs[0], [
    "--title",
    "awsmfa: MFA code for profile 'dev'",
    "--inputbox",
    `MFA code for profile 'dev' (${SERIAL}):`,
  ]);
  assertCodeNotInArgv(runs, "700001");
});

test("osascript gets the text as a script argument, not inside the script", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "osascript", "echo 700002");
  const request = makeRequest(dir, {
    profile: `o"quote`,
    properties: { awsmfa_prompt: "osascript" },
    env: { PATH: dir },
  });
  const code = await getMfaCode(request, fakeRuntime({ platform: "darwin" }));
  assert.equal(code.code, "700002");
  const argv = invocations(dir, "osascript")[0] ?? [];
  assert.equal(argv.at(-1), `MFA code for profile 'o"quote' (${SERIAL}):`);
  const scripts = argv.filter((_, index) => argv[index - 1] === "-e");
  assert.ok(scripts.some((line) => line.includes("display dialog (item 1 of argv)")));
  assert.ok(scripts.every((line) => !line.includes("quote")));
  assertCodeNotInArgv([argv], "700002");
});

test("powershell gets the text through the environment", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "powershell", `printf '%s' "$AWSMFA_DIALOG_TEXT" > '${join(dir, "text")}'\necho 700003`);
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "powershell" }, env: { PATH: dir } });
  const code = await getMfaCode(request, fakeRuntime());
  assert.equal(code.code, "700003");
  const argv = invocations(dir, "powershell")[0] ?? [];
  assert.deepEqual(argv.slice(0, 3), ["-NoProfile", "-NonInteractive", "-Command"]);
  assert.ok(argv[3]?.includes("InputBox($env:AWSMFA_DIALOG_TEXT"));
  assert.equal(readFileSync(join(dir, "text"), "utf8"), `MFA code for profile 'dev' (${SERIAL}):`);
  assertCodeNotInArgv([argv], "700003");
});

test("ykman asks for the account named after the device, telling the terminal to touch the key", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "ykman", "echo 800001");
  const terminal = new FakeTerminal(true);
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "ykman" }, env: { PATH: dir } });
  const now = 1_700_000_000_000;
  const code = await getMfaCode(request, fakeRuntime({ terminal, now: () => now }));
  assert.deepEqual(code, {
    code: "800001",
    source: "ykman",
    interactive: false,
    step: Math.floor(now / 30_000),
  });
  assert.deepEqual(invocations(dir, "ykman"), [["oath", "accounts", "code", "--single", "alice"]]);
  assert.equal(terminal.told.length, 1);
  assert.match(terminal.told[0] ?? "", /^Touch your YubiKey.*profile 'dev'.*'alice'/);
});

test("ykman uses awsmfa_ykman_account when set, and reports what ykman said on failure", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "ykman", "echo 'Error: No YubiKey detected!' >&2\nexit 2");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "ykman", awsmfa_ykman_account: "Amazon Web Services:alice@123456789012" },
    env: { PATH: dir },
  });
  await assert.rejects(
    getMfaCode(request, fakeRuntime()),
    isAppErrorWith("ykman-failed", "noCode", "No YubiKey detected", "profile 'dev'"),
  );
  assert.deepEqual(invocations(dir, "ykman")[0]?.at(-1), "Amazon Web Services:alice@123456789012");
});

test("auto picks the terminal when there is one, even with a display and zenity", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "echo 111111");
  const terminal = new FakeTerminal(true, ["222222"]);
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "auto" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  const code = await getMfaCode(request, fakeRuntime({ terminal }));
  assert.deepEqual(code, { code: "222222", source: "terminal", interactive: true });
  assert.deepEqual(terminal.asked, [`MFA code for profile 'dev' (${SERIAL}): `]);
  assert.equal(invocations(dir, "zenity").length, 0);
});

test("auto without a terminal picks zenity, then kdialog, when there is a display", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "kdialog", "echo 333333");
  const request = makeRequest(dir, { env: { PATH: dir, DISPLAY: ":0", AWSMFA_PROMPT: "auto" } });
  assert.equal((await getMfaCode(request, fakeRuntime())).source, "kdialog");
  fakeProgram(dir, "zenity", "echo 444444");
  assert.equal((await getMfaCode(request, fakeRuntime())).source, "zenity");
});

test("auto picks osascript on macOS and powershell on Windows, never a dialog elsewhere without a display", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "osascript", "echo 555555");
  fakeProgram(dir, "powershell", "echo 666666");
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "auto" }, env: { PATH: dir } });
  assert.equal((await getMfaCode(request, fakeRuntime({ platform: "darwin" }))).source, "osascript");
  await assert.rejects(
    getMfaCode(request, fakeRuntime({ platform: "linux" })),
    isAppErrorWith("no-code-source", "noCode", 'awsmfa_prompt is "auto"', "terminal, zenity, kdialog"),
  );
  assert.equal(invocations(dir, "powershell").length, 0);
});

test("the profile's awsmfa_prompt wins over AWSMFA_PROMPT", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "echo 111111");
  fakeProgram(dir, "kdialog", "echo 222222");
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "kdialog" },
    env: { PATH: dir, DISPLAY: ":0", AWSMFA_PROMPT: "zenity" },
  });
  assert.equal((await getMfaCode(request, fakeRuntime())).source, "kdialog");
});

test("an unknown awsmfa_prompt is a config error listing the known ones", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "carrier-pigeon" } });
  await assert.rejects(getMfaCode(request, fakeRuntime()), (error: unknown) => {
    isAppErrorWith("bad-prompt", "config", "carrier-pigeon")(error);
    const hint = (error as AppError).hint ?? "";
    for (const name of ["terminal", "zenity", "kdialog", "osascript", "powershell", "ykman", "auto"]) {
      assert.ok(hint.includes(name), `hint lacks ${name}`);
    }
    return true;
  });
});

test("the terminal prompt shows the notice before the question", async (t) => {
  const dir = tempDir(t);
  const terminal = new FakeTerminal(true, ["246802"]);
  const request = makeRequest(dir, { notice: "That code was not accepted." });
  const code = await getMfaCode(request, fakeRuntime({ terminal }));
  assert.equal(code.code, "246802");
  assert.deepEqual(terminal.asked, [`That code was not accepted.\nMFA code for profile 'dev' (${SERIAL}): `]);
});

test("a typed answer with spaces is taken; one that is not six digits is asked again, three times at most", async (t) => {
  const dir = tempDir(t);
  const spaced = new FakeTerminal(true, ["12345", "123 456"]);
  assert.equal((await getMfaCode(makeRequest(dir), fakeRuntime({ terminal: spaced }))).code, "123456");
  assert.equal(spaced.asked.length, 2);
  assert.ok(spaced.asked[1]?.startsWith("That is not a six-digit code.\n"));

  const hopeless = new FakeTerminal(true, ["x", "", "1234567"]);
  await assert.rejects(
    getMfaCode(makeRequest(dir), fakeRuntime({ terminal: hopeless })),
    isAppErrorWith("bad-code", "usage", "the terminal"),
  );
  assert.equal(hopeless.asked.length, 3);
});
