// Start-up: the cases timed in interleaved rounds — the floors, every command at each size of
// config (warm paths, full-CLI commands, the aws CLI's own), and a cold login against the local STS.
import { spawnSync } from "node:child_process";
import { AWSMFA, type Home } from "./fixture";
import { childEnv, expectCredentialJson, type StartupCase, startupCase } from "./measure";
import { NODE } from "./settings";
import { caseId, LOGIN_SIZES, SIZES } from "./targets";

/** Counted under valgrind too (slow: the 10,000-profile full commands are left out). */
export const INSTRUCTION_CASES = new Set([
  "node-e-0",
  "read-print",
  ...SIZES.flatMap((size) => ["warm-cp", "warm-env"].map((command) => caseId(command, size))),
  ...LOGIN_SIZES.flatMap((size) => [caseId("warm-cp-login", size), caseId("warm-cp-session", size)]),
  caseId("plan", 10),
  caseId("status", 10),
]);

/**
 * The aws CLI v2 to run, if one is installed: `aws` on PATH, or Debian's awscli package (v2) where
 * a v1 from pip comes first on PATH. v1 has no `configure export-credentials`.
 */
export function awsCliV2(): string | undefined {
  return ["aws", "/usr/bin/aws"].find((command) => {
    const result = spawnSync(command, ["--version"], { encoding: "utf8" });
    return result.status === 0 && /^aws-cli\/2\./.test(`${result.stdout}${result.stderr}`.trim());
  });
}

/** The aws CLI's own cases run in rounds of their own, after the others (bench/run.ts), so no "paired ×". */
export function measuredApart(id: string): boolean {
  return id.startsWith("aws-export");
}

/** The start-up cases of one logged-in home: the warm paths, the full-CLI commands, the aws CLI's own. */
export function sizeCases(home: Home, awsV2: string | undefined): StartupCase[] {
  const env = childEnv(home);
  const count = `${home.profileCount.toLocaleString("en")} role profiles`;
  const awsmfa = (id: string, label: string, args: string[]) =>
    startupCase(
      caseId(id, home.profileCount),
      `${label}, ${count}`,
      [NODE, AWSMFA, ...args],
      env,
      `node dist/awsmfa.cjs ${args.join(" ")}`,
    );
  const cp = awsmfa("warm-cp", "warm `credential-process`", ["credential-process", "-p", home.profile]);
  cp.check = expectCredentialJson;
  const shell = awsmfa("warm-env", "warm `env`", ["env", "-p", home.profile, "--shell", "bash"]);
  shell.check = (stdout) => {
    if (!/^export AWS_SESSION_TOKEN='/m.test(stdout)) throw new Error(`bench: env printed ${stdout}`);
  };
  const cases = [
    cp,
    shell,
    awsmfa("warm-exec", "warm `exec -- true`", ["exec", "-p", home.profile, "--", "true"]),
    awsmfa("status", "`status`", ["status"]),
    awsmfa("plan", "`plan`", ["plan", "-p", home.profile]),
    awsmfa("login", "`login` on a valid cache", ["login", "-p", home.profile]),
    awsmfa("completion", "`completion --list-profiles`", ["completion", "--list-profiles"]),
  ];
  if (awsV2 !== undefined) {
    const args = ["configure", "export-credentials", "--profile", home.user.name, "--format", "process"];
    const native = startupCase(
      caseId("aws-export", home.profileCount),
      `\`aws configure export-credentials\` (the user's keys), ${count}`,
      [awsV2, ...args],
      env,
      `aws ${args.join(" ")}`,
    );
    native.check = (stdout) => {
      if (!stdout.includes(home.user.accessKeyId)) throw new Error(`bench: aws printed ${stdout}`);
    };
    cases.push(native);
  }
  return cases;
}

/**
 * Warm `credential-process` over an `aws login` session: of a role on it (the same path as over an
 * MFA session), and of the session alone (what Terraform's `credential_process` profile runs).
 */
export function loginCases(home: Home): StartupCase[] {
  const count = `${home.profileCount.toLocaleString("en")} role profiles`;
  const warm = (id: string, label: string, profile: string) => {
    const args = ["credential-process", "-p", profile];
    const cp = startupCase(
      caseId(id, home.profileCount),
      `${label}, ${count}`,
      [NODE, AWSMFA, ...args],
      childEnv(home),
      `node dist/awsmfa.cjs ${args.join(" ")}`,
    );
    cp.check = expectCredentialJson;
    return cp;
  };
  return [
    warm("warm-cp-login", "warm `credential-process` of a role over an aws login session", home.profile),
    warm("warm-cp-session", "warm `credential-process` of an aws login session alone", home.user.name),
  ];
}
