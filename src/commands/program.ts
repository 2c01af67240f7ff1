import { Command } from "commander";
import type { Plan } from "../config/plan";
import { completionCommand } from "./completion.command";
import { consoleCommand } from "./console.command";
import { containersCommand } from "./containers.command";
import { credentialProcessCommand } from "./credential-process.command";
import { addCommand, type CommandGroup, type CommandSpec } from "./define";
import { envCommand } from "./env.command";
import { execCommand } from "./exec.command";
import { keysCommand } from "./keys.command";
import { loginCommand } from "./login.command";
import { logoutCommand } from "./logout.command";
import { planCommand } from "./plan.command";
import { rotateCommand } from "./rotate.command";
import { serveCommand } from "./serve.command";
import { setupCommand } from "./setup.command";
import { statusCommand } from "./status.command";
import { totpCommand } from "./totp.command";

declare const AWSMFA_VERSION: string;

/** Every command, in the order --help lists them. Each is defined in its `NAME.command.ts`. */
const COMMANDS: (CommandSpec | CommandGroup)[] = [
  planCommand,
  loginCommand,
  credentialProcessCommand,
  envCommand,
  execCommand,
  serveCommand,
  statusCommand,
  logoutCommand,
  setupCommand,
  rotateCommand,
  consoleCommand,
  completionCommand,
  keysCommand,
  containersCommand,
  totpCommand,
];

/** The command definitions: help, completion and parsing all come from here (`read`: define.ts CommandSpec.run). */
export function buildProgram(setExitStatus: (status: number) => void, read?: Plan): Command {
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
        "70 a bug in awsmfa, 130 interrupted (Ctrl-C), 141 stdout closed early (its reader quit: | head, less).\n" +
        "exec: the command's own (126 it cannot be run, 127 not found, 128+N ended by signal N).",
    );
  for (const spec of COMMANDS) {
    const command = addCommand(program, spec, program, setExitStatus, read);
    command.showHelpAfterError(`Usage: awsmfa ${command.name()} ${command.usage()}\n(add --help for more)`);
  }
  return program;
}
