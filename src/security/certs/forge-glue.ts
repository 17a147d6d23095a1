/**
 * The seam between node-forge, which builds and encodes X.509 structures, and
 * node:crypto, which holds the keys.
 *
 * forge's `sign(key, md)` only needs an object whose `sign(md)` returns the
 * signature; forge's own RSA private-key operation runs in JavaScript and
 * blocks the event loop for tens of milliseconds per signature. The adapter
 * here does the same RSASSA-PKCS1-v1_5 operation (RFC 8017 §8.2) through
 * OpenSSL: forge supplies the digest, we wrap it in a DigestInfo and apply the
 * private key natively. The key never becomes a forge object or a JS string.
 */
import { constants, type KeyObject, privateEncrypt, randomBytes } from 'node:crypto';
import forge from 'node-forge';

export { forge };

/** A forge-compatible signer backed by a native RSA private key. */
export function nativeRsaSigner(key: KeyObject): forge.pki.rsa.PrivateKey {
  if (key.asymmetricKeyType !== 'rsa') {
    throw new TypeError(`signing keys must be RSA (forge encodes only RSA signatures); got ${key.asymmetricKeyType}`);
  }
  const signer = {
    sign(md: forge.md.MessageDigest): forge.Bytes {
      const oid = forge.pki.oids[md.algorithm];
      if (oid === undefined) throw new TypeError(`no OID for digest ${md.algorithm}`);
      // DigestInfo ::= SEQUENCE { digestAlgorithm AlgorithmIdentifier, digest OCTET STRING }
      const { asn1 } = forge;
      const digestInfo = asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.SEQUENCE, true, [
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OID, false, asn1.oidToDer(oid).getBytes()),
          asn1.create(asn1.Class.UNIVERSAL, asn1.Type.NULL, false, ''),
        ]),
        asn1.create(asn1.Class.UNIVERSAL, asn1.Type.OCTETSTRING, false, md.digest().getBytes()),
      ]);
      const encoded = Buffer.from(asn1.toDer(digestInfo).getBytes(), 'binary');
      return privateEncrypt({ key, padding: constants.RSA_PKCS1_PADDING }, encoded).toString('binary');
    },
  };
  return signer as unknown as forge.pki.rsa.PrivateKey;
}

export function sha256(): forge.md.MessageDigest {
  return forge.md.sha256.create();
}

/**
 * A random positive serial as forge wants it (hex of the INTEGER's content
 * octets). 128 random bits; a leading zero octet keeps the INTEGER positive
 * when the top bit is set, and a zero first octet is bumped so the encoding
 * stays minimal (RFC 5280 §4.1.2.2 allows up to 20 octets).
 */
export function randomSerialHex(): string {
  const bytes = randomBytes(16);
  if (bytes[0] === 0) bytes[0] = 1;
  const hex = bytes.toString('hex');
  return bytes[0]! >= 0x80 ? `00${hex}` : hex;
}

/** Serial as printed by tools: upper-case hex without the sign octet. */
export function displaySerial(hex: string): string {
  return hex.replace(/^(00)+(?=[0-9a-fA-F]{2})/, '').toUpperCase();
}

/** forge's binary string to a Buffer. */
export function bytesToBuffer(bytes: forge.Bytes): Buffer {
  return Buffer.from(bytes, 'binary');
}
