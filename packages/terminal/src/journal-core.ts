/**
 * Journal: the terminal's durable record of every op, in SQLite.
 *
 * Invariants:
 * - An op is recorded when, and only when, its INSERT transaction commits
 *   (WAL, synchronous=FULL: a power cut leaves the whole op or nothing).
 * - seq starts at 1 and grows by one per op, never reused, never skipped; the
 *   op at seq 1 links to GENESIS_HASH and every later one to the hash of the
 *   op before it. The chain head lives in memory and changes only after a
 *   commit, which is safe because there is exactly one writer:
 * - the database is opened with locking_mode=EXCLUSIVE, so a second process
 *   or connection cannot open it (two writers would fork the chain).
 * - Memory stays bounded however many ops are pending: reads use LIMIT, and
 *   the per-state counts are kept in memory (COUNT once at open, then
 *   adjusted by every committed transaction).
 *
 * This file is the portable journal: no Node module, any SqliteConnection
 * (better-sqlite3 on Node, SQLite WASM on OPFS in a browser worker). The
 * Node-only pieces (the data directory, file modes, the in-doubt file) are
 * in journal.ts.
 */
import { type InjectedBugs, limitedStatement, NO_INJECTED_BUGS } from '@holdfast/domain';
import { GENESIS_HASH, type Op, PROTOCOL_VERSION, sealOp } from '@holdfast/protocol';
import { JournalClosedError, JournalLockedError, SimulatedCrashError } from './errors.js';
import { META, migrate } from './journal-schema.js';
import {
  type AppendInput,
  type AttemptEnd,
  type ChainHead,
  type DeadLetter,
  type DeadRow,
  type JournalEntry,
  type OpCounts,
  type OpRow,
  type OpState,
  type SyncAttempt,
  toDeadLetter,
  toJournalEntry,
} from './journal-types.js';
import type { SqliteConnection, SqliteStatement } from './sqlite-connection.js';

/** How many sync_attempts rows are kept (the newest). */
export const SYNC_ATTEMPTS_KEPT = 10_000;

/** The most ops one page of `Journal.ops` / `Terminal.ops` returns. */
export const OPS_PAGE_MAX = 1000;

interface Delta extends OpCounts {
  head: ChainHead | null;
}

/**
 * How many recently appended ops the journal keeps parsed (see #remember).
 * A till online sends each op moments after recording it, so a handful
 * covers that; a larger window only makes every op of a recording burst
 * outlive V8's young generation, which then grows to its maximum and stays
 * there (docs/performance.md, "Terminal memory").
 */
export const RECENT_OPS = 64;

/**
 * SQLite's page cache for the journal, KiB. better-sqlite3 builds SQLite
 * with a 16 MB default, which a long outage's journal fills (every page
 * appended passes through it) and never gives back; appends touch only the
 * tail of the table and its indexes, and a batch reads one run of pages.
 */
export const JOURNAL_CACHE_KIB = 2048;

/** Everything the constructor needs, gathered by JournalCore.prepare. */
export interface JournalInit {
  db: SqliteConnection;
  file: string;
  attemptsKept: number;
  crashHook: CrashHook | null;
  bugs: InjectedBugs;
  inDoubtLog: InDoubtLog | null;
}

/** Paged reads whose limit `#limited` writes into the text. */
const OPS_AFTER = 'SELECT * FROM ops WHERE seq > ? ORDER BY seq LIMIT ?';
/**
 * Pending ops are found from `#floor` up, by `seq` (the table's own key): no
 * index on the state, so recording a sale writes two B-tree pages (the row and
 * its id), not three (docs/performance.md, "Terminal record latency").
 */
const PENDING_FIRST = "SELECT seq, hash, envelope FROM ops WHERE seq >= ? AND state = 'pending' ORDER BY seq LIMIT ?";
const PENDING_FROM = "SELECT seq, id, hash FROM ops WHERE seq >= ? AND state = 'pending' ORDER BY seq LIMIT ?";

