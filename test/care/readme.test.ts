// README.md is run, not just read. Its ```sh blocks run verbatim in bash, in order, each with
// the variables the ones before it exported (as in one terminal), in a fresh HOME whose
// credentials file holds alice's keys as [dev] (where the README says they are), with `awsmfa` on
// PATH running dist/ (what `npm install -g .` gives), the real aws CLI, STS and IAM on the
// project's strict server and every other service (s3) on moto_server. Its ```ini blocks are
// appended to ~/.aws/config as a reader would paste them. A block that cannot run here says why in
// a `<!-- readme-test: skip (reason) -->` line just above it; one that is neither run nor marked
// fails. The command table is checked against each command's real --help.
import assert from "node:assert/strict";
import { appendFileSync, chmodSync, readFileSync, writeFileSync } from "node:fs";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { KEYS, SERIAL } from "../support/alice-world";
import { writeCodeScript } from "../support/code-script";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import {
  AWS_CLI_SKIP_REASON,
  awsCliAvailable,
  MOTO_SKIP_REASON,
  type MotoServer,
  startMoto,
} from "../support/moto";
import { runAwsmfa, runProcess, writeAwsmfaBin } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer, startStsServer } from "../support/sts-server";

const README = readFileSync(join(__dirname, "../../README.md"), "utf8");
const SKIP_MARKER = /^<!-- readme-test: skip \((.+)\) -->$/;
/** The role of the README's `[profile dev-admin]`, in another account than alice's. */
const README_ROLE = "arn:aws:iam::222222222222:role/Admin";

interface Block {
  language: string;
  text: string;
  /** 1-based line of the opening fence, for messages. */
  line: number;
  /** Why it is not run, from the marker above it. */
  skip?: string;
}

function readmeBlocks(markdown: string): Block[] {
  const lines = markdown.split("\n");
  const blocks: Block[] = [];
  for (let index = 0; index < lines.length; index++) {
    const open = /^```(\S*)\s*$/.exec(lines[index] as string);
    if (!open) continue;
    const end = lines.indexOf("```", index + 1);
    assert.ok(end > index, `README.md:${index + 1}: a code block that is never closed`);
    let above = index - 1;
    while (above >= 0 && (lines[above] as string).trim() === "") above--;
    const marker = SKIP_MARKER.exec((lines[above] ?? "").trim());
    blocks.push({
      language: open[1] as string,
      text: `${lines.slice(index + 1, end).join("\n")}\n`,
      line: index + 1,
      skip: marker?.[1],
    });
    index = end;
  }
  return blocks;
}

function blockName(block: Block): string {
  return `README.md:${block.line} ${block.language}: ${block.text.split("\n")[0]}`;
}

const blocks = readmeBlocks(README);

