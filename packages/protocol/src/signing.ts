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

export const PUBLIC_KEY_PATTERN = /^[A-Za-z0-9_-]{43}$/;
export const SIGNATURE_PATTERN = /^[A-Za-z0-9_-]{86}$/;

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

/** Imports a raw base64url public key; throws if it is not a valid Ed25519 key. */
export function importPublicKey(publicKey: string): KeyObject {
  if (!PUBLIC_KEY_PATTERN.test(publicKey)) throw new Error('public key must be 43 base64url characters');
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: publicKey }, format: 'jwk' });
}

/** Signs the canonical JSON of `message` (which must carry a `ctx`), base64url. */
export function signMessage(message: { ctx: string }, privateKey: KeyObject): string {
  return cryptoSign(null, Buffer.from(canonicalJson(message), 'utf8'), privateKey).toString('base64url');
}

export function verifyMessage(message: { ctx: string }, signature: string, publicKey: KeyObject): boolean {
  if (!SIGNATURE_PATTERN.test(signature)) return false;
  return cryptoVerify(
    null,
    Buffer.from(canonicalJson(message), 'utf8'),
    publicKey,
    Buffer.from(signature, 'base64url'),
  );
}

/** What a batch signature covers: the head of the chain the batch ends with. */
export function batchHeadMessage(device: string, seq: number, hash: string) {
  return { ctx: 'holdfast.batch.v1', device, seq, hash } as const;
}

/** What an enrollment signature covers: proof that the enrolling party holds the private key. */
export function enrollmentMessage(token: string, publicKey: string) {
  return { ctx: 'holdfast.enroll.v1', token, publicKey } as const;
}

/** What an op-status query signature covers. */
export function queryMessage(device: string, ids: readonly string[], at: number) {
  return { ctx: 'holdfast.query.v1', device, ids: [...ids], at } as const;
}
