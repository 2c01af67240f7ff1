// A machine and a container without Docker: two network namespaces joined by a veth pair. The
// "host" namespace stands for the user's machine (awsmfa runs there, and `containers enable`
// puts 169.254.170.2 on its own loopback); the "container" namespace stands for a container on
// a bridge network, whose only way out is the veth, with a route to 169.254.170.2 through the
// host side. Link-local addresses only (169.254.170.1 host side, 169.254.170.10 inside), and
// all of them inside namespaces of their own: nothing is added to the real machine's network,
// so suites that run at the same time (or another engineer's) cannot meet them. Needs root and
// iproute2's `ip`; NETNS_SKIP_REASON says why not.
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import type { Server } from "node:net";
import { join } from "node:path";
import { findOnPath } from "./moto";
import { type RunOptions, type RunResult, runProcess } from "./run-awsmfa";

export const HOST_SIDE = "169.254.170.1";
export const CONTAINER_SIDE = "169.254.170.10";
export const ECS_ADDRESS = "169.254.170.2";

/** Why the namespace suites cannot run here, or false. With CI=true they must (.ci/run is root). */
export const NETNS_SKIP_REASON: string | false = (() => {
  const why =
    process.platform !== "linux"
      ? "skipped: network namespaces are Linux's"
      : process.getuid?.() !== 0
        ? "skipped: network namespaces need root (sudo, or CI's .ci/run)"
        : findIp() === undefined
          ? "skipped: iproute2's ip is not installed (apt-get install iproute2)"
          : false;
  if (why && process.env.CI === "true" && process.platform === "linux") {
    throw new Error(`${why}; CI runs as root with iproute2 (.ci/run), so these suites must run there`);
  }
  return why;
})();

function findIp(): string | undefined {
  return (
    ["/usr/sbin/ip", "/sbin/ip"].find((path) => spawnSync(path, ["-V"]).status === 0) ?? findOnPath("ip")
  );
}

/** `ip ARGS`, throwing with its stderr when it fails. */
export function ip(...args: string[]): string {
  const result = spawnSync(findIp() ?? "ip", args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`ip ${args.join(" ")}: ${result.stderr || result.error}`);
  return result.stdout;
}

export interface Namespace {
  readonly name: string;
  /** `ip netns exec NAME FILE ARGS` with exactly `env`. */
  run(file: string, args: string[], options: RunOptions): Promise<RunResult>;
  /** argv that starts FILE in this namespace: for spawn. */
  command(file: string, args: string[]): [string, string[]];
  /** A TCP server listening on `host` (port chosen by the system) in this namespace, held in this process. */
  listen(host: string): Promise<{ server: Server; port: number }>;
  /**
   * Names resolved inside (through /etc/netns/NAME/hosts, which `ip netns exec` mounts over
   * /etc/hosts), as Docker Desktop resolves host.docker.internal in its containers.
   */
  mapHostNames(names: Record<string, string>): void;
  /**
   * A relay in this namespace from `listenHost:port` to 127.0.0.1:port, as Docker Desktop's
   * backend forwards a container's connection to host.docker.internal:PORT to the host's
   * loopback. Ends with `stop()` (or with the namespace).
   */
  relayToLoopback(listenHost: string, port: number): Promise<{ stop(): void }>;
}

export interface NamespacePair {
  readonly host: Namespace;
  readonly container: Namespace;
  /** Deletes both namespaces (and with them the veth pair and every address). */
  remove(): void;
}

/** A namespace with only its loopback up. */
export function createNamespace(role: string): Namespace & { remove(): void } {
  removeOrphanedNamespaces();
  const name = `awsmfa-${role}-${process.pid}-${randomBytes(3).toString("hex")}`;
  ip("netns", "add", name);
  try {
    ip("-n", name, "link", "set", "lo", "up");
  } catch (error) {
    ip("netns", "del", name);
    throw error;
  }
  return {
    name,
    command: (file, args) => [findIp() ?? "ip", ["netns", "exec", name, file, ...args]],
    run: (file, args, options) =>
      runProcess(findIp() ?? "ip", ["netns", "exec", name, file, ...args], options),
    listen: (host) => listenIn(name, host),
    mapHostNames(names) {
      mkdirSync(netnsEtc(name), { recursive: true });
      const lines = [
        "127.0.0.1 localhost",
        ...Object.entries(names).map(([host, address]) => `${address} ${host}`),
      ];
      writeFileSync(join(netnsEtc(name), "hosts"), `${lines.join("\n")}\n`);
    },
    relayToLoopback: (listenHost, port) => relayIn(name, listenHost, port),
    remove: () => removeNamespace(name),
  };
}

