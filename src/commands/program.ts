import { Argument, Command, Option } from "commander";
import { storeNames } from "../secrets";
import { COMPLETION_SHELLS, runCompletion } from "./completion";
import { runConsole } from "./console";
import { runCredentialProcess } from "./credential-process";
import { runEnv } from "./env";
import { runExec } from "./exec";
import { runKeysMove } from "./keys";
import { runLogin } from "./login";
import { runLogout } from "./logout";
import { runPlan } from "./plan";
import { runRotate } from "./rotate";
import { runServe } from "./serve";
import { runSetup } from "./setup";
import { runStatus } from "./status";
import { runTotpAdd, runTotpRemove } from "./totp";

declare const AWSMFA_VERSION: string;

const PROFILE_HELP = "profile to use (default: $AWS_PROFILE, else 'default')";
const SHELL_CHOICES = ["bash", "zsh", "fish", "powershell", "pwsh"] as const;
const MIN_TTL_HELP = "hand out credentials only with at least this much left (default 15m)";

/** The command definitions: help, completion and parsing all come from here. */
export function buildProgram(setExitStatus: (status: number) => void): Command {
  const program = new Command("awsmfa")
    .description(
      "MFA sessions for AWS IAM users: one code, every tool. Gets an STS session with your MFA code, " +
        "keeps it while it is valid, assumes roles on top of it without asking again, and hands the " +
        "credentials to the aws CLI, SDKs, shells and programs.",
    )
    .version(typeof AWSMFA_VERSION === "string" ? AWSMFA_VERSION : "dev", "-V, --version")
    .option("--debug", "print error details and stack traces (never secrets); allowed anywhere before --")
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  awsmfa login -p dev                       ask for a code once; the session lasts 12 h\n" +
        "  credential_process = awsmfa credential-process -p dev    in ~/.aws/config, for the aws CLI and SDKs\n" +
        '  eval "$(awsmfa env -p dev)"               export the session into this shell\n' +
        "  awsmfa exec -p prod-admin -- terraform plan\n" +
        "  awsmfa exec --server -p dev-admin -- ./nightly-job   keys renewed for as long as it runs\n" +
        "\nExit status: 0 ok, 1 failure, 2 usage, 3 config, 4 no way to get a code, 5 MFA code rejected,\n" +
        "6 AWS refused, 7 network, 8 lock wait timed out, 9 unsafe file permissions,\n" +
        "10 aws login / IAM Identity Center session ended (sign in again).",
    );

  program
    .command("plan")
    .description("show how a profile resolves: keys, MFA session, roles (no AWS calls)")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--json", "machine-readable output")
    .action((options) => runPlan(options));

  program
    .command("login")
    .description("get an MFA session now (and the role on top of it), asking for a code if needed")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--token-code <code>", "the six-digit MFA code, or - to read it from stdin")
    .option(
      "--duration <seconds>",
      "MFA session length, 900-129600 (default awsmfa_session_duration or 43200)",
    )
    .option("--force", "ignore cached sessions and start a new one")
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .option("--write-profile <name>", "also write the session to [name] in the credentials file")
    .action((options) => runLogin(options));

  program
    .command("credential-process")
    .description("print credentials as JSON for `credential_process` in ~/.aws/config")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .action((options) => runCredentialProcess(options));

  program
    .command("env")
    .description('print shell lines that export the session: eval "$(awsmfa env -p dev)"')
    .option("-p, --profile <name>", PROFILE_HELP)
    .addOption(
      new Option("--shell <shell>", "shell syntax (default from $SHELL)").choices([...SHELL_CHOICES]),
    )
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .action((options) => runEnv(options));

  program
    .command("exec")
    .description("run a command with the session in its environment; exits with its status")
    .usage("[options] -- <command> [args...]")
    .argument("<command...>", "the command and its arguments")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--force", "run even inside another `awsmfa exec`")
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .option("--server", "serve the credentials to the command from 127.0.0.1, renewed for as long as it runs")
    .passThroughOptions()
    .action(async (command: string[], options) => setExitStatus(await runExec(command, options)));

  program
    .command("serve")
    .description("serve the session on 127.0.0.1 to SDKs and the aws CLI, renewed in the background")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--port <port>", "port to listen on (default 0: any free one)")
    .option("--token-file <file>", "write the token to this 0600 file instead of printing it")
    .addOption(
      new Option("--shell <shell>", "shell syntax (default from $SHELL)").choices([...SHELL_CHOICES]),
    )
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .action((options) => runServe(options));

  program
    .command("status")
    .description("list profiles with MFA, their device and the time left on each cached step")
    .option("--json", "machine-readable output")
    .action((options) => runStatus(options));

  program
    .command("logout")
    .description("forget cached sessions of a profile, or all of them")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--all", "forget every cached session and remove every profile written with --write-profile")
    .option("--write-profile <name>", "also remove [name] that login --write-profile wrote")
    .action((options) => runLogout(options));

  program
    .command("setup")
    .description(
      "set up a profile: check the access key, find the MFA device, add roles, write ~/.aws (the diff is shown first), log in",
    )
    .option("-p, --profile <name>", "profile for the IAM user's keys (default: $AWS_PROFILE, else 'default')")
    .option("--access-key-id <id>", "the IAM user's access key ID (AKIA…)")
    .option(
      "--secret-access-key-stdin",
      "read the secret access key as one line from stdin (never give it in argv)",
    )
    .option(
      "--import-from-credentials [profile]",
      "use the keys already in the files (this profile's, or [profile]'s)",
    )
    .option("--mfa-serial <arn>", "the MFA device (default: the one IAM lists for the user)")
    .option(
      "--role <name=arn>",
      "add [profile NAME] that assumes role ARN on top of the keys (repeatable)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option(
      "--credential-process-profile <name>",
      "add [profile NAME] with credential_process = awsmfa credential-process -p P",
    )
    .option("--region <region>", "set region in the profile")
    .option("--yes", "ask nothing: write without confirmation; unanswered questions take their defaults")
    .option("--dry-run", "show the change to the files and stop")
    .option("--token-code <code>", "the MFA code for the final login, or - for the next line of stdin")
    .action((options) => runSetup(options));

  program
    .command("rotate")
    .description(
      "replace the profile's access key: create a new one, check it, store it where the old one was, delete the old one",
    )
    .option("-p, --profile <name>", PROFILE_HELP)
    .option(
      "--token-code <code>",
      "the six-digit MFA code (if a new MFA session is needed), or - to read it from stdin",
    )
    .option("--json", "also print the old and new access key IDs as JSON on stdout")
    .action((options) => runRotate(options));

  program
    .command("console")
    .description("sign in to the AWS console as a role profile's role, in the browser or as a URL")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--print", "print the sign-in URL on stdout instead of opening a browser")
    .option(
      "--duration <seconds>",
      "console session length, 900-43200 (default 43200; 3600 at most for a role assumed on a session)",
    )
    .option("--token-code <code>", "the six-digit MFA code if one is needed, or - to read it from stdin")
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .action((options) => runConsole(options));

  program
    .command("completion")
    .description("print a completion script for bash, zsh or fish")
    .addArgument(new Argument("[shell]", "the shell").choices([...COMPLETION_SHELLS]))
    .addOption(
      new Option("--list-profiles", "print the profile names, one a line (for the scripts)").hideHelp(),
    )
    .action((shell: string | undefined, options) => runCompletion(program, shell, options));

  const keys = program
    .command("keys")
    .description(
      "where a profile's long-term access keys are kept: credentials file, OS keyring, encrypted file",
    );
  keys
    .command("move")
    .description("move a profile's keys to another store; leaves no plaintext copy behind")
    .option("-p, --profile <name>", PROFILE_HELP)
    .addOption(
      new Option("--to <store>", "where to keep them: credentials file, OS keychain, encrypted file")
        .choices(storeNames())
        .makeOptionMandatory(),
    )
    .action((options) => runKeysMove(options));

  const totp = program
    .command("totp")
    .description("opt-in: keep the MFA device's TOTP seed so that awsmfa makes the codes itself");
  totp
    .command("add")
    .description("store the TOTP seed of the profile's MFA device (asked on the terminal, echo off)")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--stdin", "read the seed (base32, or an otpauth:// URI) from standard input")
    .addOption(
      new Option("--store <store>", "where to keep it (default: the keys' store, else encrypted)").choices(
        storeNames().filter((name) => name !== "file"),
      ),
    )
    .action((options) => runTotpAdd(options));
  totp
    .command("remove")
    .description("forget the stored TOTP seed of the profile's MFA device; codes are asked for again")
    .option("-p, --profile <name>", PROFILE_HELP)
    .addOption(
      new Option("--store <store>", "where to look (default: the profile's awsmfa_totp)").choices(
        storeNames().filter((name) => name !== "file"),
      ),
    )
    .action((options) => runTotpRemove(options));

  for (const command of program.commands) {
    command.showHelpAfterError(`Usage: awsmfa ${command.name()} ${command.usage()}\n(add --help for more)`);
  }
  return program;
}
