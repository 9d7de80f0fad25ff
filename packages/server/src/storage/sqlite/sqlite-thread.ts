/**
 * The SQLite backend on its own thread.
 *
 * better-sqlite3 is synchronous: on the main thread, each batch's
 * transaction (20–40 ms for 500 ops) stops the event loop, and with it
 * accepting connections, refusing excess load with 503, and answering live
 * sales. In a reconnection storm that turns into connections waiting tens of
 * seconds to be accepted, client timeouts, and resent batches. Here the
 * database lives in a worker thread; the main thread keeps HTTP, parsing and
 * signature checks, and the two overlap on a two-core machine.
 *
 * Every Storage method is forwarded by name, so the thread follows the
 * interface as it grows. Calls are applied in order, one at a time, by the
 * worker: the same single-writer discipline as SqliteStorage itself. The
 * one argument that cannot cross threads, ingest's id generator, is
 * replaced in the worker by UUIDv7 from the batch's `now` and crypto
 * randomness (what the service uses in a real server process).
 *
 * Consecutive `ingest` calls that wait in the worker together share one
 * transaction and one commit (group commit; sqlite-thread-worker.ts).
 *
 * Errors come back as what they were: ProtocolError with its code and
 * details (the HTTP layer maps them), other errors by name and message.
 */
import { Worker } from 'node:worker_threads';
import { type Op, ProtocolError } from '@holdfast/protocol';
import Database from 'better-sqlite3';
import type { VerifiedBatch } from '../../model/batch.js';
import { listDeviceKeys } from '../sql/operations/device-keys.js';
import { getDevice } from '../sql/operations/devices.js';
import type { SqlOperation } from '../sql/transaction-port.js';
import type { Storage } from '../storage.js';
import { SqliteDriver } from './sqlite-driver.js';
import type { SqliteStorageOptions } from './sqlite-storage.js';

export type ThreadedSqliteOptions = Omit<SqliteStorageOptions, 'crashHook'>;

/** Batches in one group commit at most (sqlite-thread-worker.ts): bounds how long the first of them waits. */
export const GROUP_MAX_BATCHES = 8;
/**
 * Ops in one group commit at most (a group always takes at least its first
 * batch). A live sale that reaches the storage thread while a group commits
 * waits for that commit: in the 1,000-terminal storm (docs/performance.md)
 * 2,000 gave 7,600 ops/s with live sales at p50 340 ms; 1,000 gave 6,800
 * ops/s at p50 200 ms; 500 gave 5,900 ops/s at p50 90 ms.
 */
export const GROUP_MAX_OPS = 1_000;
/**
 * A batch of at most this many ops may be applied ahead of larger ones queued
 * before it (the storage thread's live lane, sqlite-thread-worker.ts): the
 * size of a sale just recorded, not of a backlog.
 */
export const SMALL_BATCH_OPS = 16;

/** What the worker sends back for one call. */
export type ThreadReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: SerializedError };

export type SerializedError =
  | {
      kind: 'protocol';
      code: ProtocolError['code'];
      message: string;
      field?: string;
      rule?: string;
      retryAfterMs?: number;
    }
  | { kind: 'error'; name: string; message: string; code?: string; stack?: string };

export function serializeError(error: unknown): SerializedError {
  if (error instanceof ProtocolError) {
    const wire = error.toWire();
    return {
      kind: 'protocol',
      code: wire.code,
      message: wire.message,
      ...(wire.field !== undefined ? { field: wire.field } : {}),
      ...(wire.rule !== undefined ? { rule: wire.rule } : {}),
      ...(wire.retryAfterMs !== undefined ? { retryAfterMs: wire.retryAfterMs } : {}),
    };
  }
  const e = error instanceof Error ? error : new Error(String(error));
  const code = (e as { code?: unknown }).code;
  return {
    kind: 'error',
    name: e.name,
    message: e.message,
    ...(typeof code === 'string' ? { code } : {}),
    ...(e.stack !== undefined ? { stack: e.stack } : {}),
  };
}

export function deserializeError(error: SerializedError): Error {
  if (error.kind === 'protocol') {
    const details: { field?: string; rule?: string; retryAfterMs?: number } = {};
    if (error.field !== undefined) details.field = error.field;
    if (error.rule !== undefined) details.rule = error.rule;
    if (error.retryAfterMs !== undefined) details.retryAfterMs = error.retryAfterMs;
    return new ProtocolError(error.code, error.message, details);
  }
  const out = new Error(error.message);
  out.name = error.name;
  if (error.code !== undefined) (out as Error & { code?: string }).code = error.code;
  if (error.stack !== undefined) out.stack = `${error.stack}\n    (in the storage thread)`;
  return out;
}

/**
 * A verified batch as it crosses to the storage thread: each op as its
 * canonical text (what its hash covers: the op but `hash`, which travels
 * beside it) instead of as objects. Strings cross as one copy of their
 * bytes; an op's object graph is walked and rebuilt on both sides, and
 * crossing as both (objects and texts) held every batch twice in each
 * thread's heap. The texts were verified against the hashes on the main
 * thread, so the worker's JSON.parse of them gives back the ops checked
 * there (with bodies as the verifier parsed them: same members, same values).
 */
export interface PackedBatch extends Omit<VerifiedBatch, 'ops' | 'canonical'> {
  texts: readonly string[];
  hashes: readonly string[];
}

