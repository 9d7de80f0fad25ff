/**
 * The report desk: what the operator routes under /v1/admin/reports and
 * /v1/admin/catalog/tax-rates call (docs/reports.md). Sales by item, day,
 * location and lane; outages and their delta; the accounting export; each
 * computed from one `ReportInput` the storage loads, and each also as CSV
 * rows (money in minor units, beside it the amount formatted for a person,
 * as the console's CSV exports do).
 */
import type { Clock } from '@holdfast/domain';
import { formatMoney, REF_PATTERN, schema as s, ValidationError } from '@holdfast/protocol';
import { type AccountingExport, accountingExport, CHART_OF_ACCOUNTS, checkJournal } from '../model/accounting.js';
import type { ExceptionRecord } from '../model/exception.js';
import { deviceLaneRuns, type LaneRun, mergeLaneRuns, type Outage, type OutageEvent } from '../model/outages.js';
import { lineFacts, type SalesReport, type SalesReportKind, salesReport } from '../model/reports.js';
import type { OutageCursor, OutageEventPage, TaxRate } from '../storage/sql/operations/reports.js';
import type { Storage } from '../storage/storage.js';

/** The exception types the outage report counts (a type nothing raises counts 0). */
export const OUTAGE_EXCEPTION_TYPES = ['stale_price', 'stock_shortfall'] as const;

/** A report as CSV: a header and its rows. */
export interface CsvTable {
  header: string[];
  rows: (string | number | null)[][];
}

export interface OutageReport {
  from: number;
  to: number;
  location: string | null;
  thresholdMs: number;
  outages: Outage[];
}

export const taxRatesRequestSchema = s.object({
  rates: s.array(
    s.object({
      category: s.string({
        minLength: 1,
        maxLength: 64,
        pattern: REF_PATTERN,
        patternRule: 'id of 1..64 letters, digits and _.:-',
      }),
      /** Basis points of the tax-inclusive price: 2100 = 21 %. */
      rate: s.int({ min: 0, max: 10_000 }),
    }),
    { minItems: 1, maxItems: 100 },
  ),
});

const money = (amount: number, currency: string) => formatMoney(amount, currency);

/** The outage notice's words (the log's; the console shows its title and detail). */
function outageMessage(o: Outage): string {
  const minutes = Math.round((o.end - o.start) / 60_000);
  const revenue = new Map<string, number>();
  for (const l of o.lanes) for (const r of l.revenue) revenue.set(r.currency, (revenue.get(r.currency) ?? 0) + r.gross);
  const taken = [...revenue].map(([c, v]) => money(v, c)).join(' + ') || 'no sales';
  const stale =
    o.stalePriceSales > 0
      ? `; ${o.stalePriceSales} sales at superseded prices (difference ${o.stalePriceDifferences.map((d) => money(d.amount, d.currency)).join(' + ')})`
      : '';
  const short = o.stockShortfalls > 0 ? `; ${o.stockShortfalls} stock shortfalls` : '';
  return `outage of ${minutes} min over ${o.lanes.length} lane(s): ${o.opsQueued} ops queued, ${taken}${stale}${short}`;
}

/** Ops read per storage call by the outage report and sweep (8–11 ms of the storage thread each, docs/performance.md). */
const OUTAGE_PAGE = 2_000;

/** When an outage is notified (docs/reports.md "The outage rule"). */
export const OUTAGE_NOTICE = {
  /** An op received this long after it was recorded was queued offline. */
  thresholdMs: 5 * 60_000,
  /** An outage is notified once no lane of it has synced for this long. */
  quietMs: 2 * 60_000,
  /** How far back a sweep looks (device time). */
  lookbackMs: 2 * 86_400_000,
} as const;

/** The most recent outage notified, as the live feed carries it. */
export interface OutageNotice {
  id: string;
  start: number;
  end: number;
  lanes: number;
  opsQueued: number;
  notifiedAt: number;
}

export class ReportDesk {
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #newId: () => string;
  #lastNotice: OutageNotice | null = null;

  constructor(storage: Storage, clock: Clock, newId: () => string) {
    this.#storage = storage;
    this.#clock = clock;
    this.#newId = newId;
  }

