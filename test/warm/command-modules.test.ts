// The full CLI pays only for the command it runs (DESIGN.md): program.ts knows every command's
// flags, but a command's own module (commands/NAME.ts) is loaded by its action alone, and a
// command that reads only the files and the cache loads neither the AWS clients nor a code source.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { buildProgram } from "../../src/commands/program";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { runProcess } from "../support/run-awsmfa";

const RUN_COMMAND = join(__dirname, "fixtures", "run-command.ts");
const CONFIG = "[profile dora]\nmfa_serial = arn:aws:iam::444444444444:mfa/dora\n";
const CREDENTIALS = "[dora]\naws_access_key_id = AKIADORAEXAMPLE00001\naws_secret_access_key = dora/secret\n";

/** commands/NAME.ts of every top-level command. */
const HANDLERS = buildProgram(() => {}).commands.map((command) => `commands/${command.name()}.ts`);

let home: IsolatedEnv;

before(async () => {
  home = await createIsolatedEnv({
    endpointUrl: "http://127.0.0.1:9",
    config: CONFIG,
    credentials: CREDENTIALS,
  });
});
after(async () => {
  await home?.cleanup();
});

/** The src/ modules a run of the command loaded (relative to src/), and its exit status. */
async function loadedBy(args: string[], name: string): Promise<{ status: number | null; loaded: string[] }> {
  const out = join(home.home, `modules-${name}.json`);
  const env: NodeJS.ProcessEnv = { ...home.env, AWSMFA_TEST_MODULES_OUT: out };
  delete env.NODE_OPTIONS; // the test runner's loader is given explicitly
  const result = await runProcess(process.execPath, ["--import", "tsx", RUN_COMMAND, ...args], { env });
  return { status: result.status, loaded: JSON.parse(readFileSync(out, "utf8")) as string[] };
}

for (const [args, own] of [
  [["plan", "-p", "dora"], "commands/plan.ts"],
  [["status"], "commands/status.ts"],
  [["--help"], undefined],
] as const) {
  test(`${args.join(" ")} loads ${own ?? "no command's module"}, no other command's, no AWS client or code source`, async () => {
    const { status, loaded } = await loadedBy([...args], args[0]);
    assert.equal(status, 0);
    assert.ok(HANDLERS.length >= 14, `the commands were found: ${HANDLERS.join(" ")}`);
    assert.deepEqual(
      loaded.filter((file) => HANDLERS.includes(file)),
      own === undefined ? [] : [own],
    );
    assert.deepEqual(
      loaded.filter((file) => /^(sts|mfa)\//.test(file) || file === "session/obtain.ts"),
      [],
      "no AWS call and no code is needed",
    );
  });
}

test("counter-check: login loads its own module and, to get a session, obtain() and the code sources", async () => {
  // No terminal and no code: login fails before any AWS call, after loading what it needs.
  const { status, loaded } = await loadedBy(["login", "-p", "dora"], "login");
  assert.notEqual(status, 0, "no way to get a code");
  for (const module of ["commands/login.ts", "session/obtain.ts", "mfa/index.ts"]) {
    assert.ok(loaded.includes(module), `${module} in ${loaded.join(" ")}`);
  }
});
