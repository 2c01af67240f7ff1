import { Argument, Command, Option } from "commander";
import { CONTAINER_MODES } from "../output/containers";
import { storeNames } from "../secrets";
import { COMPLETION_SHELLS } from "./completion";

declare const AWSMFA_VERSION: string;

const PROFILE_HELP = "profile to use (default: $AWS_PROFILE, else 'default')";
const SHELL_CHOICES = ["bash", "zsh", "fish", "powershell", "pwsh"] as const;
const MIN_TTL_HELP = "hand out credentials only with at least this much left (default 15m)";
/** --containers [mode]: the mode names and the per-system default are output/containers.ts's. */
const CONTAINERS_HELP =
  "also serve containers (same port): ecs listens on 169.254.170.2 too (default on Linux; needs `sudo awsmfa containers enable` first), tls serves https for Docker Desktop with awsmfa's own CA, which containers mount from $AWSMFA_CONTAINER_CA at /run/awsmfa (default on macOS and Windows)";
/**
 * Not `--env-file`: Node (20 to 24 at least) looks for that flag anywhere in its argv, after the
 * script too, and exits 9 ("node: FILE: not found") when the file does not exist yet.
 */
const CONTAINER_ENV_HELP =
  "with --containers: once listening, write the container's variables to this file (0600, docker run --env-file format); removed on exit";
/** For the commands without --token-code: where the code goes when there is no terminal to ask on. */
const CODE_ELSEWHERE_HELP =
  "\nNo --token-code here: a code is asked for on the terminal, or comes from mfa_process or a stored TOTP seed.\n" +
  "Without those, log in first (awsmfa login -p P --token-code CODE), then run this command.";

/**
 * The command definitions: help, completion and parsing all come from here. Each command's module
 * is loaded by its action only, so that a command pays for no other command's code or modules.
 */
