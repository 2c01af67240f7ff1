import { createHash, generateKeyPairSync, type KeyObject, randomBytes, sign } from "node:crypto";

/**
 * The two certificates of the containers' https endpoint (container-ca.ts), in DER made here.
 * node:crypto makes the keys (ECDSA P-256), signs, and reads certificates back (X509Certificate),
 * but has no call that builds one; a package that does (node-forge, @peculiar/x509) would bring
 * hundreds of KB, or ten dependencies, into a tool that holds AWS keys, for two fixed layouts.
 * So the layouts are written out here (RFC 5280), and the tests check them with X509Certificate,
 * OpenSSL and the TLS clients of Node, Python and the SDKs.
 *
 * The CA may sign only for the names containers use to reach the host (name constraints): a
 * leaked CA key could vouch for host.docker.internal, localhost and 127.0.0.0/8, and nothing else.
 */

export interface IssuedCertificate {
  /** PEM */
  cert: string;
  /** PKCS#8 PEM */
  key: string;
}

export interface ServerNames {
  dns: readonly string[];
  ipv4: readonly string[];
}

/** What the CA may sign for, and what the server certificate names. */
export const CONTAINER_HOST_NAMES: ServerNames = {
  dns: ["host.docker.internal", "localhost"],
  ipv4: ["127.0.0.1"],
};

const OID = {
  commonName: "2.5.4.3",
  organization: "2.5.4.10",
  ecPublicKey: "1.2.840.10045.2.1",
  ecdsaWithSha256: "1.2.840.10045.4.3.2",
  subjectKeyIdentifier: "2.5.29.14",
  keyUsage: "2.5.29.15",
  subjectAltName: "2.5.29.17",
  basicConstraints: "2.5.29.19",
  nameConstraints: "2.5.29.30",
  authorityKeyIdentifier: "2.5.29.35",
  extKeyUsage: "2.5.29.37",
  serverAuth: "1.3.6.1.5.5.7.3.1",
};

/** A self-signed CA, limited to `names` (name constraints), valid from `notBefore` to `notAfter`. */
export function issueAuthority(
  commonName: string,
  names: ServerNames,
  validity: { notBefore: Date; notAfter: Date },
): IssuedCertificate {
  const { privateKey, publicKey } = newKeyPair();
  const subject = name(commonName);
  const spki = spkiOf(publicKey);
  const permitted = [
    ...names.dns.map((dns) => generalSubtree(tagged(0x82, Buffer.from(dns, "ascii")))),
    // The address's /8: 127.0.0.0/8 for 127.0.0.1, the loopback network.
    ...names.ipv4.map((ip) =>
      generalSubtree(
        tagged(0x87, Buffer.concat([ipv4(ip).map((byte, at) => (at === 0 ? byte : 0)), ipv4("255.0.0.0")])),
      ),
    ),
  ];
  const extensions = [
    extension(OID.basicConstraints, true, sequence(boolean(true), integer(Buffer.from([0])))),
    extension(OID.keyUsage, true, keyUsage({ keyCertSign: true })),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.nameConstraints, true, sequence(tagged(0xa0, Buffer.concat(permitted)))),
  ];
  const cert = signed(tbs(subject, subject, spki, validity, extensions), privateKey);
  return {
    cert: pem("CERTIFICATE", cert),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

/** A server certificate for `names`, signed by the CA (its certificate's DER and its key). */
export function issueServerCertificate(
  authority: { certDer: Buffer; key: KeyObject },
  names: ServerNames,
  validity: { notBefore: Date; notAfter: Date },
): IssuedCertificate {
  const { privateKey, publicKey } = newKeyPair();
  const spki = spkiOf(publicKey);
  const { subject: issuer, spki: issuerSpki } = subjectAndKeyOf(authority.certDer);
  const altNames = [
    ...names.dns.map((dns) => tagged(0x82, Buffer.from(dns, "ascii"))),
    ...names.ipv4.map((ip) => tagged(0x87, ipv4(ip))),
  ];
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, keyUsage({ digitalSignature: true })),
    extension(OID.extKeyUsage, false, sequence(oid(OID.serverAuth))),
    extension(OID.subjectKeyIdentifier, false, octetString(keyIdentifier(spki))),
    extension(OID.authorityKeyIdentifier, false, sequence(tagged(0x80, keyIdentifier(issuerSpki)))),
    extension(OID.subjectAltName, false, sequence(...altNames)),
  ];
  const cert = signed(tbs(issuer, name(names.dns[0] ?? "awsmfa"), spki, validity, extensions), authority.key);
  return {
    cert: pem("CERTIFICATE", cert),
    key: privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
  };
}

function newKeyPair(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync("ec", { namedCurve: "P-256" });
}

function spkiOf(publicKey: KeyObject): Buffer {
  return publicKey.export({ type: "spki", format: "der" });
}

/** RFC 5280 §4.2.1.2 allows any method: the first 20 bytes of the SHA-256 of the public key info. */
function keyIdentifier(spki: Buffer): Buffer {
  return createHash("sha256").update(spki).digest().subarray(0, 20);
}

