/**
 * The storage thread's side (see sqlite-thread.ts): one SqliteStorage,
 * calls applied in arrival order, one at a time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { cryptoRandom } from '@holdfast/domain';
import { uuidv7 } from '@holdfast/protocol';
import { SqliteStorage } from './sqlite-storage.js';
import { serializeError, type ThreadedSqliteOptions, type ThreadReply } from './sqlite-thread.js';

const port = parentPort;
if (!port) throw new Error('sqlite-thread-worker must run in a worker thread');
const storage = new SqliteStorage(workerData as ThreadedSqliteOptions);
const methods = storage as unknown as Record<string, (...args: unknown[]) => unknown>;

let queue: Promise<void> = Promise.resolve();
port.on('message', (message: { id: number; method: string; args: unknown[] }) => {
  queue = queue.then(async () => {
    let reply: ThreadReply;
    try {
      const fn = methods[message.method];
      if (typeof fn !== 'function') throw new TypeError(`storage has no method ${message.method}`);
      const args =
        message.method === 'ingest'
          ? [...message.args, () => uuidv7(message.args[1] as number, cryptoRandom.bytes(10))]
          : message.args;
      reply = { id: message.id, ok: true, value: await fn.apply(storage, args) };
    } catch (error) {
      reply = { id: message.id, ok: false, error: serializeError(error) };
    }
    port.postMessage(reply);
  });
});
