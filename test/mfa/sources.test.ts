import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { test } from "node:test";
import type { AppError } from "../../src/errors";
import { getMfaCode } from "../../src/mfa/index";
import { shellCommand } from "../../src/mfa/process";
import { isAppErrorWith } from "../support/app-error";
import { createIsolatedEnv } from "../support/env";
import { AWSMFA } from "../support/run-awsmfa";
import { endsWithin, fakeRuntime, grandchildCommand, makeRequest, tempDir } from "./helpers";

const PATH = process.env.PATH ?? "/usr/bin:/bin";

test("--token-code gives its code, before any configured mfa_process", async (t) => {
  const dir = tempDir(t);
  const marker = join(dir, "ran");
  const request = makeRequest(dir, {
    tokenCode: "123456",
    properties: { mfa_process: `touch '${marker}'; echo 999999` },
    env: { PATH },
  });
  const code = await getMfaCode(request, fakeRuntime());
  assert.deepEqual(code, { code: "123456", source: "token-code", interactive: false });
  assert.equal(existsSync(marker), false, "mfa_process must not run when --token-code is given");
});

test("a --token-code that is not six digits is a usage error naming the flag, not echoing the value", async (t) => {
  const dir = tempDir(t);
  for (const bad of ["12345", "1234567", "12345a", "AKIAEXAMPLE"]) {
    await assert.rejects(
      getMfaCode(makeRequest(dir, { tokenCode: bad }), fakeRuntime()),
      (error: unknown) =>
        isAppErrorWith("bad-code", "usage", "--token-code", "profile 'dev'")(error) &&
        !(error as AppError).message.includes(bad),
    );
  }
});

test("--token-code - reads the first line of stdin without waiting for its end", async (t) => {
  const dir = tempDir(t);
  const stdin = new Readable({ read() {} });
  stdin.push("654321\r\nsecond line\n");
  const code = await getMfaCode(makeRequest(dir, { tokenCode: "-" }), fakeRuntime({ stdin }));
  assert.deepEqual(code, { code: "654321", source: "stdin", interactive: false });
});

test("--token-code - with empty stdin is a bad code from standard input", async (t) => {
  const dir = tempDir(t);
  const stdin = Readable.from([]);
  await assert.rejects(
    getMfaCode(makeRequest(dir, { tokenCode: "-" }), fakeRuntime({ stdin })),
    isAppErrorWith("bad-code", "usage", "standard input"),
  );
});

test("mfa_process output is trimmed and its step recorded", async (t) => {
  const dir = tempDir(t);
  const now = 1_700_000_000_000;
  const request = makeRequest(dir, {
    properties: { mfa_process: "printf '  %s\\n' \"$CODE_TO_PRINT\"" },
    env: { PATH, CODE_TO_PRINT: "135790" },
  });
  const code = await getMfaCode(request, fakeRuntime({ now: () => now }));
  assert.deepEqual(code, {
    code: "135790",
    source: "mfa_process",
    interactive: false,
    step: Math.floor(now / 30_000),
  });
});

test("mfa_process that runs too long is killed and reported, without waiting for it", async (t) => {
  const dir = tempDir(t);
  const marker = join(dir, "finished");
  const request = makeRequest(dir, {
    properties: { mfa_process: `sleep 3; touch '${marker}'; echo 123456` },
    env: { PATH },
  });
  await assert.rejects(
    getMfaCode(request, fakeRuntime({ processTimeoutMs: 200 })),
    isAppErrorWith("mfa-process-timeout", "noCode", "profile 'dev'", "0.2 s"),
  );
  assert.equal(existsSync(marker), false);
});

test("mfa_process that runs too long is ended with everything it started", async (t) => {
  const dir = tempDir(t);
  const pidFile = join(dir, "grandchild.pid");
  const request = makeRequest(dir, {
    properties: { mfa_process: grandchildCommand(pidFile) },
    env: { PATH },
  });
  await assert.rejects(
    getMfaCode(request, fakeRuntime({ processTimeoutMs: 1500 })),
    isAppErrorWith("mfa-process-timeout", "noCode"),
  );
  const grandchild = Number(readFileSync(pidFile, "utf8"));
  t.after(() => {
    try {
      process.kill(grandchild, "SIGKILL");
    } catch {
      // ended, as it should have
    }
  });
  assert.ok(await endsWithin(grandchild, 5000), `the mfa_process's child (pid ${grandchild}) still runs`);
});

