import { AppError } from "../errors";
import { programUnavailable } from "./dialog";
import { noCodeSource, registerPrompt } from "./registry";
import { findProgram, lastLine, runProgram } from "./run";
import type { CodeRequest } from "./types";

/** The OATH account on the YubiKey: awsmfa_ykman_account, else the device ARN's last path part. */
function ykmanAccount(request: CodeRequest): string {
  const configured = request.properties.awsmfa_ykman_account?.trim();
  return configured || (request.serial.split("/").at(-1) ?? request.serial);
}

registerPrompt({
  name: "ykman",
  label: "ykman",
  kind: "generated",
  unavailable: (request, runtime) => programUnavailable("ykman", request, runtime),
  async ask(request, runtime) {
    const file = findProgram("ykman", request.env, runtime.platform);
    if (file === undefined) throw noCodeSource(request, "ykman is not on PATH");
    const account = ykmanAccount(request);
    runtime.terminal.tell(
      `Touch your YubiKey if it flashes (MFA code for profile '${request.profile}', account '${account}')…`,
    );
    const outcome = await runProgram({
      file,
      args: ["oath", "accounts", "code", "--single", account],
      env: request.env,
      timeoutMs: runtime.processTimeoutMs,
      maxOutputBytes: runtime.maxOutputBytes,
      // ykman would ask for an OATH password on stdout, where nobody sees it: fail instead.
      stdin: "ignore",
      stderr: "capture",
    });
    const where = `ykman could not give the MFA code for profile '${request.profile}' (account '${account}')`;
    const hint =
      "List the accounts with `ykman oath accounts list`; set awsmfa_ykman_account in the profile to the right one.";
    switch (outcome.outcome) {
      case "exited": {
        if (outcome.exitCode === 0) return outcome.stdout.trim();
        const said = lastLine(outcome.stderr) ?? `exit status ${outcome.exitCode ?? outcome.signal}`;
        throw new AppError("ykman-failed", `${where}: ${said}`, { hint });
      }
      case "timeout":
        throw new AppError(
          "ykman-failed",
          `${where}: no answer within ${Math.round(runtime.processTimeoutMs / 1000)} s.`,
          { hint: "Touch the YubiKey when it flashes." },
        );
      case "overflow":
        throw new AppError(
          "ykman-failed",
          `${where}: it printed more than ${runtime.maxOutputBytes} bytes.`,
          { hint },
        );
      case "spawn-error":
        throw new AppError("ykman-failed", `${where}: ${outcome.error.message}`, {
          hint,
          cause: outcome.error,
        });
    }
  },
});
