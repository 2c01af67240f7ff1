import type { AwsCredentials, SessionCredentials } from "./credentials";
import { type CallContext, toAppError } from "./errors";
import { sendSpendingCode } from "./retry";
import { clientConfig, type Endpoints, loadSts } from "./sdk-config";
import { sessionCredentials } from "./session-credentials";

/** GetSessionToken with an MFA code: the MFA session that roles and commands start from. */
export async function getSessionToken(
  credentials: AwsCredentials,
  params: { serialNumber: string; tokenCode: string; durationSeconds: number },
  where: Endpoints,
  context: CallContext,
): Promise<SessionCredentials> {
  const { STSClient, GetSessionTokenCommand } = await loadSts();
  // One attempt for the SDK: sendSpendingCode decides which failures may be tried again.
  const client = new STSClient(await clientConfig(credentials, where, "STS", 1));
  try {
    const command = new GetSessionTokenCommand({
      SerialNumber: params.serialNumber,
      TokenCode: params.tokenCode,
      DurationSeconds: params.durationSeconds,
    });
    const out = await sendSpendingCode(() => client.send(command));
    return sessionCredentials(out.Credentials, context);
  } catch (error) {
    throw toAppError(error, { ...context, action: "GetSessionToken" }, where.env);
  } finally {
    client.destroy();
  }
}
