// Footprint: the production dependencies on disk, the bundles, and dependencies no bundle requires.
import { execFileSync, spawnSync } from "node:child_process";
import { readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { ROOT } from "./settings";

export interface Footprint {
  packages: number;
  totalBytes: number;
  diskBytes: number;
  byGroup: { name: string; bytes: number }[];
  bundles: { path: string; bytes: number }[];
  notInBundles: string[];
}

export function footprint(): Footprint {
  const listed = spawnSync("npm", ["ls", "--omit=dev", "--parseable", "--all"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  const paths = [...new Set(listed.stdout.split("\n").filter(Boolean))].filter((path) => path !== ROOT);
  // Nested installs sit inside another package's directory: count each byte once.
  const sorted = paths.sort();
  const roots = sorted.filter((path, index) => !sorted.slice(0, index).some((p) => path.startsWith(`${p}/`)));
  const du = (flag: string) =>
    roots.length === 0
      ? []
      : execFileSync("du", ["-s", flag, ...roots], { encoding: "utf8" })
          .trim()
          .split("\n")
          .map((line) => {
            const [size, path] = line.split("\t");
            return { path: path as string, bytes: Number(size) * (flag === "-k" ? 1024 : 1) };
          });
  const apparent = du("-b");
  const disk = du("-k");
  const groups = new Map<string, number>();
  for (const { path, bytes: size } of apparent) {
    const inside = relative(join(ROOT, "node_modules"), path).split("/");
    const name = inside[0]?.startsWith("@") ? (inside[0] as string) : (inside[0] ?? path);
    groups.set(name, (groups.get(name) ?? 0) + size);
  }
  const bundles = ["dist/awsmfa.cjs", "dist/awsmfa-direct.cjs", "dist/awsmfa-full.cjs"].map((path) => ({
    path,
    bytes: statSync(join(ROOT, path)).size,
  }));
  const bundleText = bundles.map((b) => readFileSync(join(ROOT, b.path), "utf8")).join("\n");
  const dependencies = Object.keys(
    (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { dependencies?: object })
      .dependencies ?? {},
  );
  // esbuild keeps import() of an external package as import(), and turns static imports into require().
  const notInBundles = dependencies.filter(
    (name) =>
      !["require", "import"].some(
        (how) => bundleText.includes(`${how}("${name}")`) || bundleText.includes(`${how}("${name}/`),
      ),
  );
  return {
    packages: paths.length,
    totalBytes: apparent.reduce((sum, entry) => sum + entry.bytes, 0),
    diskBytes: disk.reduce((sum, entry) => sum + entry.bytes, 0),
    byGroup: [...groups.entries()]
      .map(([name, size]) => ({ name, bytes: size }))
      .sort((a, b) => b.bytes - a.bytes),
    bundles,
    notInBundles,
  };
}
