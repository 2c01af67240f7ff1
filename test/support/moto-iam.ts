// IAM set-up on moto_server, as a person makes it in the console. moto does not authenticate: any
// keys act as the account's administrator.
import assert from "node:assert/strict";
import {
  CreateAccessKeyCommand,
  CreateUserCommand,
  CreateVirtualMFADeviceCommand,
  EnableMFADeviceCommand,
  IAMClient,
} from "@aws-sdk/client-iam";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = "true";

export interface MotoKeys {
  accessKeyId: string;
  secretAccessKey: string;
}

/** An IAM client for moto at `url`, acting as the administrator unless given other keys. */
export function motoIam(
  url: string,
  credentials: MotoKeys = { accessKeyId: "AKIAMOTOADMIN0000001", secretAccessKey: "moto-admin" },
): IAMClient {
  return new IAMClient({ region: "us-east-1", endpoint: url, credentials, maxAttempts: 1 });
}

/** A fresh IAM user with an access key and an enabled virtual MFA device. */
export async function createMfaUser(
  admin: IAMClient,
  userName: string,
): Promise<{ keys: MotoKeys; serial: string }> {
  await admin.send(new CreateUserCommand({ UserName: userName }));
  const key = (await admin.send(new CreateAccessKeyCommand({ UserName: userName }))).AccessKey;
  assert.ok(key?.AccessKeyId && key.SecretAccessKey);
  const device = (await admin.send(new CreateVirtualMFADeviceCommand({ VirtualMFADeviceName: userName })))
    .VirtualMFADevice;
  assert.ok(device?.SerialNumber);
  await admin.send(
    new EnableMFADeviceCommand({
      UserName: userName,
      SerialNumber: device.SerialNumber,
      AuthenticationCode1: "111111",
      AuthenticationCode2: "222222",
    }),
  );
  return {
    keys: { accessKeyId: key.AccessKeyId, secretAccessKey: key.SecretAccessKey },
    serial: device.SerialNumber,
  };
}
