/**
 * Device-key rotation (`POST /v1/devices/rotate-key`; docs/protocol.md §2,
 * "Key rotation"; docs/security.md, "Key lifecycle").
 *
 * The request names the new key and is signed by the device's current key
 * (`sig`) and by the new one (`newSig`). It is idempotent by the new key: a
 * repeat after a lost answer, signed by the previous key still in its grace
 * period, gets the same answer and changes nothing. A request signed by a
 * key the device already rotated away from and naming another key is
 * refused `key_superseded`; a revoked device cannot rotate (`device_revoked`,
 * only to a request it validly signed); a forged request gets the one
 * `unknown_device` answer every unverifiable device request gets.
 */
import type { KeyObject } from 'node:crypto';
import type { Clock } from '@holdfast/domain';
import {
  type AnswerRoute,
  type AnswerSignature,
  DEVICE_KEY_GRACE_MS,
  importPublicKey,
  ProtocolError,
  type RotateKeyResponse,
  rotateKeyMessage,
  rotateKeyRequestSchema,
  verifyMessage,
} from '@holdfast/protocol';
import { type DeviceAuthenticator, notSignedBy } from '../device-auth.js';
import type { DeviceKeyRecord } from '../model/device.js';
import type { Storage } from '../storage/storage.js';

export interface KeyRotationDeps {
  auth: DeviceAuthenticator;
  storage: Storage;
  clock: Clock;
  signAnswer: <A extends object>(route: AnswerRoute, requestSig: string, answer: A) => Promise<A & AnswerSignature>;
  /** How long a previous key stays accepted (DEVICE_KEY_GRACE_MS unless a test says otherwise). */
  graceMs?: number;
}

/** The raw base64url form of an Ed25519 public key object. */
function rawKey(key: KeyObject): string {
  const { x } = key.export({ format: 'jwk' });
  if (typeof x !== 'string') throw new Error('not an Ed25519 public key');
  return x;
}

export async function rotateDeviceKey(
  deps: KeyRotationDeps,
  body: unknown,
): Promise<RotateKeyResponse & AnswerSignature> {
  const request = rotateKeyRequestSchema.parse(body);
  let newKey: KeyObject;
  try {
    newKey = importPublicKey(request.publicKey);
  } catch {
    throw new ProtocolError('invalid_request', 'publicKey is not a valid Ed25519 public key', {
      field: 'publicKey',
      rule: 'raw Ed25519 public key, base64url',
    });
  }
  const message = rotateKeyMessage(request.device, request.publicKey, request.at);
  // Who asks first (one answer for unknown, forged and revoked), then whether the new key is really held.
  const { proof: signedWith } = await deps.auth.signedBy(request.device, (key) =>
    verifyMessage(message, request.sig, key) ? rawKey(key) : false,
  );
  if (!verifyMessage(message, request.newSig, newKey)) {
    throw new ProtocolError('bad_signature', 'newSig does not verify with the new public key', {
      field: 'newSig',
      rule: 'Ed25519 signature over the rotation message with the new key',
    });
  }
  const now = deps.clock.now();
  const outcome = await deps.storage.rotateDeviceKey({
    device: request.device,
    signedWith,
    publicKey: request.publicKey,
    now,
    graceMs: deps.graceMs ?? DEVICE_KEY_GRACE_MS,
  });
  switch (outcome.outcome) {
    case 'rotated':
    case 'already_rotated': {
      const answer: RotateKeyResponse = {
        device: outcome.device.id,
        publicKey: outcome.device.publicKey,
        validFrom: keyRow(outcome.keys, outcome.device.publicKey).validFrom,
        previousKeyRetiresAt: previousRetirement(outcome.keys, outcome.device.publicKey),
        serverTime: now,
      };
      return deps.signAnswer('devices/rotate-key', request.sig, answer);
    }
    case 'unknown_device':
      throw notSignedBy(request.device);
    case 'revoked':
      throw new ProtocolError('device_revoked', `device ${request.device} was revoked`, { field: 'device' });
    case 'not_current_key':
      throw new ProtocolError(
        'key_superseded',
        `the request is signed with a key device ${request.device} has rotated away from; sign with the current key`,
        { field: 'sig' },
      );
    case 'key_in_use':
      throw new ProtocolError('key_already_enrolled', 'this public key is, or was, the key of a device', {
        field: 'publicKey',
      });
  }
}

function keyRow(keys: readonly DeviceKeyRecord[], publicKey: string): DeviceKeyRecord {
  const row = keys.find((k) => k.publicKey === publicKey);
  if (!row) throw new Error(`rotateDeviceKey: no history row for the current key of a rotated device`);
  return row;
}

/** When the key before `current` retires: the latest retirement in the history (listDeviceKeys' order). */
function previousRetirement(keys: readonly DeviceKeyRecord[], current: string): number {
  const last = keys.filter((k) => k.publicKey !== current && k.retiredAt !== null).at(-1);
  if (!last || last.retiredAt === null) throw new Error('rotateDeviceKey: a rotated device has no retired key');
  return last.retiredAt;
}
