import { lstatSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { build } from "esbuild";

/** Bundles fixtures/file-writer.ts into `dir`; a plain `node` then starts it in tens of milliseconds. */
export async function bundleFileWriter(dir: string): Promise<string> {
  const outfile = join(dir, "file-writer.cjs");
  await build({
    entryPoints: [join(__dirname, "fixtures", "file-writer.ts")],
    outfile,
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    logLevel: "warning",
  });
  return outfile;
}

export function tempDir(prefix: string): { path: string; remove(): void } {
  const path = mkdtempSync(join(tmpdir(), prefix));
  return { path, remove: () => rmSync(path, { recursive: true, force: true }) };
}

/** HARDENING_SEED=n replays a run; otherwise a fresh seed, printed by the tests that use it. */
export function seedFromEnv(): number {
  const given = Number(process.env.HARDENING_SEED);
  return Number.isInteger(given) ? given : Math.floor(Math.random() * 2 ** 31);
}

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function randomSource(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Every file and directory under `root` (itself excluded), depth first. */
export function walk(root: string): { path: string; isDirectory: boolean }[] {
  const found: { path: string; isDirectory: boolean }[] = [];
  for (const name of readdirSync(root)) {
    const path = join(root, name);
    const isDirectory = lstatSync(path).isDirectory();
    found.push({ path, isDirectory });
    if (isDirectory) found.push(...walk(path));
  }
  return found;
}

/** Runs `work` on every item with at most `width` at a time; results in input order. */
export async function inPool<T, R>(items: T[], width: number, work: (item: T, lane: number) => Promise<R>) {
  const results: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async (_, lane) => {
      while (next < items.length) {
        const index = next++;
        results[index] = await work(items[index] as T, lane);
      }
    }),
  );
  return results;
}

export { runAwsmfa, runProcess } from "../support/run-awsmfa";
