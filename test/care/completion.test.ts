// Completion scripts are generated from the commander definitions: every command and flag of
// buildProgram() is in each of them, each parses in its shell, and bash really completes
// commands, flags, choices and the profile names `awsmfa completion --list-profiles` prints.
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { after, before, describe, test } from "node:test";
import { type Command, Help } from "commander";
import { buildProgram } from "../../src/commands/program";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { findOnPath } from "../support/moto";
import { AWSMFA, runAwsmfa } from "../support/run-awsmfa";

const SHELLS = ["bash", "zsh", "fish"] as const;

let home: IsolatedEnv;
let bin: string;
const scripts: Record<string, string> = {};

before(async () => {
  home = await createIsolatedEnv({
    endpointUrl: "http://127.0.0.1:9",
    config:
      "[default]\nregion = eu-west-1\n\n[profile dev]\nmfa_serial = arn:aws:iam::111111111111:mfa/a\n\n[profile prod-admin]\nrole_arn = arn:aws:iam::222222222222:role/Admin\nsource_profile = dev\n",
    credentials: "[dev]\naws_access_key_id = AKIAEXAMPLE000000001\naws_secret_access_key = x\n",
  });
  // `awsmfa` on PATH, as the scripts call it.
  bin = mkdtempSync(join(tmpdir(), "awsmfa-bin-"));
  writeFileSync(join(bin, "awsmfa"), `#!/bin/sh\nexec '${process.execPath}' '${AWSMFA}' "$@"\n`);
  chmodSync(join(bin, "awsmfa"), 0o755);
  for (const shell of SHELLS) {
    const result = await runAwsmfa(["completion", shell], { env: home.env });
    assert.equal(result.status, 0, result.stderr);
    assert.equal(result.stderr, "");
    scripts[shell] = result.stdout;
  }
});
after(async () => {
  await home?.cleanup();
  rmSync(bin, { recursive: true, force: true });
});

/** Every visible command below `command`, with its visible long flags. */
function commandTree(command: Command, help = new Help()): { name: string; flags: string[] }[] {
  return help.visibleCommands(command).flatMap((sub) => [
    {
      name: sub.name(),
      flags: help.visibleOptions(sub).flatMap((option) => (option.long ? [option.long] : [])),
    },
    ...(sub.commands.length > 0 ? commandTree(sub, help) : []),
  ]);
}

