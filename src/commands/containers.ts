import { spawnSync } from "node:child_process";
import { AppError, ExitStatus } from "../errors";
import { findProgram } from "../mfa/run";
import { ECS_ADDRESS, ECS_ADDRESS_CIDR, interfacesWith, LOOPBACK_INTERFACE } from "../output/containers";
import { tellStderr } from "../output/tell";

/**
 * `containers enable` / `disable`: the one step of awsmfa that needs root. It adds (or removes)
 * 169.254.170.2/32 on the loopback interface with iproute2's `ip`, and nothing else: no route,
 * no firewall rule, no file. Both are idempotent (with nothing to change they need no root); the
 * address lasts until reboot.
 */

const ADD = ["addr", "add", ECS_ADDRESS_CIDR, "dev", LOOPBACK_INTERFACE];
const DEL = ["addr", "del", ECS_ADDRESS_CIDR, "dev", LOOPBACK_INTERFACE];
/** Where iproute2 puts `ip`, looked in before PATH: sbin is not on every user's PATH, and sudo's secure_path varies. */
const IP_DIRS = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"];

export async function runContainersEnable(): Promise<number> {
  onLinux("enable");
  const on = interfacesWith(ECS_ADDRESS);
  if (on.includes(LOOPBACK_INTERFACE)) {
    tellStderr(`${ECS_ADDRESS_CIDR} is on ${LOOPBACK_INTERFACE} already: nothing changed.`);
    return ExitStatus.ok;
  }
  if (on.length > 0) {
    // Put there by something else (a container runtime, the ECS agent): --containers can listen on it as it is.
    tellStderr(
      `${ECS_ADDRESS} is on ${on.join(", ")} already, not on ${LOOPBACK_INTERFACE}: nothing changed.`,
    );
    return ExitStatus.ok;
  }
  runIp(rootWithIp("enable"), ADD);
  tellStderr(
    `Added ${ECS_ADDRESS_CIDR} to the loopback interface ${LOOPBACK_INTERFACE} (ip ${ADD.join(" ")}); nothing else changed.\n` +
      "Containers reach the credentials endpoint there now: `awsmfa serve --containers --container-env FILE`.\n" +
      `It lasts until the next reboot. To keep it, run \`ip ${ADD.join(" ")}\` at boot ` +
      "(a systemd unit: README.md, Containers); `sudo awsmfa containers disable` removes it.",
  );
  return ExitStatus.ok;
}

export async function runContainersDisable(): Promise<number> {
  onLinux("disable");
  if (!interfacesWith(ECS_ADDRESS).includes(LOOPBACK_INTERFACE)) {
    tellStderr(`${ECS_ADDRESS_CIDR} is not on ${LOOPBACK_INTERFACE}: nothing changed.`);
    return ExitStatus.ok;
  }
  runIp(rootWithIp("disable"), DEL);
  tellStderr(
    `Removed ${ECS_ADDRESS_CIDR} from the loopback interface ${LOOPBACK_INTERFACE} (ip ${DEL.join(" ")}); nothing else changed.\n` +
      "Remove it from your boot set-up too if you added it there.",
  );
  return ExitStatus.ok;
}

function onLinux(verb: "enable" | "disable"): void {
  if (process.platform !== "linux") {
    throw new AppError(
      "containers-not-linux",
      `containers ${verb} is for Linux, where containers reach the host at ${ECS_ADDRESS}.`,
      { hint: "Elsewhere --containers uses its tls mode and needs no set-up." },
    );
  }
}

/** Only when there is something to change: root, and iproute2's `ip` (its path). */
function rootWithIp(verb: "enable" | "disable"): string {
  if (process.geteuid?.() !== 0) {
    throw new AppError(
      "containers-need-root",
      `containers ${verb} changes the loopback interface, which needs root.`,
      {
        hint:
          verb === "enable"
            ? `Run: sudo awsmfa containers enable   (or, without awsmfa: sudo ip ${ADD.join(" ")})`
            : `Run: sudo awsmfa containers disable   (or, without awsmfa: sudo ip ${DEL.join(" ")})`,
      },
    );
  }
  const path = [...IP_DIRS, process.env.PATH ?? ""].join(":");
  const ip = findProgram("ip", { PATH: path }, process.platform);
  if (ip === undefined) {
    throw new AppError("containers-no-ip", "Cannot find iproute2's `ip` command.", {
      hint: "Install iproute2 (apt-get install iproute2, dnf install iproute) and run this again.",
    });
  }
  return ip;
}

function runIp(ip: string, args: string[]): void {
  const result = spawnSync(ip, args, { encoding: "utf8", stdio: ["ignore", "ignore", "pipe"] });
  if (result.status === 0) return;
  const said = (result.stderr ?? "").trim() || result.error?.message || `exit ${result.status}`;
  throw new AppError("containers-ip-failed", `ip ${args.join(" ")} failed: ${said}`, {});
}