export class JournalCore {
  readonly path: string;
  readonly #db: SqliteConnection;
  readonly #stmt;
  #counts: OpCounts;
  readonly #recent = new Map<number, Op>();
  /** Statements `prepare` handed out, by their text (the connection's own; a reopen starts afresh). */
  readonly #prepared = new Map<string, SqliteStatement>();
  /** The paged reads of `#limited`, by text: each prepares a few limits (limitedStatement). */
  readonly #limiters = new Map<string, (limit: number) => SqliteStatement>();
  #head: ChainHead;
  /**
   * No op below this seq is pending. Lowered at once by whatever may make an
   * op pending (requeue; an append never needs it); raised only from a read
   * of committed state outside a transaction (#settleFloor), so a write that
   * rolls back can never leave a pending op below it.
   */
  #floor: number;
  #delta: Delta | null = null;
  readonly #attemptsKept: number;
  readonly #crashHook: CrashHook | null;
  readonly #inDoubtLog: InDoubtLog | null;
  #inDoubt: InDoubtOp[] | null = null;

  /**
   * Makes the journal on an open connection of any SQLite binding: sets the
   * durability pragmas, migrates, and takes the exclusive lock. `file` names
   * the database in errors. Closes the connection if it throws.
   */
  static attach(db: SqliteConnection, file: string, options: JournalCoreOptions = {}): JournalCore {
    return JournalCore.prepare(db, file, options, (init) => new JournalCore(init));
  }

  /** What attach does, with the construction left to the subclass (journal.ts: Journal). */
  protected static prepare<J>(
    db: SqliteConnection,
    file: string,
    options: JournalCoreOptions,
    make: (init: JournalInit) => J,
  ): J {
    try {
      db.pragma('locking_mode = EXCLUSIVE');
      const mode = db.pragma('journal_mode = WAL');
      if (mode !== 'wal') throw new Error(`journal ${file}: could not enable WAL (got ${String(mode)})`);
      db.pragma(`synchronous = ${options.synchronous ?? 'FULL'}`);
      db.pragma('foreign_keys = ON');
      db.pragma(`cache_size = -${JOURNAL_CACHE_KIB}`);
      migrate(db, file);
      // Write once now so the exclusive lock is held from open, not from the first op.
      db.exec('BEGIN IMMEDIATE; COMMIT');
      return make({
        db,
        file,
        attemptsKept: options.attemptsKept ?? SYNC_ATTEMPTS_KEPT,
        crashHook: options.crashHook ?? null,
        bugs: options.bugs ?? NO_INJECTED_BUGS,
        inDoubtLog: options.inDoubtLog ?? null,
      });
    } catch (error) {
      const failure = db.classify(error);
      db.close();
      if (failure === 'busy') throw new JournalLockedError(file);
      throw error;
    }
  }

