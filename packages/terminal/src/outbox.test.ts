import assert from 'node:assert/strict';
import fs from 'node:fs';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { NO_DECISION, type Op, type OpResult, uuidv7 } from '@holdfast/protocol';
import { Journal } from './journal.js';
import { Outbox } from './outbox.js';
import { tempDir } from './testing/harness.js';

const DEVICE = '01940000-0000-7000-8000-000000000001';
const AT = 1_735_689_600_000;

describe('Outbox', () => {
  let dir: string;
  let journal: Journal;
  let outbox: Outbox;
  let ops: Op[];

  beforeEach(() => {
    dir = tempDir('holdfast-outbox-');
    journal = Journal.open(dir);
    outbox = new Outbox(journal);
    ops = Array.from({ length: 4 }, (_, i) =>
      journal.append({
        id: uuidv7(AT, new Uint8Array(10).fill(i + 1)),
        device: DEVICE,
        kind: 'shift.opened',
        body: { clerk: `c${i}`, currency: 'EUR', openingFloat: 0 },
        at: AT + i,
        decision: NO_DECISION,
      }),
    );
  });

  afterEach(() => {
    journal.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const op = (i: number) => ops[i] as Op;
  const accepted = (i: number): OpResult => ({ id: op(i).id, seq: op(i).seq, status: 'accepted', at: AT });

  test('maps each result to confirmed, dead (with the reason) or pending', () => {
    const results: OpResult[] = [
      accepted(0),
      {
        id: op(1).id,
        seq: 2,
        status: 'duplicate',
        original: {
          id: op(1).id,
          seq: 2,
          status: 'rejected',
          reason: 'invalid_body',
          message: 'body.total: wrong',
          field: 'body.total',
          at: AT,
        },
      },
      { id: op(2).id, seq: 3, status: 'duplicate', original: { id: op(2).id, seq: 3, status: 'accepted', at: AT } },
      { id: op(3).id, seq: 4, status: 'fork', message: 'seq 4 is held by another op' },
    ];
    const settled = outbox.settleIngest(ops, results, AT + 10);
    assert.deepEqual(
      settled.confirmed.map((c) => c.seq),
      [1, 3],
    );
    assert.deepEqual(
      settled.dead.map((d) => [d.seq, d.reason, d.message]),
      [
        [2, 'invalid_body', 'body.total: wrong'],
        [4, 'fork', 'seq 4 is held by another op'],
      ],
    );
    assert.deepEqual(journal.counts, { pending: 0, confirmed: 2, dead: 2 });
    assert.deepEqual(journal.getOp(op(0).id)?.result, results[0]);
  });

  test('a mismatched answer is detected, not applied', () => {
    const response = { device: DEVICE, results: [accepted(1), accepted(0)], highWater: 2, serverTime: AT };
    assert.match(outbox.mismatch(ops.slice(0, 2), response) ?? '', /result 0/);
    assert.match(outbox.mismatch(ops, response) ?? '', /expected 4 results/);
    assert.match(
      outbox.mismatch(ops.slice(0, 1), { ...response, device: 'other', results: [accepted(0)] }) ?? '',
      /device/,
    );
    assert.equal(outbox.mismatch(ops.slice(0, 1), { ...response, results: [accepted(0)] }), null);
  });

  test('seq_gap below the batch re-queues confirmed ops; on a dead op the chain is blocked', () => {
    outbox.settleIngest(ops.slice(0, 3), [accepted(0), accepted(1), accepted(2)], AT);
    const gap = (expectedSeq: number): OpResult => ({
      id: op(3).id,
      seq: 4,
      status: 'rejected',
      reason: 'seq_gap',
      message: 'gap',
      expectedSeq,
    });
    const settled = outbox.settleIngest([op(3)], [gap(2)], AT);
    assert.deepEqual(settled.requeued, { from: 2, to: 3, count: 2 });
    assert.equal(settled.blocked, null);
    assert.deepEqual(
      outbox.nextBatch(10).map((o) => o.seq),
      [2, 3, 4],
    );
    journal.deadLetter(2, 'conflict', 'stored with another hash', null, AT);
    const blocked = outbox.settleIngest([op(2), op(3)], [gap(2), gap(2)], AT);
    assert.equal(blocked.requeued, null);
    assert.equal(blocked.blocked?.seq, 2);
    assert.match(blocked.blocked?.reason ?? '', /conflict: stored with another hash/);
  });

  test('nextBatch bounds the batch by bytes as well as by op count, but always sends at least one op', () => {
    const size = (o: Op) => Buffer.byteLength(JSON.stringify(o)) + 1;
    assert.equal(outbox.nextBatch(500).length, 4);
    // Room for the envelope and exactly two ops.
    const two = 512 + size(op(0)) + size(op(1));
    assert.deepEqual(
      outbox.nextBatch(500, two).map((o) => o.seq),
      [1, 2],
    );
    assert.deepEqual(
      outbox.nextBatch(500, two - 1).map((o) => o.seq),
      [1],
    );
    assert.deepEqual(
      outbox.nextBatch(500, 10).map((o) => o.seq),
      [1],
      'a single op goes alone',
    );
    assert.equal(outbox.nextBatch(2, 1 << 30).length, 2, 'the op count still bounds it');
  });

  test('statuses settle pending ops; a different hash is a conflict; unknown ids stay pending', () => {
    const settled = outbox.settleStatuses(
      [
        {
          id: op(0).id,
          found: true,
          seq: 1,
          hash: op(0).hash,
          result: { id: op(0).id, seq: 1, status: 'accepted', at: AT },
        },
        {
          id: op(1).id,
          found: true,
          seq: 2,
          hash: 'f'.repeat(64),
          result: { id: op(1).id, seq: 2, status: 'accepted', at: AT },
        },
        { id: op(2).id, found: false },
      ],
      AT,
    );
    assert.deepEqual(
      settled.confirmed.map((c) => c.seq),
      [1],
    );
    assert.deepEqual(
      settled.dead.map((d) => [d.seq, d.reason]),
      [[2, 'conflict']],
    );
    assert.equal(journal.getOp(op(2).id)?.state, 'pending');
  });

  test('revoking dead-letters every pending op with the server reason', () => {
    outbox.settleIngest([op(0)], [accepted(0)], AT);
    assert.equal(outbox.revoke('device_revoked', 'stolen', AT), 3);
    assert.deepEqual(journal.counts, { pending: 0, confirmed: 1, dead: 3 });
    assert.deepEqual(
      journal.deadLetters().map((d) => [d.seq, d.reason, d.message]),
      [
        [2, 'device_revoked', 'stolen'],
        [3, 'device_revoked', 'stolen'],
        [4, 'device_revoked', 'stolen'],
      ],
    );
  });
});
