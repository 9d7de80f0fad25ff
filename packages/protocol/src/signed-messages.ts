/**
 * What each device signature covers: canonical JSON objects whose `ctx`
 * names the purpose (signing.ts signs and verifies them). Pure data, no
 * crypto beneath, so a browser terminal builds the same messages and signs
 * them with WebCrypto.
 */

import type { DeviceReport } from './device-report.js';

/**
 * The version-1 batch signature (`holdfast.batch.v1`): only the head of the
 * chain the batch ends with. Servers still accept it from terminals built
 * before v2, for the ops only: `sentAt` and `latestSeq` of such a batch are
 * not the device's signed word and change nothing (docs/protocol.md §4.2).
 */
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

/** What a risk-policy request signature covers: the device asks for its policy at device time `at`. */
export function policyRequestMessage(device: string, at: number) {
  return { ctx: 'holdfast.policy-request.v1', device, at } as const;
}

/** What a feed request signature covers: the device asks for its feed after cursor `after`, at device time `at`. */
export function feedRequestMessage(device: string, after: number, at: number, report?: DeviceReport) {
  // The report is signed when sent; without one the message is what terminals before reports signed.
  return { ctx: 'holdfast.feed-request.v1', device, after, at, ...(report !== undefined ? { report } : {}) } as const;
}

/** What a terminal's request for its shift's Z-report confirmation covers (`holdfast.shift-report-request.v1`). */
export function shiftReportRequestMessage(device: string, shift: string, at: number) {
  return { ctx: 'holdfast.shift-report-request.v1', device, shift, at } as const;
}

/**
 * What a device-key rotation request covers (`holdfast.rotate-key.v1`): the
 * device names its new public key at device time `at`. It is signed twice,
 * by the device's current key (`sig`: the device asks) and by the new key
 * (`newSig`: the device holds the new private key), so nobody can rotate a
 * device to a key they saw but do not hold.
 */
export function rotateKeyMessage(device: string, publicKey: string, at: number) {
  return { ctx: 'holdfast.rotate-key.v1', device, publicKey, at } as const;
}
