// Three CommonJS bundles of our own code; dependencies stay outside (node_modules).
// - dist/awsmfa.cjs: the entry and the warm path only (credential-process/env/exec from the
//   cache), paid on every aws CLI call, so it holds nothing else.
// - dist/awsmfa-direct.cjs: `plan`, `status` and `completion --list-profiles` (src/direct.ts
//   runs their simple forms without commander), and the warm path's index miss: only the modules
//   they import, so that they compile nothing else.
// - dist/awsmfa-full.cjs: everything else, required by the entry only when neither path can
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

/** The entry's `require("./commands/run")` and `require("./commands/direct")` load the other bundles. */
const otherBundles = { "./commands/run": "./awsmfa-full.cjs", "./commands/direct": "./awsmfa-direct.cjs" };
const otherBundlesAreExternal = {
  name: "other-bundles-external",
  setup(b) {
    b.onResolve({ filter: /^\.\/commands\/(run|direct)$/ }, (args) => ({
      path: otherBundles[args.path],
      external: true,
    }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ["src/cli.ts"],
    outfile: "dist/awsmfa.cjs",
    banner: { js: "#!/usr/bin/env node" },
    plugins: [otherBundlesAreExternal],
    // Compiled on every aws CLI call: fewer bytes to scan (messages are strings, so they stay).
    minify: true,
  }),
  build({ ...common, entryPoints: ["src/commands/direct.ts"], outfile: "dist/awsmfa-direct.cjs" }),
  build({ ...common, entryPoints: ["src/commands/run.ts"], outfile: "dist/awsmfa-full.cjs" }),
]);
