/**
 * The storage thread's side (see sqlite-thread.ts): one SqliteStorage,
 * calls applied in arrival order, one at a time, except that `ingest` calls
 * waiting together are applied as one group commit.
 *
 * Group commit: while the thread applies a batch, the main thread goes on
 * verifying others, and their `ingest` calls queue here. When the thread is
 * free it takes every call that has arrived; a run of consecutive `ingest`
 * calls (up to GROUP_MAX_BATCHES batches and GROUP_MAX_OPS ops) is applied in
 * one transaction, a savepoint per batch (SqliteStorage.ingestGroup), so one
 * fsync of the WAL makes them all durable instead of one each. Answers go out
 * only after that commit. Any other call is applied alone, in its place in
 * the order. Small batches (a sale just rung up) may go ahead of a large
 * group or another call queued before them, a small batch that arrives
 * while a group is applied ends that group before its next large batch (the
 * rest wait at the head), and a health check's ping goes ahead of
 * everything: group-commit.ts says when.
 */
import { type MessagePort, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import { cryptoRandom } from '@holdfast/domain';
import { uuidv7 } from '@holdfast/protocol';
import type { VerifiedBatch } from '../../model/batch.js';
import { type Call, endsGroup, nextRound, takeUnordered } from './group-commit.js';
import { type GroupedIngest, SqliteStorage } from './sqlite-storage.js';
import {
  type PackedBatch,
  serializeError,
  type ThreadedSqliteOptions,
  type ThreadReply,
  unpackBatch,
} from './sqlite-thread.js';

const found = parentPort;
if (!found) throw new Error('sqlite-thread-worker must run in a worker thread');
const port: MessagePort = found;
const storage = new SqliteStorage(workerData as ThreadedSqliteOptions);
const methods = storage as unknown as Record<string, (...args: unknown[]) => unknown>;

/** ingest's id generator, which cannot cross threads: UUIDv7 from the batch's `now` and crypto randomness. */
const idsAt = (now: number) => () => uuidv7(now, cryptoRandom.bytes(10));

const waiting: Call[] = [];
let draining = false;
/** Whether the last round applied small batches ahead of the queue (see nextRound). */
let smallFirst = false;

port.on('message', (call: Call) => {
  waiting.push(call);
  if (!draining) {
    draining = true;
    setImmediate(drain);
  }
});

/** Applies what has arrived: one group of ingests or one other call, then yields to take in newer calls. */
async function drain(): Promise<void> {
  // Calls delivered to the port but not yet dispatched join this round.
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port))
    waiting.push(next.message as Call);
  for (const call of takeUnordered(waiting)) await applyOne(call);
  if (waiting.length > 0) {
    const round = nextRound(waiting, smallFirst);
    smallFirst = round.smallFirst;
    if (round.group) {
      // Calls that arrive meanwhile join the end of `waiting`, so the round's indexes stay valid.
      const applied = round.indexes.slice(0, applyGroup(round.indexes.map((i) => waiting[i] as Call)));
      for (let k = applied.length - 1; k >= 0; k--) waiting.splice(applied[k] as number, 1);
    } else {
      await applyOne(waiting.shift() as Call);
    }
  }
  if (waiting.length > 0) setImmediate(drain);
  else draining = false;
}

/**
 * Whether a call has reached the port that should not wait for the rest of
 * the group in progress (group-commit.ts, endsGroup); what arrived joins
 * `waiting` either way.
 */
function groupShouldEnd(): boolean {
  let end = false;
  for (let next = receiveMessageOnPort(port); next; next = receiveMessageOnPort(port)) {
    const call = next.message as Call;
    waiting.push(call);
    if (endsGroup(call)) end = true;
  }
  return end;
}

/** Batches already rebuilt from their texts: a group ended early leaves the rest to the next round, unpacked once. */
const unpacked = new WeakMap<Call, VerifiedBatch>();

/** Applies `calls` as one group commit and answers them; returns how many were applied (a prefix; the rest wait). */
function applyGroup(calls: Call[]): number {
  const items: GroupedIngest[] = calls.map((call) => {
    const [sent, now] = call.args as [VerifiedBatch | PackedBatch, number];
    let batch = unpacked.get(call);
    if (!batch) {
      batch = unpackBatch(sent);
      unpacked.set(call, batch);
    }
    return { batch, now, newId: idsAt(now) };
  });
  let outcomes: ReturnType<SqliteStorage['ingestGroup']>;
  try {
    outcomes = storage.ingestGroup(items, (i) => !endsGroup(calls[i] as Call) && groupShouldEnd());
  } catch (error) {
    // The commit itself failed: nothing of the group was written; every batch is told so.
    const wire = serializeError(error);
    for (const call of calls) port.postMessage({ id: call.id, ok: false, error: wire } satisfies ThreadReply);
    return calls.length;
  }
  outcomes.forEach((outcome, i) => {
    const call = calls[i] as Call;
    port.postMessage(
      (outcome.ok
        ? { id: call.id, ok: true, value: outcome.value }
        : { id: call.id, ok: false, error: serializeError(outcome.error) }) satisfies ThreadReply,
    );
  });
  return outcomes.length;
}

async function applyOne(call: Call): Promise<void> {
  let answer: ThreadReply;
  try {
    const fn = methods[call.method];
    if (typeof fn !== 'function') throw new TypeError(`storage has no method ${call.method}`);
    answer = { id: call.id, ok: true, value: await fn.apply(storage, call.args) };
  } catch (error) {
    answer = { id: call.id, ok: false, error: serializeError(error) };
  }
  port.postMessage(answer);
}
