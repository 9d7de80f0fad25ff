/**
 * Stored-value wristbands on the terminal (docs/wristbands.md).
 *
 * The chip carries a uid, a balance and a write counter. A payment, top-up
 * or refund reads the chip, decides, and writes `balance ± amount` with
 * `counter + 1`. The order of the two durable writes matters:
 *
 *   read chip ──▶ checks (blocked list, balance, currency, risk policy)
 *      ──▶ JOURNAL: op + exposure + pending chip write, one transaction
 *      ──▶ CHIP: compare-and-set write (only if its counter is still the one read)
 *      ──▶ JOURNAL: chip write marked done
 *
 * The op is journaled first. A power cut between the two leaves an op whose
 * chip write is pending: the sale happened in the books (the customer got
 * the drink) and the server debits the wallet, while the chip still shows
 * the old balance. The next time that wristband is read on this terminal,
 * the pending write is finished before anything else (the chip's counter
 * is still the one the op read), so the chip catches up with the books.
 * The other order could leave a chip debited with no op anywhere: money
 * gone from the customer with no record, which nobody could ever reconcile.
 *
 * `WristbandStore` keeps the two journal tables: `blocked_wristbands` (the
 * server's blocks, applied from the device feed through `applyNotice`)
 * and `wristband_writes` (the chip writes ops
 * promised).
 */
import { WristbandWriteError } from './errors.js';
import type { Journal } from './journal.js';

/** What a reader gets from a chip. */
export interface ChipImage {
  uid: string;
  /** Minor units of `currency`. */
  balance: number;
  /** Bumped by each write; 0 on a blank wristband. */
  counter: number;
  currency: string;
}

/** A chip write: applied only if the chip's counter is still `expectedCounter` (compare-and-set). */
export interface ChipWrite {
  uid: string;
  expectedCounter: number;
  balance: number;
  counter: number;
}

/** A wristband reader with a chip on it. */
export interface WristbandReader {
  /** Throws WristbandRefusedError('no_chip') when no chip is present. */
  read(): ChipImage;
  /** Throws WristbandWriteError-like errors when the write fails; then the chip is unchanged. */
  write(update: ChipWrite): void;
}

/** A chip write an op promised; `writtenAt` null while it has not reached the chip. */
export interface PendingChipWrite {
  opId: string;
  wristband: string;
  kind: 'debit' | 'topup' | 'refund';
  amount: number;
  counter: number;
  balanceBefore: number;
  balanceAfter: number;
  /** The sale a refund credits; for a top-up reversal's debit, the top-up it reverses; else null. */
  sale: string | null;
  recordedAt: number;
  writtenAt: number | null;
}

/** A wristband the server blocked, as the feed told this terminal. */
export interface BlockedWristband {
  wristband: string;
  reason: string;
  exceptionId: string | null;
  blockedAt: number;
}

const UID = /^(?:[0-9A-F]{2}){4,32}$/;

type Row = Record<string, unknown>;

/** The journal tables of wristbands. Writes join the caller's journal transaction. */
export class WristbandStore {
  readonly #journal: Journal;
  /** Prepared on first use: a terminal that never sees a wristband prepares nothing. */
  #prepared: WristbandStatements | null = null;

  constructor(journal: Journal) {
    this.#journal = journal;
  }

