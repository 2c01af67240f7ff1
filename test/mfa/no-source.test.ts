import assert from "node:assert/strict";
import { test } from "node:test";
import { AppError, ExitStatus } from "../../src/errors";
import { describeCodeSources, getMfaCode } from "../../src/mfa/index";
import { fakeProgram, fakeRuntime, invocations, makeRequest, tempDir } from "./helpers";

test("describeCodeSources lists every way, in the order they are tried", (t) => {
  const request = makeRequest(tempDir(t), { profile: "dev", takesTokenCode: true });
  const lines = describeCodeSources(request).split("\n");
  assert.equal(lines[0], "Give the MFA code one of these ways:");
  const starts = lines.slice(1).map((line) => line.trim().split(/\s+/).slice(0, 2).join(" "));
  assert.deepEqual(starts, [
    "--token-code 123456",
    "--token-code -",
    "mfa_process =",
    "awsmfa totp",
    "awsmfa_prompt =",
  ]);
  assert.match(lines[4] ?? "", /^ {4}awsmfa totp add -p dev +keeps/);
  assert.ok(lines[5]?.includes("terminal, zenity, kdialog, osascript, powershell, ykman, auto"));
  assert.ok(lines[5]?.includes("AWSMFA_PROMPT"));
});

test("a command without --token-code is sent to `awsmfa login -p PROFILE --token-code`, then back", (t) => {
  const request = makeRequest(tempDir(t), { profile: "prod-admin" });
  const lines = describeCodeSources(request).split("\n");
  assert.match(
    lines[1] ?? "",
    /^ {4}awsmfa login -p prod-admin --token-code 123456 +the code on the command line; then run this command again$/,
  );
  assert.match(
    lines[2] ?? "",
    /^ {4}awsmfa login -p prod-admin --token-code - +the code as one line on standard input; then run this command again$/,
  );
  assert.ok(!lines.some((line) => /^\s+--token-code/.test(line)), "no bare flag the command would reject");
});

test("with no terminal and nothing configured, a dialog is not tried: it fails naming the profile", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", "echo 123456");
  const request = makeRequest(dir, { profile: "prod-admin", env: { PATH: dir, DISPLAY: ":0" } });
  await assert.rejects(getMfaCode(request, fakeRuntime()), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "no-code-source");
    assert.equal(error.status, ExitStatus.noCode);
    assert.equal(
      error.message,
      "No way to get an MFA code for profile 'prod-admin': there is no terminal to ask on, and nothing else is configured.",
    );
    assert.equal(error.hint, describeCodeSources(request));
    return true;
  });
  assert.equal(invocations(dir, "zenity").length, 0);
});

test("awsmfa_prompt = terminal with no terminal fails at once, saying so", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "terminal" } });
  await assert.rejects(getMfaCode(request, fakeRuntime()), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "no-code-source");
    assert.match(
      error.message,
      /profile 'dev': awsmfa_prompt is "terminal" but there is no terminal to ask on\.$/,
    );
    return true;
  });
});
