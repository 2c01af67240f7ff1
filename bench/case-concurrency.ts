// Single flight: 50 credential-process started together on an empty cache, STS slow to answer.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { AWSMFA, type BenchWorld } from "./fixture";
import { callDelta, callsSnapshot, childEnv, runAsyncProcess } from "./measure";
import { CONCURRENT, NODE } from "./settings";
import { SIZES } from "./targets";

export interface ConcurrencyRun {
  wallMs: number;
  successes: number;
  sameKey: boolean;
  getSessionToken: number;
  assumeRole: number;
  codeRuns: number;
}

export async function concurrencyRun(world: BenchWorld): Promise<ConcurrencyRun> {
  const home = await world.home(SIZES[0] as number, { mfaProcess: true });
  const env = childEnv(home);
  const before = callsSnapshot(world);
  world.server.setOption({ latencyMs: 1500 });
  try {
    const started = process.hrtime.bigint();
    const results = await Promise.all(
      Array.from({ length: CONCURRENT }, () =>
        runAsyncProcess([NODE, AWSMFA, "credential-process", "-p", home.profile], env),
      ),
    );
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const keys = new Set<string>();
    let successes = 0;
    for (const result of results) {
      if (result.status !== 0) continue;
      try {
        keys.add((JSON.parse(result.stdout) as { AccessKeyId: string }).AccessKeyId);
        successes += 1;
      } catch {
        // not credentials: not a success
      }
    }
    const delta = callDelta(before, callsSnapshot(world));
    const runsFile = join(home.iso.home, "code-runs.log");
    const codeRuns = existsSync(runsFile) ? readFileSync(runsFile, "utf8").trim().split("\n").length : 0;
    return {
      wallMs,
      successes,
      sameKey: keys.size === 1,
      getSessionToken: delta.GetSessionToken ?? 0,
      assumeRole: delta.AssumeRole ?? 0,
      codeRuns,
    };
  } finally {
    world.server.setOption({ latencyMs: 0 });
    await home.iso.cleanup();
  }
}
