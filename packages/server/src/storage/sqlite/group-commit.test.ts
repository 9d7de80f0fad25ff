import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Call, endsGroup, groupLength, nextRound, type Round, takeUnordered } from './group-commit.js';
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
    const quarter = GROUP_MAX_OPS / 4;
    assert.equal(
      groupLength([
        ingest('a', quarter),
        ingest('b', quarter),
        ingest('c', quarter),
        ingest('d', quarter),
        ingest('e', 1),
      ]),
      4,
      'the fifth batch would pass the op bound',
    );
    assert.equal(groupLength([ingest('a', GROUP_MAX_OPS + 1), ingest('b', 1)]), 1, 'a first batch always goes');
  });

  it('small batches go ahead of a large head group, in their order, in one commit', () => {
    const calls = [ingest('a', 500), ingest('b', 1), ingest('c', 2), ingest('d', 500), ingest('e', SMALL_BATCH_OPS)];
    assert.deepEqual(nextRound(calls, false), { group: true, indexes: [1, 2, 4], smallFirst: true });
  });

  it('never ahead of an earlier batch of their own device; past a call that is not an ingest', () => {
    const calls = [ingest('a', 500), ingest('a', 1), ingest('b', 1), read, ingest('c', 1), ingest('b', 500)];
    assert.deepEqual(nextRound(calls, false), { group: true, indexes: [2, 4], smallFirst: true });
  });

  it('a read at the head: small batches behind it go first, then the read alone, then the rest', () => {
    const queue = [read, ingest('a', 500), ingest('b', 1), { ...read, id: nextId++ }, ingest('c', 2)];
    const [r1, a, b, r2, c] = queue.map((call) => call.id);
    const rounds: (number[] | number)[] = [];
    let last = false;
    while (queue.length > 0) {
      const round: Round = nextRound(queue, last);
      last = round.smallFirst;
      if (round.group) {
        rounds.push(round.indexes.map((i) => (queue[i] as Call).id));
        for (let k = round.indexes.length - 1; k >= 0; k--) queue.splice(round.indexes[k] as number, 1);
      } else {
        rounds.push((queue.shift() as Call).id);
      }
    }
    assert.deepEqual(rounds, [[b, c], r1, [a], r2]);
  });

  it('nothing small waiting: the head goes as it is, a read alone', () => {
    assert.deepEqual(nextRound([read, ingest('a', 500)], false), { group: false, smallFirst: false });
    assert.deepEqual(nextRound([ingest('a', 500), read, ingest('b', 500)], false), {
      group: true,
      indexes: [0],
      smallFirst: false,
    });
  });

  it('never two rounds running: after small batches went ahead, the head group goes', () => {
    const calls = [ingest('a', 500), ingest('b', 1), ingest('c', 1)];
    assert.deepEqual(nextRound(calls, true), { group: true, indexes: [0, 1, 2], smallFirst: false });
    // Rounds as the storage thread runs them: small ahead, then the head, then small again.
    const queue = [ingest('a', 500), ingest('b', 1), ingest('a', 500), ingest('c', 1)];
    const rounds: number[][] = [];
    let last = false;
    while (queue.length > 0) {
      const round = nextRound(queue, last);
      assert.ok(round.group);
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
    assert.deepEqual(nextRound([ingest('a', 3), ...calls], false), {
      group: true,
      indexes: [0, 1, 2, 3, 4, 5],
      smallFirst: false,
    });
  });

  it('a ping goes ahead of everything, in its order; the rest of the queue keeps its own', () => {
    const ping = (): Call => ({ id: nextId++, method: 'ping', args: [] });
    const queue = [ingest('a', 500), ping(), read, ingest('b', 1), ping()];
    const [a, p1, r, b, p2] = queue.map((call) => call.id);
    assert.deepEqual(
      takeUnordered(queue).map((call) => call.id),
      [p1, p2],
    );
    assert.deepEqual(
      queue.map((call) => call.id),
      [a, r, b],
    );
    assert.deepEqual(takeUnordered(queue), []);
  });

  it('a small batch ends a group in progress; a large batch, a read or a ping does not', () => {
    assert.equal(endsGroup(ingest('live', 1)), true);
    assert.equal(endsGroup(ingest('live', SMALL_BATCH_OPS)), true);
    assert.equal(endsGroup(ingest('backlog', SMALL_BATCH_OPS + 1)), false);
    assert.equal(endsGroup(read), false);
    assert.equal(endsGroup({ id: nextId++, method: 'ping', args: [] }), false);
  });
});
