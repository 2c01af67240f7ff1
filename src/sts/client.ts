/**
 * The calls awsmfa makes to AWS, one file each behind this door: callers load it with import(),
 * so that the warm path (a valid cache) never loads the SDK. sdk-config.ts makes every SDK client
 * (region, endpoint, timeouts, proxy, CA bundle); errors.ts turns every failure into an AppError.
 */
export { type AssumeRoleParams, assumeRole } from "./assume-role";
export { getCallerIdentity } from "./caller-identity";
export { getSigninToken } from "./federation";
export {
  type AccessKeyMetadata,
  createAccessKey,
  deleteAccessKey,
  listAccessKeys,
  listMfaDevices,
  type MfaDevice,
} from "./iam";
// signin.ts and sso.ts import these from here.
export { clientConfig, type Endpoints } from "./sdk-config";
export { getSessionToken } from "./session-token";