  protected constructor({ db, file, attemptsKept, crashHook, bugs, inDoubtLog }: JournalInit) {
    this.#db = db;
    this.#inDoubtLog = inDoubtLog;
    this.#crashHook = crashHook;
    this.path = file;
    this.#attemptsKept = attemptsKept;
    this.#stmt = {
      getMeta: db.prepare<[string], { value: string }>('SELECT value FROM meta WHERE key = ?'),
      setMeta: db.prepare('INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)'),
      deleteMeta: db.prepare('DELETE FROM meta WHERE key = ?'),
      insertOp: db.prepare(
        'INSERT INTO ops (seq, id, kind, envelope, hash, recorded_at, shift) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      // Walks back from the newest op to the newest that changed the shift (most ops do).
      latestShift: db.prepare<[], { shift: string }>(
        'SELECT shift FROM ops WHERE shift IS NOT NULL ORDER BY seq DESC LIMIT 1',
      ),
      byId: db.prepare<[string], OpRow>('SELECT * FROM ops WHERE id = ?'),
      correctionsOf: db.prepare<[string], OpRow>(
        `SELECT * FROM ops WHERE kind IN ('sale.voided', 'sale.refunded', 'wallet.refunded')
         AND json_extract(envelope, '$.body.sale') = ? ORDER BY seq`,
      ),
      stateAt: db.prepare<[number], { seq: number; id: string; state: OpState }>(
        'SELECT seq, id, state FROM ops WHERE seq = ?',
      ),
      lastConfirmed: db.prepare<[], { seq: number; id: string }>(
        "SELECT seq, id FROM ops WHERE state = 'confirmed' ORDER BY seq DESC LIMIT 1",
      ),
      oldestPendingFrom: db.prepare<[number], { seq: number; recorded_at: number }>(
        "SELECT seq, recorded_at FROM ops WHERE seq >= ? AND state = 'pending' ORDER BY seq LIMIT 1",
      ),
      confirm: db.prepare(
        "UPDATE ops SET state = 'confirmed', result = ?, settled_at = ?, last_error = NULL WHERE seq = ? AND state = 'pending'",
      ),
      markDead: db.prepare<[string | null, number, string, number], { id: string; kind: string }>(
        "UPDATE ops SET state = 'dead', result = ?, settled_at = ?, last_error = ? WHERE seq = ? AND state = 'pending' RETURNING id, kind",
      ),
      insertDead: db.prepare(
        'INSERT OR REPLACE INTO dead_letters (seq, id, kind, reason, message, result, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      deadAllInsert: db.prepare(
        "INSERT OR REPLACE INTO dead_letters (seq, id, kind, reason, message, result, at) SELECT seq, id, kind, ?, ?, NULL, ? FROM ops WHERE seq >= ? AND state = 'pending'",
      ),
      deadAllUpdate: db.prepare(
        "UPDATE ops SET state = 'dead', settled_at = ?, last_error = ? WHERE seq >= ? AND state = 'pending'",
      ),
      requeue: db.prepare(
        "UPDATE ops SET state = 'pending', result = NULL, settled_at = NULL WHERE seq BETWEEN ? AND ? AND state = 'confirmed'",
      ),
      deadLetters: db.prepare<[number, number], DeadRow>(
        'SELECT * FROM dead_letters WHERE seq > ? ORDER BY seq LIMIT ?',
      ),
      deadLetterAt: db.prepare<[number], DeadRow>('SELECT * FROM dead_letters WHERE seq = ?'),
      beginAttempt: db.prepare('INSERT INTO sync_attempts (started_at, first_seq, last_seq, ops) VALUES (?, ?, ?, ?)'),
      countAttempt: db.prepare(
        "UPDATE ops SET attempts = attempts + 1, last_attempt_at = ? WHERE seq BETWEEN ? AND ? AND state = 'pending'",
      ),
      pruneAttempts: db.prepare('DELETE FROM sync_attempts WHERE id <= ?'),
      finishAttempt: db.prepare(
        'UPDATE sync_attempts SET finished_at = ?, outcome = ?, http_status = ?, error = ? WHERE id = ?',
      ),
      opError: db.prepare("UPDATE ops SET last_error = ? WHERE seq BETWEEN ? AND ? AND state = 'pending'"),
      attempts: db.prepare<[number], Record<string, number | string | null>>(
        'SELECT * FROM sync_attempts ORDER BY id DESC LIMIT ?',
      ),
    };
    if (bugs.has('seq-reuse-after-crash')) {
      // Deliberate bug (bug-injection processes only): unsent work is taken for a torn
      // write and dropped at open, so its seqs are handed out again.
      db.prepare("DELETE FROM ops WHERE state = 'pending'").run();
    }
    this.#counts = { pending: 0, confirmed: 0, dead: 0 };
    const counts = db
      .prepare<[], { state: OpState; n: number; lowest: number }>(
        'SELECT state, COUNT(*) AS n, MIN(seq) AS lowest FROM ops GROUP BY state',
      )
      .all();
    let lowestPending: number | null = null;
    for (const { state, n, lowest } of counts) {
      this.#counts[state] = n;
      if (state === 'pending') lowestPending = lowest;
    }
    const head = db.prepare<[], ChainHead>('SELECT seq, hash FROM ops ORDER BY seq DESC LIMIT 1').get();
    this.#head = head ?? { seq: 0, hash: GENESIS_HASH };
    this.#floor = lowestPending ?? this.#head.seq + 1;
  }