function tbs(
  issuer: Buffer,
  subject: Buffer,
  spki: Buffer,
  validity: { notBefore: Date; notAfter: Date },
  extensions: Buffer[],
): Buffer {
  return sequence(
    tagged(0xa0, integer(Buffer.from([2]))), // v3
    integer(serialNumber()),
    sequence(oid(OID.ecdsaWithSha256)),
    issuer,
    sequence(time(validity.notBefore), time(validity.notAfter)),
    subject,
    spki,
    tagged(0xa3, sequence(...extensions)),
  );
}

function signed(tbsCertificate: Buffer, key: KeyObject): Buffer {
  const signature = sign("sha256", tbsCertificate, key); // DER ECDSA-Sig-Value
  return sequence(tbsCertificate, sequence(oid(OID.ecdsaWithSha256)), bitString(signature));
}

/** 16 random bytes, positive and with no leading zero byte (DER's minimal INTEGER). */
function serialNumber(): Buffer {
  const bytes = randomBytes(16);
  bytes[0] = ((bytes[0] as number) & 0x7f) | 0x40;
  return bytes;
}

function name(commonName: string): Buffer {
  return sequence(
    set(sequence(oid(OID.organization), utf8("awsmfa"))),
    set(sequence(oid(OID.commonName), utf8(commonName))),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return sequence(oid(id), ...(critical ? [boolean(true)] : []), octetString(value));
}

function keyUsage(bits: { digitalSignature?: boolean; keyCertSign?: boolean }): Buffer {
  // BIT STRING, bit 0 the first (most significant) bit: digitalSignature (0), keyCertSign (5).
  if (bits.keyCertSign) return tagged(0x03, Buffer.from([0x02, 0x04])); // 2 unused bits: 00000100
  return tagged(0x03, Buffer.from([0x07, 0x80])); // 7 unused bits: 1
}

function generalSubtree(base: Buffer): Buffer {
  return sequence(base);
}

function ipv4(text: string): Buffer {
  return Buffer.from(text.split(".").map(Number));
}

function time(date: Date): Buffer {
  const iso = date.toISOString(); // YYYY-MM-DDTHH:MM:SS.sssZ
  const digits = iso.slice(0, 19).replace(/[-T:]/g, "");
  const year = date.getUTCFullYear();
  // UTCTime up to 2049, GeneralizedTime after (RFC 5280 §4.1.2.5).
  return year < 2050
    ? tagged(0x17, Buffer.from(`${digits.slice(2)}Z`, "ascii"))
    : tagged(0x18, Buffer.from(`${digits}Z`, "ascii"));
}

function pem(label: string, der: Buffer): string {
  const lines = der.toString("base64").match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join("\n")}\n-----END ${label}-----\n`;
}

// DER, the few types the two layouts use.

function tagged(tag: number, content: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(content.length), content]);
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let rest = n; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function sequence(...items: Buffer[]): Buffer {
  return tagged(0x30, Buffer.concat(items));
}

function set(...items: Buffer[]): Buffer {
  return tagged(0x31, Buffer.concat(items));
}

function integer(bytes: Buffer): Buffer {
  return tagged(0x02, bytes);
}

function boolean(value: boolean): Buffer {
  return tagged(0x01, Buffer.from([value ? 0xff : 0]));
}

function octetString(bytes: Buffer): Buffer {
  return tagged(0x04, bytes);
}

function bitString(bytes: Buffer): Buffer {
  return tagged(0x03, Buffer.concat([Buffer.from([0]), bytes]));
}

function utf8(text: string): Buffer {
  return tagged(0x0c, Buffer.from(text, "utf8"));
}

function oid(dotted: string): Buffer {
  const [first, second, ...rest] = dotted.split(".").map(Number) as [number, number, ...number[]];
  const bytes = [first * 40 + second];
  for (const arc of rest) {
    const chunk = [arc & 0x7f];
    for (let value = arc >> 7; value > 0; value >>= 7) chunk.unshift((value & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tagged(0x06, Buffer.from(bytes));
}

/** The subject Name and the SubjectPublicKeyInfo of a certificate, as DER, read back from its DER. */
function subjectAndKeyOf(certDer: Buffer): { subject: Buffer; spki: Buffer } {
  const certificate = children(certDer)[0] as Buffer;
  const fields = children(certificate);
  // version [0], serial, signature, issuer, validity, subject, spki, …
  return { subject: fields[5] as Buffer, spki: fields[6] as Buffer };
}

/** The whole TLVs inside one constructed TLV. */
function children(tlv: Buffer): Buffer[] {
  const { start, end } = span(tlv, 0);
  const items: Buffer[] = [];
  for (let at = start; at < end; ) {
    const item = span(tlv, at);
    items.push(tlv.subarray(at, item.end));
    at = item.end;
  }
  return items;
}

function span(der: Buffer, at: number): { start: number; end: number } {
  const first = der[at + 1] as number;
  if (first < 0x80) return { start: at + 2, end: at + 2 + first };
  const count = first & 0x7f;
  let n = 0;
  for (let i = 0; i < count; i++) n = n * 256 + (der[at + 2 + i] as number);
  return { start: at + 2 + count, end: at + 2 + count + n };
}
