/**
 * The chaos run's invariants, checked from disk once every process has
 * stopped: each till's journal (through the SDK, delivery off) against the
 * server's database (through SqliteStorage). Each broken rule becomes one
 * line in `violations`; an empty list is a clean run.
 *
 * - exactly once: every op in any journal is on the server once, with the
 *   same device, seq, hash and kind, accepted, with one ledger event;
 * - nothing extra: no op, ledger event or sale on the server that no journal
 *   recorded, and no device that is not one of the tills;
 * - complete chains: per device the server holds seqs 1..n (n = the
 *   journal's), each `prev` the hash before it, no gap, fork or conflict;
 * - money: Σ sale totals (and their cash and card parts) per device and per
 *   shift are the same in the journal, the server's sales, its shift
 *   projections and its ledger; every shift closed with no variance;
 * - settled: every journal op confirmed, nothing pending, no dead letters,
 *   no exception raised for operators;
 * - durable: every op a till printed as recorded is in its journal at that seq.
 */
import { join } from 'node:path';
import { GENESIS_HASH } from '@holdfast/protocol';
import { DATABASE_FILE, SqliteStorage } from '@holdfast/server';
import { type JournalState, readJournal } from './read-journal.js';

export interface TillRecord {
  label: string;
  dataDir: string;
  /** Every `recorded` line the till's processes printed: the op was durable when printed. */
  printed: readonly { id: string; seq: number }[];
}

export interface ChaosTotals {
  /** Ops in all journals. */
  recorded: number;
  sales: number;
  /** Σ sale totals, minor units. */
  salesTotal: number;
  shifts: number;
  /** Ops stored on the server. */
  onServer: number;
  /** Journal ops whose settling answer was `duplicate`: a committed batch came again and changed nothing. */
  confirmedByDuplicate: number;
}

export interface ChaosCheck {
  totals: ChaosTotals;
  violations: string[];
}

type SaleBody = { shift: string; total: number; tenders: { type: string; amount: number }[] };
type Money = { n: number; total: number; cash: number; card: number };
type OpRow = { id: string; device: string; seq: number; hash: string; kind: string; status: string; envelope: string };

/** The first few items of a list, for a violation line. */
const few = (items: readonly unknown[]) =>
  `${items.slice(0, 5).map(String).join(', ')}${items.length > 5 ? `, … (${items.length})` : ''}`;

function moneyOf(sales: readonly SaleBody[]): Money {
  const tendered = (type: string) =>
    sales.reduce((sum, s) => sum + s.tenders.filter((t) => t.type === type).reduce((a, t) => a + t.amount, 0), 0);
  return {
    n: sales.length,
    total: sales.reduce((sum, s) => sum + s.total, 0),
    cash: tendered('cash'),
    card: tendered('card'),
  };
}

const sameMoney = (a: Money, b: Money | undefined) =>
  b !== undefined && a.n === b.n && a.total === b.total && a.cash === b.cash && a.card === b.card;

