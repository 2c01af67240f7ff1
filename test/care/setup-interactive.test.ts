// `awsmfa setup` with a person at a terminal: run on a real pseudo-terminal (util-linux
// `script`), each answer typed only once its question is on the screen. The MFA code of the
// final login is asked on the terminal device by awsmfa itself, as in everyday use.
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { after, before, type TestContext, test } from "node:test";
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

/** `awsmfa setup ARGS` on a terminal of its own, as a person starts it. */
function setupOnTerminal(args: string, env: NodeJS.ProcessEnv) {
  return terminalSession(`'${process.execPath}' '${AWSMFA}' setup ${args}`, {
    ...env,
    SHELL: "/bin/sh",
    TERM: "xterm-256color",
    LANG: "C.UTF-8",
  });
}

test("a person answers the questions; the diff is shown, written, and the login asks for the code", async (t) => {
  if (!findOnPath("script")) return t.skip("util-linux script not installed");
  const session = setupOnTerminal("", home.env);
  try {
    await session.expect("Name of the profile for your IAM user's keys");
    await session.expect("default");
    await session.type("ivan\r");
    await session.expect("Access key ID");
    await session.type(`${KEYS.accessKeyId}\r`);
    await session.expect("Secret access key");
    await session.type(`${KEYS.secretAccessKey}\r`);
    await session.expect(`belongs to arn:aws:iam::${ACCOUNT}:user/ivan`);
    await session.expect(`MFA device: ${SERIAL}`);
    await session.expect("Add a role profile that assumes a role on top of 'ivan'?");
    await session.type("y");
    await session.expect("Name of the role profile");
    // The name shown in the empty field is what Enter gives.
    await session.expect("ivan-admin");
    await session.type("\r");
    await session.expect("Role ARN");
    await session.type(`arn:aws:iam::${ACCOUNT}:role/Admin\r`);
    await session.expect("Add another role profile?");
    await session.type("n");
    await session.expect("Add a profile for the aws CLI and SDKs");
    await session.type("\r");
    // The role profile just added comes first.
    await session.expect("Whose credentials should it give them?");
    await session.expect("profile 'ivan-admin'");
    await session.expect("profile 'ivan'");
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
  assert.ok(!session.screen.includes("a name is needed"), session.screen);
  assert.equal(
    readFileSync(home.configPath, "utf8"),
    `[profile ivan]\nmfa_serial = ${SERIAL}\n\n[profile ivan-admin]\nrole_arn = arn:aws:iam::${ACCOUNT}:role/Admin\nsource_profile = ivan\n\n[profile ivan-cli]\ncredential_process = awsmfa credential-process -p ivan-admin\n`,
  );
  assert.equal(
    readFileSync(home.credentialsPath, "utf8"),
    `[ivan]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  );
  assert.equal(server.accepted.GetSessionToken, 1);
});

/** A fresh home with `files` and `awsmfa setup ARGS` on a terminal in it; undefined (skipped) without `script`. */
async function setupInFreshHome(
  t: TestContext,
  args: string,
  files: { config?: string; credentials?: string } = {},
) {
  if (!findOnPath("script")) {
    t.skip("util-linux script not installed");
    return undefined;
  }
  const fresh = await createIsolatedEnv({ endpointUrl: server.url, ...files });
  t.after(() => fresh.cleanup());
  return { fresh, session: setupOnTerminal(args, fresh.env) };
}

/** `steps`, then Ctrl-C at the question on the screen: status 130, and one message, that nothing was written. */
async function cancelAfter(session: ReturnType<typeof terminalSession>, steps: () => Promise<void>) {
  try {
    await steps();
    await session.type("\x03");
    assert.equal(await session.exited, 130, session.screen);
  } finally {
    session.kill();
  }
  assert.equal(count(session.screen, "cancelled"), 1, session.screen);
  assert.match(session.screen, /awsmfa: Setup cancelled; nothing was written\.\n$/);
}

function count(text: string, part: string): number {
  return text.split(part).length - 1;
}

test("a key AWS refuses is asked for again, only the wrong part; Ctrl-C at a question exits 130 with one message", async (t) => {
  const started = await setupInFreshHome(t, "-p ivan");
  if (!started) return;
  const { fresh, session } = started;
  await cancelAfter(session, async () => {
    await session.expect("Access key ID");
    await session.type("AKIAUNKNOWNEXAMPLE01\r");
    await session.expect("Secret access key");
    await session.type("not/the/right/secret/at/all+0000000001\r");
    // An ID AWS does not know: the ID again, not the secret.
    await session.expect("AWS does not know the access key ID AKIAUNKNOWNEXAMPLE01");
    await session.expect("Access key ID");
    await session.type(`${KEYS.accessKeyId}\r`);
    // Now the ID is known and the secret does not match it: the secret again, not the ID.
    await session.expect(`AWS refused the secret access key: it does not belong to ${KEYS.accessKeyId}`);
    await session.expect("Secret access key");
    await session.type(`${KEYS.secretAccessKey}\r`);
    await session.expect(`belongs to arn:aws:iam::${ACCOUNT}:user/ivan`);
    await session.expect("Add a role profile that assumes a role on top of 'ivan'?");
  });
  // Each question is drawn with ◆ while it is asked.
  assert.equal(count(session.screen, "◆  Access key ID"), 2, session.screen);
  assert.equal(count(session.screen, "◆  Secret access key"), 2, session.screen);
  assert.ok(!session.screen.includes(KEYS.secretAccessKey), "the secret is never on the screen");
  assert.equal(existsSync(fresh.configPath), false, "nothing was written");
  assert.equal(existsSync(fresh.credentialsPath), false);
});

test("Ctrl-C at the code prompt of the final login exits 130 with one message: the files are written, log in later", async (t) => {
  const started = await setupInFreshHome(t, "-p ivan --import-from-credentials --yes", {
    credentials: `[ivan]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  });
  if (!started) return;
  const { fresh, session } = started;
  try {
    await session.expect("MFA code for profile 'ivan'");
    await session.type("\x03");
    assert.equal(await session.exited, 130, session.screen);
  } finally {
    session.kill();
  }
  assert.match(
    session.screen,
    /awsmfa: Setup interrupted; \S+\/\.aws\/config is written: run `awsmfa login -p ivan` to log in\./,
  );
  assert.equal(count(session.screen, "awsmfa: Setup"), 1, session.screen);
  assert.match(readFileSync(fresh.configPath, "utf8"), /mfa_serial = /);
});