test("every README code block is run (sh, ini) or marked with why it is not", () => {
  assert.ok(blocks.length > 0);
  const unaccounted = blocks.filter(
    (block) => block.skip === undefined && !["sh", "ini"].includes(block.language),
  );
  assert.deepEqual(
    unaccounted.map(blockName),
    [],
    "a ```sh or ```ini block is run; any other needs <!-- readme-test: skip (why) --> above it",
  );
  assert.ok(
    blocks.some((block) => block.skip === undefined && block.language === "sh"),
    "at least one shell block is run",
  );
  // botocore keeps `value   # comment` whole as the value (awsmfa and the JS SDK cut it): a reader
  // pasting it would hand the aws CLI a broken region or ARN. After a [header] it is harmless.
  const commentedValues = blocks
    .filter((block) => block.language === "ini")
    .flatMap((block) => block.text.split("\n").filter((line) => /^[^#;[].*=.*\s[#;]/.test(line)));
  assert.deepEqual(commentedValues, [], "no comment after a value in an ini block");
});

const toolsMissing = awsCliAvailable() ? undefined : AWS_CLI_SKIP_REASON;

describe("the README's examples, verbatim", { skip: toolsMissing }, () => {
  const seed = randomBase32Seed();
  let sts: StsServer;
  let moto: MotoServer | undefined;
  let home: IsolatedEnv;

  before(async () => {
    sts = await startStsServer({
      accountId: "111111111111",
      users: [{ userName: "alice", ...KEYS, mfaDevices: [{ serial: SERIAL, seed }] }],
      // Only an MFA session may assume it: a call that gets through went through awsmfa's session.
      roles: [{ arn: README_ROLE, requireMfa: true }],
    });
    moto = await startMoto();
    home = await createIsolatedEnv({
      endpointUrl: sts.url,
      credentials: `[dev]\naws_access_key_id = ${KEYS.accessKeyId}\naws_secret_access_key = ${KEYS.secretAccessKey}\n`,
    });
    // A user's machine: no region but the profiles', everything but STS and IAM on moto.
    delete home.env.AWS_REGION;
    if (moto) home.env.AWS_ENDPOINT_URL = moto.url;
    // The person at the keyboard: a dialog (zenity) answered with the code their phone shows.
    const bin = writeAwsmfaBin(home.home);
    const code = writeCodeScript(home.home, seed);
    writeFileSync(join(bin, "zenity"), `#!/bin/sh\nexec ${code.command}\n`);
    chmodSync(join(bin, "zenity"), 0o755);
    Object.assign(home.env, {
      PATH: `${bin}${delimiter}${home.env.PATH ?? ""}`,
      AWSMFA_PROMPT: "zenity",
      DISPLAY: ":0",
      // The passphrase of the encrypted store, as README says for unattended use.
      AWSMFA_PASSPHRASE: "readme test passphrase",
    });
    // The seed of alice's authenticator app, saved where `totp add --stdin < seed.txt` reads it.
    writeFileSync(join(home.home, "seed.txt"), `${seed}\n`, { mode: 0o600 });
  });
  after(async () => {
    await home?.cleanup();
    await moto?.close();
    await sts?.close();
  });

  for (const block of blocks) {
    if (block.skip !== undefined) {
      test(blockName(block), { skip: block.skip }, () => {});
      continue;
    }
    if (block.language === "ini") {
      test(blockName(block), () => {
        appendFileSync(home.configPath, `\n${block.text}`, { mode: 0o600 });
      });
      continue;
    }
    test(blockName(block), async (t) => {
      if (!moto) return t.skip(MOTO_SKIP_REASON);
      // One reader's shell: what a block exports (eval "$(awsmfa env …)") the next one has.
      const exported = join(home.home, ".readme-exports");
      const script = `if [ -f "${exported}" ]; then . "${exported}"; fi\n${block.text}export -p > "${exported}"\n`;
      const result = await runProcess("bash", ["-e", "-o", "pipefail", "-c", script], {
        env: home.env,
        cwd: home.home,
        timeoutMs: 120_000,
      });
      assert.equal(
        result.status,
        0,
        `${blockName(block)}\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}\n~/.aws/config:\n${readFileSync(home.configPath, "utf8")}`,
      );
    });
  }

  test("the aws CLI's calls went through the role on the MFA session", (t) => {
    if (!moto) return t.skip(MOTO_SKIP_REASON);
    const roles = sts.issued.filter((issued) => issued.roleArn === README_ROLE);
    assert.ok(roles.length > 0, "awsmfa assumed the README's role");
    assert.ok(roles.every((issued) => issued.mfaAuthenticated));
  });
});

// ---------------------------------------------------------------------------------------------
// The command table

/** Long flags of each row of the README's command table, keyed by command (`keys move`, …). */
function tableFlags(markdown: string): Map<string, Set<string>> {
  const rows = new Map<string, Set<string>>();
  for (const line of markdown.split("\n")) {
    const cell = /^\| `awsmfa ([^`]+)` \|/.exec(line)?.[1];
    if (cell === undefined) continue;
    const command = (
      /^[a-z][a-z-]*(?: (?:move|add|remove|enable|disable))?/.exec(cell) as RegExpExecArray
    )[0];
    const flags = [...cell.matchAll(/(?<![\w-])(--[a-z][a-z-]*|-[a-zA-Z])(?![\w-])/g)].map((match) =>
      match[1] === "-p" ? "--profile" : (match[1] as string),
    );
    rows.set(command, new Set(flags));
  }
  return rows;
}

/** The long flags `awsmfa COMMAND --help` lists (its own --help aside). */
async function helpFlags(command: string): Promise<Set<string>> {
  const result = await runAwsmfa([...command.split(" "), "--help"], { env: process.env });
  assert.equal(result.status, 0, result.stderr);
  const flags = [...result.stdout.matchAll(/^ {2}(?:-[a-zA-Z], )?(--[a-z][a-z-]*)/gm)].map(
    (match) => match[1] as string,
  );
  return new Set(flags.filter((flag) => flag !== "--help"));
}

/** The commands `awsmfa … --help` lists under Commands:, `help` aside; a group (keys, totp) gives its subcommands. */
async function helpCommands(parent: string[] = []): Promise<string[]> {
  const result = await runAwsmfa([...parent, "--help"], { env: process.env });
  assert.equal(result.status, 0, result.stderr);
  const section = result.stdout.split(/^Commands:$/m)[1]?.split("\n\n")[0] ?? "";
  const names = [...section.matchAll(/^ {2}([a-z][a-z-]*) /gm)]
    .map((match) => match[1] as string)
    .filter((name) => name !== "help");
  const commands: string[] = [];
  for (const name of names) {
    const sub = await helpCommands([...parent, name]);
    commands.push(...(sub.length > 0 ? sub : [[...parent, name].join(" ")]));
  }
  return commands;
}

test("the README command table lists every command and every flag its --help shows", async () => {
  const table = tableFlags(README);
  const expanded = await helpCommands();
  assert.deepEqual([...table.keys()].sort(), expanded.sort(), "one README row per command");
  for (const command of expanded) {
    assert.deepEqual(
      [...(table.get(command) ?? [])].sort(),
      [...(await helpFlags(command))].sort(),
      `the README row of \`awsmfa ${command}\` and its --help`,
    );
  }
});
