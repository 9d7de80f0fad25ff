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

import { type InDoubtLog, JournalCore, JournalLockedError, WristbandWriteError } from '@holdfast/terminal/portable';
import sqlite3InitModule from '@sqlite.org/sqlite-wasm';
import type { BrowserJournalErrorCode, JournalRequest, JournalResponse } from './messages.js';
import { SimulatedWristbandReader, withChipLog } from './simulated-wristbands.js';
import { TillEngine } from './till-engine.js';
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
let till: TillEngine | null = null;
let tillName = '';

/**
 * The last write OPFS refused for want of quota. The sahpool VFS turns
 * every failed write into SQLITE_IOERR and keeps the browser's exception to
 * itself, so the worker watches the access handles' writes to tell "storage
 * full" from other disk errors (the clerk is told to free space, not to
 * call for help).
 */
let quotaRefusedAt = 0;
const SyncHandle = (
  globalThis as { FileSystemSyncAccessHandle?: { prototype: { write: (...a: unknown[]) => number } } }
).FileSystemSyncAccessHandle;
if (SyncHandle) {
  const write = SyncHandle.prototype.write;
  SyncHandle.prototype.write = function (this: unknown, ...args: unknown[]): number {
    try {
      return write.apply(this, args);
    } catch (error) {
      if ((error as Error)?.name === 'QuotaExceededError') quotaRefusedAt = Date.now();
      throw error;
    }
  };
}

/**
 * The in-doubt list (journal-core.ts, InDoubtLog) kept by the page in
 * localStorage, not in OPFS: the disk error that puts an op in doubt is an
 * OPFS write that failed (quota exhausted, I/O error), and a list written
 * beside the journal would fail with it. localStorage is a separate store
 * with its own per-origin limit, outside the quota OPFS draws on. The worker
 * keeps the text in memory and hands every line to the page
 * (event 'inDoubt') before it answers the failing call, so the page has
 * stored it before it shows the clerk the error; the page passes the list
 * back on the next open.
 */
function pageInDoubtLog(kept: string | null): InDoubtLog {
  let text = kept ?? '';
  return {
    append(line) {
      text += line;
      scope.postMessage({ event: 'inDoubt', line });
    },
    read: () => (text === '' ? null : text),
    clear() {
      text = '';
      scope.postMessage({ event: 'inDoubtClear' });
    },
  };
}

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

async function open(till: string, lockBudgetMs: number, inDoubt: string | null): Promise<unknown> {
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
    journal = JournalCore.attach(conn, `opfs:${till}/journal.db`, {
      inDoubtLog: pageInDoubtLog(typeof inDoubt === 'string' ? inDoubt : null),
    });
    tillName = till;
    connection = conn;
    releaseLock = release;
    return { head: journal.head, counts: journal.counts, pragmas: journal.pragmas() };
  } catch (error) {
    release();
    throw error;
  }
}

function needTill(): TillEngine {
  if (!till) throw new CodedError('till_not_started', 'the till is not started on this journal');
  return till;
}

async function startTill(request: Extract<JournalRequest, { op: 'till.start' }>): Promise<unknown> {
  if (till) return till.status();
  const engine = new TillEngine({
    till: tillName,
    journal: need(),
    serverUrl: request.serverUrl,
    ...(request.backoffSeconds ? { backoffSeconds: request.backoffSeconds } : {}),
    ...(request.requestTimeoutMs ? { requestTimeoutMs: request.requestTimeoutMs } : {}),
    ...(request.probeIntervalMs !== undefined ? { probeIntervalMs: request.probeIntervalMs } : {}),
    ...(request.feedIntervalMs !== undefined ? { feedIntervalMs: request.feedIntervalMs } : {}),
    ...(request.policyRefreshMs !== undefined ? { policyRefreshMs: request.policyRefreshMs } : {}),
    onStatus: (status) => scope.postMessage({ event: 'status', status }),
    onError: (error) => console.error('holdfast till:', error),
  });
  await engine.start();
  till = engine;
  return engine.status();
}

function need(): JournalCore {
  if (!journal) throw new CodedError('journal_closed', 'the journal is not open');
  return journal;
}