/** The batch to send: packed when the verifier kept the canonical texts, else as it is. */
export function packBatch(batch: VerifiedBatch): VerifiedBatch | PackedBatch {
  const { ops, canonical, ...rest } = batch;
  if (!canonical || canonical.length !== ops.length) return batch;
  return { ...rest, texts: canonical, hashes: ops.map((op) => op.hash) };
}

/** The worker's side of packBatch: the verified batch again, ops rebuilt from their texts. */
export function unpackBatch(sent: VerifiedBatch | PackedBatch): VerifiedBatch {
  if (!('texts' in sent)) return sent;
  const { texts, hashes, ...rest } = sent;
  const ops = texts.map((text, i) => {
    const op = JSON.parse(text) as Op;
    op.hash = hashes[i] as string;
    return op;
  });
  return { ...rest, ops, canonical: texts };
}

/**
 * Reads answered on the main thread, from a read-only connection of its own,
 * instead of in the storage thread's queue: the device and its keys, which
 * every signed request looks up before anything else (device-auth.ts).
 * In the queue such a read waited behind every ingest sent before it — half
 * a second and more during a reconnection storm, for a live sale too —
 * though it needs no order against them: it reads what was committed (WAL
 * readers never wait for the writer), and every change to a device (enrol,
 * revoke, rotate a key) is committed before its caller is answered. Ingest
 * checks the device again inside its own transaction.
 */
const SNAPSHOT_READS = new Map<string, (args: unknown[]) => SqlOperation<unknown>>([
  ['getDevice', (args) => getDevice(args[0] as string)],
  ['listDeviceKeys', (args) => listDeviceKeys(args[0] as string)],
]);

/** The main thread's read-only connection for SNAPSHOT_READS, once the database is migrated. */
function openSnapshotReader(path: string): { driver: SqliteDriver; close: () => void } | null {
  if (path === ':memory:') return null; // another connection would see another database
  const db = new Database(path, { readonly: true, fileMustExist: true });
  db.pragma('busy_timeout = 5000');
  return { driver: new SqliteDriver(db), close: () => db.close() };
}

const FROM_SOURCE = import.meta.url.endsWith('.ts');

function startWorker(options: ThreadedSqliteOptions): Worker {
  if (!FROM_SOURCE) return new Worker(new URL('./sqlite-thread-worker.js', import.meta.url), { workerData: options });
  // From the TypeScript sources (tests): workers do not inherit tsx's loader hooks, so register them first.
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./sqlite-thread-worker.ts', import.meta.url).href;
  const code = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); })`;
  return new Worker(code, { eval: true, workerData: options });
}

/**
 * Opens SQLite in a worker thread and returns a Storage whose every method
 * runs there, but SNAPSHOT_READS once `migrate()` has run (on a file
 * database). The worker is ended by `close()`.
 */
export function openThreadedSqlite(options: ThreadedSqliteOptions): Storage {
  const worker = startWorker(options);
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: Error | null = null;

  const failAll = (error: Error) => {
    dead = error;
    for (const call of pending.values()) call.reject(error);
    pending.clear();
  };
  worker.on('message', (reply: ThreadReply) => {
    const call = pending.get(reply.id);
    if (!call) return;
    pending.delete(reply.id);
    if (reply.ok) call.resolve(reply.value);
    else call.reject(deserializeError(reply.error));
  });
  worker.on('error', (error) => failAll(error instanceof Error ? error : new Error(String(error))));
  worker.on('exit', (code) => failAll(new Error(`the storage thread exited (code ${code})`)));

  const call = (method: string, args: unknown[]): Promise<unknown> => {
    if (dead) return Promise.reject(dead);
    // ingest's id generator stays behind: the worker makes its own (see the module comment).
    const sent = method === 'ingest' ? [packBatch(args[0] as VerifiedBatch), args[1]] : args;
    for (const [i, arg] of sent.entries()) {
      if (typeof arg === 'function') {
        return Promise.reject(new TypeError(`storage thread: argument ${i} of ${method} is a function`));
      }
    }
    const id = nextId++;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      worker.postMessage({ id, method, args: sent });
    });
  };

  let reader: ReturnType<typeof openSnapshotReader> = null;
  const migrate = async (...args: unknown[]): Promise<unknown> => {
    const value = await call('migrate', args);
    reader ??= openSnapshotReader(options.path);
    return value;
  };
  const snapshotRead = (
    method: string,
    operation: (args: unknown[]) => SqlOperation<unknown>,
    args: unknown[],
  ): Promise<unknown> => {
    if (!reader || dead || closing) return call(method, args);
    try {
      return Promise.resolve(reader.driver.autocommit(operation(args)));
    } catch (error) {
      return Promise.reject(error);
    }
  };

  let closing: Promise<void> | null = null;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      reader?.close();
      reader = null;
      if (!dead) await call('close', []).catch(() => undefined);
      await worker.terminate();
    })();
    return closing;
  };

  return new Proxy({} as Storage, {
    get(_target, property) {
      if (property === 'kind') return 'sqlite';
      if (property === 'close') return close;
      if (property === 'migrate') return migrate;
      const snapshot = typeof property === 'string' ? SNAPSHOT_READS.get(property) : undefined;
      if (snapshot) return (...args: unknown[]) => snapshotRead(property as string, snapshot, args);
      if (property === 'pendingCalls') return () => pending.size;
      if (property === 'then') return undefined; // not a thenable
      if (typeof property !== 'string') return undefined;
      return (...args: unknown[]) => call(property, args);
    },
  });
}