test("Ctrl-C at the first question exits 130 with one message", async (t) => {
  const started = await setupInFreshHome(t, "");
  if (!started) return;
  await cancelAfter(started.session, () =>
    started.session.expect("Name of the profile for your IAM user's keys"),
  );
});

test("an `aws login` profile in the config is offered first: a credential_process profile on top of it", async (t) => {
  const config =
    "[profile signin]\nlogin_session = arn:aws:iam::111111111111:user/ivan\nregion = eu-west-1\n";
  const started = await setupInFreshHome(t, "", { config });
  if (!started) return;
  const { fresh, session } = started;
  try {
    await session.expect("What should awsmfa set up?");
    await session.expect("Roles and a credential_process profile on top of profile 'signin'");
    await session.type(`${ESC}[B`);
    await session.type("\r");
    await session.expect("signs in with `aws login`");
    await session.expect("Add a role profile that assumes a role on top of 'signin'?");
    await session.type("n");
    await session.expect("Add a profile for the aws CLI and SDKs");
    await session.type("\r");
    await session.expect("Name of that profile");
    await session.expect("signin-cli");
    await session.type("\r");
    await session.expect("+credential_process = awsmfa credential-process -p signin");
    await session.expect("Write these changes?");
    await session.type("\r");
    await session.expect("Done. The aws CLI and SDKs now work with --profile signin-cli.");
    await session.expect("aws login --profile signin");
    assert.equal(await session.exited, 0, session.screen);
  } finally {
    session.kill();
  }
  assert.equal(
    readFileSync(fresh.configPath, "utf8"),
    `${config}\n[profile signin-cli]\ncredential_process = awsmfa credential-process -p signin\nregion = eu-west-1\n`,
  );
  assert.equal(existsSync(fresh.credentialsPath), false);
});
