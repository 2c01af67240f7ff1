// The source fixture, bundled once for the file's tests: fifty processes that each compiled
// TypeScript would take a minute on a loaded machine.
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { join } from "node:path";
import { after, before } from "node:test";
import { build } from "esbuild";
import { type RunResult, runProcess } from "../support/run-awsmfa";

export type SourceKind = "login" | "sso";

/** Registers the hooks; `run` starts one fixture process. */
export function useSourceFixture(): {
  run(kind: SourceKind, source: object, env: NodeJS.ProcessEnv): Promise<RunResult>;
} {
  let dir = "";
  let fixture = "";
  before(async () => {
    // Under node_modules, so that the SDK's import() resolves from there as it does from dist/.
    const cache = join(__dirname, "..", "..", "node_modules", ".cache");
    await mkdir(cache, { recursive: true });
    dir = await mkdtemp(join(cache, "awsmfa-source-fixture-"));
    fixture = join(dir, "read-source.cjs");
    await build({
      entryPoints: [join(__dirname, "fixtures", "read-source.ts")],
      outfile: fixture,
      bundle: true,
      platform: "node",
      format: "cjs",
      target: "node20",
      packages: "external",
      logLevel: "warning",
    });
  });
  after(() => rm(dir, { recursive: true, force: true }));
  return {
    run: (kind, source, env) =>
      runProcess(process.execPath, [fixture, kind, JSON.stringify(source)], { env, timeoutMs: 120_000 }),
  };
}
