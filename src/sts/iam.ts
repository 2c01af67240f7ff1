import type { AwsCredentials } from "./credentials";
import { type CallContext, toAppError } from "./errors";
import { clientConfig, type Endpoints, loadIam } from "./sdk-config";

/** The IAM calls: a user's MFA devices and access keys (setup, login's device discovery, rotate). */

export interface MfaDevice {
  serial: string;
  enabled: string | undefined;
}

/**
 * The MFA devices of an IAM user. AWS answers for the caller when no user is named, but not every
 * implementation does (moto looks up a user named "None"), so the caller's name is passed.
 */
export async function listMfaDevices(
  credentials: AwsCredentials,
  userName: string | undefined,
  where: Endpoints,
  context: CallContext,
): Promise<MfaDevice[]> {
  return iamCall("ListMFADevices", credentials, where, context, async (client, iam) => {
    const out = await client.send(new iam.ListMFADevicesCommand({ UserName: userName }));
    return (out.MFADevices ?? []).map((device) => ({
      serial: device.SerialNumber ?? "",
      enabled: device.EnableDate?.toISOString(),
    }));
  });
}

export interface AccessKeyMetadata {
  accessKeyId: string;
  status: string;
  created: string | undefined;
}

/** The access keys of `userName` (IAM allows two per user). */
export async function listAccessKeys(
  credentials: AwsCredentials,
  userName: string,
  where: Endpoints,
  context: CallContext,
): Promise<AccessKeyMetadata[]> {
  return iamCall("ListAccessKeys", credentials, where, context, async (client, iam) => {
    const keys: AccessKeyMetadata[] = [];
    let marker: string | undefined;
    do {
      const out = await client.send(new iam.ListAccessKeysCommand({ UserName: userName, Marker: marker }));
      for (const key of out.AccessKeyMetadata ?? []) {
        keys.push({
          accessKeyId: key.AccessKeyId ?? "",
          status: key.Status ?? "",
          created: key.CreateDate?.toISOString(),
        });
      }
      marker = out.IsTruncated ? out.Marker : undefined;
    } while (marker);
    return keys;
  });
}

/** A new long-term access key for `userName`; its secret is in this answer only, never again. */
export async function createAccessKey(
  credentials: AwsCredentials,
  userName: string,
  where: Endpoints,
  context: CallContext,
): Promise<{ accessKeyId: string; secretAccessKey: string }> {
  return iamCall("CreateAccessKey", credentials, where, context, async (client, iam) => {
    const out = await client.send(new iam.CreateAccessKeyCommand({ UserName: userName }));
    const accessKeyId = out.AccessKey?.AccessKeyId;
    const secretAccessKey = out.AccessKey?.SecretAccessKey;
    if (!accessKeyId || !secretAccessKey) throw new Error("the response held no complete access key");
    return { accessKeyId, secretAccessKey };
  });
}

export async function deleteAccessKey(
  credentials: AwsCredentials,
  userName: string,
  accessKeyId: string,
  where: Endpoints,
  context: CallContext,
): Promise<void> {
  return iamCall("DeleteAccessKey", credentials, where, context, async (client, iam) => {
    await client.send(new iam.DeleteAccessKeyCommand({ UserName: userName, AccessKeyId: accessKeyId }));
  });
}

type IamModule = typeof import("@aws-sdk/client-iam");

/** One IAM call: the SDK loaded on first use, a client for it, errors named after `action` and IAM. */
async function iamCall<T>(
  action: string,
  credentials: AwsCredentials,
  where: Endpoints,
  context: CallContext,
  call: (client: InstanceType<IamModule["IAMClient"]>, iam: IamModule) => Promise<T>,
): Promise<T> {
  const iam = await loadIam();
  // IAM is a global service: its endpoint lives in us-east-1 whatever the profile's region.
  const client = new iam.IAMClient(await clientConfig(credentials, { ...where, region: "us-east-1" }, "IAM"));
  try {
    return await call(client, iam);
  } catch (error) {
    throw toAppError(error, { ...context, action, service: "IAM" }, where.env);
  } finally {
    client.destroy();
  }
}
