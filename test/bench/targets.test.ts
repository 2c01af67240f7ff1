// The benchmark's targets (bench/targets.ts) judged on made-up medians: what counts as met.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  caseId,
  FULL_COMMANDS,
  judgeServer,
  judgeTargets,
  LOGIN_SIZES,
  missedTargets,
  SIZES,
  serverRoundMet,
  singleFlightMet,
} from "../../bench/targets";

/** Medians where every target is met with room: node -e 0 at 25 ms, true at 1 ms. */
function passing(): Map<string, number> {
  const medians = new Map<string, number>([
    ["node-e-0", 25],
    ["true", 1],
  ]);
  for (const size of SIZES) {
    for (const command of ["warm-cp", "warm-env"]) medians.set(caseId(command, size), 26);
    medians.set(caseId("warm-exec", size), 30);
    for (const command of [...FULL_COMMANDS, "status"])
      medians.set(caseId(command, size), size === 10_000 ? 60 : 45);
  }
  for (const size of LOGIN_SIZES) {
    medians.set(caseId("warm-cp-login", size), 26);
    medians.set(caseId("warm-cp-session", size), 26);
  }
  return medians;
}

function missed(medians: Map<string, number>): string[] {
  return judgeTargets(medians)
    .filter((target) => !target.met)
    .map((target) => target.text);
}

describe("benchmark targets", () => {
  test("all met when every figure is within its bound", () => {
    assert.deepEqual(missed(passing()), []);
  });

  test("warm credential-process: 1.10× at 2,000 profiles, 1.15× at 10,000", () => {
    const medians = passing();
    medians.set("warm-cp-2000", 27.6); // 1.104×
    medians.set("warm-cp-10000", 28.7); // 1.148×: met
    assert.deepEqual(missed(medians), ["warm `credential-process`, 2,000 profiles ≤ 1.10× `node -e 0`"]);
  });

  test("a role over an aws login session: the same target as the MFA warm path", () => {
    const medians = passing();
    medians.set("warm-cp-login-2000", 27.6); // 1.104×
    assert.deepEqual(missed(medians), [
      "warm `credential-process` of a role over an aws login session, 2,000 profiles ≤ 1.10× `node -e 0`",
    ]);
  });

  test("warm exec is judged against node -e 0 plus true alone", () => {
    const medians = passing();
    medians.set("warm-exec-10000", 32.5); // 1.25 × 26: met
    medians.set("warm-exec-2000", 32.6);
    assert.deepEqual(missed(medians), ["warm `exec -- true`, 2,000 profiles ≤ 1.25× (`node -e 0` + `true`)"]);
  });

  test("a full command at 10,000 profiles against its own time at 10", () => {
    const medians = passing();
    medians.set("plan-10000", 45 * 1.5 + 0.1);
    assert.deepEqual(missed(medians), ["`plan`, 10,000 profiles ≤ 1.5× its time at 10"]);
  });

  test("status at 10 profiles: 2× node -e 0", () => {
    const medians = passing();
    medians.set("status-10", 50.1);
    assert.deepEqual(missed(medians), ["`status`, 10 profiles ≤ 2× `node -e 0`"]);
  });

  test("status at 10,000 profiles: under 500 ms, however slow the floor", () => {
    const medians = passing();
    medians.set("node-e-0", 300);
    medians.set("status-10", 400);
    medians.set("status-10000", 500);
    assert.deepEqual(missed(medians), ["`status`, 10,000 profiles < 500 ms"]);
  });

  test("a case without a median is an error, not a pass", () => {
    const medians = passing();
    medians.delete("plan-10");
    assert.throws(() => judgeTargets(medians), /no median for case plan-10/);
  });
});

describe("single flight and the credentials server", () => {
  const round = (p99Ms: number, ok = 10_000) => ({ ok, requests: 10_000, p99Ms });
  const wrk = (...rounds: ReturnType<typeof round>[]) => ({
    measured: true as const,
    generator: "wrk" as const,
    rounds,
    p99Ms: Math.max(...rounds.map((r) => r.p99Ms)),
  });

  test("single flight: every call served, from exactly one GetSessionToken", () => {
    assert.equal(singleFlightMet({ successes: 50, getSessionToken: 1 }, 50), true);
    assert.equal(singleFlightMet({ successes: 49, getSessionToken: 1 }, 50), false);
    assert.equal(singleFlightMet({ successes: 50, getSessionToken: 2 }, 50), false);
    assert.equal(singleFlightMet({ successes: 50, getSessionToken: 0 }, 50), false);
  });

  test("a server round: p99 under 5 ms and every request answered", () => {
    assert.equal(serverRoundMet(round(4.99)), true);
    assert.equal(serverRoundMet(round(5)), false);
    assert.equal(serverRoundMet(round(1, 9_999)), false);
  });

  test("the server is judged under wrk only, on every round", () => {
    assert.equal(judgeServer(wrk(round(2), round(3))), true);
    assert.equal(judgeServer(wrk(round(2), round(5.5))), false);
    assert.equal(
      judgeServer({ ...wrk(round(9)), generator: "node" }),
      undefined,
      "the Node client is not judged",
    );
    assert.equal(judgeServer({ measured: false }), undefined);
  });

  test("missed: one line per target, the server's with its worst p99", () => {
    const startup = judgeTargets(passing());
    assert.deepEqual(missedTargets(startup, [true, true], wrk(round(2))), []);
    assert.deepEqual(missedTargets(startup, [true, false], { ...wrk(round(9)), generator: "node" }), [
      "concurrency: not 50/50 successes with exactly 1 GetSessionToken",
    ]);
    assert.deepEqual(missedTargets(startup, [true], wrk(round(2), round(6.25))), [
      "server: p99 6.25 ms ≥ 5 ms",
    ]);
  });
});