export function buildProgram(setExitStatus: (status: number) => void): Command {
  const program = new Command("awsmfa")
    .description(
      "MFA sessions for AWS IAM users: one code, every tool. Gets an STS session with your MFA code, " +
        "keeps it while it is valid, assumes roles on top of it without asking again, and hands the " +
        "credentials to the aws CLI, SDKs, shells and programs. A profile signed in with `aws login` or " +
        "IAM Identity Center (`aws sso login`) works the same way, with no code: its session is refreshed in place.",
    )
    .version(typeof AWSMFA_VERSION === "string" ? AWSMFA_VERSION : "dev", "-V, --version")
    .option("--debug", "print error details and stack traces (never secrets); allowed anywhere before --")
    .exitOverride()
    .enablePositionalOptions()
    .showHelpAfterError("(add --help for usage)")
    .addHelpText(
      "after",
      "\nExamples:\n" +
        "  awsmfa setup                              first run: your access key, MFA device and roles into ~/.aws\n" +
        "  awsmfa login -p dev                       ask for a code once; the session lasts 12 h\n" +
        "  credential_process = awsmfa credential-process -p dev    in ~/.aws/config, for the aws CLI and SDKs\n" +
        '  eval "$(awsmfa env -p dev)"               export the session into this shell\n' +
        "  awsmfa exec -p prod-admin -- terraform plan\n" +
        "  awsmfa exec -p dev                        a shell with the session; exit or Ctrl-D leaves it\n" +
        "  awsmfa exec --server -p dev-admin -- ./nightly-job   keys renewed for as long as it runs\n" +
        "  credential_process = awsmfa credential-process -p me   me has login_session (aws login) or sso_session:\n" +
        "                                            the aws CLI's session, refreshed and shared, for tools that cannot read it\n" +
        "\nExit status: 0 ok, 1 failure, 2 usage, 3 config, 4 no way to get a code or answer, 5 MFA code rejected,\n" +
        "6 AWS refused, 7 network, 8 lock wait timed out, 9 unsafe file permissions, 10 aws login / IAM Identity Center session ended (sign in again with the aws CLI),\n" +
        "70 a bug in awsmfa, 130 interrupted (Ctrl-C).\n" +
        "exec: the command's own (126 it cannot be run, 127 not found, 128+N ended by signal N).",
    );

  program
    .command("plan")
    .description(
      "show how a profile resolves (keys, MFA session, roles), what is cached, and whether the next use asks for a code (no AWS calls)",
    )
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--json", "machine-readable output")
    .action(async (options) => (await import("./plan")).runPlan(options));

  program
    .command("login")
    .description(
      "get an MFA session now (and the role on top of it), asking for a code if needed; over an aws login or IAM Identity Center " +
        "session that has ended, run the aws CLI's sign-in on the terminal first (aws CLI v2)",
    )
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--token-code <code>", "the six-digit MFA code, or - to read it from stdin")
    .option(
      "--duration <seconds>",
      "MFA session length, 900-129600 (default awsmfa_session_duration or 43200)",
    )
    .option("--force", "ignore cached sessions and start a new one")
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .option("--write-profile <name>", "also write the session to [name] in the credentials file")
    .action(async (options) => (await import("./login")).runLogin(options));

  program
    .command("credential-process")
    .description("print credentials as JSON for `credential_process` in ~/.aws/config")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .addHelpText("after", CODE_ELSEWHERE_HELP)
    .action(async (options) => (await import("./credential-process")).runCredentialProcess(options));

  program
    .command("env")
    .description('print shell lines that export the session: eval "$(awsmfa env -p dev)"')
    .option("-p, --profile <name>", PROFILE_HELP)
    .addOption(
      new Option("--shell <shell>", "shell syntax (default from $SHELL)").choices([...SHELL_CHOICES]),
    )
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .addHelpText("after", CODE_ELSEWHERE_HELP)
    .action(async (options) => (await import("./env")).runEnv(options));

  program
    .command("exec")
    .description(
      "run a command with the session in its environment; exits with its status (127: not found, 126: cannot run). " +
        "Without a command, starts $SHELL (else /bin/sh) with the session; leave it with exit or Ctrl-D",
    )
    .usage("[options] [-- <command> [args...]]")
    .argument("[command...]", "the command and its arguments (default: $SHELL)")
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--force", "run even inside another `awsmfa exec`")
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .option("--server", "serve the credentials to the command from 127.0.0.1, renewed for as long as it runs")
    .addOption(
      new Option("--containers [mode]", `with --server: ${CONTAINERS_HELP}`).choices([...CONTAINER_MODES]),
    )
    .option(
      "--container-env <file>",
      "with --containers: where the container's variables go (default: a new private temp file); the command gets its path in AWSMFA_CONTAINER_ENV",
    )
    .passThroughOptions()
    .addHelpText("after", CODE_ELSEWHERE_HELP)
    .action(async (command: string[], options) =>
      setExitStatus(await (await import("./exec")).runExec(command, options)),
    );

  program
    .command("serve")
    .description(
      "serve the session on 127.0.0.1 (and to containers, with --containers) to SDKs and the aws CLI, renewed in the background",
    )
    .option("-p, --profile <name>", PROFILE_HELP)
    .option("--port <port>", "port to listen on (default 0: any free one)")
    .option(
      "--token-file <file>",
      "write the token to this new 0600 file instead of printing it (never replaces a file but awsmfa's own earlier one); " +
        "only for clients that read AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE (aws CLI v2 2.9 and the Go SDKs packaged in Debian 12 do not)",
    )
    .option(
      "--detach",
      'serve in the background and return once listening: eval "$(awsmfa serve -p P --detach)"',
    )
    .addOption(new Option("--containers [mode]", CONTAINERS_HELP).choices([...CONTAINER_MODES]))
    .option("--container-env <file>", CONTAINER_ENV_HELP)
    .addOption(new Option("--ready-fd <fd>").hideHelp())
    .addOption(
      new Option("--shell <shell>", "shell syntax (default from $SHELL)").choices([...SHELL_CHOICES]),
    )
    .option("--min-ttl <duration>", MIN_TTL_HELP)
    .addHelpText(
      "after",
      CODE_ELSEWHERE_HELP +
        '\nIn the background: eval "$(awsmfa serve -p dev-admin --detach)" returns once the server listens\n' +
        '(asking for a code first if needed) and sets AWSMFA_SERVE_PID; kill "$AWSMFA_SERVE_PID" stops it.',
    )
    .action(async (options) => setExitStatus(await (await import("./serve")).runServe(options)));

  program
    .command("status")
    .description(
      "list profiles with MFA, their device and the time left on each cached step; over an aws login or IAM Identity Center " +
        "session, the time left on its access token and its refreshing (read only: nothing is refreshed)",
    )
    .option("--json", "machine-readable output")
    .action(async (options) => (await import("./status")).runStatus(options));

  program
    .command("logout")
    .description(
      "forget a profile's cached sessions, its MFA session included (other profiles that share it then ask for a code; each is named), or all of them; " +
        "the aws CLI's own aws login or IAM Identity Center session stays signed in unless --sign-out",
    )
    .option("-p, --profile <name>", PROFILE_HELP)
    .option(
      "--role-only",
      "forget only the profile's own role credentials; keep the MFA session others share",
    )
    .option("--all", "forget every cached session and remove every profile written with --write-profile")
    .option(
      "--sign-out",
      "for a profile over an aws login or IAM Identity Center session: also delete the aws CLI's token file of that session, which signs `aws` itself (and every profile on the session) out too",
    )
    .option("--write-profile <name>", "also remove [name] that login --write-profile wrote")
    .action(async (options) => (await import("./logout")).runLogout(options));

  program
    .command("setup")
    .description(
      "set up a profile: check the access key, find the MFA device, add roles, write ~/.aws (the diff is shown first), log in",
    )
    .option(
      "-p, --profile <name>",
      "profile for the IAM user's keys, or an `aws login` or IAM Identity Center profile to add roles and a credential_process profile on top of (default: $AWS_PROFILE, else 'default')",
    )
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
      "--credential-process-profile <name[=profile]>",
      "add [profile NAME] with `credential_process = awsmfa credential-process -p PROFILE` (PROFILE: the keys profile, or a --role name; default the keys profile)",
    )
    .option("--region <region>", "set region in the profile and in the --credential-process-profile one")
    .option("--yes", "ask nothing: write without confirmation; unanswered questions take their defaults")
    .option("--dry-run", "show the change to the files and stop")
    .option("--token-code <code>", "the MFA code for the final login, or - for the next line of stdin")
    .action(async (options) => (await import("./setup")).runSetup(options));

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
    .action(async (options) => (await import("./rotate")).runRotate(options));

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
    .action(async (options) => (await import("./console")).runConsole(options));

  program
    .command("completion")
    .description("print a completion script for bash, zsh or fish")
    .addArgument(new Argument("[shell]", "the shell").choices([...COMPLETION_SHELLS]))
    .addOption(
      new Option("--list-profiles", "print the profile names, one a line (for the scripts)").hideHelp(),
    )
    .action(async (shell: string | undefined, options) =>
      (await import("./completion")).runCompletion(program, shell, options),
    );

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
    .action(async (options) => (await import("./keys")).runKeysMove(options));

  const containers = program
    .command("containers")
    .description(
      "Linux, as root: let containers reach serve --containers at 169.254.170.2 (an address on the loopback interface)",
    );
  containers
    .command("enable")
    .description("add 169.254.170.2/32 to the loopback interface (until reboot); nothing if it is there")
    .action(async () => setExitStatus(await (await import("./containers")).runContainersEnable()));
  containers
    .command("disable")
    .description("remove 169.254.170.2/32 from the loopback interface; nothing if it is not there")
    .action(async () => setExitStatus(await (await import("./containers")).runContainersDisable()));

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
    .action(async (options) => (await import("./totp")).runTotpAdd(options));
  totp
    .command("remove")
    .description("forget the stored TOTP seed of the profile's MFA device; codes are asked for again")
    .option("-p, --profile <name>", PROFILE_HELP)
    .addOption(
      new Option("--store <store>", "where to look (default: the profile's awsmfa_totp)").choices(
        storeNames().filter((name) => name !== "file"),
      ),
    )
    .action(async (options) => (await import("./totp")).runTotpRemove(options));

  for (const command of program.commands) {
    command.showHelpAfterError(`Usage: awsmfa ${command.name()} ${command.usage()}\n(add --help for more)`);
  }
  return program;
}
