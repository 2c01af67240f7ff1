// When the credentials server renews, at real sizes (12-hour MFA sessions, 1-hour roles), which
// the process tests cannot wait for: the schedule arithmetic, and the keeper's decisions with a
// clock set to the interesting moment and an obtain that records what it was asked.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, test } from "node:test";
import type { Plan } from "../../src/config/plan";
import { AppError } from "../../src/errors";
import { CredentialsKeeper } from "../../src/output/server-keeper";
import { leadSeconds, retryDelaySeconds, serveFloorSeconds } from "../../src/output/server-schedule";
import { type CacheEntry, writeEntry } from "../../src/session/cache";
import type { Obtained, ObtainOptions } from "../../src/session/obtain";
import { cacheableSteps } from "../../src/session/steps";

const HOUR = 3600;
const MINUTE = 60;

describe("schedule arithmetic", () => {
  test("a 1-hour role with the default --min-ttl: served down to 15 min, renewed 25 min before the end", () => {
    const floor = serveFloorSeconds(HOUR, 15 * MINUTE);
    assert.equal(floor, 15 * MINUTE);
    assert.equal(leadSeconds(HOUR, floor, false), 25 * MINUTE);
  });

  test("an MFA session asks for the code at least 10 minutes before its end, whatever its length", () => {
    for (const lifetime of [15 * MINUTE, HOUR, 12 * HOUR, 36 * HOUR]) {
      // Under a role: the role can be minted from it down to 60 s.
      assert.ok(leadSeconds(lifetime, 60, true) >= 10 * MINUTE, `${lifetime} s under a role`);
      // Handed out itself, with the default --min-ttl.
      const floor = serveFloorSeconds(lifetime, 15 * MINUTE);
      assert.ok(leadSeconds(lifetime, floor, true) >= 10 * MINUTE, `${lifetime} s handed out`);
    }
    assert.equal(leadSeconds(12 * HOUR, 60, true), 11 * MINUTE);
  });

  test("sessions of seconds (tests): renewed at half-life, served down to a quarter at most", () => {
    assert.equal(serveFloorSeconds(6, 1), 1);
    assert.equal(serveFloorSeconds(6, 15 * MINUTE), 1.5);
    assert.equal(leadSeconds(6, 1, false), 3);
    assert.equal(leadSeconds(40, 1, true), 32);
  });

  test("retries: quick for short sessions, backing off, bounded", () => {
    assert.equal(retryDelaySeconds(6, 1, false), 1);
    assert.equal(retryDelaySeconds(HOUR, 1, false), 30);
    assert.equal(retryDelaySeconds(HOUR, 20, false), 300);
    assert.equal(retryDelaySeconds(HOUR, 1, true), 30, "a code source: once per 30-second window");
    assert.equal(retryDelaySeconds(HOUR, 20, true), 600);
  });
});

const cacheDir = mkdtempSync(join(tmpdir(), "awsmfa-keeper-"));
after(() => rmSync(cacheDir, { recursive: true, force: true }));

const ROLE_PLAN: Plan = {
  profile: "admin",
  leaf: { type: "keys", profile: "alice", accessKeyId: "AKIAALICEEXAMPLE0001", secretAccessKey: "secret" },
  mfa: {
    type: "mfa-session",
    profile: "alice",
    serial: "arn:aws:iam::111111111111:mfa/alice",
    durationSeconds: 43200,
  },
  roles: [
    {
      type: "assume-role",
      profile: "admin",
      roleArn: "arn:aws:iam::111111111111:role/Admin",
      roleSessionName: null,
      externalId: null,
      durationSeconds: null,
    },
  ],
  chain: [{}, {}],
};

