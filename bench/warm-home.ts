// For measuring one change by hand: makes a warm home (config with N role profiles, logged in)
// and prints the variables to run the warm credential-process in it, e.g.
//   eval "$(node --import tsx bench/warm-home.ts 2000)"
//   HOME=$WARM_HOME AWSMFA_CACHE_DIR=$WARM_CACHE perf stat -r 200 node dist/awsmfa.cjs \
//     credential-process -p $WARM_PROFILE
// The home is left in the temp directory; remove it with `rm -r "$WARM_HOME"`.
import { BenchWorld } from "./fixture";

async function main(): Promise<void> {
  const roles = Number(process.argv[2] ?? 2000);
  const world = await BenchWorld.start(1, [roles]);
  const home = await world.home(roles);
  await world.login(home);
  await world.close();
  const quote = (value: string) => `'${value.replace(/'/g, `'\\''`)}'`;
  process.stdout.write(
    `export WARM_HOME=${quote(home.iso.home)} WARM_CACHE=${quote(home.iso.cacheDir)} WARM_PROFILE=${quote(home.profile)}\n`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? error}\n`);
  process.exitCode = 1;
});
