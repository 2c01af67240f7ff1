import { runAwsmfa, runProcess, AWSMFA } from "./test/support/run-awsmfa";
import { createServerHome, startServerSts, SEED } from "./test/server/helpers";
(async () => {
  const server = await startServerSts();
  const home = await createServerHome(server);
  await runAwsmfa(["login", "-p", "admin", "--token-code", server.totp(SEED)], { env: home.env });
  const r = await runProcess("bash", ["-c", `eval "$(node ${AWSMFA} serve -p admin --detach)"; grep -E "Sig(Ign|Cgt)" /proc/$AWSMFA_SERVE_PID/status; kill -INT $AWSMFA_SERVE_PID; sleep 0.5; kill -0 $AWSMFA_SERVE_PID && echo alive; kill $AWSMFA_SERVE_PID`], { env: home.env, timeoutMs: 20000 });
  console.log(r.status, r.stdout, r.stderr);
  await home.cleanup(); await server.close();
})();
