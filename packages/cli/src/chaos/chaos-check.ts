/**
 * The chaos run's invariants, checked from disk once every process has
 * stopped: the checking kit of @holdfast/sim reads the truth once (each
 * till's journal, the server's database), and the rules below are functions
 * of that truth. They are stricter than the simulator's general rules (no
 * exception at all, every shift closed even, the sales count each till was
 * told to make) and speak of tills. Each broken rule becomes one line in
 * `violations`; an empty list is a clean run.
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
import { GENESIS_HASH } from '@holdfast/protocol';
import {
  type JournalTruth,
  readJournal,
  readServer,
  type SaleRow,
  type ServerTruth,
  SqliteServerReader,
} from '@holdfast/sim';

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

/** The server's sales as money (what `SELECT COUNT(*), SUM(total), SUM(cash), SUM(card)` gives). */
function settledMoney(sales: readonly SaleRow[]): Money {
  return {
    n: sales.length,
    total: sales.reduce((sum, s) => sum + s.total, 0),
    cash: sales.reduce((sum, s) => sum + s.cash, 0),
    card: sales.reduce((sum, s) => sum + s.card, 0),
  };
}

const sameMoney = (a: Money, b: Money | undefined) =>
  b !== undefined && a.n === b.n && a.total === b.total && a.cash === b.cash && a.card === b.card;

/** Reads the tills' journals and the server's database in `serverDir`, and checks them. */
export async function checkChaos(
  serverDir: string,
  tills: readonly TillRecord[],
  salesPerTill: number,
): Promise<ChaosCheck> {
  const journals = tills.map((till) => readJournal(till.dataDir, till.label));
  const reader = SqliteServerReader.open(serverDir);
  try {
    return judgeChaos({ journals, server: await readServer(reader) }, tills, salesPerTill);
  } finally {
    await reader.close();
  }
}

/** The chaos run's rules over what was read. */
export function judgeChaos(
  truth: { journals: readonly JournalTruth[]; server: ServerTruth },
  tills: readonly TillRecord[],
  salesPerTill: number,
): ChaosCheck {
  const violations: string[] = [];
  const totals: ChaosTotals = { recorded: 0, sales: 0, salesTotal: 0, shifts: 0, onServer: 0, confirmedByDuplicate: 0 };
  const journals = new Map<string, { till: TillRecord; journal: JournalTruth }>();
  const recordedIds = new Set<string>();

  tills.forEach((till, i) => {
    const journal = truth.journals[i] as JournalTruth;
    const v = (what: string) => violations.push(`${till.label}: ${what}`);
    if (!journal.deviceId) {
      v('never enrolled');
      return;
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
    const pending = entries.filter((e) => e.state === 'pending').length;
    if (pending !== 0) v(`${pending} ops pending`);
    const dead = entries.filter((e) => e.state === 'dead').length;
    if (dead !== 0) v(`${dead} dead letters`);
    const sales = entries.filter((e) => e.kind === 'sale.recorded');
    if (sales.length !== salesPerTill) v(`${sales.length} sales in the journal, expected ${salesPerTill}`);
    totals.sales += sales.length;
    totals.salesTotal += sales.reduce((sum, e) => sum + (e.op.body as SaleBody).total, 0);
    totals.shifts += entries.filter((e) => e.kind === 'shift.opened').length;
    totals.confirmedByDuplicate += entries.filter(
      (e) => (e.result as { status?: unknown } | null)?.status === 'duplicate',
    ).length;
  });

  const server = truth.server;
  const stored = server.ops;
  totals.onServer = stored.length;
  const byId = new Map(stored.map((row) => [row.id, row]));

  // Nothing applied that no terminal recorded.
  const extra = stored.filter((row) => !recordedIds.has(row.id)).map((row) => `${row.device}#${row.seq}`);
  if (extra.length > 0) violations.push(`server ops no journal recorded: ${few(extra)}`);
  const strangers = server.devices.filter((d) => !journals.has(d.id)).map((d) => d.id);
  if (strangers.length > 0) violations.push(`server devices that are no till: ${few(strangers)}`);
  const ledgerCounts = new Map<string, number>();
  for (const l of server.ledger) ledgerCounts.set(l.opId, (ledgerCounts.get(l.opId) ?? 0) + 1);
  const ledgerIds = [...ledgerCounts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const strayLedger = ledgerIds.filter(([id]) => !recordedIds.has(id)).map(([id]) => id);
  if (strayLedger.length > 0) violations.push(`ledger events for ops no journal recorded: ${few(strayLedger)}`);
  const twice = ledgerIds.filter(([, n]) => n !== 1).map(([id, n]) => `${id} ×${n}`);
  if (twice.length > 0) violations.push(`ops with more than one ledger event: ${few(twice)}`);
  const straySales = server.sales.filter((r) => !recordedIds.has(r.opId)).map((r) => r.opId);
  if (straySales.length > 0) violations.push(`sales on the server no journal recorded: ${few(straySales)}`);
  const exceptions: Record<string, number> = {};
  for (const type of server.exceptions.map((x) => x.type).sort()) exceptions[type] = (exceptions[type] ?? 0) + 1;
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
    const unledgered = entries.filter((e) => byId.has(e.id) && !ledgerCounts.has(e.id)).map((e) => e.seq);
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
    const device = server.devices.find((d) => d.id === deviceId);
    if (!device) v('device unknown to the server');
    else {
      const raised = (type: string) => server.exceptions.filter((x) => x.device === deviceId && x.type === type).length;
      const status = {
        highWater: device.highWater,
        behind: Math.max(0, device.latestSeq - device.highWater),
        gap: device.gapFrom !== null && device.gapTo !== null ? { from: device.gapFrom, to: device.gapTo } : null,
        conflicts: raised('conflict'),
        forks: raised('fork'),
      };
      if (
        status.highWater !== entries.length ||
        status.behind !== 0 ||
        status.gap !== null ||
        status.conflicts !== 0 ||
        status.forks !== 0
      ) {
        v(`server device status ${JSON.stringify(status)}`);
      }
    }

    // Money, per device and per shift.
    const sales = entries.filter((e) => e.kind === 'sale.recorded').map((e) => e.op.body as SaleBody);
    const recorded = moneyOf(sales);
    const deviceSales = server.sales.filter((s) => s.device === deviceId);
    const settled = settledMoney(deviceSales);
    if (!sameMoney(recorded, settled))
      v(`sales: journal ${JSON.stringify(recorded)}, server ${JSON.stringify(settled)}`);
    const ledgerTotal = server.ledger
      .filter((l) => l.device === deviceId && l.type === 'sale.recorded')
      .reduce((sum, l) => sum + (l.amount ?? 0), 0);
    if (ledgerTotal !== recorded.total) v(`ledger sales ${ledgerTotal}, journal ${recorded.total}`);

    const shiftIds = entries.filter((e) => e.kind === 'shift.opened').map((e) => e.id);
    const serverShifts = new Map(server.shifts.filter((s) => s.device === deviceId).map((s) => [s.id, s]));
    if (serverShifts.size !== shiftIds.length)
      v(`${serverShifts.size} shifts on the server, ${shiftIds.length} opened`);
    for (const shiftId of shiftIds) {
      const mine = moneyOf(sales.filter((s) => s.shift === shiftId));
      const shiftSales = deviceSales.filter((s) => s.shiftId === shiftId);
      const theirs = shiftSales.length > 0 ? settledMoney(shiftSales) : { n: 0, total: 0, cash: 0, card: 0 };
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
  return { totals, violations };
}
