// Two CommonJS bundles of our own code; dependencies stay outside (node_modules).
// - dist/awsmfa.cjs: the entry and the warm path only (credential-process/env from the cache),
//   paid on every aws CLI call, so it holds nothing else.
// - dist/awsmfa-full.cjs: everything else, required by the entry only when the warm path cannot
//   answer. The SDK, otpauth, prompts and commander load from there with import()/require().
import { readFileSync } from "node:fs";
import { build } from "esbuild";

const { version } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));

const common = {
  bundle: true,
  platform: "node",
  format: "cjs",
  target: "node20",
  packages: "external",
  legalComments: "none",
  logLevel: "warning",
  define: { AWSMFA_VERSION: JSON.stringify(version) },
};

/** The entry's `import("./commands/run")` becomes a require of the second bundle. */
const fullBundleIsExternal = {
  name: "full-bundle-external",
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/run$/ }, () => ({ path: "./awsmfa-full.cjs", external: true }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ["src/cli.ts"],
    outfile: "dist/awsmfa.cjs",
    banner: { js: "#!/usr/bin/env node" },
    plugins: [fullBundleIsExternal],
    // Compiled on every aws CLI call: fewer bytes to scan (messages are strings, so they stay).
    minify: true,
  }),
  build({ ...common, entryPoints: ["src/commands/run.ts"], outfile: "dist/awsmfa-full.cjs" }),
]);