/** Host and container namespaces, joined; the container routes 169.254.170.2 through the host side. */
export function createNamespacePair(): NamespacePair {
  const host = createNamespace("host");
  let container: ReturnType<typeof createNamespace> | undefined;
  try {
    container = createNamespace("ctr");
    const suffix = randomBytes(3).toString("hex");
    const hostEnd = `amh${suffix}`;
    const containerEnd = `amc${suffix}`;
    ip(
      "-n",
      host.name,
      "link",
      "add",
      hostEnd,
      "type",
      "veth",
      "peer",
      "name",
      containerEnd,
      "netns",
      container.name,
    );
    ip("-n", host.name, "addr", "add", `${HOST_SIDE}/32`, "dev", hostEnd);
    ip("-n", host.name, "link", "set", hostEnd, "up");
    ip("-n", host.name, "route", "add", `${CONTAINER_SIDE}/32`, "dev", hostEnd);
    ip("-n", container.name, "addr", "add", `${CONTAINER_SIDE}/32`, "dev", containerEnd);
    ip("-n", container.name, "link", "set", containerEnd, "up");
    ip("-n", container.name, "route", "add", `${HOST_SIDE}/32`, "dev", containerEnd);
    ip("-n", container.name, "route", "add", `${ECS_ADDRESS}/32`, "via", HOST_SIDE, "dev", containerEnd);
  } catch (error) {
    container?.remove();
    host.remove();
    throw error;
  }
  const made = container;
  return {
    host,
    container: made,
    remove() {
      made.remove();
      host.remove();
    },
  };
}

/** Namespaces of a test process that is gone (killed before its `after` ran): ours by name, with its pid. */
function removeOrphanedNamespaces(): void {
  const listed = spawnSync(findIp() ?? "ip", ["netns", "list"], { encoding: "utf8" }).stdout ?? "";
  for (const name of listed.split("\n").map((line) => line.split(" ")[0] ?? "")) {
    const pid = Number(/^awsmfa-[a-z]+-(\d+)-[0-9a-f]{6}$/.exec(name)?.[1]);
    if (!Number.isInteger(pid) || pid === process.pid || isAlive(pid)) continue;
    removeNamespace(name);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function removeNamespace(name: string): void {
  // Processes still in it (a server the test could not stop) keep it alive: end them first.
  const pids = spawnSync(findIp() ?? "ip", ["netns", "pids", name], { encoding: "utf8" }).stdout ?? "";
  for (const pid of pids.split(/\s+/).filter(Boolean)) {
    try {
      process.kill(Number(pid), "SIGKILL");
    } catch {
      // gone already
    }
  }
  spawnSync(findIp() ?? "ip", ["netns", "del", name]);
  rmSync(netnsEtc(name), { recursive: true, force: true });
}

/** Files here replace those of /etc for processes started with `ip netns exec NAME`. */
function netnsEtc(name: string): string {
  return join("/etc/netns", name);
}

function relayIn(name: string, listenHost: string, port: number): Promise<{ stop(): void }> {
  const script = `
    const net = require("node:net");
    net.createServer((inbound) => {
      const outbound = net.connect(${port}, "127.0.0.1");
      inbound.pipe(outbound).pipe(inbound);
      inbound.on("error", () => outbound.destroy());
      outbound.on("error", () => inbound.destroy());
    }).listen(${port}, ${JSON.stringify(listenHost)}, () => process.stdout.write("ready\\n"));`;
  const child = spawn(findIp() ?? "ip", ["netns", "exec", name, process.execPath, "-e", script], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.stdout.once("data", () => resolve({ stop: () => child.kill("SIGKILL") }));
    child.once("exit", (status) => reject(new Error(`relay in ${name} ended (${status}): ${stderr}`)));
  });
}

/**
 * A listening socket made inside the namespace by a short-lived child and handed to this
 * process over the IPC channel: the server is this process's (an in-process test server can
 * answer on it), the socket stays in the namespace it was made in.
 */
function listenIn(name: string, host: string): Promise<{ server: Server; port: number }> {
  const script = `
    const server = require("node:net").createServer();
    server.listen({ host: ${JSON.stringify(host)}, port: 0 }, () => {
      process.send({ port: server.address().port }, server, () => { server.close(); process.disconnect(); });
    });`;
  const child: ChildProcess = spawn(
    findIp() ?? "ip",
    ["netns", "exec", name, process.execPath, "-e", script],
    { stdio: ["ignore", "ignore", "pipe", "ipc"] },
  );
  let stderr = "";
  child.stderr?.setEncoding("utf8").on("data", (chunk: string) => {
    stderr += chunk;
  });
  return new Promise((resolve, reject) => {
    child.once("message", (message: { port: number }, handle: unknown) =>
      resolve({ server: handle as Server, port: message.port }),
    );
    child.once("exit", (status) =>
      reject(new Error(`no socket from namespace ${name} (${status}): ${stderr}`)),
    );
  });
}
