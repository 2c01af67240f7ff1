// `awsmfa setup` with a person at a terminal: run on a real pseudo-terminal (util-linux
// `script`), each answer typed only once its question is on the screen. The MFA code of the
// final login is asked on the terminal device by awsmfa itself, as in everyday use.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { after, before, test } from "node:test";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { findOnPath } from "../support/moto";
import { AWSMFA } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const ACCOUNT = "111111111111";
const SEED = randomBase32Seed();
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/ivan`;
const KEYS = { accessKeyId: "AKIAIVANEXAMPLE00001", secretAccessKey: "ivan/secret/key/EXAMPLE+00000000001" };
const TIMEOUT_MS = 20_000;
const ESC = String.fromCharCode(0x1b);

let server: StsServer;
let home: IsolatedEnv;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "ivan", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
  });
  home = await createIsolatedEnv({ endpointUrl: server.url });
});
after(async () => {
  await server.close();
  await home.cleanup();
});

/** Drives a program on a terminal: waits for text on the screen, then types. */
function terminalSession(command: string, env: NodeJS.ProcessEnv) {
  const child = spawn("script", ["-qec", `stty cols 160 rows 50; ${command}`, "/dev/null"], {
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  let screen = "";
  let seen = 0;
  const waiters: (() => void)[] = [];
  child.stdout.on("data", (chunk: Buffer) => {
    // Colours and cursor movement out; what a person reads stays.
    screen += chunk
      .toString("utf8")
      .replace(new RegExp(`${ESC}\\[[0-9;?]*[A-Za-z]`, "g"), "")
      .replace(/\r/g, "");
    for (const wake of waiters.splice(0)) wake();
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return {
    get screen() {
      return screen;
    },
    exited,
    /** Resolves once `text` appears after everything already waited for. */
    async expect(text: string): Promise<void> {
      const deadline = Date.now() + TIMEOUT_MS;
      for (;;) {
        const at = screen.indexOf(text, seen);
        if (at >= 0) {
          seen = at + text.length;
          return;
        }
        if (Date.now() > deadline) throw new Error(`"${text}" never appeared; the screen:\n${screen}`);
        await new Promise<void>((resolve) => {
          waiters.push(resolve);
          setTimeout(resolve, 200);
        });
      }
    },
    async type(text: string): Promise<void> {
      // Prompts read keys; give the one just drawn a moment to start listening.
      await new Promise((resolve) => setTimeout(resolve, 150));
      child.stdin.write(text);
    },
    kill: () => child.kill("SIGKILL"),
  };
}

test("a person answers the questions; the diff is shown, written, and the login asks for the code", async (t) => {
  if (!findOnPath("script")) return t.skip("util-linux script not installed");
  const session = terminalSession(`'${process.execPath}' '${AWSMFA}' setup`, {
    ...home.env,
    SHELL: "/bin/sh",
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
  });
  try {
    await session.expect("Name of the profile for your IAM user's keys");
    await session.expect("default");
    await session.type(`${"\x7f".repeat(7)}ivan\r`);
    await session.expect("Access key ID");
    await session.type(`${KEYS.accessKeyId}\r`);
    await session.expect("Secret access key");
    await session.type(`${KEYS.secretAccessKey}\r`);
    await session.expect(`belongs to arn:aws:iam::${ACCOUNT}:user/ivan`);
    await session.expect(`MFA device: ${SERIAL}`);
    await session.expect("Add a role profile that assumes a role on top of 'ivan'?");
    await session.type("y");
    await session.expect("Name of the role profile");
    await session.type("ivan-admin\r");
    await session.expect("Role ARN");
    await session.type(`arn:aws:iam::${ACCOUNT}:role/Admin\r`);
    await session.expect("Add another role profile?");
    await session.type("n");
    await session.expect("Add a profile for the aws CLI and SDKs");
    await session.type("\r");
    await session.expect("Name of that profile");
    await session.type("\r");
    await session.expect("Default region for this profile (optional)");
    await session.type("\r");
    await session.expect("+++ ");
    await session.expect("+aws_secret_access_key = ********");
    await session.expect("Write these changes?");
    await session.type("\r");
    await session.expect("MFA code for profile 'ivan'");
    await session.type(`${server.totp(SEED)}\r`);
    await session.expect("Logged in: profile 'ivan'");
    await session.expect("Done. The aws CLI and SDKs work with --profile ivan-cli once it has a region");
    assert.equal(await session.exited, 0, session.screen);
  } finally {
    session.kill();
  }
  assert.ok(!session.screen.includes(KEYS.secretAccessKey), "the secret is never on the screen");
  assert.equal(
    readFileSync(home.configPath, "utf8"),
    `[profile ivan]\nmfa_serial = ${SERIAL}\n\n[profile ivan-admin]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Admin\nsource_profile = ivan\n\n[profile ivan-cli]\ncredential_process = awsmfa credential-process -p ivan\n`,
  );
  assert.equal(
    readFileSync(home.credentialsPath, "utf8"),
    `[ivan]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  );
  assert.equal(server.accepted.GetSessionToken, 1);
});
