/**
 * Ed25519 signatures through WebCrypto (Chromium has Ed25519): the browser's
 * side of the crypto seam, over the same canonical JSON messages as
 * protocol/src/signing.ts on node:crypto. Keys travel in the same forms: a
 * private key as base64url PKCS#8 DER, a public key as its raw 32 bytes in
 * base64url. Asynchronous, as WebCrypto is: signing happens when a batch is
 * sent, never inside the journal's synchronous recording.
 */
import { canonicalJson } from '@holdfast/protocol';

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
