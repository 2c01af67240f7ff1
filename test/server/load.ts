// Load on the credentials server, for the benchmark (bench/): N authorised GETs at C concurrency over
// keep-alive connections, as many SDK clients in one job would make them; latency percentiles.
// Nothing here asserts a time: the benchmark records the numbers, tests only check the answers.
//
//   node --import tsx test/server/load.ts [requests] [concurrency] [--serve]
// prints the result as JSON: by default against a server in this process (the server's code
// alone); with --serve against a real `awsmfa serve` process (dist/ must be built) in front of
// the test STS server, as a job would use it.
import { Agent, request } from "node:http";
import { startCredentialsServer } from "../../src/output/server";
import { runAwsmfa } from "../support/run-awsmfa";
import { createServerHome, SEED, startServe, startServerSts } from "./helpers";

export interface LoadOptions {
  url: string;
  token: string;
  /** 10,000 by default. */
  requests?: number;
  /** 50 by default. */
  concurrency?: number;
  /** Requests made first and not measured (connections opened, code warmed up); 0 by default. */
  warmup?: number;
}

export interface LoadResult {
  requests: number;
  concurrency: number;
  /** Answers with status 200 and a body with an AccessKeyId. */
  ok: number;
  /** Everything else, by status (or "error"). */
  failures: Record<string, number>;
  p50Ms: number;
  p90Ms: number;
  p99Ms: number;
  maxMs: number;
  totalMs: number;
  requestsPerSecond: number;
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  if (options.warmup) await runLoad({ ...options, requests: options.warmup, warmup: 0 });
  const requests = options.requests ?? 10_000;
  const concurrency = options.concurrency ?? 50;
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const latencies: number[] = [];
  const failures: Record<string, number> = {};
  let ok = 0;
  let next = 0;
  const started = process.hrtime.bigint();

  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const begin = process.hrtime.bigint();
      const fail = (why: string) => {
        failures[why] = (failures[why] ?? 0) + 1;
        resolve();
      };
      const req = request(options.url, { agent, headers: { Authorization: options.token } }, (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => {
          latencies.push(Number(process.hrtime.bigint() - begin) / 1e6);
          if (res.statusCode === 200 && body.includes('"AccessKeyId"')) {
            ok += 1;
            resolve();
          } else {
            fail(String(res.statusCode));
          }
        });
        res.on("error", () => fail("error"));
      });
      req.on("error", () => fail("error"));
      req.end();
    });

  const worker = async (): Promise<void> => {
    while (next < requests) {
      next += 1;
      await one();
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, requests) }, worker));
  const totalMs = Number(process.hrtime.bigint() - started) / 1e6;
  agent.destroy();

  latencies.sort((a, b) => a - b);
  return {
    requests,
    concurrency,
    ok,
    failures,
    p50Ms: percentile(latencies, 50),
    p90Ms: percentile(latencies, 90),
    p99Ms: percentile(latencies, 99),
    maxMs: latencies.at(-1) ?? 0,
    totalMs,
    requestsPerSecond: requests / (totalMs / 1000),
  };
}

/** The same load on an in-process server answering fixed credentials (the server alone, no STS). */
export async function loadInProcessServer(
  options: Omit<LoadOptions, "url" | "token"> = {},
): Promise<LoadResult> {
  const expiration = new Date(Date.now() + 3600_000).toISOString().replace(/\.\d{3}Z$/, "Z");
  const server = await startCredentialsServer({
    answer: () => ({
      credentials: {
        accessKeyId: "ASIABENCHEXAMPLE0001",
        secretAccessKey: "bench/secret/key/EXAMPLE+0001",
        sessionToken: "x".repeat(800),
        expiration,
      },
    }),
  });
  try {
    return await runLoad({ url: server.url, token: server.token, ...options });
  } finally {
    await server.close();
  }
}

/** The same load on a real `awsmfa serve -p admin` process, its role session from the test STS server. */
export async function loadAwsmfaServe(options: Omit<LoadOptions, "url" | "token"> = {}): Promise<LoadResult> {
  const sts = await startServerSts();
  const home = await createServerHome(sts);
  try {
    const login = await runAwsmfa(["login", "-p", "admin", "--token-code", sts.totp(SEED)], {
      env: home.env,
    });
    if (login.status !== 0) throw new Error(`awsmfa login failed: ${login.stderr}`);
    const serve = await startServe(["-p", "admin"], home.env);
    try {
      const token = serve.variables.AWS_CONTAINER_AUTHORIZATION_TOKEN ?? "";
      return await runLoad({ url: serve.url, token, ...options });
    } finally {
      await serve.stop();
    }
  } finally {
    await home.cleanup();
    await sts.close();
  }
}

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length)));
  return sorted[rank - 1] as number;
}

if (require.main === module) {
  const args = process.argv.slice(2);
  const [requests, concurrency] = args.filter((arg) => !arg.startsWith("--")).map(Number);
  const load = args.includes("--serve") ? loadAwsmfaServe : loadInProcessServer;
  load({ requests: requests || undefined, concurrency: concurrency || undefined }).then(
    (result) => process.stdout.write(`${JSON.stringify(result, null, 2)}\n`),
    (error) => {
      process.stderr.write(`${error}\n`);
      process.exitCode = 1;
    },
  );
}
