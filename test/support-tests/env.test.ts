import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { stat } from "node:fs/promises";
import { test } from "node:test";
import { promisify } from "node:util";
import { createIsolatedEnv } from "../support/env";

const runFile = promisify(execFile);

test("an isolated environment has its own HOME and ~/.aws files and inherits no AWS_* variable", async (t) => {
  process.env.AWS_PROFILE = "from-the-developer-shell";
  process.env.AWSMFA_CACHE_DIR = "/somewhere/real";
  t.after(() => {
    delete process.env.AWS_PROFILE;
    delete process.env.AWSMFA_CACHE_DIR;
  });
  const isolated = await createIsolatedEnv({
    endpointUrl: "http://127.0.0.1:4566",
    config: "[profile dev]\nregion = eu-west-1\n",
    credentials: "[dev]\naws_access_key_id = AKIA\n",
    vars: { NO_COLOR: "1" },
  });
  t.after(() => isolated.cleanup());

  assert.equal(isolated.env.HOME, isolated.home);
  assert.equal(isolated.env.AWS_PROFILE, undefined);
  assert.equal(isolated.env.AWSMFA_CACHE_DIR, isolated.cacheDir);
  assert.ok(isolated.cacheDir.startsWith(isolated.home));
  for (const name of ["AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_STS", "AWS_ENDPOINT_URL_IAM"]) {
    assert.equal(isolated.env[name], "http://127.0.0.1:4566");
  }
  assert.equal(isolated.env.AWS_REGION, "us-east-1");
  assert.equal(isolated.env.AWS_EC2_METADATA_DISABLED, "true");
  assert.equal(isolated.env.NO_COLOR, "1");
  assert.equal((await stat(isolated.configPath)).mode & 0o777, 0o600);
  assert.equal((await stat(isolated.credentialsPath)).mode & 0o777, 0o600);

  const { stdout } = await runFile(process.execPath, ["-p", "require('node:os').homedir()"], {
    env: isolated.env,
  });
  assert.equal(stdout.trim(), isolated.home);
});

test("cleanup removes the temporary HOME; files not given are not created", async () => {
  const isolated = await createIsolatedEnv({ endpointUrl: "http://127.0.0.1:1" });
  await assert.rejects(stat(isolated.configPath), { code: "ENOENT" });
  await isolated.cleanup();
  await assert.rejects(stat(isolated.home), { code: "ENOENT" });
});
