/**
 * Ed25519 keys and signatures for devices (node:crypto).
 *
 * Keys travel as base64url: a public key is its raw 32 bytes, a private key
 * its PKCS#8 DER. Every signed message is the canonical JSON of an object
 * whose `ctx` names the purpose, so a signature made for one purpose can
 * never be replayed as another.
 */
import {
  createPrivateKey,
  createPublicKey,
  sign as cryptoSign,
  verify as cryptoVerify,
  generateKeyPairSync,
  type KeyObject,
} from 'node:crypto';
import { canonicalJson } from './canonical-json.js';
import { PUBLIC_KEY_PATTERN, SIGNATURE_PATTERN } from './signature-patterns.js';

export interface DeviceKeys {
  /** Raw 32-byte Ed25519 public key, base64url. */
  publicKey: string;
  /** PKCS#8 DER private key, base64url. Never leaves the device. */
  privateKey: string;
}

export function generateDeviceKeys(): DeviceKeys {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKey: rawPublicKey(publicKey),
    privateKey: privateKey.export({ format: 'der', type: 'pkcs8' }).toString('base64url'),
  };
}

function rawPublicKey(key: KeyObject): string {
  const jwk = key.export({ format: 'jwk' });
  if (typeof jwk.x !== 'string') throw new Error('not an Ed25519 public key');
  return jwk.x;
}

export function importPrivateKey(privateKey: string): KeyObject {
  return createPrivateKey({ key: Buffer.from(privateKey, 'base64url'), format: 'der', type: 'pkcs8' });
}

/**
 * The y-coordinates (little-endian, sign bit cleared) of the Ed25519 points
 * of small order (1, 2, 4, 8), including non-canonical spellings. A public
 * key on this list admits signatures that verify for every message, so such
 * a key would let anyone sign for the device (the libsodium blocklist).
 */
const SMALL_ORDER_Y = new Set([
  '0000000000000000000000000000000000000000000000000000000000000000',
  '0100000000000000000000000000000000000000000000000000000000000000',
  '26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05',
  'c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a',
  'ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
  'eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f',
]);

/** True if base64url `text` is the one canonical encoding of its bytes (no stray trailing bits). */
function isCanonicalBase64url(text: string): boolean {
  return Buffer.from(text, 'base64url').toString('base64url') === text;
}

/**
 * Imports a raw base64url public key. Throws if it is malformed, not the
 * canonical encoding, a non-canonical point (y ≥ p) or a point of small order.
 */
export function importPublicKey(publicKey: string): KeyObject {
  if (!PUBLIC_KEY_PATTERN.test(publicKey) || !isCanonicalBase64url(publicKey)) {
    throw new Error('public key must be 32 bytes in canonical base64url (43 characters)');
  }
  const bytes = Buffer.from(publicKey, 'base64url');
  const y = Buffer.from(bytes);
  y[31] = (y[31] as number) & 0x7f;
  const yHex = y.toString('hex');
  if (SMALL_ORDER_Y.has(yHex)) throw new Error('public key is a point of small order');
  // y ≥ p = 2^255 − 19: the only such encodings are ed..ff followed by 30 × ff and 7f.
  if (y[31] === 0x7f && (y[0] as number) >= 0xed && y.subarray(1, 31).every((b) => b === 0xff)) {
    throw new Error('public key is not a canonical point encoding');
  }
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** Signs the canonical JSON of `message` (which must carry a `ctx`), base64url. */
export function signMessage(message: { ctx: string }, privateKey: KeyObject): string {
  return cryptoSign(null, Buffer.from(canonicalJson(message), 'utf8'), privateKey).toString('base64url');
}

export function verifyMessage(message: { ctx: string }, signature: string, publicKey: KeyObject): boolean {
  if (!SIGNATURE_PATTERN.test(signature) || !isCanonicalBase64url(signature)) return false;
  return cryptoVerify(
    null,
    Buffer.from(canonicalJson(message), 'utf8'),
    publicKey,
    Buffer.from(signature, 'base64url'),
  );
}