  get #stmt(): WristbandStatements {
    this.#prepared ??= prepareStatements(this.#journal);
    return this.#prepared;
  }

  isBlocked(uid: string): BlockedWristband | null {
    const r = this.#stmt.blocked.get(uid) as Row | undefined;
    return r ? toBlocked(r) : null;
  }

  blocked(): BlockedWristband[] {
    return (this.#stmt.allBlocked.all() as Row[]).map(toBlocked);
  }

  /**
   * Applies a `wristband.blocked` / `wristband.unblocked` feed item (data as
   * the server's ledger event has it). Returns true if it changed the list;
   * an unknown type or malformed data changes nothing and returns false.
   * Idempotent: the feed delivers at least once.
   */
  applyNotice(type: string, data: unknown, at: number): boolean {
    if (typeof data !== 'object' || data === null) return false;
    const d = data as Record<string, unknown>;
    const uid = d.wristband;
    if (typeof uid !== 'string' || !UID.test(uid)) return false;
    if (type === 'wristband.blocked') {
      const reason = typeof d.reason === 'string' ? d.reason : 'blocked';
      const exceptionId = typeof d.exceptionId === 'string' ? d.exceptionId : null;
      const held = this.isBlocked(uid);
      if (held && held.reason === reason && held.exceptionId === exceptionId) return false;
      this.#journal.transaction(() => this.#stmt.block.run(uid, reason, exceptionId, held?.blockedAt ?? at));
      return true;
    }
    if (type === 'wristband.unblocked') {
      if (!this.isBlocked(uid)) return false;
      this.#journal.transaction(() => this.#stmt.unblock.run(uid));
      return true;
    }
    return false;
  }

  /** Records the chip write op `write.opId` promises; call inside the op's journal transaction. */
  promise(write: Omit<PendingChipWrite, 'writtenAt'>): void {
    this.#stmt.insertWrite.run(
      write.opId,
      write.wristband,
      write.kind,
      write.amount,
      write.counter,
      write.balanceBefore,
      write.balanceAfter,
      write.sale,
      write.recordedAt,
    );
  }

  pending(uid?: string): PendingChipWrite[] {
    const rows = (uid === undefined ? this.#stmt.allPending.all() : this.#stmt.pendingFor.all(uid)) as Row[];
    return rows.map(toWrite);
  }

  markWritten(opId: string, at: number): void {
    this.#journal.transaction(() => this.#stmt.written.run(at, opId));
  }

  /** Refunds this terminal already credited to `uid` for sale `sale`. */
  refundedOf(sale: string, uid: string): number {
    return Number((this.#stmt.refundedOf.get(sale, uid) as Row).n);
  }

  /**
   * The chip writes of this terminal's reversals of top-up `topUp` (a
   * reversal's write is a `debit` whose `sale` column names the top-up it
   * reverses; a sale's debit names none).
   */
  reversalsOf(topUp: string): PendingChipWrite[] {
    return (this.#stmt.reversalsOf.all(topUp) as Row[]).map(toWrite);
  }

  /**
   * Reads the chip, first finishing any write an op of this terminal
   * promised it (a write cut short by a power cut or a wristband pulled
   * away). Returns the chip as it is now.
   */
  readSettled(reader: WristbandReader, now: number): ChipImage {
    let chip = reader.read();
    for (const w of this.pending(chip.uid)) {
      if (chip.counter >= w.counter) {
        // The write reached the chip (the answer was lost), or a later write superseded it.
        this.markWritten(w.opId, now);
        continue;
      }
      if (chip.counter !== w.counter - 1 || chip.balance !== w.balanceBefore) {
        // Not the image the op read: the chip was written elsewhere since. Leave the write pending for the
        // operator (the server sees the op); writing over another terminal's write would lose it.
        continue;
      }
      try {
        reader.write({ uid: chip.uid, expectedCounter: chip.counter, balance: w.balanceAfter, counter: w.counter });
      } catch (error) {
        throw new WristbandWriteError(chip.uid, w.opId, `finishing the write of op ${w.opId}: ${message(error)}`);
      }
      this.markWritten(w.opId, now);
      chip = reader.read();
    }
    return chip;
  }
}

function prepareStatements(journal: Journal) {
  return {
    blocked: journal.prepare('SELECT * FROM blocked_wristbands WHERE wristband = ?'),
    allBlocked: journal.prepare('SELECT * FROM blocked_wristbands ORDER BY wristband'),
    block: journal.prepare(
      'INSERT OR REPLACE INTO blocked_wristbands (wristband, reason, exception_id, blocked_at) VALUES (?, ?, ?, ?)',
    ),
    unblock: journal.prepare('DELETE FROM blocked_wristbands WHERE wristband = ?'),
    insertWrite: journal.prepare(
      `INSERT INTO wristband_writes (op_id, wristband, kind, amount, counter, balance_before, balance_after, sale,
                                         recorded_at)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    pendingFor: journal.prepare(
      'SELECT * FROM wristband_writes WHERE wristband = ? AND written_at IS NULL ORDER BY counter',
    ),
    allPending: journal.prepare('SELECT * FROM wristband_writes WHERE written_at IS NULL ORDER BY recorded_at, op_id'),
    written: journal.prepare('UPDATE wristband_writes SET written_at = ? WHERE op_id = ? AND written_at IS NULL'),
    reversalsOf: journal.prepare(
      "SELECT * FROM wristband_writes WHERE kind = 'debit' AND sale = ? ORDER BY recorded_at, op_id",
    ),
    refundedOf: journal.prepare(
      "SELECT coalesce(sum(amount), 0) AS n FROM wristband_writes WHERE kind = 'refund' AND sale = ? AND wristband = ?",
    ),
  };
}
type WristbandStatements = ReturnType<typeof prepareStatements>;

function message(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

function toBlocked(r: Row): BlockedWristband {
  return {
    wristband: r.wristband as string,
    reason: r.reason as string,
    exceptionId: (r.exception_id as string | null) ?? null,
    blockedAt: Number(r.blocked_at),
  };
}

function toWrite(r: Row): PendingChipWrite {
  return {
    opId: r.op_id as string,
    wristband: r.wristband as string,
    kind: r.kind as PendingChipWrite['kind'],
    amount: Number(r.amount),
    counter: Number(r.counter),
    balanceBefore: Number(r.balance_before),
    balanceAfter: Number(r.balance_after),
    sale: (r.sale as string | null) ?? null,
    recordedAt: Number(r.recorded_at),
    writtenAt: r.written_at === null ? null : Number(r.written_at),
  };
}
