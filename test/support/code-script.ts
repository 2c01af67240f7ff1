import { writeFileSync } from "node:fs";
import { join } from "node:path";

/**
 * An `mfa_process` for tests: a tiny program that prints the current TOTP code of a seed, the way
 * `ykman` or a password manager would, and appends one line per run to a counter file.
 * It computes the code itself (HMAC-SHA1), independent of awsmfa's code and the test server's.
 */
export function writeCodeScript(dir: string, seed: string): { command: string; runsFile: string } {
  const script = join(dir, "print-code.js");
  const runsFile = join(dir, "code-runs.log");
  writeFileSync(
    script,
    `const crypto = require("node:crypto");
const fs = require("node:fs");
const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
let bits = "";
for (const c of ${JSON.stringify(seed)}.replace(/=+$/, "")) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
const counter = Buffer.alloc(8);
counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000)));
const mac = crypto.createHmac("sha1", key).update(counter).digest();
const offset = mac[mac.length - 1] & 15;
const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
fs.appendFileSync(${JSON.stringify(runsFile)}, process.pid + "\\n");
process.stdout.write(String(code).padStart(6, "0") + "\\n");
`,
  );
  return { command: `"${process.execPath}" "${script}"`, runsFile };
}
