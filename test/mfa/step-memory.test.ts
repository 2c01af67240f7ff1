import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { test } from "node:test";
import { AppError } from "../../src/errors";
import {
  getMfaCode,
  type MfaCode,
  type Runtime,
  recordCodeOutcome,
  recordCodeSending,
} from "../../src/mfa/index";
import { readStepMemory, STEP_MS, stepMemoryPath } from "../../src/mfa/step-memory";
import {
  codeSequence,
  FakeTerminal,
  fakeProgram,
  fakeRuntime,
  invocations,
  makeRequest,
  SERIAL,
  tempDir,
} from "./helpers";

const PATH = process.env.PATH ?? "/usr/bin:/bin";
const STEP = 56_666_666;

/** A clock that starts at `start` and that sleep() moves forward instead of waiting. */
function fakeClock(start: number) {
  const clock = { now: start, slept: [] as number[] };
  const runtime: Partial<Runtime> = {
    now: () => clock.now,
    sleep: async (ms) => {
      clock.slept.push(ms);
      clock.now += ms;
    },
  };
  return { clock, runtime };
}

function generatedCode(code: string, step: number): MfaCode {
  return { code, source: "mfa_process", interactive: false, step };
}

test("memory is one file per device, named by the serial's sha256, readable by the owner only", (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir);
  recordCodeOutcome(request, generatedCode("123456", STEP), true, { now: () => STEP * STEP_MS });
  const name = `mfa-step-${createHash("sha256").update(SERIAL).digest("hex")}.json`;
  assert.deepEqual(readdirSync(dir), [name]);
  assert.equal(statSync(join(dir, name)).mode & 0o777, 0o600);
  const text = readFileSync(join(dir, name), "utf8");
  assert.ok(!text.includes("123456"), "the code itself is not stored");
  assert.equal(readStepMemory(dir, SERIAL).acceptedStep, STEP);
  assert.deepEqual(readStepMemory(dir, "arn:aws:iam::123456789012:mfa/bob"), {});
});

test("a generated code in the step whose code was accepted waits for the next step, telling the terminal", async (t) => {
  const dir = tempDir(t);
  const { clock, runtime } = fakeClock(STEP * STEP_MS + 18_000);
  const runs = join(dir, "runs");
  const request = makeRequest(dir, {
    properties: { mfa_process: `echo run >> '${runs}'; echo 222222` },
    env: { PATH },
  });
  recordCodeOutcome(request, generatedCode("111111", STEP), true, runtime);
  const terminal = new FakeTerminal(true);
  let ranBeforeWaitEnded = true;
  const code = await getMfaCode(
    request,
    fakeRuntime({
      ...runtime,
      terminal,
      sleep: async (ms) => {
        ranBeforeWaitEnded = statSafe(runs);
        await runtime.sleep?.(ms);
      },
    }),
  );
  assert.deepEqual(clock.slept, [12_000]);
  assert.equal(ranBeforeWaitEnded, false, "the source is asked only once the step has passed");
  assert.deepEqual(terminal.told, [
    "awsmfa: the code of this 30-second window was already used; next code in 12 s",
  ]);
  assert.deepEqual(terminal.drawn, [], "a terminal that cannot redraw gets one line");
  assert.deepEqual(code, generatedCode("222222", STEP + 1));
  assert.equal(readFileSync(runs, "utf8"), "run\n");
});

test("on a terminal that can redraw a line, the wait is a countdown in place, erased at the end", async (t) => {
  const dir = tempDir(t);
  const { clock, runtime } = fakeClock(STEP * STEP_MS + 26_500);
  const request = makeRequest(dir, { properties: { mfa_process: "echo 222222" }, env: { PATH } });
  recordCodeOutcome(request, generatedCode("111111", STEP), true, runtime);
  const terminal = new FakeTerminal(true, [], true);
  const code = await getMfaCode(request, fakeRuntime({ ...runtime, terminal }));
  assert.deepEqual(clock.slept, [500, 1000, 1000, 1000]);
  const line = (seconds: number) =>
    `awsmfa: the code of this 30-second window was already used; next code in ${seconds} s`;
  assert.deepEqual(terminal.drawn, [line(4), line(3), line(2), line(1), ""]);
  assert.deepEqual(terminal.told, []);
  assert.equal(code.step, STEP + 1);
});

