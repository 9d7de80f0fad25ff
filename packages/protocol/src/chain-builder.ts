/**
 * Builds a device's op chain and signed batches in memory.
 *
 * This is the protocol's reference for what a terminal sends: ids, seqs,
 * prev links, hashes and the batch signature. The Terminal SDK does the same
 * with a durable journal; tests, benchmarks and tools use this directly.
 */
import type { KeyObject } from 'node:crypto';
import { batchMessage } from './batch-message.js';
import { GENESIS_HASH } from './hash.js';
import { type Decision, NO_DECISION, type Op, PROTOCOL_VERSION, sealOp } from './op.js';
import { deviceOpId } from './op-id.js';
import { importPrivateKey, signMessage } from './signing.js';
import type { Actor } from './staff.js';
import type { Batch } from './wire.js';

export interface ChainBuilderOptions {
  /** Seq of the last op already in the chain (0 for a new device). */
  seq?: number;
  /** Hash of that op (GENESIS_HASH for a new device). */
  head?: string;
  /** Clock for `at` and id timestamps. */
  now?: () => number;
  /** Random bytes for ids. */
  randomBytes?: (n: number) => Uint8Array;
}

export class ChainBuilder {
  readonly device: string;
  readonly #key: KeyObject;
  readonly #now: () => number;
  readonly #randomBytes: (n: number) => Uint8Array;
  #seq: number;
  #head: string;

  constructor(device: string, privateKey: KeyObject | string, options: ChainBuilderOptions = {}) {
    this.device = device;
    this.#key = typeof privateKey === 'string' ? importPrivateKey(privateKey) : privateKey;
    this.#seq = options.seq ?? 0;
    this.#head = options.head ?? GENESIS_HASH;
    this.#now = options.now ?? Date.now;
    this.#randomBytes = options.randomBytes ?? ((n) => crypto.getRandomValues(new Uint8Array(n)));
  }

  get seq(): number {
    return this.#seq;
  }

  get head(): string {
    return this.#head;
  }

  /**
   * Appends one op to the chain; `id` is given for an op whose id was
   * chosen earlier (an online authorization asked under it), new otherwise;
   * `actor` stamps who recorded (and approved) it (staff.ts).
   */
  next<B extends Record<string, unknown>>(
    kind: string,
    body: B,
    decision: Decision = NO_DECISION,
    id?: string,
    actor?: Actor,
  ): Op<B> {
    const at = this.#now();
    const op = sealOp({
      v: PROTOCOL_VERSION,
      id: id ?? deviceOpId(this.device, at, this.#randomBytes(6)),
      device: this.device,
      seq: this.#seq + 1,
      prev: this.#head,
      kind,
      body,
      at,
      decision,
      ...(actor ? { actor } : {}),
    });
    this.#seq = op.seq;
    this.#head = op.hash;
    return op;
  }

  /** A signed batch of contiguous ops of this device. */
  batch(ops: readonly Op[], latestSeq: number = this.#seq): Batch {
    return signBatch(this.device, ops, this.#key, this.#now(), latestSeq);
  }
}

/** Assembles a batch and signs every field of it (batchMessage, `holdfast.batch.v2`). */
export function signBatch(
  device: string,
  ops: readonly Op[],
  key: KeyObject,
  sentAt: number,
  latestSeq: number,
): Batch {
  const last = ops[ops.length - 1];
  if (!last) throw new RangeError('a batch needs at least one op');
  const unsigned = { device, ops: [...ops], sentAt, latestSeq };
  return { ...unsigned, sig: signMessage(batchMessage(unsigned), key) };
}
