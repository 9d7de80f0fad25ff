/**
 * Enrollment: how a fresh terminal gets its device id.
 *
 *   generate key pair ─▶ COMMIT (token, keys) ─▶ send ─▶ COMMIT device id
 *
 * The key pair is durable before the request leaves, so a lost answer is
 * harmless: the retry sends the same token and public key, and the server
 * answers that pair idempotently with the same device id. A definitive
 * rejection forgets the token (and, with a new token, new keys are made).
 */
import type { Clock } from '@holdfast/domain';
import {
  type DeviceKeys,
  type EnrollRequest,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  isUuidv7,
  signMessage,
} from '@holdfast/protocol';
import type { ConnectivityMonitor } from './connectivity.js';
import { AlreadyEnrolledError, EnrollmentError, TransportError } from './errors.js';
import { placementMeta } from './feed.js';
import type { Journal } from './journal.js';
import { META } from './journal-schema.js';
import type { Credentials } from './sync-events.js';
import type { Transport } from './transport.js';

export interface EnrollInput {
  journal: Journal;
  transport: Transport;
  clock: Clock;
  connectivity: ConnectivityMonitor;
  timeoutMs: number;
  token: string;
  label: string | undefined;
}

export async function enrollDevice(input: EnrollInput): Promise<Credentials> {
  const { journal, clock, connectivity, token, label } = input;
  const existing = journal.getMeta(META.deviceId);
  if (existing) throw new AlreadyEnrolledError(existing);
  const keys = keysFor(journal, token);
  const req: EnrollRequest = {
    token,
    publicKey: keys.publicKey,
    sig: signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey)),
  };
  if (label !== undefined) req.label = label;
  const startedAt = clock.now();
  let res: Awaited<ReturnType<Transport['enroll']>>;
  try {
    res = await input.transport.enroll(req, input.timeoutMs);
  } catch (error) {
    connectivity.failed(error instanceof Error ? error.message : String(error));
    throw error;
  }
  const at = clock.now();
  if (!res.ok) {
    if (res.error.retryable) connectivity.failed(res.error.message);
    else {
      connectivity.answered(at, at - startedAt, res.error.message);
      journal.setMeta({ [META.enrollToken]: null });
    }
    throw new EnrollmentError(res.status, res.error);
  }
  if (!isUuidv7(res.body.deviceId)) {
    connectivity.failed('enrollment answer without a device id');
    throw new TransportError('bad_response', `enrollment answer has no valid deviceId`);
  }
  connectivity.answered(at, at - startedAt);
  journal.setMeta({
    [META.deviceId]: res.body.deviceId,
    [META.label]: typeof res.body.label === 'string' ? res.body.label : (label ?? null),
    [META.enrolledAt]: String(res.body.enrolledAt),
    [META.enrollToken]: null,
    // Trust on first use: the keys risk policies must verify with from now on.
    ...pinPolicyKeys(journal, res.body.policyKeys),
    // A server that signs its answers says so once; the till then takes no unsigned one.
    ...(res.body.signsAnswers === true && typeof res.body.policyKeys === 'object' ? { [META.signsAnswers]: '1' } : {}),
    // Where the server placed the device (its token's placement); the feed keeps it current.
    ...placementMeta(res.body.placement),
  });
  return { deviceId: res.body.deviceId, key: importPrivateKey(keys.privateKey) };
}

/** Meta pinning the enrollment answer's policy keys, unless some are pinned already or it sent none. */
function pinPolicyKeys(journal: Journal, keys: unknown): Record<string, string> {
  if (journal.getMeta(META.policyKeys) !== null || typeof keys !== 'object' || keys === null) return {};
  const entries = Object.entries(keys);
  if (entries.length === 0 || !entries.every(([, v]) => typeof v === 'string')) return {};
  return { [META.policyKeys]: JSON.stringify(Object.fromEntries(entries)) };
}

/** The stored key pair if it was made for this token, else a new one, committed before use. */
function keysFor(journal: Journal, token: string): DeviceKeys {
  const publicKey = journal.getMeta(META.publicKey);
  const privateKey = journal.getMeta(META.privateKey);
  if (journal.getMeta(META.enrollToken) === token && publicKey && privateKey) return { publicKey, privateKey };
  const keys = generateDeviceKeys();
  journal.setMeta({
    [META.enrollToken]: token,
    [META.publicKey]: keys.publicKey,
    [META.privateKey]: keys.privateKey,
  });
  return keys;
}