test("a rejected generated code's step is waited out as well", async (t) => {
  const dir = tempDir(t);
  const { clock, runtime } = fakeClock(STEP * STEP_MS + 29_500);
  const request = makeRequest(dir, { properties: { mfa_process: "echo 333333" }, env: { PATH } });
  recordCodeOutcome(request, generatedCode("111111", STEP), false, runtime);
  const code = await getMfaCode(request, fakeRuntime(runtime));
  assert.deepEqual(clock.slept, [500]);
  assert.equal(code.step, STEP + 1);
});

test("a generated code in a later step, or with memory from a clock far ahead, does not wait", async (t) => {
  const dir = tempDir(t);
  const request = makeRequest(dir, { properties: { mfa_process: "echo 444444" }, env: { PATH } });
  const later = fakeClock((STEP + 1) * STEP_MS);
  recordCodeOutcome(request, generatedCode("111111", STEP), true, later.runtime);
  assert.equal((await getMfaCode(request, fakeRuntime(later.runtime))).code, "444444");
  assert.deepEqual(later.clock.slept, []);

  const skewed = fakeClock(STEP * STEP_MS);
  recordCodeOutcome(request, generatedCode("111111", STEP + 5), true, skewed.runtime);
  assert.equal((await getMfaCode(request, fakeRuntime(skewed.runtime))).code, "444444");
  assert.deepEqual(skewed.clock.slept, []);
});

test("ykman is a generator too: same step waits before touching the key", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "ykman", "echo 555555");
  const { clock, runtime } = fakeClock(STEP * STEP_MS + 1_000);
  const request = makeRequest(dir, { properties: { awsmfa_prompt: "ykman" }, env: { PATH: dir } });
  recordCodeOutcome(request, generatedCode("111111", STEP), true, runtime);
  const code = await getMfaCode(request, fakeRuntime(runtime));
  assert.deepEqual(clock.slept, [29_000]);
  assert.deepEqual(code, { code: "555555", source: "ykman", interactive: false, step: STEP + 1 });
  assert.equal(invocations(dir, "ykman").length, 1);
});

test("a typed code equal to the one just accepted is refused with a message, and asked again", async (t) => {
  const dir = tempDir(t);
  fakeProgram(dir, "zenity", codeSequence(dir, "zenity", ["111111", "222222"]));
  const { runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir, {
    properties: { awsmfa_prompt: "zenity" },
    env: { PATH: dir, DISPLAY: ":0" },
  });
  recordCodeOutcome(request, { code: "111111", source: "zenity", interactive: true }, true, runtime);
  const code = await getMfaCode(request, fakeRuntime(runtime));
  assert.deepEqual(code, { code: "222222", source: "zenity", interactive: true });
  const texts = invocations(dir, "zenity").map((argv) => argv.find((arg) => arg.startsWith("--text=")));
  assert.equal(texts.length, 2);
  assert.ok(!texts[0]?.includes("just used"));
  assert.ok(texts[1]?.startsWith("--text=That code was just used; wait for the next one.\n"), texts[1]);
});

test("the same typed code is taken again once 90 s have passed", async (t) => {
  const dir = tempDir(t);
  const { clock, runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir);
  recordCodeOutcome(request, { code: "111111", source: "terminal", interactive: true }, true, runtime);
  clock.now += 90_000;
  const terminal = new FakeTerminal(true, ["111111"]);
  assert.equal((await getMfaCode(request, fakeRuntime({ ...runtime, terminal }))).code, "111111");
});