let keyCounter = 0;
function entry(
  kind: CacheEntry["kind"],
  now: number,
  lifetimeSeconds: number,
  leftSeconds: number,
): CacheEntry {
  const expiresAt = now + leftSeconds * 1000;
  return {
    version: 1,
    kind,
    profile: "admin",
    credentials: {
      accessKeyId: `ASIA${String(++keyCounter).padStart(16, "0")}`,
      secretAccessKey: "s",
      sessionToken: "t",
      expiration: new Date(expiresAt).toISOString(),
    },
    // What the entry was made for, as obtain() records it (a cache entry of another step is a miss).
    ...(kind === "mfa-session"
      ? { serial: ROLE_PLAN.mfa?.serial }
      : { roleArn: ROLE_PLAN.roles[0]?.roleArn }),
    createdAt: new Date(expiresAt - lifetimeSeconds * 1000).toISOString(),
  };
}

interface Call {
  roles: number;
  minTtlSeconds: number;
}

function keeperAt(
  options: {
    mfaLeft: number;
    mfaLifetime?: number;
    roleLeft: number;
    roleLifetime?: number;
    minTtl?: number;
  },
  obtain: (plan: Plan, options: ObtainOptions) => Promise<Obtained>,
) {
  const now = Date.now;
  const steps = cacheableSteps(ROLE_PLAN) ?? [];
  writeEntry(
    cacheDir,
    steps[0]?.key ?? "",
    entry("mfa-session", now(), options.mfaLifetime ?? 12 * HOUR, options.mfaLeft),
  );
  const messages: string[] = [];
  const keeper = new CredentialsKeeper({
    plan: ROLE_PLAN,
    entry: entry("assume-role", now(), options.roleLifetime ?? HOUR, options.roleLeft),
    minTtlSeconds: options.minTtl ?? 15 * MINUTE,
    env: { AWSMFA_CACHE_DIR: cacheDir },
    notify: (message) => messages.push(message),
    obtain,
    now,
  });
  return { keeper, messages, now };
}

function recorder(result: (plan: Plan) => Promise<Obtained>) {
  const calls: Call[] = [];
  const obtain = (plan: Plan, options: ObtainOptions): Promise<Obtained> => {
    calls.push({ roles: plan.roles.length, minTtlSeconds: options.minTtlSeconds });
    return result(plan);
  };
  return { calls, obtain };
}

const never = () => new Promise<Obtained>(() => {});
const tick = (ms = 50) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the keeper's decisions", () => {
  test("an MFA session with 10.5 min left under a role: the code is asked for now, for the MFA session alone", async () => {
    const { calls, obtain } = recorder(never);
    const { keeper } = keeperAt({ mfaLeft: 10.5 * MINUTE, roleLeft: 50 * MINUTE }, obtain);
    keeper.start();
    await tick();
    assert.deepEqual(calls, [{ roles: 0, minTtlSeconds: 631 }]);
    assert.ok("credentials" in keeper.answer(), "the role is still served meanwhile");
    assert.equal(keeper.stop(), true, "still waiting for the code");
  });

  test("an MFA session with 12 min left and a fresh role: nothing yet", async () => {
    const { calls, obtain } = recorder(never);
    const { keeper } = keeperAt({ mfaLeft: 12 * MINUTE, roleLeft: 50 * MINUTE }, obtain);
    keeper.start();
    await tick();
    assert.deepEqual(calls, []);
    assert.equal(keeper.stop(), false);
  });

  test("a role with 24 min left: re-minted silently, asking for more than it has", async () => {
    const { calls, obtain } = recorder(never);
    const { keeper } = keeperAt({ mfaLeft: 6 * HOUR, roleLeft: 24 * MINUTE }, obtain);
    keeper.start();
    await tick();
    assert.deepEqual(calls, [{ roles: 1, minTtlSeconds: 24 * MINUTE + 1 }]);
    keeper.stop();
  });

  test("a failing renewal: 503 RefreshFailed once the role is at its floor, reported once across retries", async () => {
    const failure = new AppError("assume-role-denied", "AWS refused AssumeRole for profile 'admin'.");
    const { calls, obtain } = recorder(() => Promise.reject(failure));
    const { keeper, messages } = keeperAt(
      { mfaLeft: 6 * HOUR, roleLeft: 3, roleLifetime: 8, minTtl: 1 },
      obtain,
    );
    keeper.start();
    await tick();
    assert.ok("credentials" in keeper.answer(), "3 s left, floor 1 s: still served");
    await tick(2_600);
    const answer = keeper.answer();
    assert.ok("code" in answer);
    assert.equal(answer.code, "RefreshFailed");
    assert.match(answer.message, /AWS refused AssumeRole for profile 'admin'/);
    assert.ok(calls.length >= 2, `${calls.length} attempts`);
    assert.equal(messages.filter((m) => m.startsWith("Could not renew")).length, 1, messages.join("\n"));
    keeper.stop();
  });

  test("expired role, MFA session nearly over, code source silent: 503 MfaCodeNeeded", async () => {
    const { obtain } = recorder(never);
    const { keeper } = keeperAt({ mfaLeft: 30, roleLeft: -1, minTtl: 1 }, obtain);
    keeper.start();
    await tick();
    const answer = keeper.answer();
    assert.ok("code" in answer);
    assert.equal(answer.code, "MfaCodeNeeded");
    keeper.stop();
  });
});

