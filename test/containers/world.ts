// What the container suites share: a host and a container namespace (test/support/netns.ts), the
// strict STS server answering on the host side for both, a fresh awsmfa home per test, and the
// ways to look from inside the container.
import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, afterEach, before, beforeEach } from "node:test";
import { createServerHome, startServerSts } from "../server/helpers";
import type { IsolatedEnv } from "../support/env";
import { createNamespacePair, HOST_SIDE, type Namespace, type NamespacePair } from "../support/netns";
import type { StsServer } from "../support/sts-server";

export interface ContainerWorld {
  pair: NamespacePair;
  sts: StsServer;
  /** The STS test server as seen from both namespaces. */
  stsUrl: string;
  /** This test's awsmfa home (in the host namespace). */
  home: IsolatedEnv;
  /** The container's HOME: empty, no ~/.aws. */
  containerHome: string;
}

/** Sets the world up for the suite it is called in; its fields are there once `before` has run. */
export function useContainerWorld(
  setUp: (world: ContainerWorld) => Promise<void> | void = () => {},
): ContainerWorld {
  const world = {} as ContainerWorld;
  before(async () => {
    world.pair = createNamespacePair();
    world.containerHome = mkdtempSync(join(tmpdir(), "awsmfa-container-home-"));
    world.sts = await startServerSts();
    const listener = await world.pair.host.listen(HOST_SIDE);
    world.sts.acceptFrom(listener.server);
    world.stsUrl = `http://${HOST_SIDE}:${listener.port}`;
    await setUp(world);
  });
  after(async () => {
    world.pair?.remove();
    await world.sts?.close();
    if (world.containerHome) rmSync(world.containerHome, { recursive: true, force: true });
  });
  beforeEach(async () => {
    world.sts.reset();
    world.home = await createServerHome({ url: world.stsUrl });
  });
  afterEach(() => world.home.cleanup());
  return world;
}

/** `KEY=VALUE` lines as docker's --env-file reads them. */
export function parseEnvFile(text: string): Record<string, string> {
  const variables: Record<string, string> = {};
  for (const line of text.split("\n").filter(Boolean)) {
    const equals = line.indexOf("=");
    variables[line.slice(0, equals)] = line.slice(equals + 1);
  }
  return variables;
}

/** `ss -ltn` in a namespace: the local addresses listening on `port`. */
export async function listeningOn(namespace: Namespace, port: number): Promise<string[]> {
  const result = await namespace.run("ss", ["-ltnH"], { env: process.env });
  assert.equal(result.status, 0, result.stderr);
  return result.stdout
    .split("\n")
    .map((line) => line.trim().split(/\s+/)[3] ?? "")
    .filter((address) => address.endsWith(`:${port}`))
    .sort();
}

/**
 * Statuses (or error codes) of raw requests to AWS_CONTAINER_CREDENTIALS_FULL_URI from inside
 * `namespace` with `env` (fetch cannot set Host): over its scheme, or plain http with `plain`.
 */
export async function statusesFrom(
  namespace: Namespace,
  env: NodeJS.ProcessEnv,
  requests: { host?: string; token?: string; plain?: boolean }[],
): Promise<(number | string)[]> {
  const script = `
    const url = new URL(process.env.AWS_CONTAINER_CREDENTIALS_FULL_URI);
    const one = ({ host, token, plain }) => new Promise((resolve) => {
      const headers = { Host: host ?? url.host };
      if (token !== undefined) headers.Authorization = token;
      const { request } = require(plain || url.protocol === "http:" ? "node:http" : "node:https");
      const options = { host: url.hostname, servername: url.hostname, port: url.port, path: "/", headers, agent: false };
      request(options, (res) => {
        res.resume(); res.on("end", () => resolve(res.statusCode));
      }).on("error", (e) => resolve(e.code)).end();
    });
    (async () => {
      const statuses = [];
      for (const r of ${JSON.stringify(requests)}) statuses.push(await one(r));
      process.stdout.write(JSON.stringify(statuses));
    })();`;
  const result = await namespace.run(process.execPath, ["-e", script], { env, timeoutMs: 60_000 });
  assert.equal(result.status, 0, result.stderr);
  return JSON.parse(result.stdout) as (number | string)[];
}
