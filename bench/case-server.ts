// The credentials server under load: `awsmfa serve` answering 10,000 requests on 50 connections.
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { LoadResult } from "../test/server/load";
import type { Home } from "./fixture";
import { childEnv } from "./measure";
import { ROOT } from "./settings";
import { wrkAvailable, wrkLoad } from "./wrk";

/** One round of load, from wrk or the Node client: the Node client's result, less what wrk cannot tell. */
export type ServerRound = Omit<LoadResult, "concurrency" | "totalMs">;

export type ServerResult =
  | { measured: false; why: string }
  | ({
      measured: true;
      /** wrk when installed (it measures the server), else the Node client of test/server/load.ts. */
      generator: "wrk" | "node";
      concurrency: number;
      /** Unmeasured requests first, in rounds of fresh connections. */
      warmup: number;
      warmupRounds: number;
      /** The warm-up rounds' own figures, shown and not judged. */
      warmupResults: ServerRound[];
      rounds: ServerRound[];
    } & ServerRound); // the judged round: the one with the highest p99

/** Rounds of 10,000 after the warm-up, each on 50 fresh connections; the worst p99 is judged. */
const SERVER_ROUNDS = 3;
const SERVER_WARMUP_ROUNDS = 2;

export async function serverCase(home: Home): Promise<ServerResult> {
  const serveSources = ["src/commands/serve.ts", "src/output/server.ts", "test/server/load.ts"];
  const missing = serveSources.filter((path) => !existsSync(join(ROOT, path)));
  if (missing.length > 0) return { measured: false, why: `serve not built (missing ${missing.join(", ")})` };
  const load = (await import("../test/server/load")) as Partial<typeof import("../test/server/load")>;
  const helpers = (await import("../test/server/helpers")) as Partial<
    typeof import("../test/server/helpers")
  >;
  if (typeof load.runLoad !== "function" || typeof helpers.startServe !== "function") {
    return { measured: false, why: "serve not built (test/server/load.ts has no runLoad)" };
  }
  const serve = await helpers.startServe(["-p", home.profile], childEnv(home));
  try {
    const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
    if (wrkAvailable()) {
      // The first round after start runs slower (V8 still settling; a bare node:net server shows it
      // too), so two rounds warm up: what is judged is a server that has been running.
      const requests = 10_000;
      const runRound = (): ServerRound => {
        const result = wrkLoad(serve.url, token, requests, 50);
        const failures: Record<string, number> = {};
        if (result.non2xx) failures["non-2xx"] = result.non2xx;
        if (result.socketErrors) failures["socket errors"] = result.socketErrors;
        if (result.requests < requests) failures["not answered in time"] = requests - result.requests;
        const ok = Math.min(result.requests, requests) - result.non2xx - result.socketErrors;
        return { ...result, requests, ok, failures };
      };
      const warmupResults = Array.from({ length: SERVER_WARMUP_ROUNDS }, runRound);
      const rounds = Array.from({ length: SERVER_ROUNDS }, runRound);
      const worst = rounds.reduce((a, b) => (b.p99Ms > a.p99Ms ? b : a));
      return {
        measured: true,
        generator: "wrk",
        concurrency: 50,
        warmup: requests * SERVER_WARMUP_ROUNDS,
        warmupRounds: SERVER_WARMUP_ROUNDS,
        warmupResults,
        rounds,
        ...worst,
      };
    }
    const warmup = 1_000;
    const result = await load.runLoad({ url: serve.url, token, requests: 10_000, concurrency: 50, warmup });
    return {
      measured: true,
      generator: "node",
      warmup,
      warmupRounds: 1,
      warmupResults: [],
      rounds: [result],
      ...result,
    };
  } finally {
    await serve.stop();
  }
}
