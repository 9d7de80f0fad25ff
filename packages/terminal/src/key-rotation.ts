/**
 * Device-key rotation (docs/protocol.md §2, "Key rotation"):
 *
 *   generate key pair ─▶ COMMIT pending key ─▶ send (signed by old and new) ─▶ verify answer ─▶ COMMIT new key
 *
 * The new key is durable before the request leaves, so a crash or a lost
 * answer resumes the SAME rotation: the server answers a repeat for the key
 * it already made current idempotently. Until the answer arrives the
 * terminal keeps signing with its current key, which the server still takes
 * during the grace period after rotating (docs/security.md, "Key
 * lifecycle"); if that period has passed, the repeat is signed with the
 * pending key itself, which the server then holds as current. A definitive
 * refusal (revoked, key in use, superseded) forgets the pending key.
 */
import type { Clock } from '@holdfast/domain';
import {
  answerProblem,
  type DeviceKeys,
  generateDeviceKeys,
  importPrivateKey,
  type PolicyKeySet,
  type RotateKeyRequest,
  type RotateKeyResponse,
  rotateKeyMessage,
  signMessage,
} from '@holdfast/protocol';
import type { ConnectivityMonitor } from './connectivity.js';
import { KeyRotationError, TransportError } from './errors.js';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';
import type { Credentials } from './sync-events.js';
import type { Transport, TransportResult } from './transport.js';

export interface RotateInput {
  journal: Journal;
  transport: Transport;
  clock: Clock;
  connectivity: ConnectivityMonitor;
  timeoutMs: number;
  credentials: Credentials;
  /** The server keys answers must verify with, or null when the server does not sign its answers. */
  answerKeys: PolicyKeySet | null;
}

/** The rotation the journal holds unconfirmed, if any. */
export function pendingRotation(journal: Journal): DeviceKeys | null {
  const text = journal.getMeta(META.pendingKey);
  if (text === null) return null;
  return JSON.parse(text) as DeviceKeys;
}

/** Rotates (or resumes rotating) the device key; returns the new credentials once the server confirmed them. */
export async function rotateDeviceKey(input: RotateInput): Promise<Credentials> {
  const { journal, credentials } = input;
  let keys = pendingRotation(journal);
  if (keys === null) {
    keys = generateDeviceKeys();
    journal.setMeta({ [META.pendingKey]: JSON.stringify(keys) });
  }
  const newKey = importPrivateKey(keys.privateKey);
  let res = await send(input, keys, credentials.key);
  // The server made the pending key current and the old key's grace has passed: ask again, signed with the new key.
  if (!res.ok && res.error.code === 'unknown_device') res = await send(input, keys, newKey);
  const at = input.clock.now();
  if (!res.ok) {
    // Retryable, or no key of ours is known (which a lost, later answer cannot explain): keep the pending key.
    const keep = res.error.retryable || res.error.code === 'unknown_device';
    if (res.error.retryable) input.connectivity.failed(res.error.message);
    else input.connectivity.answered(at, 0, res.error.message);
    if (!keep) journal.setMeta({ [META.pendingKey]: null });
    throw new KeyRotationError(res.status, res.error, keep);
  }
  if (res.body.publicKey !== keys.publicKey || res.body.device !== credentials.deviceId) {
    input.connectivity.failed('key rotation answer names another key or device');
    throw new TransportError('bad_response', 'key rotation answer names another key or device');
  }
  input.connectivity.answered(at, 0);
  journal.setMeta({ [META.publicKey]: keys.publicKey, [META.privateKey]: keys.privateKey, [META.pendingKey]: null });
  return { deviceId: credentials.deviceId, key: newKey };
}

/** One rotation request signed with `signer`; a thrown TransportError means unknown (the rotation stays pending). */
async function send(
  input: RotateInput,
  keys: DeviceKeys,
  signer: Credentials['key'],
): Promise<TransportResult<RotateKeyResponse>> {
  const { transport, credentials, clock, connectivity } = input;
  if (!transport.rotateKey) throw new TransportError('network', 'this transport cannot rotate device keys');
  const at = clock.now();
  const message = rotateKeyMessage(credentials.deviceId, keys.publicKey, at);
  const req: RotateKeyRequest = {
    device: credentials.deviceId,
    publicKey: keys.publicKey,
    at,
    sig: signMessage(message, signer),
    newSig: signMessage(message, importPrivateKey(keys.privateKey)),
  };
  let res: TransportResult<RotateKeyResponse>;
  try {
    res = await transport.rotateKey(req, input.timeoutMs);
  } catch (error) {
    connectivity.failed(error instanceof Error ? error.message : String(error));
    throw error;
  }
  // Only the server's signed word switches keys: an answer anyone on the path could forge counts as no answer.
  if (res.ok && input.answerKeys !== null) {
    const problem = answerProblem('devices/rotate-key', req.sig, res.body, input.answerKeys);
    if (problem !== null) {
      connectivity.failed(`key rotation answer refused: ${problem}`);
      throw new TransportError('bad_response', `key rotation answer refused: ${problem}`);
    }
  }
  return res;
}
