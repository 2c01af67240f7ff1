// Run by sdk-js.test.ts in a child process of its own, so that the SDK reads only the environment
// the test gives it (HOME, AWS_CONFIG_FILE, AWS_ENDPOINT_URL_STS, …), as in a user's program:
//   node --import tsx sdk-client.ts <fromProcess|fromIni> <profile>
// An STS client with the provider makes one GetCallerIdentity. Prints one JSON line on stdout:
// {ok: true, arn, accessKeyId, expiration} or {ok: false, name, message}.
import { GetCallerIdentityCommand, STSClient } from "@aws-sdk/client-sts";
import { fromIni, fromProcess } from "@aws-sdk/credential-providers";

async function main(): Promise<void> {
  const [providerName, profile] = process.argv.slice(2);
  if ((providerName !== "fromProcess" && providerName !== "fromIni") || !profile) {
    throw new Error("usage: sdk-client.ts <fromProcess|fromIni> <profile>");
  }
  const provider = providerName === "fromProcess" ? fromProcess({ profile }) : fromIni({ profile });
  // Region and endpoint come from the environment (AWS_REGION, AWS_ENDPOINT_URL_STS), as the SDK reads them.
  const client = new STSClient({ credentials: provider, maxAttempts: 1 });
  try {
    const identity = await client.send(new GetCallerIdentityCommand({}));
    const credentials = await client.config.credentials();
    process.stdout.write(
      `${JSON.stringify({
        ok: true,
        arn: identity.Arn,
        accessKeyId: credentials.accessKeyId,
        expiration: credentials.expiration?.toISOString(),
      })}\n`,
    );
  } finally {
    client.destroy();
  }
}

main().catch((error: unknown) => {
  const e = error as Error;
  process.stdout.write(
    `${JSON.stringify({ ok: false, name: e?.name, message: e?.message ?? String(error) })}\n`,
  );
  process.exitCode = 1;
});
