import { spawn } from "node:child_process";
import type { Plan } from "../config/plan";
import { AppError } from "../errors";
import { spinWhileWaiting } from "../output/spinner";
import { tellStderr } from "../output/tell";
import { credentialsFor } from "../session/credentials-for";
import type { SessionCredentials } from "../sts/credentials";
import type { ConsoleOptions } from "./console.command";
import { parseMinTtl } from "./min-ttl";
import { loadPlan, selectedProfile } from "./profile-plans";

/**
 * `awsmfa console -p P [--print]`: the AWS console, signed in as the role of a role profile,
 * through the federation endpoint (getSigninToken, then a login URL). AWS takes role sessions
 * there, never GetSessionToken sessions: an IAM user's MFA session cannot sign in to the console.
 */

/** The console session AWS allows with credentials of a role assumed from another session (role chaining). */
export const CHAINED_CONSOLE_MAX_SECONDS = 3600;
const CONSOLE_MIN_SECONDS = 900;
const CONSOLE_MAX_SECONDS = 43200;
/** How long a browser opener may run before it counts as having opened the browser (xdg-open may wait for it). */
const OPENER_WAIT_MS = 3000;
/** The sign-in URL works for 15 minutes; a role session with less than that left is renewed first. */
const CONSOLE_MIN_TTL_SECONDS = 15 * 60;

interface Partition {
  signin: string;
  console: string;
}

const PARTITIONS: Record<string, Partition> = {
  aws: { signin: "https://signin.aws.amazon.com/federation", console: "https://console.aws.amazon.com/" },
  "aws-cn": { signin: "https://signin.amazonaws.cn/federation", console: "https://console.amazonaws.cn/" },
  "aws-us-gov": {
    signin: "https://signin.amazonaws-us-gov.com/federation",
    console: "https://console.amazonaws-us-gov.com/",
  },
};

export async function runConsole(options: ConsoleOptions): Promise<void> {
  const env = process.env;
  const plan = loadPlan(selectedProfile(options.profile, env), env);
  const role = plan.roles.at(-1);
  if (!role) throw notARole(plan);
  const chained = isChained(plan);
  const sessionDurationSeconds = consoleDuration(options.duration, chained, plan);
  const minTtlSeconds = Math.max(parseMinTtl(options.minTtl), CONSOLE_MIN_TTL_SECONDS);

  const spinner = spinWhileWaiting();
  let url: string;
  try {
    const { entry } = await credentialsFor(plan, {
      minTtlSeconds,
      tokenCode: options.tokenCode,
      takesTokenCode: true,
      notify: (message) => {
        spinner.clear();
        tellStderr(message);
      },
    });
    const partition = partitionOf(role.roleArn);
    const federationUrl = env.AWSMFA_FEDERATION_URL || partition.signin;
    const sts = await import("../sts/client");
    const token = await sts.getSigninToken(
      entry.credentials as SessionCredentials,
      { federationUrl, sessionDurationSeconds },
      { region: "us-east-1", env },
      { profile: plan.profile, roleArn: role.roleArn },
    );
    url = loginUrl(federationUrl, partition.console, token);
  } finally {
    spinner.stop();
  }

  const lasts = `${Math.round(sessionDurationSeconds / 60)} min`;
  if (options.print) {
    process.stdout.write(`${url}\n`);
    tellStderr(
      `Sign-in URL for profile '${plan.profile}' (${role.roleArn}): open it within 15 minutes; the console session lasts ${lasts}. It is a credential: do not share it.`,
    );
    return;
  }
  const opened = await openInBrowser(url);
  if (opened) {
    tellStderr(
      `Opened the AWS console for profile '${plan.profile}' (${role.roleArn}); the session lasts ${lasts}.`,
    );
    return;
  }
  process.stdout.write(`${url}\n`);
  tellStderr(
    `No browser could be opened here (${opener().command} failed); open the URL above within 15 minutes. It is a credential: do not share it.`,
  );
}

/**
 * Role chaining: the role's credentials were got with session credentials (the MFA session, or
 * another role's). Every awsmfa role on an MFA session is one; a role assumed directly with the
 * long-term keys (awsmfa_session = false, or no MFA at all) is not.
 */
export function isChained(plan: Plan): boolean {
  return plan.roles.length > 1 || plan.mfa !== undefined;
}

function consoleDuration(text: string | undefined, chained: boolean, plan: Plan): number {
  const max = chained ? CHAINED_CONSOLE_MAX_SECONDS : CONSOLE_MAX_SECONDS;
  if (text === undefined) return max;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < CONSOLE_MIN_SECONDS || seconds > CONSOLE_MAX_SECONDS) {
    throw new AppError(
      "bad-console-duration",
      `--duration must be a whole number of seconds from ${CONSOLE_MIN_SECONDS} to ${CONSOLE_MAX_SECONDS}.`,
    );
  }
  if (seconds > max) {
    throw new AppError(
      "console-duration-chained",
      `Profile '${plan.profile}' assumes its role with session credentials (role chaining), and AWS refuses a console session longer than ${CHAINED_CONSOLE_MAX_SECONDS} s for such a role; --duration ${seconds} would fail.`,
      {
        hint: `Use --duration ${CHAINED_CONSOLE_MAX_SECONDS} or less, or set awsmfa_session = false on [profile ${plan.profile}] so that the role is assumed directly with the code (then up to ${CONSOLE_MAX_SECONDS} s).`,
      },
    );
  }
  return seconds;
}

function loginUrl(federationUrl: string, destination: string, token: string): string {
  const url = new URL(federationUrl);
  url.search = "";
  url.searchParams.set("Action", "login");
  url.searchParams.set("Issuer", "awsmfa");
  url.searchParams.set("Destination", destination);
  url.searchParams.set("SigninToken", token);
  return url.toString();
}

function partitionOf(roleArn: string): Partition {
  const name = roleArn.split(":")[1] ?? "aws";
  return PARTITIONS[name] ?? (PARTITIONS.aws as Partition);
}

function notARole(plan: Plan): AppError {
  const user = plan.leaf.profile;
  return new AppError(
    "console-needs-role",
    `Profile '${plan.profile}' is an IAM user's MFA session (GetSessionToken), and AWS does not let such a session sign in to the console: the federation endpoint takes only role (or federated-user) sessions.`,
    {
      hint: `Sign in as the IAM user with its password and MFA device at https://<account>.signin.aws.amazon.com/console, or add a role profile (role_arn = …, source_profile = ${user}) and run \`awsmfa console -p <that profile>\`.`,
    },
  );
}

function opener(): { command: string; args: string[] } {
  switch (process.platform) {
    case "darwin":
      return { command: "open", args: [] };
    case "win32":
      // `start` is a cmd built-in that mangles & in URLs; the URL handler takes them as they are.
      return { command: "rundll32", args: ["url.dll,FileProtocolHandler"] };
    default:
      return { command: "xdg-open", args: [] };
  }
}

function openInBrowser(url: string): Promise<boolean> {
  const { command, args } = opener();
  return new Promise((resolve) => {
    let child: ReturnType<typeof spawn>;
    try {
      child = spawn(command, [...args, url], { stdio: "ignore", detached: true });
    } catch {
      resolve(false);
      return;
    }
    // xdg-open may stay until the browser it started exits: still running after a while means it opened.
    const timer = setTimeout(() => {
      child.unref();
      resolve(true);
    }, OPENER_WAIT_MS);
    const settle = (opened: boolean) => {
      clearTimeout(timer);
      resolve(opened);
    };
    child.once("error", () => settle(false));
    child.once("exit", (code) => settle(code === 0));
  });
}