test("a typed code reused three times fails without being returned", async (t) => {
  const dir = tempDir(t);
  const { runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir);
  recordCodeOutcome(request, { code: "111111", source: "terminal", interactive: true }, true, runtime);
  const terminal = new FakeTerminal(true, ["111111", "111 111", "111111", "999999"]);
  await assert.rejects(getMfaCode(request, fakeRuntime({ ...runtime, terminal })), (error: unknown) => {
    assert.ok(error instanceof AppError);
    assert.equal(error.code, "code-reused");
    return true;
  });
  assert.equal(terminal.asked.length, 3);
  assert.ok(
    terminal.asked
      .slice(1)
      .every((question) => question.startsWith("That code was just used; wait for the next one.\n")),
  );
});

test("a rejected typed code does not block typing it again, and a damaged memory file is ignored", async (t) => {
  const dir = tempDir(t);
  const { runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir);
  recordCodeOutcome(request, { code: "111111", source: "terminal", interactive: true }, false, runtime);
  const retyped = new FakeTerminal(true, ["111111"]);
  assert.equal((await getMfaCode(request, fakeRuntime({ ...runtime, terminal: retyped }))).code, "111111");

  writeFileSync(stepMemoryPath(dir, SERIAL), "{not json");
  const terminal = new FakeTerminal(true, ["111111"]);
  assert.equal((await getMfaCode(request, fakeRuntime({ ...runtime, terminal }))).code, "111111");
});

test("a code recorded as sent with no answer (its sender died mid-call) is spent: a generator waits for the next step", async (t) => {
  const dir = tempDir(t);
  const { clock, runtime } = fakeClock(STEP * STEP_MS + 10_000);
  const request = makeRequest(dir, { properties: { mfa_process: "echo 222222" }, env: { PATH } });
  recordCodeSending(request, generatedCode("111111", STEP), runtime);
  const code = await getMfaCode(request, fakeRuntime(runtime));
  assert.deepEqual(clock.slept, [20_000]);
  assert.deepEqual(code, generatedCode("222222", STEP + 1));
});

test("a typed code recorded as sent with no answer is refused with a message, and asked again", async (t) => {
  const dir = tempDir(t);
  const { runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir);
  recordCodeSending(request, { code: "111111", source: "terminal", interactive: true }, runtime);
  const terminal = new FakeTerminal(true, ["111111", "222222"]);
  const code = await getMfaCode(request, fakeRuntime({ ...runtime, terminal }));
  assert.equal(code.code, "222222");
  assert.ok(
    terminal.asked[1]?.startsWith("That code was just used; wait for the next one.\n"),
    terminal.asked[1],
  );
});

test("AWS's answer replaces the record of the sending: a rejected typed code may be typed again", async (t) => {
  const dir = tempDir(t);
  const { runtime } = fakeClock(STEP * STEP_MS);
  const request = makeRequest(dir);
  const typed: MfaCode = { code: "111111", source: "terminal", interactive: true };
  recordCodeSending(request, typed, runtime);
  recordCodeOutcome(request, typed, false, runtime);
  const memory = readStepMemory(dir, SERIAL);
  assert.equal(memory.sentHash, undefined);
  assert.equal(memory.rejectedStep, STEP);
  const terminal = new FakeTerminal(true, ["111111"]);
  assert.equal((await getMfaCode(request, fakeRuntime({ ...runtime, terminal }))).code, "111111");
});

test("failing to keep the memory does not fail the caller", (t) => {
  const dir = tempDir(t);
  const request = makeRequest(join(dir, "does-not-exist"));
  assert.doesNotThrow(() => recordCodeSending(request, generatedCode("123456", STEP)));
  assert.doesNotThrow(() => recordCodeOutcome(request, generatedCode("123456", STEP), true));
});

function statSafe(path: string): boolean {
  try {
    statSync(path);
    return true;
  } catch {
    return false;
  }
}
