// Server side of AWS Signature Version 4 (header form), recomputed from the bytes received so
// that a client that signs anything differently from what it sends is caught.
import { createHash, createHmac, timingSafeEqual } from "node:crypto";
import type { IncomingHttpHeaders } from "node:http";
import { AwsFault, SIGNATURE_MISMATCH } from "./aws-fault";

const ALGORITHM = "AWS4-HMAC-SHA256";
/** The skew the brief asks for; real STS has been seen allowing 15 minutes. */
const ALLOWED_SKEW_MS = 5 * 60_000;

export interface SignatureV4Authorization {
  accessKeyId: string;
  scopeDate: string;
  region: string;
  service: string;
  terminator: string;
  signedHeaders: string[];
  signature: string;
  amzDate: string;
}

export interface ReceivedRequest {
  method: string;
  /** Path exactly as it came on the wire, still percent-encoded. */
  rawPath: string;
  /** Query string as it came on the wire, without the leading "?". */
  rawQuery: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function incompleteSignature(message: string): AwsFault {
  return new AwsFault(400, "IncompleteSignature", message);
}

function signatureDoesNotMatch(message: string): AwsFault {
  return new AwsFault(403, "SignatureDoesNotMatch", message);
}

function headerValue(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return Array.isArray(value) ? value.join(",") : value;
}

/** Reads the Authorization and X-Amz-Date headers; throws the fault AWS answers when they are unusable. */
export function parseAuthorization(headers: IncomingHttpHeaders): SignatureV4Authorization {
  const header = headerValue(headers, "authorization");
  if (header === undefined || header.trim() === "") {
    throw new AwsFault(403, "MissingAuthenticationToken", "Request is missing Authentication Token");
  }
  const space = header.indexOf(" ");
  const algorithm = space < 0 ? header : header.slice(0, space);
  if (algorithm !== ALGORITHM) {
    throw incompleteSignature(`Unsupported AWS 'algorithm': '${algorithm}'`);
  }
  const fields = new Map<string, string>();
  for (const part of header.slice(space + 1).split(",")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const missing = ["Credential", "Signature", "SignedHeaders"].filter((name) => !fields.get(name));
  if (missing.length > 0) {
    throw incompleteSignature(
      `${missing.map((name) => `Authorization header requires '${name}' parameter.`).join(" ")} Authorization=${header}`,
    );
  }
  const credential = fields.get("Credential") ?? "";
  const scope = credential.split("/");
  if (scope.length !== 5) {
    throw incompleteSignature(
      `Authorization header requires 'Credential' parameter of the form AKID/date/region/service/aws4_request. Authorization=${header}`,
    );
  }
  const [accessKeyId = "", scopeDate = "", region = "", service = "", terminator = ""] = scope;
  const amzDate = headerValue(headers, "x-amz-date");
  if (amzDate === undefined) {
    throw incompleteSignature(
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
  if (!/^\d{8}T\d{6}Z$/.test(amzDate)) {
    throw incompleteSignature(
      `Date must be in ISO-8601 'basic format'. Got '${amzDate}'. See http://en.wikipedia.org/wiki/ISO_8601`,
    );
  }
  return {
    accessKeyId,
    scopeDate,
    region,
    service,
    terminator,
    signedHeaders: (fields.get("SignedHeaders") ?? "").split(";"),
    signature: fields.get("Signature") ?? "",
    amzDate,
  };
}

export function formatAmzDate(timeMs: number): string {
  return new Date(timeMs)
    .toISOString()
    .replace(/[-:]/g, "")
    .replace(/\.\d{3}/, "");
}

function parseAmzDate(amzDate: string): number {
  const iso = `${amzDate.slice(0, 4)}-${amzDate.slice(4, 6)}-${amzDate.slice(6, 8)}T${amzDate.slice(9, 11)}:${amzDate.slice(11, 13)}:${amzDate.slice(13, 15)}Z`;
  return Date.parse(iso);
}

/** Rejects requests signed too far from the server's clock, with the wording AWS uses. */
export function checkRequestTime(auth: SignatureV4Authorization, serverNowMs: number): void {
  const signedAt = parseAmzDate(auth.amzDate);
  const now = formatAmzDate(serverNowMs);
  if (Number.isNaN(signedAt)) {
    throw incompleteSignature(`Date must be in ISO-8601 'basic format'. Got '${auth.amzDate}'.`);
  }
  if (signedAt < serverNowMs - ALLOWED_SKEW_MS) {
    throw signatureDoesNotMatch(
      `Signature expired: ${auth.amzDate} is now earlier than ${formatAmzDate(serverNowMs - ALLOWED_SKEW_MS)} (${now} - 5 min.)`,
    );
  }
  if (signedAt > serverNowMs + ALLOWED_SKEW_MS) {
    throw signatureDoesNotMatch(
      `Signature not yet current: ${auth.amzDate} is still later than ${formatAmzDate(serverNowMs + ALLOWED_SKEW_MS)} (${now} + 5 min.)`,
    );
  }
}

/** The credential scope must name this service and the day of X-Amz-Date; any region is accepted. */
export function checkCredentialScope(auth: SignatureV4Authorization, service: string): void {
  if (auth.scopeDate !== auth.amzDate.slice(0, 8)) {
    throw signatureDoesNotMatch(
      `Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '${auth.scopeDate}' != '${auth.amzDate.slice(0, 8)}', from '${auth.amzDate}'.`,
    );
  }
  if (auth.service !== service) {
    throw signatureDoesNotMatch(`Credential should be scoped to correct service: '${service}'. `);
  }
  if (auth.terminator !== "aws4_request") {
    throw signatureDoesNotMatch(
      `Credential should be scoped with a valid terminator: 'aws4_request', not '${auth.terminator}'. `,
    );
  }
  if (!auth.signedHeaders.includes("host")) {
    throw signatureDoesNotMatch("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.");
  }
}

function uriEscape(text: string): string {
  return encodeURIComponent(text).replace(
    /[!'()*]/g,
    (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`,
  );
}

function decodeQueryComponent(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

function canonicalQueryString(rawQuery: string): string {
  return rawQuery
    .split("&")
    .filter((pair) => pair !== "")
    .map((pair) => {
      const eq = pair.indexOf("=");
      const key = eq < 0 ? pair : pair.slice(0, eq);
      const value = eq < 0 ? "" : pair.slice(eq + 1);
      return [uriEscape(decodeQueryComponent(key)), uriEscape(decodeQueryComponent(value))] as const;
    })
    .sort(([ka, va], [kb, vb]) => (ka === kb ? (va < vb ? -1 : va > vb ? 1 : 0) : ka < kb ? -1 : 1))
    .map(([key, value]) => `${key}=${value}`)
    .join("&");
}

function sha256Hex(data: string | Buffer): string {
  return createHash("sha256").update(data).digest("hex");
}

function hmac(key: Buffer | string, data: string): Buffer {
  return createHmac("sha256", key).update(data, "utf8").digest();
}

export function canonicalRequest(request: ReceivedRequest, signedHeaders: string[]): string {
  const headerLines = signedHeaders.map((name) => {
    const value = headerValue(request.headers, name) ?? "";
    return `${name}:${value.trim().replace(/\s+/g, " ")}\n`;
  });
  return [
    request.method,
    request.rawPath,
    canonicalQueryString(request.rawQuery),
    headerLines.join(""),
    signedHeaders.join(";"),
    sha256Hex(request.body),
  ].join("\n");
}

export function expectedSignature(
  request: ReceivedRequest,
  auth: SignatureV4Authorization,
  secretAccessKey: string,
): string {
  const scope = `${auth.scopeDate}/${auth.region}/${auth.service}/${auth.terminator}`;
  const stringToSign = [
    ALGORITHM,
    auth.amzDate,
    scope,
    sha256Hex(canonicalRequest(request, auth.signedHeaders)),
  ].join("\n");
  const dateKey = hmac(`AWS4${secretAccessKey}`, auth.scopeDate);
  const signingKey = hmac(hmac(hmac(dateKey, auth.region), auth.service), auth.terminator);
  return createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
}

export function verifySignature(
  request: ReceivedRequest,
  auth: SignatureV4Authorization,
  secretAccessKey: string,
): void {
  const expected = Buffer.from(expectedSignature(request, auth, secretAccessKey));
  const provided = Buffer.from(auth.signature);
  if (expected.length !== provided.length || !timingSafeEqual(expected, provided)) {
    throw signatureDoesNotMatch(SIGNATURE_MISMATCH);
  }
}
