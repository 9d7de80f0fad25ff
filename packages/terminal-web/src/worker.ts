/**
 * The journal worker: one dedicated worker per till owns the till's journal,
 * SQLite WASM on OPFS through the `opfs-sahpool` VFS (synchronous access
 * handles, which exist only in dedicated workers and need no cross-origin
 * isolation). Every request is answered only after it is done; an append is
 * answered after its COMMIT, i.e. after the VFS flushed the access handle
 * (synchronous=FULL): durable in OPFS.
 *
 * Fail closed: if OPFS cannot be opened the worker refuses; nothing is ever
 * recorded in memory. One writer: a Web Lock per till, held for the life of
 * the connection; the pool's access handles are exclusive as well.
 */

import { JournalCore, JournalLockedError } from '@holdfast/terminal/portable';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { BrowserJournalErrorCode, JournalRequest, JournalResponse } from './messages.js';
import { WasmConnection, type WasmDb } from './wasm-connection.js';

interface WorkerScope {
  onmessage: ((event: MessageEvent) => void) | null;
  postMessage(message: unknown): void;
}
const scope = self as unknown as WorkerScope;

class CodedError extends Error {
  constructor(
    readonly code: BrowserJournalErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'BrowserJournalError';
  }
}

let journal: JournalCore | null = null;
let connection: WasmConnection | null = null;
let releaseLock: (() => void) | null = null;

/** Takes this till's Web Lock without waiting for it, retrying until `budgetMs` has passed (a reload's old page may still hold it). */
async function takeLock(name: string, budgetMs: number): Promise<() => void> {
  if (!navigator.locks) throw new CodedError('opfs_unavailable', 'Web Locks are not available in this browser');
  const deadline = Date.now() + budgetMs;
  for (;;) {
    const release = await new Promise<(() => void) | null>((resolve) => {
      void navigator.locks.request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        return new Promise<void>((done) => resolve(done));
      });
    });
    if (release) return release;
    if (Date.now() >= deadline) {
      throw new CodedError(
        'journal_locked',
        `till ${name.slice('holdfast-journal:'.length)} is open in another tab or window: one till, one writer`,
      );
    }
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function open(till: string, lockBudgetMs: number): Promise<unknown> {
  if (journal) throw new CodedError('journal_failed', 'this worker already has a journal open');
  if (!/^[A-Za-z0-9_-]{1,64}$/.test(till)) {
    throw new CodedError('journal_failed', 'till name must be 1 to 64 letters, digits, "-" or "_"');
  }
  if (typeof navigator.storage?.getDirectory !== 'function') {
    throw new CodedError('opfs_unavailable', 'the Origin Private File System is not available (private window?)');
  }
  const release = await takeLock(`holdfast-journal:${till}`, lockBudgetMs);
  try {
    const sqlite3 = await sqlite3InitModule();
    // The lock is ours, so a handle still held belongs to a reloaded page's worker that the
    // browser has not released yet: retry within the same budget, then say so.
    const deadline = Date.now() + lockBudgetMs;
    let pool: Awaited<ReturnType<typeof sqlite3.installOpfsSAHPoolVfs>> | null = null;
    while (!pool) {
      try {
        pool = await sqlite3.installOpfsSAHPoolVfs({
          name: `holdfast-${till}`,
          directory: `.holdfast-journal-${till}`,
          clearOnInit: false,
          initialCapacity: 6,
        });
      } catch (error) {
        if (Date.now() >= deadline) {
          throw new CodedError(
            'opfs_unavailable',
            `could not open the journal's OPFS storage: ${(error as Error).message ?? String(error)}`,
          );
        }
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const db = new pool.OpfsSAHPoolDb('/journal.db') as unknown as WasmDb;
    const conn = new WasmConnection(
      db,
      () => sqlite3.capi.sqlite3_last_insert_rowid(db as never),
      (error) => error instanceof sqlite3.SQLite3Error,
    );
    journal = JournalCore.attach(conn, `opfs:${till}/journal.db`);
    connection = conn;
    releaseLock = release;
    return { head: journal.head, counts: journal.counts, pragmas: journal.pragmas() };
  } catch (error) {
    release();
    throw error;
  }
}

function need(): JournalCore {
  if (!journal) throw new CodedError('journal_closed', 'the journal is not open');
  return journal;
}

async function handle(request: JournalRequest): Promise<unknown> {
  switch (request.op) {
    case 'open':
      return open(request.till, request.lockBudgetMs);
    case 'append':
      return need().append(request.input);
    case 'ops':
      return need().ops(request.afterSeq, request.limit);
    case 'head':
      return need().head;
    case 'counts':
      return need().counts;
    case 'integrity':
      need();
      return (connection as WasmConnection).pragma('integrity_check');
    case 'rawInsert': {
      // A bare INSERT in its own durable transaction, beside append: the baseline of the latency script.
      need();
      const conn = connection as WasmConnection;
      conn.exec('CREATE TABLE IF NOT EXISTS bench_raw (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)');
      conn.transaction(() => conn.prepare('INSERT INTO bench_raw (payload) VALUES (?)').run(request.payload));
      return null;
    }
    case 'close':
      journal?.close();
      journal = null;
      connection = null;
      releaseLock?.();
      releaseLock = null;
      return null;
  }
}

function codeOf(error: unknown): BrowserJournalErrorCode {
  if (error instanceof CodedError) return error.code;
  if (error instanceof JournalLockedError) return 'journal_locked';
  return 'journal_failed';
}

scope.onmessage = (event: MessageEvent) => {
  const { id, request } = event.data as { id: number; request: JournalRequest };
  handle(request).then(
    (value) => scope.postMessage({ id, ok: true, value } satisfies JournalResponse),
    (error: unknown) =>
      scope.postMessage({
        id,
        ok: false,
        error: {
          name: (error as Error)?.name ?? 'Error',
          code: codeOf(error),
          message: (error as Error)?.message ?? String(error),
        },
      } satisfies JournalResponse),
  );
};
