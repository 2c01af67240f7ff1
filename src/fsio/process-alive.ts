import { errnoCode } from "../errors";

/** Whether a process of this machine still runs (one we may not signal counts as running). */
export function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}