describe("completion scripts", () => {
  test("contain every command and every flag of the commander definitions, and no hidden one", () => {
    const tree = commandTree(buildProgram(() => {}));
    for (const required of [
      "setup",
      "rotate",
      "console",
      "completion",
      "login",
      "credential-process",
      "move",
    ]) {
      assert.ok(
        tree.some((command) => command.name === required),
        `${required} is defined`,
      );
    }
    for (const shell of SHELLS) {
      const script = scripts[shell] as string;
      for (const command of tree) {
        assert.ok(
          new RegExp(`(^|[\\s'(|/])${command.name}([\\s'):|]|$)`, "m").test(script),
          `${shell}: command ${command.name}`,
        );
        for (const flag of command.flags) {
          const word = shell === "fish" ? `-l ${flag.slice(2)}` : flag;
          assert.ok(script.includes(word), `${shell}: ${command.name} ${flag}`);
        }
      }
      // The hidden flag appears once: where the script asks awsmfa for the profile names; it is never offered.
      assert.equal(
        script.split("--list-profiles").length - 1,
        1,
        `${shell}: --list-profiles only as the script's own call`,
      );
      assert.match(script, /command awsmfa completion --list-profiles 2>\/dev\/null/);
    }
  });

  test("bash parses the script (bash -n)", () => {
    execFileSync("bash", ["-n"], { input: scripts.bash });
  });

  test("zsh and fish parse theirs, where installed", (t) => {
    const zsh = findOnPath("zsh");
    const fish = findOnPath("fish");
    if (!zsh && !fish) return t.skip("neither zsh nor fish installed");
    if (zsh) {
      execFileSync(zsh, ["-n"], { input: scripts.zsh });
      // Loaded by compinit's rules, it registers itself for awsmfa.
      const dir = mkdtempSync(join(tmpdir(), "awsmfa-zsh-"));
      try {
        writeFileSync(join(dir, "_awsmfa"), scripts.zsh as string);
        const out = execFileSync(
          zsh,
          [
            "-fc",
            `fpath=(${dir} $fpath); autoload -U compinit; compinit -u -d ${dir}/dump; print -r -- $_comps[awsmfa]`,
          ],
          { encoding: "utf8", env: { ...home.env } },
        );
        assert.equal(out.trim(), "_awsmfa");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    if (fish) {
      const dir = mkdtempSync(join(tmpdir(), "awsmfa-fish-"));
      try {
        const file = join(dir, "awsmfa.fish");
        writeFileSync(file, scripts.fish as string);
        execFileSync(fish, ["--no-execute", file]);
        const out = execFileSync(
          fish,
          ["--no-config", "-c", `source ${file}; complete -C 'awsmfa ro'; complete -C 'awsmfa login -p '`],
          { encoding: "utf8", env: { ...home.env, PATH: `${bin}${delimiter}${home.env.PATH ?? ""}` } },
        );
        const words = out
          .split("\n")
          .map((line) => line.split("\t")[0])
          .filter(Boolean);
        assert.deepEqual(words, ["rotate", "default", "dev", "prod-admin"]);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
  });

  test("bash completes commands, subcommands, flags, choices and profile names", () => {
    const complete = (line: string): string[] => {
      const words = line.split(" ");
      const program = `source /dev/stdin <<'AWSMFA_EOF'\n${scripts.bash}\nAWSMFA_EOF\nCOMP_WORDS=(${words.map((word) => `'${word}'`).join(" ")}); COMP_CWORD=${words.length - 1}; _awsmfa; printf '%s\\n' "\${COMPREPLY[@]}"`;
      const out = execFileSync("bash", ["-c", program], {
        encoding: "utf8",
        env: { ...home.env, PATH: `${bin}${delimiter}${home.env.PATH ?? ""}` },
      });
      return out.split("\n").filter(Boolean).sort();
    };
    assert.deepEqual(complete("awsmfa ro"), ["rotate"]);
    assert.deepEqual(complete("awsmfa se"), ["serve", "setup"]);
    assert.deepEqual(complete("awsmfa login -p "), ["default", "dev", "prod-admin"]);
    assert.deepEqual(complete("awsmfa --debug console --profile prod"), ["prod-admin"]);
    assert.deepEqual(complete("awsmfa setup --credential-process-profile d"), ["default", "dev"]);
    assert.deepEqual(complete("awsmfa console --pr"), ["--print", "--profile"]);
    assert.deepEqual(complete("awsmfa completion "), ["--help", "-h", "bash", "fish", "zsh"]);
    assert.deepEqual(complete("awsmfa env --shell p"), ["powershell", "pwsh"]);
    assert.deepEqual(complete("awsmfa keys m"), ["move"]);
    assert.deepEqual(complete("awsmfa keys move --to e"), ["encrypted"]);
    assert.deepEqual(complete("awsmfa login --token-code "), [], "a free value: nothing offered");
    assert.deepEqual(complete("awsmfa exec -p dev -- bas").includes("bash"), true);
  });

  test("--list-profiles prints the profiles of both files, and nothing when they cannot be read", async () => {
    const listed = await runAwsmfa(["completion", "--list-profiles"], { env: home.env });
    assert.equal(listed.status, 0, listed.stderr);
    assert.equal(listed.stdout, "default\ndev\nprod-admin\n");
    const broken = await runAwsmfa(["completion", "--list-profiles"], {
      env: { ...home.env, AWS_CONFIG_FILE: join(bin, "awsmfa", "not-a-dir") },
    });
    assert.equal(broken.status, 0);
    assert.equal(broken.stdout, "");
    const help = await runAwsmfa(["completion", "--help"], { env: home.env });
    assert.ok(!help.stdout.includes("--list-profiles"), "hidden from --help");
    const noShell = await runAwsmfa(["completion"], { env: home.env });
    assert.equal(noShell.status, 2);
    const badShell = await runAwsmfa(["completion", "tcsh"], { env: home.env });
    assert.equal(badShell.status, 2);
  });
});
