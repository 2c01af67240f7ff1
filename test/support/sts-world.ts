// A strict STS server for a test file (or a describe block), reset before each test, and a fresh
// isolated home for each test: the setup most suites that run awsmfa against STS share.
import { after, before, beforeEach } from "node:test";
import { createIsolatedEnv, type IsolatedEnv, type IsolatedEnvOptions } from "./env";
import { type StsServer, type StsServerOptions, startStsServer } from "./sts-server";

export interface StsWorld {
  /** The server, reset (calls, faults, issued credentials) before each test. */
  readonly server: StsServer;
  /** This test's home, with the files written in it. */
  readonly home: IsolatedEnv;
}

export interface StsWorldOptions extends Omit<IsolatedEnvOptions, "endpointUrl"> {
  /** The server's users and roles, or how to start it. */
  start: StsServerOptions | (() => Promise<StsServer>);
}

/** Registers the hooks where it is called (a file, or a describe block); read `server` and `home` inside tests only. */
export function useStsWorld(options: StsWorldOptions): StsWorld {
  const { start, ...files } = options;
  let server: StsServer | undefined;
  let home: IsolatedEnv | undefined;
  before(async () => {
    server = typeof start === "function" ? await start() : await startStsServer(start);
  });
  after(async () => {
    await home?.cleanup();
    await server?.close();
  });
  beforeEach(async () => {
    const current = world.server;
    current.reset();
    await home?.cleanup();
    home = await createIsolatedEnv({ ...files, endpointUrl: current.url });
  });
  const world: StsWorld = {
    get server() {
      if (server === undefined) throw new Error("the STS server is there only inside tests");
      return server;
    },
    get home() {
      if (home === undefined) throw new Error("the test's home is there only inside tests");
      return home;
    },
  };
  return world;
}
