// The benchmark's load function, run small: every answer is a 200 with credentials. No time is
// asserted here (a loaded CI machine says nothing about the server); bench/ records p50/p99.
import assert from "node:assert/strict";
import { test } from "node:test";
import { loadInProcessServer, percentile } from "./load";

test("1,000 requests at 50 concurrency all get credentials; percentiles are reported", async (t) => {
  const result = await loadInProcessServer({ requests: 1_000, concurrency: 50 });
  assert.equal(result.ok, 1_000, JSON.stringify(result.failures));
  assert.deepEqual(result.failures, {});
  assert.ok(result.p50Ms > 0 && result.p50Ms <= result.p99Ms && result.p99Ms <= result.maxMs);
  t.diagnostic(`p50 ${result.p50Ms.toFixed(2)} ms, p99 ${result.p99Ms.toFixed(2)} ms (not asserted)`);
});

test("percentile is nearest-rank", () => {
  const values = Array.from({ length: 100 }, (_, index) => index + 1);
  assert.equal(percentile(values, 50), 50);
  assert.equal(percentile(values, 99), 99);
  assert.equal(percentile([7], 99), 7);
  assert.equal(percentile([], 50), 0);
});
