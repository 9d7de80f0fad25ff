/**
 * What the reports read (model/reports.ts, accounting.ts, outages.ts), for
 * every backend, and the tax-rate table they price tax with
 * (docs/reports.md). The ledger event each applied op wrote (type = the
 * op's kind: server events such as payment.settled are left out), its op's
 * body and receipt time, the device's label and placement; the sales its
 * corrections name; the catalog categories and tax rates.
 */
import type { SaleBody } from '@holdfast/protocol';
import type { OutageEvent, OutageException } from '../../../model/outages.js';
import type { ReportEvent, ReportInput } from '../../../model/reports.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { all, run, type SqlOperation } from '../transaction-port.js';

/** A category's tax rate as stored. */
export interface TaxRate {
  category: string;
  /** Basis points of the tax-inclusive price (2100 = 21 %). */
  rate: number;
  updatedAt: number;
  updatedBy: string;
}

const CHUNK = 500;

/** What the outage rule reads of a row of the ledger joined to its op, device and placement. */
function outageEventOf(r: Row): OutageEvent {
  return {
    opId: r.op_id as string,
    device: r.device as string,
    lane: r.label as string,
    location: textOrNull(r.location),
    seq: int(r.seq),
    type: r.type as string,
    currency: textOrNull(r.currency),
    amount: intOrNull(r.amount),
    deviceAt: int(r.device_at),
    receivedAt: int(r.received_at),
  };
}

function eventOf(r: Row, d: SqlDialect): ReportEvent {
  const envelope = JSON.parse(r.envelope as string) as { body?: Record<string, unknown> };
  return {
    ...outageEventOf(r),
    shiftId: textOrNull(r.shift_id),
    data: d.readJson(r.data) as Record<string, unknown>,
    body: envelope.body ?? {},
  };
}

/** The applied ops whose device time is in [from, to), with what the reports need. */
export function* reportInput(d: SqlDialect, from: number, to: number): SqlOperation<ReportInput> {
  const rows = yield* all(
    // One range of ledger_device_time (device, device_at) per device: devices first (CROSS JOIN keeps
    // SQLite to that order; PostgreSQL chooses its own).
    `SELECT l.op_id, l.device, l.seq, l.type, l.shift_id, l.currency, l.amount, l.data, l.device_at,
            o.envelope, o.received_at, dv.label, p.location
       FROM devices dv
       CROSS JOIN ledger l
       JOIN ops o ON o.id = l.op_id AND o.kind = l.type
       LEFT JOIN device_placements p ON p.device = l.device
      WHERE l.device = dv.id AND l.device_at >= $1 AND l.device_at < $2
      ORDER BY l.pos`,
    [from, to],
  );
  const events = rows.map((r) => eventOf(r, d));
  const sales: Record<string, SaleBody> = {};
  const skus = new Set<string>();
  for (const e of events) {
    if (e.type !== 'sale.recorded') continue;
    const body = e.body as unknown as SaleBody;
    sales[e.opId] = body;
    for (const l of body.lines) skus.add(l.sku);
  }
  const missing = [
    ...new Set(
      events
        .filter((e) => e.type === 'sale.voided' || e.type === 'sale.refunded' || e.type === 'wallet.refunded')
        .map((e) => String(e.body.sale ?? ''))
        .filter((id) => id !== '' && sales[id] === undefined),
    ),
  ];
  for (let i = 0; i < missing.length; i += CHUNK) {
    const ids = missing.slice(i, i + CHUNK);
    const found = yield* all(
      `SELECT id, envelope FROM ops WHERE kind = 'sale.recorded' AND status = 'accepted'
         AND id IN (${ids.map((_, j) => `$${j + 1}`).join(', ')})`,
      ids,
    );
    for (const r of found) {
      const body = (JSON.parse(r.envelope as string) as { body: SaleBody }).body;
      sales[r.id as string] = body;
      for (const l of body.lines) skus.add(l.sku);
    }
  }
  const categories: Record<string, string> = {};
  const wanted = [...skus];
  for (let i = 0; i < wanted.length; i += CHUNK) {
    const some = wanted.slice(i, i + CHUNK);
    const found = yield* all(
      `SELECT sku, tax_category FROM catalog_items WHERE sku IN (${some.map((_, j) => `$${j + 1}`).join(', ')})`,
      some,
    );
    for (const r of found) categories[r.sku as string] = r.tax_category as string;
  }
  const rates: Record<string, number> = {};
  for (const r of yield* all('SELECT category, rate_bp FROM tax_rates')) rates[r.category as string] = int(r.rate_bp);
  return { from, to, events, sales, categories, rates };
}

