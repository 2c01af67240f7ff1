// Shared pieces of the credentials-server tests: one IAM user with an MFA device and a role on the
// project's strict STS server, `awsmfa serve` run as a real child process, and raw HTTP requests
// (fetch cannot set Host, which the DNS-rebinding check is about).
import assert from "node:assert/strict";
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { request } from "node:http";
import { join } from "node:path";
import { ACCOUNT, KEYS, ROLE, SERIAL, startAliceSts } from "../support/alice-world";
import { createIsolatedEnv, type IsolatedEnv } from "../support/env";
import { AWSMFA } from "../support/run-awsmfa";
import { randomBase32Seed, type StsServer } from "../support/sts-server";

export { ACCOUNT, KEYS, ROLE, SERIAL } from "../support/alice-world";
export const SEED = randomBase32Seed();
export const ROLE_SESSION_ARN = `arn:aws:sts::${ACCOUNT}:assumed-role/Admin/awsmfa-alice`;
export const FIXTURES = join(__dirname, "fixtures");

export function startServerSts(): Promise<StsServer> {
  return startAliceSts(SEED);
}

/** `alice`: keys + MFA (plus `aliceLines`); `admin`: the role on alice's MFA session. */
export function createServerHome(server: Pick<StsServer, "url">, aliceLines = ""): Promise<IsolatedEnv> {
  return createIsolatedEnv({
    endpointUrl: server.url,
    config: `[default]
region = us-east-1

[profile alice]
mfa_serial = ${SERIAL}
${aliceLines}
[profile admin]
role_arn = ${ROLE}
source_profile = alice
`,
    credentials: `[alice]
aws_access_key_id = ${KEYS.accessKeyId}
aws_secret_access_key = ${KEYS.secretAccessKey}
`,
  });
}

/** Lines of `export NAME='value'` / `unset NAME` (bash) as a map; unset names map to undefined. */
export function parseExports(text: string): Record<string, string | undefined> {
  const variables: Record<string, string | undefined> = {};
  for (const line of text.split("\n")) {
    const set = /^export ([A-Z_]+)='(.*)'$/.exec(line);
    if (set) variables[set[1] as string] = (set[2] as string).replace(/'\\''/g, "'");
    const unset = /^unset ([A-Z_]+)$/.exec(line);
    if (unset) variables[unset[1] as string] = undefined;
  }
  return variables;
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  variables: Record<string, string | undefined>;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends the signal and waits for the exit. */
  stop(signal?: NodeJS.Signals): Promise<{ status: number | null; signal: NodeJS.Signals | null }>;
}

/**
 * Runs `awsmfa serve ARGS` and resolves once it has printed its variables (rejects if it exits
 * first). `launch` starts it another way (in a network namespace: netns.ts), from the same argv.
 */
export function startServe(
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 30_000,
  launch: (file: string, args: string[]) => [string, string[]] = (file, args) => [file, args],
): Promise<ServeProcess> {
  const [file, argv] = launch(process.execPath, [AWSMFA, "serve", "--shell", "bash", ...args]);
  // detached: no controlling terminal, as in run-awsmfa.ts: a prompt there cannot be answered.
  const child = spawn(file, argv, {
    env,
    stdio: ["pipe", "pipe", "pipe"],
    detached: true,
  });
  child.stdin.end();
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8");
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<{ status: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on("exit", (status, signal) => resolve({ status, signal }));
  });
  const killer = setTimeout(() => child.kill("SIGKILL"), 120_000);
  exited.then(() => clearTimeout(killer));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`serve printed nothing in time; stderr:\n${stderr}`)),
      timeoutMs,
    );
    exited.then(({ status, signal }) => {
      clearTimeout(timer);
      reject(new Error(`serve exited (${status ?? signal}) before serving; stderr:\n${stderr}`));
    });
    child.stdout.on("data", (chunk: string) => {
      stdout += chunk;
      if (!/^unset AWS_DEFAULT_PROFILE\n/m.test(stdout)) return; // the last line it prints
      clearTimeout(timer);
      const variables = parseExports(stdout);
      resolve({
        child,
        variables,
        url: variables.AWS_CONTAINER_CREDENTIALS_FULL_URI ?? "",
        stdout: () => stdout,
        stderr: () => stderr,
        stop: (signal = "SIGTERM") => {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      });
    });
  });
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json(): Record<string, unknown>;
}

export interface RawRequest {
  method?: string;
  /** Header values; `undefined` leaves a header out. Host defaults to the URL's. */
  headers?: Record<string, string | undefined>;
  body?: string;
  host?: string;
}

/** One HTTP request with exactly the headers given (no Authorization unless asked for). */
export function httpRequest(url: string, options: RawRequest = {}): Promise<RawResponse> {
  const target = new URL(url);
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(options.headers ?? {}))
      if (value !== undefined) headers[name] = value;
    const req = request(
      {
        host: options.host ?? target.hostname,
        port: target.port,
        path: `${target.pathname}${target.search}`,
        method: options.method ?? "GET",
        headers,
        agent: false,
        timeout: 5_000,
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            body,
            json: () => JSON.parse(body) as Record<string, unknown>,
          }),
        );
      },
    );
    req.on("timeout", () => req.destroy(new Error("request timed out")));
    req.on("error", reject);
    req.end(options.body);
  });
}

export function getCredentials(url: string, token: string | undefined): Promise<RawResponse> {
  return httpRequest(url, { headers: { Authorization: token } });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Polls until `check` returns a value (not undefined), or fails after `timeoutMs`. */
export async function waitFor<T>(
  what: string,
  timeoutMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/**
 * Access keys that signed successful GetCallerIdentity calls since request `from`, asserting that
 * every one of them is a role session's: the client really used what the endpoint handed it.
 */
export function roleKeysThatCalled(server: StsServer, from: number): string[] {
  const roleKeys = new Set(server.issued.filter((c) => c.kind === "AssumeRole").map((c) => c.accessKeyId));
  const used = server.requests
    .slice(from)
    .filter((r) => r.action === "GetCallerIdentity" && r.ok)
    .map((r) => r.accessKeyId ?? "(none)");
  for (const key of used)
    assert.ok(roleKeys.has(key), `GetCallerIdentity signed with ${key}, not a role key`);
  return [...new Set(used)];
}
