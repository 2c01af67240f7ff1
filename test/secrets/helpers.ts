// Shared by the secrets suites: one IAM user (alice) with an MFA device and a role on top, as in
// test/integration/sessions.test.ts, and files with enough around alice's keys (comments, another
// profile, odd spacing) that an edit touching anything else would show.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ALICE_CONFIG, KEYS } from "../support/alice-world";
import { randomBase32Seed } from "../support/sts-server";

export { ACCOUNT, KEYS, ROLE, SERIAL } from "../support/alice-world";
export const BOB = { accessKeyId: "AKIABOBEXAMPLE000002", secretAccessKey: "bob/secret/key/EXAMPLE+0002" };
export const PASSPHRASE = "tr0ub4dor & 3, not this";

export const newSeed = randomBase32Seed;

export const CONFIG = `# awsmfa test config
${ALICE_CONFIG}`;

export const CREDENTIALS = `# keys of two users
[bob]
aws_access_key_id=${BOB.accessKeyId}
aws_secret_access_key=${BOB.secretAccessKey}

[alice]
# the one with MFA
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key   =   ${KEYS.secretAccessKey}
output = json
`;

/** CREDENTIALS without alice's two key lines, every other byte as it was. */
export const CREDENTIALS_WITHOUT_ALICE_KEYS = `# keys of two users
[bob]
aws_access_key_id=${BOB.accessKeyId}
aws_secret_access_key=${BOB.secretAccessKey}

[alice]
# the one with MFA
output = json
`;

/** Every file under `dir`, recursively, with its bytes. */
export function filesUnder(dir: string): { path: string; bytes: Buffer }[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => {
      const path = join(entry.parentPath, entry.name);
      return { path, bytes: readFileSync(path) };
    });
}

/** Fails naming the file when any file under `dir` holds `secret` in the clear. */
export function assertNowhere(dir: string, secret: string): void {
  for (const { path, bytes } of filesUnder(dir)) {
    if (bytes.includes(Buffer.from(secret))) throw new Error(`${path} holds the secret in the clear`);
  }
}
