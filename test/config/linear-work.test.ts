// Every command is linear in the number of profiles and parses each profile file at most once
// (the config file not at all while it is unchanged: its parsed profiles are cached).
// Counted, not timed: each command runs over a 10,000-profile config (role profiles on one user,
// as the benchmark builds them) in a child that counts what it did (fixtures/count-work.ts):
// parses per file, plan resolutions, and keys listed by Object.keys/entries/values, where a scan
// of all profiles per profile (status resolving every profile, each listing them all) shows as N².
// The config is the one README recommends, grown: the user, its roles, and a profile for the aws
// CLI whose credential_process is awsmfa's own.
import assert from "node:assert/strict";
import { appendFileSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, test } from "node:test";
import { BenchWorld, type Home } from "../../bench/fixture";
import { runProcess } from "../support/run-awsmfa";
import type { CountedWork } from "./fixtures/count-work";

const ROLES = 10_000;
/** README's `[profile dev-cli]`: what the aws CLI uses, through awsmfa. */
const CLI_PROFILE =
  "[profile role-cli]\ncredential_process = awsmfa credential-process -p role-1\nregion = eu-west-1\n";
/** [default], the user's profile, the roles, and role-cli. */
const PROFILES = ROLES + 3;
const COUNTER = join(__dirname, "fixtures", "count-work.ts");

let world: BenchWorld;
let home: Home;

before(async () => {
  world = await BenchWorld.start(1, [ROLES]);
  home = await world.home(ROLES);
  appendFileSync(home.iso.configPath, `\n${CLI_PROFILE}`);
  await world.login(home);
});
after(async () => {
  await home?.iso.cleanup();
  await world?.close();
});

async function counted(command: string, profile = home.profile): Promise<CountedWork> {
  const out = join(home.iso.home, `work-${command}.json`);
  const args = { profile, user: home.user.name, serial: home.user.serial };
  const env: NodeJS.ProcessEnv = { ...home.iso.env };
  delete env.NODE_OPTIONS;
  const result = await runProcess(
    process.execPath,
    ["--import", "tsx", COUNTER, command, out, JSON.stringify(args)],
    { env, timeoutMs: 120_000 },
  );
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(readFileSync(out, "utf8")) as CountedWork;
}

/** The config file's parsed profiles kept in the cache directory (src/config/parsed-config.ts). */
function removeParsedConfig(): void {
  for (const name of readdirSync(home.iso.cacheDir))
    if (name.startsWith("config-")) rmSync(join(home.iso.cacheDir, name));
}

/**
 * Each profile file parsed at most once, at most `resolutions` plan resolutions, and at most
 * `perProfile` keys listed per profile.
 */
function assertLinear(work: CountedWork, resolutions: number, perProfile = 10): void {
  for (const path of [home.iso.configPath, home.iso.credentialsPath]) {
    assert.ok((work.parses[path] ?? 0) <= 1, `${path} parsed ${work.parses[path]} times`);
  }
  assert.ok(
    work.resolutions <= resolutions,
    `${work.resolutions} plan resolutions, at most ${resolutions} expected`,
  );
  assert.ok(
    work.keysListed <= perProfile * PROFILES,
    `${work.keysListed} keys listed for ${PROFILES} profiles: a scan of all profiles per profile?`,
  );
}

describe(`every command is linear in the profiles (${PROFILES} of them)`, () => {
  test("status: one parse of each file, one resolution per profile", async () => {
    removeParsedConfig(); // so that this run parses the config file, and the count is seen to count
    const work = await counted("status");
    assertLinear(work, PROFILES);
    const { profiles } = JSON.parse(work.stdout) as { profiles: unknown[] };
    assert.equal(profiles.length, ROLES + 2, "every role, the user and role-cli");
    assert.equal(work.parses[home.iso.configPath], 1);
  });

  test("plan: one parse of each file, one resolution", async () => {
    const work = await counted("plan");
    assertLinear(work, 1);
    assert.match(work.stdout, new RegExp(`Profile '${home.profile}'`));
  });

  test("an unchanged config file is read back from awsmfa's cache, not parsed; a changed one is parsed", async () => {
    assert.equal((await counted("plan")).parses[home.iso.configPath], undefined, "unchanged since status");
    appendFileSync(home.iso.configPath, "# changed\n");
    assert.equal((await counted("plan")).parses[home.iso.configPath], 1, "changed: parsed again");
    assert.equal((await counted("plan")).parses[home.iso.configPath], undefined, "unchanged again");
  });

  test("plan and login over an unchanged config read back only the profiles the chain visits", async () => {
    for (const command of ["plan", "login"]) {
      const work = await counted(command);
      assert.equal(work.parses[home.iso.configPath], undefined, `${command}: the stored parse is used`);
      assert.equal(work.resolutions, 1, command);
      // The role profile and its user: not the other 10,000.
      assert.ok(work.storedProfilesRead <= 3, `${command}: ${work.storedProfilesRead} profiles read back`);
    }
    // README's way in: role-cli's credential_process names role-1, which names the user.
    const viaCli = await counted("plan", "role-cli");
    assert.equal(viaCli.parses[home.iso.configPath], undefined, "plan -p role-cli: the stored parse is used");
    assert.ok(
      viaCli.storedProfilesRead <= 4,
      `plan -p role-cli: ${viaCli.storedProfilesRead} profiles read back`,
    );
    const status = await counted("status");
    assert.equal(status.parses[home.iso.configPath], undefined, "status: the stored parse is used");
    assert.equal(status.storedProfilesRead, PROFILES, "the counter-check: status reads every profile back");
  });

  test("completion's profile list: one parse of each file, no resolution", async () => {
    const work = await counted("completion");
    assertLinear(work, 0);
    assert.equal(work.stdout.split("\n").filter(Boolean).length, PROFILES);
  });

  test("setup --dry-run: one parse of each file, no resolution", async () => {
    const work = await counted("setup-dry-run");
    assert.match(work.stdout, /^$/, "the diff goes to stderr");
    // The SDK's client reads ~/.aws/config for its own settings: about 40 keys per profile, once.
    assertLinear(work, 0, 50);
  });

  test("login on a valid cache: one parse of each file, one resolution, no AWS call", async () => {
    const calls = { ...world.server.calls };
    const work = await counted("login");
    assertLinear(work, 1);
    assert.deepEqual(world.server.calls, calls, "answered from the cache");
  });

  test("logout --all: at most one parse of each file, no resolution", async () => {
    const work = await counted("logout-all");
    assertLinear(work, 0);
  });

  test("credential-process the warm path cannot answer: the full path takes the plan it read", async () => {
    // A profile whose credentials awsmfa does not make: the warm path reads its plan and misses.
    appendFileSync(home.iso.configPath, "[profile elsewhere]\ncredential_process = /bin/false\n");
    const work = await counted("credential-process-cold", "elsewhere");
    assertLinear(work, 1);
    assert.equal(work.parses[home.iso.credentialsPath], 1);
  });
});
