import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Call, groupLength, nextIngestRound } from './group-commit.js';
import { GROUP_MAX_BATCHES, GROUP_MAX_OPS, SMALL_BATCH_OPS } from './sqlite-thread.js';

let nextId = 1;
/** An ingest call of `ops` ops from `device`, as it crosses to the storage thread (packed texts). */
const ingest = (device: string, ops: number): Call => ({
  id: nextId++,
  method: 'ingest',
  args: [{ device, texts: new Array(ops).fill('{}'), hashes: new Array(ops).fill('h') }, 0],
});
const read: Call = { id: 0, method: 'summary', args: [] };

describe('group commit: which calls go next', () => {
  it('a group is the consecutive ingests at the head, within the batch and op bounds', () => {
    assert.equal(groupLength([ingest('a', 500), ingest('b', 500), read, ingest('c', 1)]), 2);
    assert.equal(groupLength(Array.from({ length: 20 }, () => ingest('a', 1))), GROUP_MAX_BATCHES);
    assert.equal(
      groupLength([ingest('a', 500), ingest('b', 500), ingest('c', 500), ingest('d', 500), ingest('e', 1)]),
      4,
    );
    assert.equal(groupLength([ingest('a', GROUP_MAX_OPS + 1), ingest('b', 1)]), 1, 'a first batch always goes');
  });

  it('small batches go ahead of a large head group, in their order, in one commit', () => {
    const calls = [ingest('a', 500), ingest('b', 1), ingest('c', 2), ingest('d', 500), ingest('e', SMALL_BATCH_OPS)];
    assert.deepEqual(nextIngestRound(calls, false), { indexes: [1, 2, 4], smallFirst: true });
  });

  it('never ahead of an earlier batch of their own device, nor of a call that is not an ingest', () => {
    const calls = [ingest('a', 500), ingest('a', 1), ingest('b', 1), read, ingest('c', 1)];
    assert.deepEqual(nextIngestRound(calls, false), { indexes: [2], smallFirst: true });
  });

  it('never two rounds running: after small batches went ahead, the head group goes', () => {
    const calls = [ingest('a', 500), ingest('b', 1), ingest('c', 1)];
    assert.deepEqual(nextIngestRound(calls, true), { indexes: [0, 1, 2], smallFirst: false });
    // Rounds as the storage thread runs them: small ahead, then the head, then small again.
    const queue = [ingest('a', 500), ingest('b', 1), ingest('a', 500), ingest('c', 1)];
    const rounds: number[][] = [];
    let last = false;
    while (queue.length > 0) {
      const round = nextIngestRound(queue, last);
      last = round.smallFirst;
      rounds.push(round.indexes.map((i) => (queue[i] as Call).id));
      for (let k = round.indexes.length - 1; k >= 0; k--) queue.splice(round.indexes[k] as number, 1);
    }
    const [a1, b, a2, c] = rounds.flat().sort((x, y) => x - y);
    assert.deepEqual(rounds, [
      [b, c],
      [a1, a2],
    ]);
  });

  it('a head group that is small itself goes as it is', () => {
    const calls = Array.from({ length: 5 }, (_, i) => ingest(`d${i}`, SMALL_BATCH_OPS));
    assert.deepEqual(nextIngestRound([ingest('a', 3), ...calls], false), {
      indexes: [0, 1, 2, 3, 4, 5],
      smallFirst: false,
    });
  });
});
