import type { SessionLeafStep } from "../config/plan";
import { AppError } from "../errors";
import { canOpenTerminal, openTerminal } from "../fsio/terminal";
import { tellStderr } from "../output/tell";
import { withoutPassphrase } from "../secrets/passphrase-variable";
import { signInArgs, signInCommand } from "../session/sources";
import { spawnChild } from "./child";

/**
 * `awsmfa login` on a profile over an `aws login` or IAM Identity Center session that only signing
 * in again can mend: runs the aws CLI's own sign-in command on the terminal, as the person would.
 * awsmfa never signs in itself: the browser, the console's MFA and the token file are the CLI's.
 */

/** `aws login` came with aws CLI 2.32; `aws sso login --sso-session` with 2.9. */
const LEAST_VERSION: Record<SessionLeafStep["type"], [number, number]> = {
  "login-session": [2, 32],
  sso: [2, 9],
};
const VERSION_TIMEOUT_MS = 30_000;
const INSTALL_URL = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html";

/**
 * Runs the sign-in command for `leaf` with the terminal as its stdin, stdout and stderr (its
 * prompts and the URL reach the person even when awsmfa's own output is redirected). `ended` is
 * the error that said the session must be signed in again: with no terminal it is what the
 * caller gets, unchanged (exit 10 and the command to run).
 */
export async function signInWithAwsCli(
  leaf: SessionLeafStep,
  ended: AppError,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  if (!canOpenTerminal()) throw ended;
  const command = signInCommand(leaf, env);
  await requireAwsCliV2(leaf, command, env);
  const terminal = openTerminal(process.platform);
  if (!terminal) throw ended;
  tellStderr(`${ended.message} Running \`${command}\`…`);
  // The command line names the profile or session; an AWS_PROFILE of the caller's must not change which.
  const childEnv = withoutPassphrase(env);
  delete childEnv.AWS_PROFILE;
  delete childEnv.AWS_DEFAULT_PROFILE;
  let outcome: Awaited<ReturnType<typeof spawnChild>>;
  try {
    outcome = await spawnChild("aws", signInArgs(leaf, env), childEnv, [
      terminal.input,
      terminal.output,
      terminal.output,
    ]);
  } finally {
    terminal.close();
  }
  if ("notStarted" in outcome) throw awsCliMissing(leaf, command);
  if (outcome.status === 0) return;
  const interrupted = outcome.status === 130;
  throw new AppError(
    interrupted ? "sign-in-interrupted" : "sign-in-failed",
    `\`${command}\` ${interrupted ? "was interrupted" : `failed (exit status ${outcome.status})`}, so profile '${leaf.profile}' is still signed out.`,
    {
      hint: `Run it yourself to see why: \`${command}\`.`,
    },
  );
}

/** `aws --version` says aws-cli/MAJOR.MINOR.PATCH (version 1 on stderr in its older releases). */
async function requireAwsCliV2(
  leaf: SessionLeafStep,
  command: string,
  env: NodeJS.ProcessEnv,
): Promise<void> {
  const { execFile } = process.getBuiltinModule("node:child_process");
  const output = await new Promise<string | undefined>((resolve) => {
    execFile("aws", ["--version"], { env, timeout: VERSION_TIMEOUT_MS }, (error, stdout, stderr) => {
      const text = `${stdout}${stderr}`;
      resolve(error && !/aws-cli\//.test(text) ? undefined : text);
    });
  });
  if (output === undefined) throw awsCliMissing(leaf, command);
  const match = /aws-cli\/(\d+)\.(\d+)\.(\d+)/.exec(output);
  const [major, minor] = match ? [Number(match[1]), Number(match[2])] : [0, 0];
  const [leastMajor, leastMinor] = LEAST_VERSION[leaf.type];
  if (major > leastMajor || (major === leastMajor && minor >= leastMinor)) return;
  const found = match ? `version ${match[1]}.${match[2]}.${match[3]}` : "of a version awsmfa cannot tell";
  const next =
    major === leastMajor
      ? `Update the aws CLI to ${leastMajor}.${leastMinor} or later`
      : "Install the aws CLI v2";
  throw new AppError(
    "aws-cli-too-old",
    `Profile '${leaf.profile}' must be signed in again with \`${command}\`, which needs the aws CLI ${leastMajor}.${leastMinor} or later; the aws CLI here is ${found}.`,
    { hint: `${next} (${INSTALL_URL}), then run \`${command}\`.` },
  );
}

function awsCliMissing(leaf: SessionLeafStep, command: string): AppError {
  return new AppError(
    "aws-cli-missing",
    `Profile '${leaf.profile}' must be signed in again with \`${command}\`, and there is no aws CLI here to run it.`,
    { hint: `Install the aws CLI v2 (${INSTALL_URL}), then run \`${command}\`.` },
  );
}