describe("the keeper over a session the aws CLI signed in", () => {
  const role = (name: string) => ({
    type: "assume-role" as const,
    profile: name,
    roleArn: `arn:aws:iam::111111111111:role/${name}`,
    roleSessionName: null,
    externalId: null,
    durationSeconds: null,
    maxDurationSeconds: 3600,
  });
  const ssoPlan = (roles: Plan["roles"]): Plan => ({
    profile: roles.at(-1)?.profile ?? "corp-dev",
    leaf: {
      type: "sso",
      profile: "corp-dev",
      detail: {
        sso_session: "corp",
        sso_account_id: "111111111111",
        sso_role_name: "Dev",
        sso_start_url: "https://d-1.awsapps.com/start",
        sso_region: "us-east-1",
      },
    },
    mfa: undefined,
    roles,
    chain: [{}, {}, {}],
  });

  function keeperOver(
    plan: Plan,
    held: CacheEntry,
    obtain: (plan: Plan, options: ObtainOptions) => Promise<Obtained>,
  ) {
    return new CredentialsKeeper({
      plan,
      entry: held,
      minTtlSeconds: 15 * MINUTE,
      env: { AWSMFA_CACHE_DIR: cacheDir },
      notify: () => {},
      obtain,
    });
  }

  test("two roles on the session, the top one fresh: nothing renewed, the lower role never taken for an MFA session", async () => {
    const { calls, obtain } = recorder(never);
    const keeper = keeperOver(
      ssoPlan([role("a"), role("b")]),
      entry("assume-role", Date.now(), HOUR, 50 * MINUTE),
      obtain,
    );
    keeper.start();
    await tick();
    assert.deepEqual(calls, []);
    assert.equal(keeper.stop(), false);
  });

  test("the session alone, a 15-minute token with 10 left: not renewed yet (a silent renewal waits for half its life)", async () => {
    const { calls, obtain } = recorder(never);
    const keeper = keeperOver(ssoPlan([]), entry("sso", Date.now(), 15 * MINUTE, 10 * MINUTE), obtain);
    keeper.start();
    await tick();
    assert.deepEqual(calls, []);
    keeper.stop();
  });

  test("a renewal that hands back the same session (its refresh failed, what is left kept) is retried, not taken", async () => {
    const held = entry("sso", Date.now(), 8, 3);
    const { calls, obtain } = recorder(async (plan) => ({ plan, entry: held, fromCache: false }));
    const messages: string[] = [];
    const keeper = new CredentialsKeeper({
      plan: ssoPlan([]),
      entry: held,
      minTtlSeconds: 1,
      env: { AWSMFA_CACHE_DIR: cacheDir },
      notify: (message) => messages.push(message),
      obtain,
    });
    keeper.start();
    await tick(1_500);
    keeper.stop();
    assert.ok(
      calls.length >= 1 && calls.length <= 3,
      `${calls.length} attempts in 1.5 s: backing off, not a loop`,
    );
    assert.match(messages.join("\n"), /could not be refreshed yet/);
  });
});