export async function checkChaos(
  serverDir: string,
  tills: readonly TillRecord[],
  salesPerTill: number,
): Promise<ChaosCheck> {
  const violations: string[] = [];
  const totals: ChaosTotals = { recorded: 0, sales: 0, salesTotal: 0, shifts: 0, onServer: 0, confirmedByDuplicate: 0 };
  const journals = new Map<string, { till: TillRecord; journal: JournalState }>();
  const recordedIds = new Set<string>();

  for (const till of tills) {
    const journal = await readJournal(till.dataDir);
    const v = (what: string) => violations.push(`${till.label}: ${what}`);
    if (!journal.deviceId) {
      v('never enrolled');
      continue;
    }
    journals.set(journal.deviceId, { till, journal });
    const { entries } = journal;
    for (const e of entries) recordedIds.add(e.id);
    totals.recorded += entries.length;
    const gaps = entries.filter((e, i) => e.seq !== i + 1).map((e) => e.seq);
    if (gaps.length > 0) v(`journal seqs are not 1..n: ${few(gaps)}`);
    const bySeq = new Map(entries.map((e) => [e.seq, e.id]));
    const lost = till.printed.filter((p) => bySeq.get(p.seq) !== p.id).map((p) => p.seq);
    if (lost.length > 0) v(`printed as recorded but not in the journal at that seq: ${few(lost)}`);
    const unsettled = entries.filter((e) => e.state !== 'confirmed').map((e) => `${e.seq} ${e.state}`);
    if (unsettled.length > 0) v(`ops not confirmed: ${few(unsettled)}`);
    if (journal.pending !== 0) v(`${journal.pending} ops pending`);
    if (journal.deadLetters !== 0) v(`${journal.deadLetters} dead letters`);
    const sales = entries.filter((e) => e.kind === 'sale.recorded');
    if (sales.length !== salesPerTill) v(`${sales.length} sales in the journal, expected ${salesPerTill}`);
    totals.sales += sales.length;
    totals.salesTotal += sales.reduce((sum, e) => sum + (e.op.body as SaleBody).total, 0);
    totals.shifts += entries.filter((e) => e.kind === 'shift.opened').length;
    totals.confirmedByDuplicate += entries.filter(
      (e) => (e.result as { status?: unknown } | null)?.status === 'duplicate',
    ).length;
  }

  const storage = new SqliteStorage({ path: join(serverDir, DATABASE_FILE) });
  await storage.migrate();
  try {
    const stored = storage.query<OpRow>(
      'SELECT id, device, seq, hash, kind, status, envelope FROM ops ORDER BY device, seq',
    );
    totals.onServer = stored.length;
    const byId = new Map(stored.map((row) => [row.id, row]));

    // Nothing applied that no terminal recorded.
    const extra = stored.filter((row) => !recordedIds.has(row.id)).map((row) => `${row.device}#${row.seq}`);
    if (extra.length > 0) violations.push(`server ops no journal recorded: ${few(extra)}`);
    const strangers = (await storage.listDevices()).filter((d) => !journals.has(d.id)).map((d) => d.id);
    if (strangers.length > 0) violations.push(`server devices that are no till: ${few(strangers)}`);
    const ledgerIds = storage.query<{ op_id: string; n: number }>(
      'SELECT op_id, COUNT(*) AS n FROM ledger GROUP BY op_id',
    );
    const strayLedger = ledgerIds.filter((r) => !recordedIds.has(r.op_id)).map((r) => r.op_id);
    if (strayLedger.length > 0) violations.push(`ledger events for ops no journal recorded: ${few(strayLedger)}`);
    const twice = ledgerIds.filter((r) => r.n !== 1).map((r) => `${r.op_id} ×${r.n}`);
    if (twice.length > 0) violations.push(`ops with more than one ledger event: ${few(twice)}`);
    const ledgered = new Set(ledgerIds.map((r) => r.op_id));
    const straySales = storage
      .query<{ op_id: string }>('SELECT op_id FROM sales')
      .filter((r) => !recordedIds.has(r.op_id))
      .map((r) => r.op_id);
    if (straySales.length > 0) violations.push(`sales on the server no journal recorded: ${few(straySales)}`);
    const exceptions = (await storage.summary()).exceptions;
    if (Object.keys(exceptions).length > 0) violations.push(`exceptions raised: ${JSON.stringify(exceptions)}`);

    for (const [deviceId, { till, journal }] of journals) {
      const v = (what: string) => violations.push(`${till.label}: ${what}`);
      const { entries } = journal;

      // Exactly once, same op.
      const missing = entries.filter((e) => !byId.has(e.id)).map((e) => e.seq);
      if (missing.length > 0) v(`recorded ops missing on the server: ${few(missing)}`);
      const altered = entries
        .filter((e) => {
          const row = byId.get(e.id);
          return row && (row.device !== deviceId || row.seq !== e.seq || row.hash !== e.hash || row.kind !== e.kind);
        })
        .map((e) => e.seq);
      if (altered.length > 0) v(`ops stored with another device, seq, hash or kind: ${few(altered)}`);
      const notAccepted = entries.filter((e) => byId.get(e.id)?.status === 'rejected').map((e) => e.seq);
      if (notAccepted.length > 0) v(`ops rejected by the server: ${few(notAccepted)}`);
      const unledgered = entries.filter((e) => byId.has(e.id) && !ledgered.has(e.id)).map((e) => e.seq);
      if (unledgered.length > 0) v(`ops without a ledger event: ${few(unledgered)}`);

      // The device's chain on the server: 1..n, linked, no gap, fork or conflict.
      const chain = stored.filter((row) => row.device === deviceId);
      const breaks: number[] = [];
      chain.forEach((row, i) => {
        const prev = (JSON.parse(row.envelope) as { prev?: unknown }).prev;
        if (row.seq !== i + 1 || prev !== (i === 0 ? GENESIS_HASH : chain[i - 1]?.hash)) breaks.push(row.seq);
      });
      if (breaks.length > 0) v(`server chain not 1..n with linked hashes at seqs: ${few(breaks)}`);
      if (chain.length !== entries.length) v(`server holds ${chain.length} ops, the journal ${entries.length}`);
      const device = await storage.deviceStatus(deviceId);
      if (!device) v('device unknown to the server');
      else if (
        device.highWater !== entries.length ||
        device.behind !== 0 ||
        device.gap !== null ||
        device.conflicts !== 0 ||
        device.forks !== 0
      ) {
        const { highWater, behind, gap, conflicts, forks } = device;
        v(`server device status ${JSON.stringify({ highWater, behind, gap, conflicts, forks })}`);
      }

      // Money, per device and per shift.
      const sales = entries.filter((e) => e.kind === 'sale.recorded').map((e) => e.op.body as SaleBody);
      const recorded = moneyOf(sales);
      const [settled] = storage.query<Money>(
        'SELECT COUNT(*) AS n, COALESCE(SUM(total), 0) AS total, COALESCE(SUM(cash), 0) AS cash, COALESCE(SUM(card), 0) AS card FROM sales WHERE device = ?',
        deviceId,
      );
      if (!sameMoney(recorded, settled))
        v(`sales: journal ${JSON.stringify(recorded)}, server ${JSON.stringify(settled)}`);
      const [ledger] = storage.query<{ total: number }>(
        "SELECT COALESCE(SUM(amount), 0) AS total FROM ledger WHERE device = ? AND type = 'sale.recorded'",
        deviceId,
      );
      if (ledger?.total !== recorded.total) v(`ledger sales ${ledger?.total}, journal ${recorded.total}`);

      const shiftIds = entries.filter((e) => e.kind === 'shift.opened').map((e) => e.id);
      const serverShifts = new Map((await storage.listShifts(deviceId)).map((s) => [s.id, s]));
      if (serverShifts.size !== shiftIds.length)
        v(`${serverShifts.size} shifts on the server, ${shiftIds.length} opened`);
      const perShift = storage.query<Money & { shift_id: string }>(
        'SELECT shift_id, COUNT(*) AS n, SUM(total) AS total, SUM(cash) AS cash, SUM(card) AS card FROM sales WHERE device = ? GROUP BY shift_id',
        deviceId,
      );
      const settledByShift = new Map(perShift.map((r) => [r.shift_id, r]));
      for (const shiftId of shiftIds) {
        const mine = moneyOf(sales.filter((s) => s.shift === shiftId));
        const theirs = settledByShift.get(shiftId) ?? { n: 0, total: 0, cash: 0, card: 0 };
        if (!sameMoney(mine, theirs)) {
          v(`shift ${shiftId}: journal ${JSON.stringify(mine)}, server sales ${JSON.stringify(theirs)}`);
        }
        const shift = serverShifts.get(shiftId);
        if (!shift) v(`shift ${shiftId} missing on the server`);
        else if (shift.status !== 'closed' || shift.variance !== 0 || shift.salesTotal !== mine.total) {
          v(
            `shift ${shiftId}: ${shift.status}, variance ${shift.variance}, sales total ${shift.salesTotal} (journal ${mine.total})`,
          );
        }
      }
    }
  } finally {
    await storage.close();
  }
  return { totals, violations };
}
