// The spinner turns on stderr exactly while a request to AWS is in flight, only for a person
// (a terminal, no NO_COLOR, TERM not dumb), never for credential-process; login ends with a
// short summary. The end-to-end cases run awsmfa on a real pseudo-terminal (util-linux `script`).
import assert from "node:assert/strict";
import { after, before, beforeEach, describe, test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { decorationsAllowed, spinWhileWaiting } from "../../src/output/spinner";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { findOnPath } from "../support/moto";
import { AWSMFA, runProcess } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

const ACCOUNT = "111111111111";
const SEED = randomBase32Seed();
const SERIAL = `arn:aws:iam::${ACCOUNT}:mfa/heidi`;
const ROLE = `arn:aws:iam::${ACCOUNT}:role/Reader`;
const KEYS = { accessKeyId: "AKIAHEIDIEXAMPLE0001", secretAccessKey: "heidi/secret/key/EXAMPLE+0000000001" };
const CLEAR = "\r\x1b[2K";

let server: StsServer;
let home: IsolatedEnv;

before(async () => {
  server = await startStsServer({
    accountId: ACCOUNT,
    users: [{ userName: "heidi", ...KEYS, mfaDevices: [{ serial: SERIAL, seed: SEED }] }],
    roles: [{ arn: ROLE }],
  });
});
after(() => server.close());
beforeEach(async () => {
  server.reset();
  await home?.cleanup();
  home = await createIsolatedEnv({
    endpointUrl: server.url,
    config: `[profile heidi]\nmfa_serial = ${SERIAL}\n\n[profile reader]\nrole_arn = ${ROLE}\nsource_profile = heidi\n`,
    credentials: `[heidi]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
  });
});
after(() => home?.cleanup());

function fakeTerminal() {
  const writes: { at: number; text: string }[] = [];
  return {
    writes,
    stream: Object.assign(
      {
        write(chunk: string) {
          writes.push({ at: Date.now(), text: chunk });
          return true;
        },
      },
      { isTTY: true },
    ) as unknown as NodeJS.WritableStream & { isTTY: boolean },
  };
}

async function callerIdentity(): Promise<void> {
  const sts = new STSClient({ region: "us-east-1", endpoint: server.url, credentials: KEYS, maxAttempts: 1 });
  try {
    await sts.send(new GetCallerIdentityCommand({}));
  } finally {
    sts.destroy();
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("the spinner", () => {
  test("turns while an SDK request is in flight and is gone the moment it ends", async () => {
    server.setOption({ latencyMs: 400 });
    const { stream, writes } = fakeTerminal();
    const env = { LANG: "en_US.UTF-8" };
    const spinner = spinWhileWaiting({ stream, env, delayMs: 50, intervalMs: 20 });
    try {
      await sleep(100);
      assert.equal(writes.length, 0, "nothing while nothing is in flight");
      const started = Date.now();
      await callerIdentity();
      const ended = Date.now();
      const frames = writes.filter((write) => write.text.includes("Waiting for AWS…"));
      assert.ok(frames.length >= 5, `frames drawn: ${frames.length}`);
      assert.ok(
        frames.every((frame) => frame.at >= started + 40 && frame.at <= ended),
        "only while in flight",
      );
      assert.equal(writes.at(-1)?.text, CLEAR, "erased when the answer came");
      const count = writes.length;
      await sleep(150);
      assert.equal(writes.length, count, "and not drawn again while idle");
    } finally {
      spinner.stop();
    }
  });

  test("is never drawn without a terminal, with NO_COLOR, or with TERM=dumb", async () => {
    server.setOption({ latencyMs: 200 });
    for (const [env, isTTY] of [
      [{}, false],
      [{ NO_COLOR: "1" }, true],
      [{ TERM: "dumb" }, true],
    ] as const) {
      const { stream, writes } = fakeTerminal();
      (stream as { isTTY: boolean }).isTTY = isTTY;
      assert.equal(decorationsAllowed(stream, env), false);
      const spinner = spinWhileWaiting({ stream, env, delayMs: 0, intervalMs: 10 });
      await callerIdentity();
      spinner.stop();
      assert.deepEqual(writes, []);
    }
    assert.equal(
      decorationsAllowed({ isTTY: true }, { NO_COLOR: "" }),
      true,
      "an empty NO_COLOR does not count",
    );
  });
});

describe("on a terminal (util-linux script)", () => {
  /** Runs awsmfa with stdin, stdout and stderr on a new pseudo-terminal; returns what the terminal showed. */
  async function onTerminal(args: string[], vars: Record<string, string> = {}) {
    const quoted = [process.execPath, AWSMFA, ...args]
      .map((arg) => `'${arg.replace(/'/g, "'\\''")}'`)
      .join(" ");
    return runProcess("script", ["-qec", quoted, "/dev/null"], {
      env: { ...home.env, SHELL: "/bin/sh", TERM: "xterm", LANG: "C.UTF-8", ...vars },
    });
  }

  test("login spins while STS answers, then prints the summary; credential-process never spins", async (t) => {
    if (!findOnPath("script")) return t.skip("util-linux script not installed");
    server.setOption({ latencyMs: 600 });
    const login = await onTerminal(["login", "-p", "heidi", "--token-code", server.totp(SEED)]);
    assert.equal(login.status, 0, login.stdout);
    assert.match(login.stdout, /Waiting for AWS…/);
    assert.match(login.stdout, /Logged in: profile 'heidi' as arn:aws:iam::111111111111:user\/heidi/);
    assert.match(login.stdout, /account {2}111111111111/);
    assert.match(login.stdout, /user {5}heidi/);
    assert.match(login.stdout, new RegExp(`device {3}${SERIAL.replace(/[/]/g, "\\/")}`));
    assert.match(login.stdout, /expires {2}.+\(in 1[12] h/);

    // A cache miss for the role: STS is called, slowly, but credential-process shows nothing.
    const json = await onTerminal(["credential-process", "-p", "reader"]);
    assert.equal(json.status, 0, json.stdout);
    assert.ok(!json.stdout.includes("Waiting for AWS"), json.stdout);
    assert.ok(!json.stdout.includes("\x1b[2K"));
    assert.equal(server.accepted.AssumeRole, 1);
  });

  test("NO_COLOR: no spinner, the summary still", async (t) => {
    if (!findOnPath("script")) return t.skip("util-linux script not installed");
    server.setOption({ latencyMs: 400 });
    const login = await onTerminal(["login", "-p", "reader", "--token-code", server.totp(SEED)], {
      NO_COLOR: "1",
    });
    assert.equal(login.status, 0, login.stdout);
    assert.ok(!login.stdout.includes("Waiting for AWS"), login.stdout);
    assert.match(login.stdout, /role {5}Reader \(session awsmfa-heidi\)/);
    assert.match(login.stdout, /user {5}heidi/);
  });
});
