import { join } from "node:path";
import { cacheDirectoryFrom, homeFromVariables } from "./config/home";
import { runCompiled } from "./fsio/code-cache";

/**
 * The entry. It is compiled from source on every call, so it holds only this: run the warm bundle
 * (cli.ts, dist/awsmfa-warm.cjs) from V8's code cache in awsmfa's cache directory
 * (fsio/code-cache.ts). With no variable saying where home is, it compiles the bundle as Node would.
 */
runCompiled(
  join(__dirname, "awsmfa-warm.cjs"),
  cacheDirectoryFrom(process.env, () => homeFromVariables(process.env)),
  require,
);