  /** The newest op's seq and hash (seq 0 and GENESIS_HASH before the first op). */
  get head(): ChainHead {
    return { ...this.#head };
  }

  get counts(): OpCounts {
    return { ...this.#counts };
  }

  /**
   * Runs `fn` in one transaction; in-memory counts and head follow only if it
   * commits. Nested calls join the outer transaction.
   */
  transaction<T>(fn: () => T, label: WriteLabel = 'meta'): T {
    if (this.#delta) return fn();
    if (!this.#db.isOpen) throw new JournalClosedError(this.path);
    const delta: Delta = { pending: 0, confirmed: 0, dead: 0, head: null };
    this.#delta = delta;
    try {
      const hook = this.#crashHook;
      const out = hook
        ? this.#db.transaction(() => {
            const result = fn();
            this.#crashAt(hook, `${label}:before-commit`);
            return result;
          })
        : this.#db.transaction(fn);
      if (hook) this.#crashAt(hook, `${label}:after-commit`);
      this.#counts.pending += delta.pending;
      this.#counts.confirmed += delta.confirmed;
      this.#counts.dead += delta.dead;
      if (delta.head) this.#head = delta.head;
      return out;
    } finally {
      this.#delta = null;
    }
  }

  #inTx<T>(fn: (delta: Delta) => T, label: WriteLabel = 'meta'): T {
    return this.transaction(() => fn(this.#delta as Delta), label);
  }

  /**
   * Asks the crash hook whether power fails here. If so the connection is
   * dropped at once, as at process death: an open transaction is rolled back
   * by SQLite, a committed one stays, and nothing is written afterwards.
   */
  #crashAt(hook: CrashHook, point: CrashPoint): void {
    if (!hook(point)) return;
    this.kill();
    throw new SimulatedCrashError(point);
  }

  /**
   * True for a disk error of the binding (I/O error, disk full): a commit it
   * interrupted may or may not be durable.
   */
  isDiskError(error: unknown): boolean {
    return this.#db.classify(error) === 'io';
  }

  /**
   * Notes op `id` as in doubt after a disk error on its commit: appended (and
   * fsynced) to the in-doubt list next to the journal, which the next open
   * resolves against the journal. Returns false if that write failed too (the
   * disk is gone: only the caller's error names the op then).
   */
  noteInDoubt(entry: { id: string; kind: string; at: number }): boolean {
    if (!this.#inDoubtLog) return false;
    try {
      this.#inDoubtLog.append(`${JSON.stringify(entry)}\n`);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * The ops an earlier run could not tell were recorded (a disk error on
   * their commit), each resolved against this journal: `recorded` with its
   * seq (it stands and syncs like any op) or not (it never happened: the sale
   * may be rung again). Kept until clearInDoubt().
   */
  inDoubtOps(): InDoubtOp[] {
    if (this.#inDoubt === null) this.#inDoubt = this.#readInDoubt();
    return this.#inDoubt.map((o) => ({ ...o }));
  }

  /** Forgets the in-doubt list once the till has shown it. */
  clearInDoubt(): void {
    this.#inDoubtLog?.clear();
    this.#inDoubt = [];
  }

  #readInDoubt(): InDoubtOp[] {
    const text = this.#inDoubtLog?.read() ?? null;
    if (text === null) return [];
    const out = new Map<string, InDoubtOp>();
    for (const line of text.split('\n')) {
      let entry: { id?: unknown; kind?: unknown; at?: unknown };
      try {
        entry = JSON.parse(line) as typeof entry;
      } catch {
        continue; // a line torn by the same failing disk: the error at the time named the op
      }
      if (typeof entry.id !== 'string' || typeof entry.kind !== 'string' || typeof entry.at !== 'number') continue;
      const found = this.getOp(entry.id);
      out.set(entry.id, {
        id: entry.id,
        kind: entry.kind,
        at: entry.at,
        recorded: found !== undefined,
        seq: found?.seq ?? null,
      });
    }
    return [...out.values()];
  }

  /** Drops the connection without any further write: what process death does. */
  kill(): void {
    this.#db.close();
  }

  /**
   * A prepared statement on the journal's connection, for the tables other
   * modules own (online.ts: `online_authorizations`). Writes belong inside
   * `transaction`. Prepared once per text and kept for the connection's
   * life: the online queue and the feed ask for theirs on every retry and
   * poll (SQLite's prepare showed as ~3 % of a simulated run). Statements
   * here only run, get and all, which reset them, so sharing one is safe.
   */
  prepare<P extends unknown[] = unknown[], R = unknown>(sql: string): SqliteStatement<P, R> {
    if (!this.#db.isOpen) throw new JournalClosedError(this.path);
    let statement = this.#prepared.get(sql);
    if (!statement) {
      statement = this.#db.prepare(sql);
      this.#prepared.set(sql, statement);
    }
    return statement as SqliteStatement<P, R>;
  }

  /**
   * `sql` with its `LIMIT ?` written in as `limit` (limitedStatement, @holdfast/domain: this SQLite
   * build plans a statement again at every run when its LIMIT is a bound parameter; the next batch's
   * read showed as ~1.4 % of a simulated festival). A few limits per text are kept for the connection.
   */
  #limited<P extends unknown[], R>(sql: string, limit: number): SqliteStatement<P, R> {
    let byLimit = this.#limiters.get(sql);
    if (!byLimit) {
      byLimit = limitedStatement((text) => this.#db.prepare(text), sql);
      this.#limiters.set(sql, byLimit);
    }
    return byLimit(limit) as SqliteStatement<P, R>;
  }

  /**
   * True for the binding's error for a statement run after the connection
   * was dropped (kill(), a power cut): abandoned background work, not news.
   */
  isClosedConnectionError(error: unknown): boolean {
    return !this.#db.isOpen && this.#db.classify(error) === 'closed';
  }

  getMeta(key: string): string | null {
    return this.#stmt.getMeta.get(key)?.value ?? null;
  }

  /** Writes meta entries in one transaction; null deletes. */
  setMeta(entries: Readonly<Record<string, string | null>>): void {
    this.transaction(() => this.#writeMeta(entries));
  }

  #writeMeta(entries: Readonly<Record<string, string | null>>): void {
    for (const [key, value] of Object.entries(entries)) {
      if (value === null) this.#stmt.deleteMeta.run(key);
      else this.#stmt.setMeta.run(key, value);
    }
  }

  /** Seals the next op of the chain and commits it (with `meta`); returns it once durable. */
  append(input: AppendInput): Op {
    return this.#inTx((delta) => {
      const head = delta.head ?? this.#head;
      const op = sealOp({
        v: PROTOCOL_VERSION,
        id: input.id,
        device: input.device,
        seq: head.seq + 1,
        prev: head.hash,
        kind: input.kind,
        body: input.body,
        at: input.at,
        decision: input.decision,
        ...(input.actor ? { actor: input.actor } : {}),
      });
      this.#stmt.insertOp.run(op.seq, op.id, op.kind, JSON.stringify(op), op.hash, op.at, input.shift ?? null);
      if (input.meta) this.#writeMeta(input.meta);
      this.#remember(op);
      delta.head = { seq: op.seq, hash: op.hash };
      delta.pending++;
      return op;
    }, 'record');
  }

  /**
   * JSON of the latest shift: the one stored with the newest op that changed
   * it, or else the meta entry a journal written before schema 7 kept.
   * Null before the first shift.
   */
  latestShift(): string | null {
    return this.#stmt.latestShift.get()?.shift ?? this.getMeta(META.shift);
  }

  getOp(id: string): JournalEntry | undefined {
    const row = this.#stmt.byId.get(id);
    return row ? toJournalEntry(row) : undefined;
  }

  /** This journal's corrections of sale `sale` (sale.voided, sale.refunded, wallet.refunded), in seq order. */
  correctionsOf(sale: string): JournalEntry[] {
    return this.#stmt.correctionsOf.all(sale).map(toJournalEntry);
  }

  /** Ops of every state with seq above `afterSeq`, lowest first, at most `limit`. */
  ops(afterSeq: number, limit: number): JournalEntry[] {
    return this.#limited<[number], OpRow>(OPS_AFTER, limit).all(afterSeq).map(toJournalEntry);
  }

  /** The state of the op at `seq`, if there is one. */
  stateAt(seq: number): { seq: number; id: string; state: OpState } | undefined {
    return this.#stmt.stateAt.get(seq);
  }

  /** The confirmed op with the highest seq, if any. */
  lastConfirmed(): { seq: number; id: string } | undefined {
    return this.#stmt.lastConfirmed.get();
  }

  /** When the oldest pending op was recorded (device clock), or null. */
  oldestPendingAt(): number | null {
    const row = this.#stmt.oldestPendingFrom.get(this.#floor);
    this.#settleFloor(row?.seq);
    return row?.recorded_at ?? null;
  }

  /** When the oldest pending op above `seq` was recorded (device clock), or null: what waits after a batch. */
  oldestPendingAfter(seq: number): number | null {
    return this.#stmt.oldestPendingFrom.get(Math.max(seq + 1, this.#floor))?.recorded_at ?? null;
  }

  /**
   * Raises the floor to the lowest pending seq just read from `#floor` up
   * (undefined: none is pending). Only outside a transaction: inside one, what
   * was read may yet roll back.
   */
  #settleFloor(lowestPending: number | undefined): void {
    if (this.#delta) return;
    this.#floor = lowestPending ?? this.#head.seq + 1;
  }

  /** The pending ops with the lowest seqs, contiguous in seq, at most `limit`: the next batch. */
  pendingRun(limit: number): Op[] {
    const rows = this.#limited<[number], { seq: number; hash: string; envelope: string }>(PENDING_FIRST, limit).all(
      this.#floor,
    );
    this.#settleFloor(rows[0]?.seq);
    const ops: Op[] = [];
    for (const row of rows) {
      const last = ops.at(-1);
      if (last && row.seq !== last.seq + 1) break;
      const known = this.#recent.get(row.seq);
      ops.push(known && known.hash === row.hash ? known : (JSON.parse(row.envelope) as Op));
    }
    return ops;
  }

  /**
   * Keeps the last RECENT_OPS appended ops parsed: a till online sends each op
   * moments after recording it, and parsing its stored envelope again is most
   * of the cost of building the batch. Ops are immutable and checked against
   * the stored hash; the store, not this cache, is the truth.
   */
  #remember(op: Op): void {
    this.#recent.set(op.seq, op);
    if (this.#recent.size > RECENT_OPS) {
      const oldest = this.#recent.keys().next().value;
      if (oldest !== undefined) this.#recent.delete(oldest);
    }
  }

  /** Pending ops with seq above `afterSeq`, lowest first, at most `limit` (for paging without loading all). */
  pendingAfter(afterSeq: number, limit: number): { seq: number; id: string; hash: string }[] {
    return this.#limited<[number], { seq: number; id: string; hash: string }>(PENDING_FROM, limit).all(
      Math.max(afterSeq + 1, this.#floor),
    );
  }

  /** Pending → confirmed with the server's result. False if the op was not pending. */
  confirm(seq: number, result: unknown, at: number): boolean {
    return this.#inTx((delta) => {
      const changed = this.#stmt.confirm.run(JSON.stringify(result), at, seq).changes > 0;
      if (changed) {
        delta.pending--;
        delta.confirmed++;
      }
      return changed;
    });
  }

  /** Pending → dead, with a dead-letter row. Null if the op was not pending. */
  deadLetter(seq: number, reason: string, message: string, result: unknown, at: number): DeadLetter | null {
    return this.#inTx((delta) => {
      const resultJson = result === null || result === undefined ? null : JSON.stringify(result);
      const row = this.#stmt.markDead.get(resultJson, at, `${reason}: ${message}`, seq);
      if (!row) return null;
      this.#stmt.insertDead.run(seq, row.id, row.kind, reason, message, resultJson, at);
      delta.pending--;
      delta.dead++;
      return { seq, id: row.id, kind: row.kind, reason, message, result: result ?? null, at };
    });
  }

  /** Every pending op → dead with one reason (a revoked device). Set-based: no op is loaded. */
  deadLetterAllPending(reason: string, message: string, at: number): number {
    return this.#inTx((delta) => {
      this.#stmt.deadAllInsert.run(reason, message, at, this.#floor);
      const n = this.#stmt.deadAllUpdate.run(at, `${reason}: ${message}`, this.#floor).changes;
      delta.pending -= n;
      delta.dead += n;
      return n;
    });
  }

  /** Confirmed → pending for seqs in [from, to] (the server lost them); returns how many. */
  requeue(from: number, to: number): number {
    return this.#inTx((delta) => {
      // Lowered before the write: a lower floor only costs a longer read, a higher one would lose ops.
      this.#floor = Math.min(this.#floor, from);
      const n = this.#stmt.requeue.run(from, to).changes;
      delta.confirmed -= n;
      delta.pending += n;
      return n;
    });
  }

  /** Dead letters in seq order, after `afterSeq`, at most `limit`. */
  deadLetters(limit = 100, afterSeq = 0): DeadLetter[] {
    return this.#stmt.deadLetters.all(afterSeq, limit).map(toDeadLetter);
  }

  deadLetterAt(seq: number): DeadLetter | undefined {
    const row = this.#stmt.deadLetterAt.get(seq);
    return row ? toDeadLetter(row) : undefined;
  }

  /** Logs an attempt to deliver seqs [first, last] and counts it on those ops; returns the attempt id. */
  beginAttempt(first: number | null, last: number | null, ops: number, at: number): number {
    return this.transaction(() => {
      const id = Number(this.#stmt.beginAttempt.run(at, first, last, ops).lastInsertRowid);
      if (first !== null && last !== null) this.#stmt.countAttempt.run(at, first, last);
      if (id > this.#attemptsKept) this.#stmt.pruneAttempts.run(id - this.#attemptsKept);
      return id;
    }, 'attempt-start');
  }

  /** Records how an attempt ended; `opError` also lands on its still-pending ops. */
  finishAttempt(id: number, end: AttemptEnd, opError?: { first: number; last: number; error: string }): void {
    this.transaction(() => {
      this.#stmt.finishAttempt.run(end.finishedAt, end.outcome, end.httpStatus, end.error, id);
      if (opError) this.#stmt.opError.run(opError.error, opError.first, opError.last);
    }, 'attempt-end');
  }

  /** The newest sync attempts, newest first. */
  recentAttempts(limit = 50): SyncAttempt[] {
    return this.#stmt.attempts.all(limit).map((r) => ({
      id: r.id as number,
      startedAt: r.started_at as number,
      finishedAt: r.finished_at as number | null,
      firstSeq: r.first_seq as number | null,
      lastSeq: r.last_seq as number | null,
      ops: r.ops as number,
      outcome: r.outcome as string | null,
      httpStatus: r.http_status as number | null,
      error: r.error as string | null,
    }));
  }

  /** The durability settings in force, for diagnostics. */
  pragmas(): { journalMode: string; synchronous: number; lockingMode: string; foreignKeys: number } {
    return {
      journalMode: String(this.#db.pragma('journal_mode')),
      synchronous: Number(this.#db.pragma('synchronous')),
      lockingMode: String(this.#db.pragma('locking_mode')),
      foreignKeys: Number(this.#db.pragma('foreign_keys')),
    };
  }

  get isOpen(): boolean {
    return this.#db.isOpen;
  }

  close(): void {
    this.#db.close();
  }
}

/** What a write transaction is for; crash points are named `<label>:before-commit` / `<label>:after-commit`. */
export type WriteLabel = 'record' | 'settle' | 'attempt-start' | 'attempt-end' | 'meta' | 'feed' | 'authorize';
export type CrashPoint = `${WriteLabel}:${'before-commit' | 'after-commit'}`;
/**
 * Called at every crash point of a write transaction; returning true cuts
 * the power there. For simulators and crash tests only.
 */
export type CrashHook = (point: CrashPoint) => boolean;

/** An op whose recording hit a disk error, as the journal found it on reopening. */
export interface InDoubtOp {
  id: string;
  kind: string;
  /** When recording was attempted (device clock). */
  at: number;
  /** True: the op is in the journal (it stands, and syncs); false: it was never recorded. */
  recorded: boolean;
  seq: number | null;
}

/**
 * Where a journal keeps the ops in doubt after a disk error (journal.ts: a
 * file next to the journal, fsynced). Lines are appended whole.
 */
export interface InDoubtLog {
  /** Appends `line` durably; throws if it cannot. */
  append(line: string): void;
  /** Everything appended since the last clear, or null when there is nothing. */
  read(): string | null;
  clear(): void;
}

export interface JournalCoreOptions {
  /** Where ops in doubt after a disk error are kept; none: kept nowhere. */
  inDoubtLog?: InDoubtLog;
  attemptsKept?: number;
  /**
   * SQLite synchronous mode. FULL (default) survives power loss; OFF only
   * survives process death and exists for fast simulations.
   */
  synchronous?: 'FULL' | 'OFF';
  crashHook?: CrashHook;
  /** Simulators only: deliberate bugs to switch on (`seq-reuse-after-crash`). */
  bugs?: InjectedBugs;
}