async function handle(request: JournalRequest): Promise<unknown> {
  switch (request.op) {
    case 'open':
      return open(request.till, request.lockBudgetMs, request.inDoubt);
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
    case 'till.start':
      return startTill(request);
    case 'till.status':
      return needTill().status();
    case 'till.enroll':
      return needTill().enroll(request.token, request.label);
    case 'till.openShift':
      return needTill().openShift({
        clerk: request.clerk,
        currency: request.currency,
        openingFloat: request.openingFloat,
      });
    case 'till.recordSale':
      return needTill().recordSale({ lines: request.lines, tenders: request.tenders });
    case 'till.closeShift':
      return needTill().closeShift({
        countedCash: request.countedCash,
        ...(request.note !== undefined ? { note: request.note } : {}),
      });
    case 'till.recent':
      return needTill().recent(request.limit);
    case 'till.deadLetters':
      return needTill().deadLetters(request.limit);
    case 'till.receipt':
      return needTill().receipt(request.id, request.copy);
    case 'till.findReceipt':
      return needTill().findReceipt(request.number);
    case 'till.syncNow':
      return needTill().syncNow();
    case 'till.requery':
      return needTill().requery();
    case 'till.pollFeed':
      return needTill().pollFeed();
    case 'till.catalog':
      return needTill().catalog();
    case 'till.wristband.chips':
      return withChipLog((chips) => chips.all());
    case 'till.wristband.issue':
      return withChipLog((chips) => chips.issue(request.uid, request.currency));
    case 'till.wristband.read': {
      const engine = needTill();
      return withChipLog((chips) => engine.readWristband(new SimulatedWristbandReader(chips, request.present)));
    }
    case 'till.wristband.pay': {
      const engine = needTill();
      return withChipLog((chips) =>
        engine.payWithWristband(
          { lines: request.lines, ...(request.cash ? { cash: request.cash } : {}) },
          new SimulatedWristbandReader(chips, request.present, { liftDuringWrite: request.liftDuringWrite === true }),
        ),
      );
    }
    case 'till.wristband.topUp': {
      const engine = needTill();
      return withChipLog((chips) =>
        engine.topUpWristband(
          { amount: request.amount },
          new SimulatedWristbandReader(chips, request.present, { liftDuringWrite: request.liftDuringWrite === true }),
        ),
      );
    }
    case 'till.wristband.pending':
      return needTill().pendingWristbandWrites();
    case 'till.refreshPolicy':
      return needTill().refreshPolicy();
    case 'till.declines':
      return needTill().declines(request.limit);
    case 'till.signIn':
      return needTill().signIn(request.staff, request.pin);
    case 'till.signOut':
      needTill().signOut();
      return null;
    case 'till.staffMembers':
      return needTill().staffMembers();
    case 'inDoubt':
      return need().inDoubtOps();
    case 'inDoubt.acknowledge':
      need().clearInDoubt();
      return null;
    case 'till.recordSaleOnline':
      return needTill().recordSaleOnline({ lines: request.lines, tenders: request.tenders });
    case 'till.pendingAuthorizations':
      return needTill().pendingAuthorizations();
    case 'till.retryAuthorizations':
      return needTill().retryAuthorizations();
    case 'close':
      await till?.close();
      till = null;
      journal?.close();
      journal = null;
      connection = null;
      releaseLock?.();
      releaseLock = null;
      return null;
  }
}

/** The error's code: the browser journal's own, else the SDK error's `code` (the clerk's words key on it). */
function codeOf(error: unknown, startedAt: number): string {
  if (error instanceof CodedError) return error.code;
  // A write refused for quota while this request ran: the storage is full (a record call's op is in doubt).
  if (quotaRefusedAt >= startedAt) return 'storage_full';
  if (error instanceof JournalLockedError) return 'journal_locked';
  // A chip write this till journaled could not be finished (the wristband left the reader again).
  if (error instanceof WristbandWriteError) return 'wristband_unfinished';
  // A refused input names its field: the clerk sees the message as it is.
  if ((error as Error)?.name === 'ValidationError') return 'validation';
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && /^[a-z_]{1,64}$/.test(code)) return code;
  // SQLITE_FULL and friends: the quota is exhausted; nothing was recorded.
  if (/SQLITE_FULL|database or disk is full|QuotaExceeded/i.test(String((error as Error)?.message)))
    return 'storage_full';
  return 'journal_failed';
}

/** A staff refusal's figure (StaffError retryAfterMs, attemptsLeft) when the error carries it. */
function figure(error: unknown, key: 'retryAfterMs' | 'attemptsLeft'): Record<string, number> {
  const value = (error as Record<string, unknown> | null)?.[key];
  return typeof value === 'number' && Number.isFinite(value) ? { [key]: value } : {};
}

scope.onmessage = (event: MessageEvent) => {
  const { id, request } = event.data as { id: number; request: JournalRequest };
  const startedAt = Date.now();
  handle(request).then(
    (value) => scope.postMessage({ id, ok: true, value } satisfies JournalResponse),
    (error: unknown) =>
      scope.postMessage({
        id,
        ok: false,
        error: {
          name: (error as Error)?.name ?? 'Error',
          code: codeOf(error, startedAt),
          message: (error as Error)?.message ?? String(error),
          ...(typeof (error as { serverCode?: unknown })?.serverCode === 'string'
            ? { serverCode: (error as { serverCode: string }).serverCode }
            : {}),
          // NeedsOnlineError: which policy rule sent the payment to the server (the clerk's words key on it).
          ...(typeof (error as { rule?: unknown })?.rule === 'string'
            ? { rule: (error as { rule: string }).rule }
            : {}),
          ...figure(error, 'retryAfterMs'),
          ...figure(error, 'attemptsLeft'),
        },
      } satisfies JournalResponse),
  );
};
