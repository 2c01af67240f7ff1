// Bundles src/ into one CommonJS file. Dependencies stay outside the bundle (node_modules) so
// that the warm path parses only our own code; the SDK, otpauth, prompts and commander are
// loaded with import()/require() only on the paths that need them.
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

await build({
  entryPoints: ["src/cli.ts"],
  outfile: "dist/awsmfa.cjs",
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  banner: { js: "#!/usr/bin/env node" },
  sourcemap: false,
  legalComments: "none",
  define: { AWSMFA_VERSION: JSON.stringify(version) },
  logLevel: "warning",
});
