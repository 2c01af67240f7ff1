import { Command, Option } from "commander";
import { runCredentialProcess } from "./credential-process";
import { runEnv } from "./env";
import { runExec } from "./exec";
import { runLogin } from "./login";
import { runLogout } from "./logout";
import { runPlan } from "./plan";
import { runStatus } from "./status";

declare const AWSMFA_VERSION: string;

const PROFILE_HELP = "profile to use (default: $AWS_PROFILE, else 'default')";
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
        "\nExit status: 0 ok, 1 failure, 2 usage, 3 config, 4 no way to get a code, 5 MFA code rejected,\n" +
        "6 AWS refused, 7 network, 8 lock wait timed out, 9 unsafe file permissions.",
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
    .option("--duration <seconds>", "MFA session length, 900-129600 (default awsmfa_session_duration or 43200)")
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
    .addOption(new Option("--shell <shell>", "shell syntax (default from $SHELL)").choices(["bash", "zsh", "fish", "powershell", "pwsh"]))
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
    .passThroughOptions()
    .action(async (command: string[], options) => setExitStatus(await runExec(command, options)));

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

  for (const command of program.commands) {
    command.showHelpAfterError(`Usage: awsmfa ${command.name()} ${command.usage()}\n(add --help for more)`);
  }
  return program;
}
