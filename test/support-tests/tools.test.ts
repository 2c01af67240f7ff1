// The helpers around external tools: moto_server and the aws CLI, found on PATH or reported
// missing (skip locally, fail under CI=true).
import assert from "node:assert/strict";
import { test } from "node:test";
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { awsCliAvailable, findOnPath, MOTO_SKIP_REASON, startMoto } from "../support/moto";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

function withEnv<T>(patch: Record<string, string | undefined>, body: () => T): T {
  const saved = Object.fromEntries(Object.keys(patch).map((name) => [name, process.env[name]]));
  const apply = (values: Record<string, string | undefined>) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  };
  apply(patch);
  try {
    return body();
  } finally {
    apply(saved);
  }
}

test("a tool missing from PATH is reported missing locally and is an error under CI=true", () => {
  withEnv({ PATH: "", CI: undefined }, () => {
    assert.equal(findOnPath("aws"), undefined);
    assert.equal(awsCliAvailable(), false);
  });
  withEnv({ PATH: "", CI: "true" }, () => {
    assert.throws(() => awsCliAvailable(), /aws is not on PATH; CI must install it/);
  });
});

test("startMoto runs moto_server on loopback until closed", async (t) => {
  const moto = await startMoto();
  if (!moto) return t.skip(MOTO_SKIP_REASON);
  let closed = false;
  t.after(() => (closed ? undefined : moto.close()));
  assert.match(moto.url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const client = new STSClient({
    region: "us-east-1",
    endpoint: moto.url,
    credentials: { accessKeyId: "AKIAMOTO000000000001", secretAccessKey: "moto-secret" },
    maxAttempts: 1,
  });
  const identity = await client.send(new GetCallerIdentityCommand({}));
  assert.match(identity.Arn ?? "", /^arn:aws:(iam|sts)::\d{12}:/);

  await moto.close();
  closed = true;
  await assert.rejects(fetch(`${moto.url}/moto-api/`, { signal: AbortSignal.timeout(2_000) }));
});
