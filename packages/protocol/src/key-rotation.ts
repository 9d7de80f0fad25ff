/**
 * Device-key rotation on the wire (docs/protocol.md §2, "Key rotation"):
 * `POST /v1/devices/rotate-key`. The device names a new Ed25519 public key,
 * signed by its current key (`sig`) and by the new key (`newSig`), both over
 * rotateKeyMessage(device, publicKey, at). The answer is signed like a batch
 * answer (route `devices/rotate-key`), so a terminal switches keys only on
 * the server's word.
 */
import { epochMs, uuid } from './op.js';
import * as s from './schema.js';
import { publicKeyString, signatureString } from './wire-strings.js';

/**
 * How long the server still accepts a device's previous key after a
 * rotation (24 hours): batches signed before the rotation and re-sent, or a
 * terminal that lost the rotation's answer, keep working until then.
 */
export const DEVICE_KEY_GRACE_MS = 24 * 60 * 60 * 1000;

export const rotateKeyRequestSchema = s.object({
  device: uuid(),
  /** The new public key (raw 32 bytes, base64url). */
  publicKey: publicKeyString(),
  /** Device time of the request. */
  at: epochMs(),
  /** Signature over rotateKeyMessage(device, publicKey, at) with the device's current key. */
  sig: signatureString(),
  /** Signature over the same message with the new key: proof the device holds it. */
  newSig: signatureString(),
});
export type RotateKeyRequest = s.Infer<typeof rotateKeyRequestSchema>;

export interface RotateKeyResponse {
  device: string;
  /** The key the server verifies this device's requests with from now on. */
  publicKey: string;
  /** Server time the new key took effect (the same on every repeat of the request). */
  validFrom: number;
  /** Until when (server time) the previous key is still accepted. */
  previousKeyRetiresAt: number;
  serverTime: number;
}