/** The largest page outageEvents reads. */
export const OUTAGE_PAGE_MAX = 10_000;

/** Where a page of outageEvents ended: the last event's device time and ledger position. */
export interface OutageCursor {
  deviceAt: number;
  pos: number;
}

/** One page of outageEvents: the events and where to read on from (null: none left). */
export interface OutageEventPage {
  events: OutageEvent[];
  next: OutageCursor | null;
}

/**
 * One device's applied ops whose device time is in [from, to), as the
 * outage rule reads them (model/outages.ts): at most `limit`, by device time
 * and ledger position, after `after` (null: from the start). One range of
 * `ledger_device_time` a page, whatever the ledger's age. Unlike
 * reportInput, no op bodies: the outage sweep reads two days of ledger every
 * minute (ReportDesk.notifyOutages), and reading, parsing and sorting every
 * envelope at once held the SQLite storage thread — every ingest — for 20 s
 * at 300,000 ops.
 */
export function* outageEvents(
  device: string,
  after: OutageCursor | null,
  from: number,
  to: number,
  limit: number,
): SqlOperation<OutageEventPage> {
  // The limit is written into the text (a bound LIMIT re-plans on every run, see limited-statement.ts).
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > OUTAGE_PAGE_MAX) {
    throw new RangeError(`outageEvents: limit must be an integer from 1 to ${OUTAGE_PAGE_MAX}, not ${limit}`);
  }
  const rows = yield* all(
    `SELECT l.pos, l.op_id, l.device, l.seq, l.type, l.currency, l.amount, l.device_at, o.received_at,
            dv.label, p.location
       FROM ledger l
       JOIN ops o ON o.id = l.op_id AND o.kind = l.type
       JOIN devices dv ON dv.id = l.device
       LEFT JOIN device_placements p ON p.device = l.device
      WHERE l.device = $1 AND l.device_at >= $2 AND l.device_at < $3 AND (l.device_at > $2 OR l.pos > $4)
      ORDER BY l.device_at, l.pos
      LIMIT ${limit}`,
    [device, after ? after.deviceAt : from, to, after ? after.pos : 0],
  );
  const events = rows.map(outageEventOf);
  const last = rows[rows.length - 1];
  return {
    events,
    next: rows.length === limit && last ? { deviceAt: int(last.device_at), pos: int(last.pos) } : null,
  };
}

/** The exceptions of `types` raised for `opIds` (the outage report's stale prices and shortfalls). */
export function* exceptionsForOps(
  d: SqlDialect,
  opIds: readonly string[],
  types: readonly string[],
): SqlOperation<OutageException[]> {
  const out: OutageException[] = [];
  for (let i = 0; i < opIds.length; i += CHUNK) {
    const ids = opIds.slice(i, i + CHUNK);
    const rows = yield* all(
      `SELECT op_id, type, detail FROM exceptions
        WHERE op_id IN (${ids.map((_, j) => `$${j + 1}`).join(', ')})
          AND type IN (${types.map((_, j) => `$${ids.length + j + 1}`).join(', ')})`,
      [...ids, ...types],
    );
    for (const r of rows) {
      out.push({
        opId: r.op_id as string,
        type: r.type as string,
        detail: d.readJson(r.detail) as Record<string, unknown>,
      });
    }
  }
  return out;
}

/** Sets the rate of each category given (others unchanged); returns every rate. */
export function* setTaxRates(
  rates: readonly { category: string; rate: number }[],
  now: number,
  by: string,
): SqlOperation<TaxRate[]> {
  for (const r of rates) {
    yield* run(
      `INSERT INTO tax_rates (category, rate_bp, updated_at, updated_by) VALUES ($1, $2, $3, $4)
       ON CONFLICT (category) DO UPDATE SET rate_bp = excluded.rate_bp, updated_at = excluded.updated_at,
         updated_by = excluded.updated_by`,
      [r.category, r.rate, now, by],
    );
  }
  return yield* listTaxRates();
}

/** Every category's rate, by category. */
export function* listTaxRates(): SqlOperation<TaxRate[]> {
  return (yield* all('SELECT * FROM tax_rates ORDER BY category')).map((r) => ({
    category: r.category as string,
    rate: int(r.rate_bp),
    updatedAt: int(r.updated_at),
    updatedBy: r.updated_by as string,
  }));
}
