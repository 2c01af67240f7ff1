import type { AwsCredentials, CallerIdentity, SessionCredentials } from "./credentials";
import { type CallContext, toAppError } from "./errors";
import { sendSpendingCode } from "./retry";
import { clientConfig, type Endpoints, loadSts, MAX_ATTEMPTS } from "./sdk-config";
import { sessionCredentials } from "./session-credentials";

export interface AssumeRoleParams {
  roleArn: string;
  roleSessionName: string;
  externalId?: string;
  durationSeconds?: number;
  serialNumber?: string;
  tokenCode?: string;
}

/** AssumeRole, with an MFA code when the role asks for one itself (then retried as any call that spends a code). */
export async function assumeRole(
  credentials: AwsCredentials,
  params: AssumeRoleParams,
  where: Endpoints,
  context: CallContext,
): Promise<{ credentials: SessionCredentials; identity: CallerIdentity }> {
  const { STSClient, AssumeRoleCommand } = await loadSts();
  const spendsCode = params.tokenCode !== undefined;
  const client = new STSClient(await clientConfig(credentials, where, "STS", spendsCode ? 1 : MAX_ATTEMPTS));
  try {
    const command = new AssumeRoleCommand({
      RoleArn: params.roleArn,
      RoleSessionName: params.roleSessionName,
      ExternalId: params.externalId,
      DurationSeconds: params.durationSeconds,
      SerialNumber: params.serialNumber,
      TokenCode: params.tokenCode,
    });
    const out = spendsCode ? await sendSpendingCode(() => client.send(command)) : await client.send(command);
    const arn = out.AssumedRoleUser?.Arn ?? params.roleArn;
    return {
      credentials: sessionCredentials(out.Credentials, context),
      identity: { arn, account: arn.split(":")[4] ?? "", userId: out.AssumedRoleUser?.AssumedRoleId ?? "" },
    };
  } catch (error) {
    throw toAppError(error, { ...context, action: "AssumeRole", roleArn: params.roleArn }, where.env);
  } finally {
    client.destroy();
  }
}
