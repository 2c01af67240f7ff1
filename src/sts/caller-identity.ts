import type { AwsCredentials, CallerIdentity } from "./credentials";
import { type CallContext, toAppError } from "./errors";
import { clientConfig, type Endpoints, loadSts } from "./sdk-config";

/** GetCallerIdentity: whose keys these are (it needs no permission, so it also proves a key works). */
export async function getCallerIdentity(
  credentials: AwsCredentials,
  where: Endpoints,
  context: CallContext,
): Promise<CallerIdentity> {
  const { STSClient, GetCallerIdentityCommand } = await loadSts();
  const client = new STSClient(await clientConfig(credentials, where, "STS"));
  try {
    const out = await client.send(new GetCallerIdentityCommand({}));
    return { account: out.Account ?? "", arn: out.Arn ?? "", userId: out.UserId ?? "" };
  } catch (error) {
    throw toAppError(error, { ...context, action: "GetCallerIdentity" }, where.env);
  } finally {
    client.destroy();
  }
}
