// The benchmark's world: the project's strict STS server with one IAM user (and MFA device) per
// scenario, and isolated homes whose ~/.aws files hold a user profile and N role profiles on it.
// Each cold login or empty-cache run gets a user of its own, because the server (like AWS)
// refuses a second code from a TOTP step it has already accepted.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { pythonJson } from "../src/session/sources/cli-json";
import { loginTokenPath } from "../src/session/sources/login-session";
import { writeCodeScript } from "../test/support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../test/support/env";
import { AWSMFA, runAwsmfa } from "../test/support/run-awsmfa";
import {
  type RoleSpec,
  randomBase32Seed,
  type StsServer,
  startStsServer,
  type UserSpec,
} from "../test/support/sts-server";

export const ACCOUNT = "333333333333";
export { AWSMFA };

export interface BenchUser {
  name: string;
  serial: string;
  seed: string;
  accessKeyId: string;
  secretAccessKey: string;
}

export interface Home {
  user: BenchUser;
  iso: IsolatedEnv;
  /** The profile the scenario asks for: a role near the end of the config file. */
  profile: string;
  profileCount: number;
}

function user(name: string, index: number): BenchUser {
  const digits = String(index).padStart(8, "0");
  return {
    name,
    serial: `arn:aws:iam::${ACCOUNT}:mfa/${name}`,
    seed: randomBase32Seed(),
    accessKeyId: `AKIABENCH${digits}XYZ`.slice(0, 20),
    secretAccessKey: `bench/secret/${name}/EXAMPLE+${digits}`,
  };
}

export function roleArn(index: number): string {
  return `arn:aws:iam::${ACCOUNT}:role/BenchRole${index}`;
}

/** The role a scenario with `count` role profiles selects: the second-to-last one. */
export function targetRoleIndex(count: number): number {
  return Math.max(0, count - 2);
}

export class BenchWorld {
  private next = 0;
  private constructor(
    readonly server: StsServer,
    private readonly pool: BenchUser[],
  ) {}

  /** A server with `users` users (each with one MFA device) and every role a scenario can ask for. */
  static async start(users: number, roleCounts: number[]): Promise<BenchWorld> {
    const pool = Array.from({ length: users }, (_, index) => user(`bench${index}`, index));
    const roles: RoleSpec[] = [...new Set(roleCounts.map(targetRoleIndex))].map((index) => ({
      arn: roleArn(index),
      maxSessionDuration: 3600,
    }));
    const specs: UserSpec[] = pool.map((u) => ({
      userName: u.name,
      accessKeyId: u.accessKeyId,
      secretAccessKey: u.secretAccessKey,
      mfaDevices: [{ serial: u.serial, seed: u.seed }],
    }));
    const server = await startStsServer({ accountId: ACCOUNT, users: specs, roles });
    return new BenchWorld(server, pool);
  }

  /** A fresh home (empty cache) for a user not used before, with `roles` role profiles. */
  async home(roles: number, options: { mfaProcess?: boolean } = {}): Promise<Home> {
    const u = this.pool[this.next++];
    if (!u) throw new Error("bench: ran out of users; raise the pool size");
    const iso = await createIsolatedEnv({ endpointUrl: this.server.url });
    const mfaProcess = options.mfaProcess ? writeCodeScript(iso.home, u.seed).command : undefined;
    writeFileSync(iso.configPath, configText(u, roles, mfaProcess), { mode: 0o600 });
    writeFileSync(
      iso.credentialsPath,
      `[${u.name}]\naws_access_key_id = ${u.accessKeyId}\naws_secret_access_key = ${u.secretAccessKey}\n`,
      { mode: 0o600 },
    );
    return { user: u, iso, profile: `role-${targetRoleIndex(roles)}`, profileCount: roles };
  }

  /**
   * A home whose user signed in with `aws login` (no keys, no MFA device in the config) and `roles`
   * role profiles on that session, the target role already assumed once: its warm path.
   */
  async loginHome(roles: number): Promise<Home> {
    const u = this.pool[this.next++];
    if (!u) throw new Error("bench: ran out of users; raise the pool size");
    const iso = await createIsolatedEnv({ endpointUrl: this.server.url });
    const { loginSession, token } = this.server.signin.signIn(u.name);
    const tokenPath = loginTokenPath(loginSession, iso.env);
    mkdirSync(dirname(tokenPath), { recursive: true, mode: 0o700 });
    writeFileSync(tokenPath, pythonJson(token), { mode: 0o600 });
    writeFileSync(iso.configPath, configText(u, roles, undefined, loginSession), { mode: 0o600 });
    const home = { user: u, iso, profile: `role-${targetRoleIndex(roles)}`, profileCount: roles };
    for (const profile of [home.profile, u.name]) {
      const result = await runAwsmfa(["credential-process", "-p", profile], { env: iso.env });
      if (result.status !== 0)
        throw new Error(
          `bench: credential-process -p ${profile} failed (${result.status}): ${result.stderr}`,
        );
    }
    return home;
  }

  /** `awsmfa login -p <role> --token-code <code>` (async: the STS server lives in this process). */
  async login(home: Home): Promise<void> {
    const code = this.server.totp(home.user.seed);
    const result = await runAwsmfa(["login", "-p", home.profile, "--token-code", code], {
      env: home.iso.env,
    });
    if (result.status !== 0) throw new Error(`bench: login failed (${result.status}): ${result.stderr}`);
  }

  close(): Promise<void> {
    return this.server.close();
  }
}

/**
 * ~/.aws/config: the user's profile (mfa_serial, region, optionally mfa_process; its keys are in
 * the credentials file; or login_session, for a user signed in with `aws login`) then `roles` role
 * profiles on it, each with a few lines as in real configs.
 */
export function configText(u: BenchUser, roles: number, mfaProcess?: string, loginSession?: string): string {
  const source = loginSession
    ? `login_session = ${loginSession}\n`
    : `mfa_serial = ${u.serial}\n${mfaProcess ? `mfa_process = ${mfaProcess}\n` : ""}`;
  const parts = [
    `[default]\nregion = us-east-1\noutput = json\n`,
    `[profile ${u.name}]\n${source}region = eu-west-1\n`,
  ];
  for (let index = 0; index < roles; index++) {
    parts.push(
      `[profile role-${index}]\nrole_arn = ${roleArn(index)}\nsource_profile = ${u.name}\nregion = eu-west-${
        (index % 3) + 1
      }\n# team ${index % 17}, cost centre ${index % 101}\n`,
    );
  }
  return parts.join("\n");
}
