/**
 * Ed25519 signatures through WebCrypto (Chromium has Ed25519): the browser's
 * side of the crypto seam, over the same canonical JSON messages as
 * protocol/src/signing.ts on node:crypto. Keys travel in the same forms: a
 * private key as base64url PKCS#8 DER, a public key as its raw 32 bytes in
 * base64url. Asynchronous, as WebCrypto is: signing happens when a batch is
 * sent, never inside the journal's synchronous recording.
 */
import {
  type AnswerRoute,
  answerMessage,
  canonicalJson,
  PUBLIC_KEY_PATTERN,
  SIGNATURE_PATTERN,
} from '@holdfast/protocol';

function fromBase64url(text: string): Uint8Array<ArrayBuffer> {
  const b64 = text.replace(/-/g, '+').replace(/_/g, '/');
  const binary = atob(b64 + '='.repeat((4 - (b64.length % 4)) % 4));
  return Uint8Array.from(binary, (c) => c.charCodeAt(0));
}

function toBase64url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Signs the canonical JSON of `message` with a base64url PKCS#8 Ed25519 key; base64url signature. */
export async function signMessageWebCrypto(message: { ctx: string }, privateKeyPkcs8: string): Promise<string> {
  const key = await crypto.subtle.importKey('pkcs8', fromBase64url(privateKeyPkcs8), { name: 'Ed25519' }, false, [
    'sign',
  ]);
  const signature = await crypto.subtle.sign(
    { name: 'Ed25519' },
    key,
    new TextEncoder().encode(canonicalJson(message)),
  );
  return toBase64url(new Uint8Array(signature));
}

/** Verifies a base64url signature of `message` under a raw base64url Ed25519 public key. */
export async function verifyMessageWebCrypto(
  message: { ctx: string },
  signature: string,
  publicKey: string,
): Promise<boolean> {
  const key = await crypto.subtle.importKey('raw', fromBase64url(publicKey), { name: 'Ed25519' }, false, ['verify']);
  return crypto.subtle.verify(
    { name: 'Ed25519' },
    key,
    fromBase64url(signature),
    new TextEncoder().encode(canonicalJson(message)),
  );
}

/** A fresh Ed25519 key pair in the forms the journal keeps (as protocol/src/signing.ts generateDeviceKeys). */
export async function generateDeviceKeysWebCrypto(): Promise<{ publicKey: string; privateKey: string }> {
  const pair = (await crypto.subtle.generateKey({ name: 'Ed25519' }, true, ['sign', 'verify'])) as CryptoKeyPair;
  const [raw, pkcs8] = await Promise.all([
    crypto.subtle.exportKey('raw', pair.publicKey),
    crypto.subtle.exportKey('pkcs8', pair.privateKey),
  ]);
  return { publicKey: toBase64url(new Uint8Array(raw)), privateKey: toBase64url(new Uint8Array(pkcs8)) };
}

/** Imports a base64url PKCS#8 Ed25519 key once, not extractable, for signing many messages. */
export function importSigningKeyWebCrypto(privateKeyPkcs8: string): Promise<CryptoKey> {
  return crypto.subtle.importKey('pkcs8', fromBase64url(privateKeyPkcs8), { name: 'Ed25519' }, false, ['sign']);
}

/** Signs the canonical JSON of `message` with an imported key; base64url signature. */
export async function signWithKeyWebCrypto(message: { ctx: string }, key: CryptoKey): Promise<string> {
  const signature = await crypto.subtle.sign(
    { name: 'Ed25519' },
    key,
    new TextEncoder().encode(canonicalJson(message)),
  );
  return toBase64url(new Uint8Array(signature));
}

/**
 * protocol/src/signed-answer.ts `answerProblem` on WebCrypto: null when the
 * server's answer to the request signed `requestSig` verifies under a pinned
 * key, else why not (the exchange then treats it as no answer at all).
 * Malformed signatures and keys are refused before WebCrypto sees them; a
 * key of small order is refused by the Node side at enrollment's pinning
 * and by WebCrypto's own verification.
 */
export async function answerProblemWebCrypto(
  route: AnswerRoute,
  requestSig: string,
  body: unknown,
  keys: Readonly<Record<string, string>>,
): Promise<string | null> {
  if (typeof body !== 'object' || body === null) return 'the answer is not an object';
  const { serverKey, serverSig, ...answer } = body as Record<string, unknown>;
  if (typeof serverKey !== 'string' || typeof serverSig !== 'string') return 'the answer is not signed';
  const publicKey = Object.hasOwn(keys, serverKey) ? keys[serverKey] : undefined;
  if (publicKey === undefined) return `the answer is signed with key ${serverKey}, not one pinned at enrollment`;
  if (!PUBLIC_KEY_PATTERN.test(publicKey)) return `the pinned key ${serverKey} is not a raw Ed25519 key`;
  if (!SIGNATURE_PATTERN.test(serverSig) || toBase64url(fromBase64url(serverSig)) !== serverSig) {
    return 'the answer signature does not verify';
  }
  try {
    const message = answerMessage(route, requestSig, answer);
    return (await verifyMessageWebCrypto(message, serverSig, publicKey))
      ? null
      : 'the answer signature does not verify';
  } catch (error) {
    return `the pinned key ${serverKey} cannot verify: ${error instanceof Error ? error.message : String(error)}`;
  }
}