  /** The last outage this server notified since it started (the live feed), or null. */
  get lastOutageNotice(): OutageNotice | null {
    return this.#lastNotice;
  }

  /**
   * The outage sweep: every outage of the last `lookbackMs` whose lanes have
   * all been synced for `quietMs` is raised as ONE `outage` exception (its
   * dedupe key is the outage id, so a later sweep raises nothing twice),
   * whatever the number of lanes. Returns the outages newly notified.
   */
  async notifyOutages(): Promise<Outage[]> {
    const now = this.#clock.now();
    const report = await this.outages(now - OUTAGE_NOTICE.lookbackMs, now + 1, null, OUTAGE_NOTICE.thresholdMs);
    const due = report.outages.filter((o) => o.end <= now - OUTAGE_NOTICE.quietMs);
    if (due.length === 0) return [];
    const records: ExceptionRecord[] = due.map((o) => ({
      id: this.#newId(),
      type: 'outage',
      severity: 'warning',
      device: (o.lanes[0] as Outage['lanes'][number]).device,
      opId: null,
      seq: null,
      message: outageMessage(o),
      detail: { outage: o, thresholdMs: OUTAGE_NOTICE.thresholdMs },
      raisedAt: now,
      dedupeKey: `outage:${o.id}`,
    }));
    const added = await this.#storage.raiseNotices(records);
    if (added === 0) return [];
    const newest = due[due.length - 1] as Outage;
    this.#lastNotice = {
      id: newest.id,
      start: newest.start,
      end: newest.end,
      lanes: newest.lanes.length,
      opsQueued: newest.opsQueued,
      notifiedAt: now,
    };
    return due;
  }

  async sales(kind: SalesReportKind, from: number, to: number, location: string | null): Promise<SalesReport> {
    const input = await this.#storage.reportInput(from, to);
    return salesReport(kind, input, lineFacts(input), location);
  }

  async outages(from: number, to: number, location: string | null, thresholdMs: number): Promise<OutageReport> {
    // Device by device, page by page: on SQLite each page is one call of the storage thread, so ingest
    // goes on between them, and each is one range of an index, however old the ledger. Only each
    // device's lane outages are kept: the events of a fleet's two days are hundreds of MiB.
    const runs: LaneRun[] = [];
    for (const device of await this.#storage.listDevices()) {
      const events: OutageEvent[] = [];
      let after: OutageCursor | null = null;
      do {
        const page: OutageEventPage = await this.#storage.outageEvents(device.id, after, from, to, OUTAGE_PAGE);
        for (const e of page.events) if (location === null || e.location === location) events.push(e);
        after = page.next;
      } while (after !== null);
      const queued = events.filter((e) => e.receivedAt - e.deviceAt > thresholdMs).map((e) => e.opId);
      if (queued.length === 0) continue;
      const exceptions = await this.#storage.exceptionsForOps(queued, OUTAGE_EXCEPTION_TYPES);
      runs.push(...deviceLaneRuns(events, exceptions, thresholdMs));
    }
    return { from, to, location, thresholdMs, outages: mergeLaneRuns(runs) };
  }

  /**
   * The accounting export, checked against the ledger it was built from
   * before it is answered: an export that does not balance or does not
   * sum to the ledger is a server bug, refused rather than handed out.
   */
  async accounting(by: 'day' | 'shift', from: number, to: number, location: string | null): Promise<AccountingExport> {
    const input = await this.#storage.reportInput(from, to);
    const exported = accountingExport(input, by, location);
    const violations = checkJournal(exported, input.events);
    if (violations.length > 0) {
      throw new Error(`accounting export does not sum to the ledger: ${JSON.stringify(violations.slice(0, 5))}`);
    }
    return exported;
  }

  async setTaxRates(body: unknown, by: string): Promise<{ rates: TaxRate[] }> {
    const { rates } = taxRatesRequestSchema.parse(body);
    const seen = new Set<string>();
    for (const [i, r] of rates.entries()) {
      if (seen.has(r.category)) {
        throw new ValidationError(
          `rates[${i}].category`,
          'each category at most once per request',
          `category ${r.category} repeated`,
        );
      }
      seen.add(r.category);
    }
    return { rates: await this.#storage.setTaxRates(rates, this.#clock.now(), by) };
  }

  async taxRates(): Promise<{ rates: TaxRate[] }> {
    return { rates: await this.#storage.listTaxRates() };
  }
}

export function salesCsv(report: SalesReport): CsvTable {
  const keyHeader = { item: 'SKU', day: 'Day', location: 'Location', lane: 'Device' }[report.kind];
  const labelHeader = { item: 'Item', day: 'Day (label)', location: 'Location (label)', lane: 'Lane' }[report.kind];
  return {
    header: [
      keyHeader,
      labelHeader,
      'Currency',
      'Sales',
      'Qty',
      'Gross (minor units)',
      'Gross',
      'Tax (minor units)',
      'Tax',
      'Untaxed (minor units)',
      'Corrections',
      'Returned (minor units)',
      'Returned',
      'Returned tax (minor units)',
      'Net (minor units)',
      'Net',
      'Net tax (minor units)',
    ],
    rows: report.rows.map((r) => [
      r.key,
      r.label,
      r.currency,
      r.sales,
      r.qty,
      r.gross,
      money(r.gross, r.currency),
      r.tax,
      money(r.tax, r.currency),
      r.untaxed,
      r.corrections,
      r.returned,
      money(r.returned, r.currency),
      r.returnedTax,
      r.net,
      money(r.net, r.currency),
      r.netTax,
    ]),
  };
}

export function outagesCsv(report: OutageReport): CsvTable {
  const rows: CsvTable['rows'] = [];
  for (const o of report.outages) {
    for (const l of o.lanes) {
      const revenue = l.revenue.length > 0 ? l.revenue : [null];
      for (const r of revenue) {
        rows.push([
          o.id,
          new Date(o.start).toISOString(),
          new Date(o.end).toISOString(),
          l.device,
          l.lane,
          l.location ?? '',
          new Date(l.offlineFrom).toISOString(),
          new Date(l.syncedAt).toISOString(),
          l.opsQueued,
          r?.currency ?? '',
          r?.sales ?? 0,
          r?.gross ?? 0,
          r ? money(r.gross, r.currency) : '',
          r?.returned ?? 0,
          r?.staleSales ?? 0,
          r?.staleDifference ?? 0,
          l.stockShortfalls,
        ]);
      }
    }
  }
  return {
    header: [
      'Outage',
      'Start',
      'End',
      'Device',
      'Lane',
      'Location',
      'Offline from',
      'Synced at',
      'Ops queued',
      'Currency',
      'Sales',
      'Revenue (minor units)',
      'Revenue',
      'Returned (minor units)',
      'Stale-price sales',
      'Stale-price difference (minor units)',
      'Stock shortfalls',
    ],
    rows,
  };
}

/** One row per journal line: what an accounting package imports. */
export function accountingCsv(exported: AccountingExport): CsvTable {
  const rows: CsvTable['rows'] = [];
  for (const e of exported.entries) {
    for (const l of e.lines) {
      rows.push([
        e.day,
        e.shiftId ?? '',
        e.opId,
        e.type,
        e.location ?? '',
        e.currency,
        l.account,
        CHART_OF_ACCOUNTS[l.account].name,
        l.debit,
        l.credit,
        money(l.debit - l.credit, e.currency),
      ]);
    }
  }
  return {
    header: [
      'Day',
      'Shift',
      'Op',
      'Type',
      'Location',
      'Currency',
      'Account',
      'Account name',
      'Debit (minor units)',
      'Credit (minor units)',
      'Debit − credit',
    ],
    rows,
  };
}

/** RFC 4180, with the console's rule: a text cell starting with = + - @ is prefixed with ' (no formula runs). */
export function toCsv(table: CsvTable): string {
  const field = (v: string | number | null): string => {
    if (v === null) return '';
    let text = String(v);
    if (typeof v === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
    return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
  };
  return `${[table.header, ...table.rows].map((row) => row.map(field).join(',')).join('\r\n')}\r\n`;
}
