/**
 * Verification of an incoming batch before any storage is touched.
 *
 * Order matters for cost: the schema and structure are checked first (cheap),
 * then the device's key is looked up by the caller, then one Ed25519 verify
 * over the whole batch (a second over the v1 head if that fails), then one
 * SHA-256 per op. A batch that fails any check
 * is refused whole with a request-level error naming the op and field;
 * nothing of it is applied.
 */
import type { KeyObject } from 'node:crypto';
import {
  BATCH_FRESHNESS_MS,
  type Batch,
  batchHeadMessage,
  batchMessage,
  batchSchema,
  CanonicalJsonError,
  canonicalOpText,
  GENESIS_HASH,
  isKnownKind,
  type Op,
  ProtocolError,
  parseBody,
  sha256Hex,
  ValidationError,
  verifyMessage,
} from '@holdfast/protocol';
import type { BatchTrust, BodyRefusal } from '../model/batch.js';

/**
 * Parses the request body into a batch and checks its structure. Throws
 * ValidationError for a body breaking the schema (answered as
 * invalid_request by toWireError) and ProtocolError for the rest.
 */
export function parseBatch(body: unknown): Batch {
  const batch = batchSchema.parse(body) as Batch;
  const first = batch.ops[0] as Op;
  const ids = new Set<string>();
  for (let i = 0; i < batch.ops.length; i++) {
    const op = batch.ops[i] as Op;
    if (op.device !== batch.device) {
      throw new ProtocolError(
        'device_mismatch',
        `ops[${i}].device is ${op.device}, the batch is from ${batch.device}`,
        {
          field: `ops[${i}].device`,
          rule: 'equal to the batch device',
        },
      );
    }
    if (op.seq !== first.seq + i) {
      throw new ProtocolError('seq_not_contiguous', `ops[${i}].seq is ${op.seq}, expected ${first.seq + i}`, {
        field: `ops[${i}].seq`,
        rule: 'contiguous, ascending by 1',
      });
    }
    if (ids.has(op.id)) {
      throw new ProtocolError('duplicate_in_batch', `ops[${i}].id ${op.id} appears twice in the batch`, {
        field: `ops[${i}].id`,
        rule: 'unique within the batch',
      });
    }
    ids.add(op.id);
  }
  const last = batch.ops[batch.ops.length - 1] as Op;
  if (batch.latestSeq < last.seq) {
    throw new ProtocolError('invalid_request', `latestSeq ${batch.latestSeq} is below the last op's seq ${last.seq}`, {
      field: 'latestSeq',
      rule: 'at least the seq of the last op',
    });
  }
  return batch;
}

/**
 * Which batch signature `publicKey` verifies: `v2` (batchMessage, every
 * field), `v1` (batchHeadMessage, the ops only: terminals built before v2),
 * or false.
 */
export function batchSignature(batch: Batch, publicKey: KeyObject): 'v2' | 'v1' | false {
  if (verifyMessage(batchMessage(batch), batch.sig, publicKey)) return 'v2';
  const last = batch.ops[batch.ops.length - 1] as Op;
  return verifyMessage(batchHeadMessage(batch.device, last.seq, last.hash), batch.sig, publicKey) ? 'v1' : false;
}

/** How far the server may believe a batch's `sentAt` and `latestSeq` (VerifiedBatch.trust). */
export function batchTrust(signature: 'v2' | 'v1', sentAt: number, now: number): BatchTrust {
  if (signature === 'v1') return 'unsigned';
  return Math.abs(now - sentAt) <= BATCH_FRESHNESS_MS ? 'fresh' : 'stale';
}

/**
 * Checks every op's hash and every chain link inside the batch (the caller
 * has verified the signature). Returns each op's canonical text (what its
 * hash covers), for storage. Throws ProtocolError.
 */
export function verifyBatchOps(batch: Batch): string[] {
  const texts: string[] = new Array(batch.ops.length);
  for (let i = 0; i < batch.ops.length; i++) {
    const op = batch.ops[i] as Op;
    const text = canonicalTextOrRefuse(op, i);
    texts[i] = text;
    const computed = sha256Hex(text);
    if (computed !== op.hash) {
      throw new ProtocolError('hash_mismatch', `ops[${i}].hash does not match its content (computed ${computed})`, {
        field: `ops[${i}].hash`,
        rule: 'SHA-256 of the canonical JSON of the op without hash',
      });
    }
    const expectedPrev = i === 0 ? (op.seq === 1 ? GENESIS_HASH : null) : (batch.ops[i - 1] as Op).hash;
    if (expectedPrev !== null && op.prev !== expectedPrev) {
      throw new ProtocolError(
        'chain_broken',
        `ops[${i}].prev does not link to ${i === 0 ? 'the genesis hash' : `ops[${i - 1}].hash`}`,
        {
          field: `ops[${i}].prev`,
          rule: i === 0 ? 'the genesis hash (64 zeros) for seq 1' : 'equal to the previous op hash',
        },
      );
    }
  }
  return texts;
}

/**
 * The op's hash, or a request-level error if the op has no canonical JSON:
 * the envelope schema checks `body` only for being an object, so a string
 * with a lone surrogate or nesting beyond the canonicalizer's bound would
 * otherwise end as a retryable 500.
 */
function canonicalTextOrRefuse(op: Op, i: number): string {
  try {
    return canonicalOpText(op);
  } catch (error) {
    if (!(error instanceof CanonicalJsonError)) throw error;
    throw new ProtocolError('invalid_request', `ops[${i}] cannot be hashed as canonical JSON: ${error.reason}`, {
      field: `ops[${i}].body`,
      rule: 'canonical JSON (RFC 8785): well-formed strings, bounded nesting',
    });
  }
}

/**
 * Checks every op's body against its kind's schema (after the hashes were
 * verified over the bodies as received) and puts the parsed body in its
 * place, so the storage thread applies ops without parsing them again. A
 * body that breaks its schema is not a refusal of the batch: the op is
 * stored as rejected (invalid_body) by the planner, which gets the reason
 * here. Ops of kinds this server does not know are left to the planner.
 */
export function checkBodies(ops: Op[]): (BodyRefusal | null)[] {
  return ops.map((op) => {
    if (!isKnownKind(op.kind)) return null;
    try {
      op.body = parseBody(op.kind, op.body) as unknown as Record<string, unknown>;
      return null;
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return { field: error.field, rule: error.rule, got: error.got };
    }
  });
}