test("awsmfa ended by SIGTERM while its mfa_process runs ends the mfa_process and what it started", async (t) => {
  // Nothing is sent anywhere: the code is never printed, so no STS call is made.
  const home = await createIsolatedEnv({ endpointUrl: "http://127.0.0.1:9" });
  t.after(() => home.cleanup());
  const pidFile = join(home.home, "grandchild.pid");
  writeFileSync(
    home.configPath,
    `[profile dev]\nmfa_serial = arn:aws:iam::123456789012:mfa/dev\nmfa_process = ${grandchildCommand(pidFile)}\n`,
  );
  writeFileSync(
    home.credentialsPath,
    "[dev]\naws_access_key_id = AKIADEVEXAMPLE000001\naws_secret_access_key = dev/secret\n",
    {
      mode: 0o600,
    },
  );
  const awsmfa = spawn(process.execPath, [AWSMFA, "credential-process", "-p", "dev"], {
    env: home.env,
    stdio: "ignore",
    detached: true,
  });
  const ended = new Promise<NodeJS.Signals | null>((resolve) =>
    awsmfa.on("close", (_code, signal) => resolve(signal)),
  );
  const deadline = Date.now() + 20_000;
  while (!existsSync(pidFile) || readFileSync(pidFile, "utf8").trim() === "") {
    assert.ok(Date.now() < deadline, "the mfa_process never started");
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const grandchild = Number(readFileSync(pidFile, "utf8"));
  t.after(() => {
    try {
      process.kill(grandchild, "SIGKILL");
    } catch {
      // ended, as it should have
    }
  });
  awsmfa.kill("SIGTERM");
  assert.equal(await ended, "SIGTERM", "awsmfa still ends by the signal");
  assert.ok(await endsWithin(grandchild, 5000), `the mfa_process's child (pid ${grandchild}) still runs`);
});

test("mfa_process printing without end is cut off at the output bound", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { mfa_process: "yes 123456" }, env: { PATH } });
  await assert.rejects(
    getMfaCode(request, fakeRuntime({ maxOutputBytes: 4096 })),
    isAppErrorWith("mfa-process-output", "noCode", "4096 bytes"),
  );
});

test("mfa_process output that is not six digits is rejected without being echoed", async (t) => {
  const dir = tempDir(t);
  for (const output of ["abcdef", "12345", "123 456", "1234567"]) {
    const request = makeRequest(dir, { properties: { mfa_process: `echo '${output}'` }, env: { PATH } });
    await assert.rejects(
      getMfaCode(request, fakeRuntime()),
      (error: unknown) =>
        isAppErrorWith("bad-code", "usage", "mfa_process")(error) &&
        !(error as AppError).message.includes(output),
    );
  }
});

test("mfa_process that fails reports its exit status", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { mfa_process: "echo 123456; exit 3" }, env: { PATH } });
  await assert.rejects(
    getMfaCode(request, fakeRuntime()),
    isAppErrorWith("mfa-process-failed", "noCode", "exit status 3"),
  );
});

test("the shell for mfa_process is /bin/sh -c on POSIX and cmd.exe /d /s /c on Windows", () => {
  assert.deepEqual(shellCommand("op item get x --otp", "linux", {}), {
    file: "/bin/sh",
    args: ["-c", "op item get x --otp"],
    windowsVerbatimArguments: false,
  });
  assert.deepEqual(shellCommand("op item get x --otp", "darwin", {}).file, "/bin/sh");
  assert.deepEqual(shellCommand("op item get x --otp", "win32", {}), {
    file: "cmd.exe",
    args: ["/d", "/s", "/c", '"op item get x --otp"'],
    windowsVerbatimArguments: true,
  });
  assert.equal(
    shellCommand("x", "win32", { ComSpec: "C:\\Windows\\system32\\cmd.exe" }).file,
    "C:\\Windows\\system32\\cmd.exe",
  );
});
