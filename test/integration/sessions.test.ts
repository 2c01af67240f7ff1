import assert from "node:assert/strict";
import { readFileSync, statSync, writeFileSync } from "node:fs";
import { describe, test } from "node:test";
import { ALICE_CONFIG, KEYS, ROLE, SERIAL, useAliceWorld } from "../support/alice-world";
import { cacheEntryFiles, createIsolatedEnv } from "../support/env";
import { processCredentials, runAwsmfa } from "../support/run-awsmfa";
import { randomBase32Seed } from "../support/sts-server";

const SEED = randomBase32Seed();

const CREDENTIALS = `[alice]
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key = ${KEYS.secretAccessKey}
`;

const world = useAliceWorld({ seed: SEED, config: ALICE_CONFIG, credentials: CREDENTIALS });

/** The instant an expiry text names: "2026-11-30 16:03:27 UTC-05:00" (or "… UTC"), in ms. */
function instantOf(text: string): number {
  const [day, time, zone] = text.split(" ") as [string, string, string];
  return Date.parse(`${day}T${time}${zone === "UTC" ? "Z" : zone.slice(3)}`);
}

/** Cached credentials (the MFA step memory beside them holds no secret). */
describe("one code serves every command and role", () => {
  test("login makes one GetSessionToken; credential-process, env, exec and a role reuse it", async () => {
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(login.stdout, "");
    assert.match(login.stderr, /Logged in: profile 'alice' as arn:aws:iam::111111111111:user\/alice/);
    assert.equal(world.server.accepted.GetSessionToken, 1);

    const process1 = await runAwsmfa(["credential-process", "-p", "alice"], { env: world.home.env });
    const json = processCredentials(process1);
    assert.match(json.AccessKeyId, /^ASIA/);
    const issued = world.server.issued.find((c) => c.accessKeyId === json.AccessKeyId);
    assert.equal(issued?.kind, "GetSessionToken");

    const env = await runAwsmfa(["env", "-p", "alice", "--shell", "bash"], {
      env: { ...world.home.env, AWS_REGION: "" },
    });
    assert.equal(env.status, 0, env.stderr);
    assert.match(env.stdout, new RegExp(`^export AWS_ACCESS_KEY_ID='${json.AccessKeyId}'$`, "m"));
    assert.match(env.stdout, /^export AWS_REGION='eu-central-1'$/m);
    assert.match(env.stdout, /^unset AWS_PROFILE$/m);

    const exec = await runAwsmfa(
      [
        "exec",
        "-p",
        "alice",
        "--",
        process.execPath,
        "-e",
        "process.stdout.write(process.env.AWS_SESSION_TOKEN); process.exit(7)",
      ],
      { env: { ...world.home.env, AWS_PROFILE: "someone-else" } },
    );
    assert.equal(exec.status, 7, "exec exits with the child's status");
    assert.equal(exec.stdout, json.SessionToken);

    const role1 = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assert.equal(role1.status, 0, role1.stderr);
    const role2 = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assert.equal(JSON.parse(role2.stdout).AccessKeyId, JSON.parse(role1.stdout).AccessKeyId);
    assert.equal(world.server.calls.GetSessionToken, 1, "no further GetSessionToken");
    assert.equal(world.server.accepted.AssumeRole, 1, "one AssumeRole, reused");
    const roleCreds = world.server.issued.find((c) => c.accessKeyId === JSON.parse(role1.stdout).AccessKeyId);
    assert.equal(roleCreds?.roleSessionName, "awsmfa-alice");
  });

  test("a role that lasts less than --min-ttl (900 s under 15 min) is reused, not minted on every call", async () => {
    const config = `${ALICE_CONFIG}\n[profile short]\nrole_arn = ${ROLE}\nsource_profile = alice\nduration_seconds = 900\n`;
    const { writeFileSync } = await import("node:fs");
    writeFileSync(world.home.configPath, config);
    const login = await runAwsmfa(["login", "-p", "short", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const first = await runAwsmfa(["credential-process", "-p", "short"], { env: world.home.env });
    const second = await runAwsmfa(["credential-process", "-p", "short"], { env: world.home.env });
    assert.equal(JSON.parse(second.stdout).AccessKeyId, JSON.parse(first.stdout).AccessKeyId);
    assert.equal(world.server.accepted.AssumeRole, 1);
  });

  test("the cache directory is 0700 and its entries 0600", async () => {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    assert.equal(statSync(world.home.cacheDir).mode & 0o777, 0o700);
    const files = cacheEntryFiles(world.home);
    assert.equal(files.length, 2, "the MFA session and the role");
    for (const name of files) assert.equal(statSync(`${world.home.cacheDir}/${name}`).mode & 0o777, 0o600);
  });

  test("a wrong code exits non-zero, names the profile, leaves no cache file", async () => {
    const wrong = world.server.totp(SEED) === "000000" ? "111111" : "000000";
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", wrong], { env: world.home.env });
    assert.equal(login.status, 5);
    assert.match(login.stderr, /AWS rejected the MFA code for profile 'admin'/);
    assert.deepEqual(cacheEntryFiles(world.home), []);
    assert.equal(world.server.calls.GetSessionToken, 1, "a code from a flag is never retried");
  });

  test("a malformed code is refused before any AWS call", async () => {
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", "12345"], { env: world.home.env });
    assert.equal(login.status, 2);
    assert.equal(world.server.requests.length, 0);
  });

  test("--duration is checked before any AWS call", async () => {
    const login = await runAwsmfa(["login", "-p", "alice", "--duration", "60", "--token-code", "123456"], {
      env: world.home.env,
    });
    assert.equal(login.status, 2);
    assert.match(login.stderr, /--duration must be a whole number of seconds from 900 to 129600/);
    assert.equal(world.server.requests.length, 0);
  });

  test("--token-code - reads the code from stdin; --duration sets the session length", async () => {
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", "-", "--duration", "3600"], {
      env: world.home.env,
      input: `${world.server.totp(SEED)}\n`,
    });
    assert.equal(login.status, 0, login.stderr);
    const issued = world.server.issued.find((c) => c.kind === "GetSessionToken");
    const seconds = ((issued?.expiration.getTime() ?? 0) - Date.now()) / 1000;
    assert.ok(seconds > 3500 && seconds <= 3600, `session of ${seconds} s`);
  });

  test("--force starts a new session even when one is cached", async () => {
    const first = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(first.status, 0, first.stderr);
    const again = await runAwsmfa(["login", "-p", "alice", "--token-code", "-"], {
      env: world.home.env,
      input: "",
    });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already has a session/);
    assert.equal(world.server.calls.GetSessionToken, 1);
    const next = world.server.totp(SEED, world.server.now() + 30_000);
    const forced = await runAwsmfa(["login", "-p", "alice", "--force", "--token-code", next], {
      env: world.home.env,
    });
    assert.equal(forced.status, 0, forced.stderr);
    assert.equal(world.server.calls.GetSessionToken, 2);
  });

  test("no code source without a terminal fails at once with the ways to give one", async () => {
    const cp = await runAwsmfa(["credential-process", "-p", "alice"], { env: world.home.env });
    assert.equal(cp.status, 4);
    assert.equal(cp.stdout, "");
    assert.match(cp.stderr, /profile 'alice'/);
    assert.match(cp.stderr, /--token-code/);
    assert.match(cp.stderr, /mfa_process/);
    assert.equal(world.server.calls.GetSessionToken ?? 0, 0);
  });

  test("login gives the expiry once, in local time with its offset from UTC", async () => {
    const env = { ...world.home.env, TZ: "America/New_York", LANG: "C.UTF-8" };
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
    const times = login.stderr.match(/\d\d:\d\d:\d\d/g) ?? [];
    assert.equal(times.length, 1, login.stderr);
    const expires =
      /^ {2}expires {2}(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC-0[45]:00) \(in 1[12] h \d+ min\)$/m.exec(
        login.stderr,
      );
    assert.ok(expires, login.stderr);
    assert.equal(instantOf(expires[1] as string), world.server.issued.at(-1)?.expiration.getTime());
    assert.doesNotMatch(login.stderr, /valid until/);
    const again = await runAwsmfa(["login", "-p", "alice"], { env });
    assert.equal(again.status, 0, again.stderr);
    assert.match(again.stderr, /already has a session: arn:aws:iam::111111111111:user\/alice\. Use --force/);
    assert.equal((again.stderr.match(/\d\d:\d\d:\d\d/g) ?? []).length, 1, again.stderr);
  });

  test("plan gives each expiry in local time with its offset, a half-hour one too", async () => {
    const env = { ...world.home.env, TZ: "Asia/Kolkata" };
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
    const plan = await runAwsmfa(["plan", "-p", "alice"], { env });
    assert.equal(plan.status, 0, plan.stderr);
    const until = /valid until (\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC\+05:30) \(in 1[12] h \d+ min\)$/m.exec(
      plan.stdout,
    );
    assert.ok(until, plan.stdout);
    assert.equal(instantOf(until[1] as string), world.server.issued.at(-1)?.expiration.getTime());
  });

  test("plan shows what the cache holds: a code is asked for only when no session is cached", async () => {
    const env = { ...world.home.env, TZ: "UTC" };
    const before = await runAwsmfa(["plan", "-p", "admin"], { env });
    assert.equal(before.status, 0, before.stderr);
    assert.match(before.stdout, /MFA session \(GetSessionToken\) with \S+, 43200 s — not cached$/m);
    assert.match(before.stdout, /^Next use asks for an MFA code \(`awsmfa login -p admin` asks now\)\.$/m);
    const login = await runAwsmfa(["login", "-p", "alice", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
    const requestsAfterLogin = world.server.requests.length;

    const admin = await runAwsmfa(["plan", "-p", "admin"], { env });
    assert.equal(admin.status, 0, admin.stderr);
    assert.match(admin.stdout, /43200 s — cached, valid until .+\bUTC \(in 1[12] h \d+ min\)$/m);
    assert.match(admin.stdout, /for profile 'admin' — not cached$/m);
    assert.match(admin.stdout, /^Next use needs no code: it builds on the cached MFA session\.$/m);
    assert.doesNotMatch(admin.stdout, /asks/);
    const alice = await runAwsmfa(["plan", "-p", "alice"], { env });
    assert.match(alice.stdout, /^Next use is served from the cache\.$/m);

    const json = await runAwsmfa(["plan", "-p", "admin", "--json"], { env });
    const plan = JSON.parse(json.stdout);
    assert.equal(plan.asksForCode, false);
    const [keys, session, role] = plan.steps;
    assert.equal(keys.cache, undefined, "the keys are not cached");
    assert.equal(session.cache.usable, true);
    assert.equal(Date.parse(session.cache.expiration), world.server.issued.at(-1)?.expiration.getTime());
    assert.ok(session.cache.secondsLeft > 11 * 3600);
    assert.equal(role.cache, null);
    assert.equal(world.server.requests.length, requestsAfterLogin, "plan calls nobody");
  });

  test("status lists the profiles and the time left; logout forgets", async () => {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const status = await runAwsmfa(["status", "--json"], { env: world.home.env });
    assert.equal(status.status, 0, status.stderr);
    const rows = JSON.parse(status.stdout).profiles as {
      profile: string;
      device: string;
      steps: { type: string; secondsLeft: number | null }[];
    }[];
    assert.deepEqual(
      rows.map((row) => row.profile),
      ["admin", "alice"],
    );
    const admin = rows.find((row) => row.profile === "admin");
    assert.equal(admin?.device, SERIAL);
    assert.ok((admin?.steps[1]?.secondsLeft ?? 0) > 3000);
    const logout = await runAwsmfa(["logout", "-p", "admin"], { env: world.home.env });
    assert.equal(logout.status, 0, logout.stderr);
    assert.match(logout.stderr, /Forgot 2 cached steps/);
    assert.deepEqual(cacheEntryFiles(world.home), []);
  });

  test("status and login tell one story: no config → setup; a profile without a session → login -p P", async (t) => {
    const empty = await createIsolatedEnv({ endpointUrl: world.server.url });
    const keysOnly = await createIsolatedEnv({
      endpointUrl: world.server.url,
      credentials: `[bob]\naws_access_key_id = AKIABOBEXAMPLE000001\naws_secret_access_key = bob/secret\n`,
    });
    t.after(() => Promise.all([empty.cleanup(), keysOnly.cleanup()]));

    const newUser = await runAwsmfa(["status"], { env: empty.env });
    assert.equal(newUser.status, 0, newUser.stderr);
    assert.match(
      newUser.stdout,
      /^No profile is set up for awsmfa yet: `awsmfa setup` asks for your access key/,
    );
    const newLogin = await runAwsmfa(["login"], { env: empty.env });
    assert.equal(newLogin.status, 3);
    assert.match(newLogin.stderr, /`awsmfa setup`/);

    const withKeys = await runAwsmfa(["status"], { env: keysOnly.env });
    assert.match(
      withKeys.stdout,
      /^No profile names an MFA device yet: `awsmfa login -p bob` finds the device/,
    );

    const configured = await runAwsmfa(["status"], { env: world.home.env });
    assert.match(
      configured.stdout,
      /^No session for 'admin', 'alice': `awsmfa login -p admin` starts one \(one code\)\.$/m,
    );
    const suggested = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(suggested.status, 0, suggested.stderr);
    const after = await runAwsmfa(["status"], { env: world.home.env });
    assert.doesNotMatch(after.stdout, /No session/);
    assert.match(after.stdout, /^ {2}assume-role {2}admin +\d+ min left$/m);
  });

  test("logout -p ROLE forgets the whole chain and names the profiles that now need a code", async () => {
    writeFileSync(
      world.home.configPath,
      `${ALICE_CONFIG}\n[profile ops]\nrole_arn = ${ROLE}\nsource_profile = alice\nrole_session_name = ops\n`,
    );
    const env = { ...world.home.env, TZ: "UTC" };
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], { env });
    assert.equal(login.status, 0, login.stderr);
    const ops = await runAwsmfa(["login", "-p", "ops"], { env });
    assert.equal(ops.status, 0, ops.stderr);
    assert.equal(cacheEntryFiles(world.home).length, 3);

    const logout = await runAwsmfa(["logout", "-p", "admin"], { env });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(logout.stdout, "");
    assert.equal(
      logout.stderr.replace(/until .+ \(in \d+ min\)/, "until WHEN"),
      [
        "awsmfa: Forgot 2 cached steps of profile 'admin':",
        `awsmfa:   the role ${ROLE} of profile 'admin'`,
        `awsmfa:   the MFA session of profile 'alice' (device ${SERIAL})`,
        "awsmfa: Profile 'alice' built on that MFA session and now asks for an MFA code on next use.",
        "awsmfa: 'ops' keeps its cached credentials until WHEN, then asks for a code.",
        "awsmfa: (`awsmfa logout -p admin --role-only` forgets only the role credentials of 'admin' and keeps the MFA session.)",
        "",
      ].join("\n"),
    );
    assert.equal(cacheEntryFiles(world.home).length, 1, "ops's role credentials stay");
    const alice = await runAwsmfa(["credential-process", "-p", "alice"], { env });
    assert.equal(alice.status, 4, "alice needs a code again, and there is no terminal");
    const stillOps = await runAwsmfa(["credential-process", "-p", "ops"], { env });
    assert.equal(stillOps.status, 0, stillOps.stderr);
  });

  test("logout --role-only forgets the role credentials and keeps the MFA session", async () => {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", world.server.totp(SEED)], {
      env: world.home.env,
    });
    assert.equal(login.status, 0, login.stderr);
    const logout = await runAwsmfa(["logout", "-p", "admin", "--role-only"], { env: world.home.env });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(
      logout.stderr,
      `awsmfa: Forgot 1 cached step of profile 'admin':\nawsmfa:   the role ${ROLE} of profile 'admin'\n`,
    );
    assert.equal(cacheEntryFiles(world.home).length, 1);
    const again = await runAwsmfa(["credential-process", "-p", "admin"], { env: world.home.env });
    assert.equal(again.status, 0, again.stderr);
    assert.equal(world.server.calls.GetSessionToken, 1, "no new MFA session, so no code");
    assert.equal(world.server.accepted.AssumeRole, 2);

    const noRole = await runAwsmfa(["logout", "-p", "alice", "--role-only"], { env: world.home.env });
    assert.equal(noRole.status, 2);
    assert.match(noRole.stderr, /Profile 'alice' has no role of its own: its cached step is the MFA session/);
    assert.match(noRole.stderr, /awsmfa logout -p alice$/m);
    const both = await runAwsmfa(["logout", "--all", "--role-only"], { env: world.home.env });
    assert.equal(both.status, 2);
    assert.equal(cacheEntryFiles(world.home).length, 2, "a refused logout forgets nothing");
  });

  test("--write-profile writes the session to the credentials file; logout removes it", async () => {
    const before = readFileSync(world.home.credentialsPath, "utf8");
    const login = await runAwsmfa(
      ["login", "-p", "alice", "--token-code", world.server.totp(SEED), "--write-profile", "alice-mfa"],
      {
        env: world.home.env,
      },
    );
    assert.equal(login.status, 0, login.stderr);
    const written = readFileSync(world.home.credentialsPath, "utf8");
    assert.ok(written.startsWith(before), "the existing profiles are untouched");
    assert.match(written, /\[alice-mfa\]\naws_access_key_id = ASIA/);
    assert.equal(statSync(world.home.credentialsPath).mode & 0o777, 0o600);
    const clobber = await runAwsmfa(["login", "-p", "alice", "--write-profile", "alice"], {
      env: world.home.env,
    });
    assert.equal(clobber.status, 3, "never overwrites a profile awsmfa did not write");
    const logout = await runAwsmfa(["logout", "-p", "alice", "--write-profile", "alice-mfa"], {
      env: world.home.env,
    });
    assert.equal(logout.status, 0, logout.stderr);
    assert.equal(readFileSync(world.home.credentialsPath, "utf8"), before);
  });

  test("exec refuses to nest unless --force", async () => {
    const nested = await runAwsmfa(["exec", "-p", "alice", "--", "true"], {
      env: { ...world.home.env, AWSMFA_EXEC_PROFILE: "alice" },
    });
    assert.equal(nested.status, 2);
    assert.match(nested.stderr, /Already inside `awsmfa exec`/);
  });

  test("credential_process pointing at itself is a clear error, not a loop", async () => {
    const env = await createIsolatedEnv({
      endpointUrl: world.server.url,
      config: "[profile self]\ncredential_process = awsmfa credential-process -p self\n",
    });
    try {
      const cp = await runAwsmfa(["credential-process", "-p", "self"], { env: env.env });
      assert.equal(cp.status, 3);
      assert.match(cp.stderr, /leads back into awsmfa/);
    } finally {
      await env.cleanup();
    }
  });
});
