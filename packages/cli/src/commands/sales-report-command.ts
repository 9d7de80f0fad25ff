/**
 * `holdfast report sales|outages|accounting` (docs/reports.md): the sales
 * report by item, day, location or lane; the outages and their delta per
 * lane; the accounting export's sums per account. As text, `--json` (the
 * server's answer) or `--csv` (the server's CSV export, as it is).
 */
import { formatMoney } from '@holdfast/protocol';
import type { AccountingExport, OutageReport, SalesReport } from '@holdfast/server';
import { stringFlag, UsageError } from '../args.js';
import { operatorGet, operatorSettings, operatorTarget } from './operator-request.js';

export const SALES_REPORTS = ['sales', 'outages', 'accounting'] as const;
export type SalesReportName = (typeof SALES_REPORTS)[number];

export const SALES_REPORT_HELP = `holdfast report sales [--by item|day|location|lane] [--location L] [--from D] [--to D] [--json|--csv]
holdfast report outages [--threshold-minutes N] [--location L] [--from D] [--to D] [--json|--csv]
holdfast report accounting [--by day|shift] [--location L] [--from D] [--to D] [--json|--csv]
  (each also --server URL and --operator-token T | --operator-token-file F)

sales       per item, UTC day (device time), location or lane: sales, units, gross,
            tax, returns (voids and refunds) and net, per currency
outages     each outage (lanes that queued ops offline longer than the threshold,
            default 5 min): per lane ops queued, revenue, stale-price sales and
            their difference, stock shortfalls
accounting  the journal's sums per account, per UTC day or shift; --csv gives
            every journal line (debit, credit, account) for an accounting package
Exit 0 with the report, 1 if the server refused or could not be reached.`;

const DATE_OR_MS = /^(\d{4}-\d{2}-\d{2}|\d{1,15})$/;

function table(header: string[], rows: string[][], right: ReadonlySet<number>): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] as string).length)));
  const format = (c: string[]) =>
    c
      .map((v, i) => (right.has(i) ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [format(header), ...rows.map(format)];
}

const rangeOf = (from: number, to: number) => `${new Date(from).toISOString()} .. ${new Date(to).toISOString()}`;

export function renderSalesReport(report: SalesReport): string[] {
  const lines = [`sales by ${report.kind}, ${rangeOf(report.from, report.to)} (device time)`];
  if (report.location !== null) lines[0] += `, location ${report.location}`;
  if (report.rows.length === 0) return [...lines, 'no sales in this range'];
  const m = formatMoney;
  const rows = report.rows.map((r) => [
    report.kind === 'lane' ? r.label : r.key || '(unplaced)',
    report.kind === 'item' ? r.label : '',
    r.currency,
    String(r.sales),
    String(r.qty),
    m(r.gross, r.currency),
    m(r.tax, r.currency),
    m(r.returned, r.currency),
    m(r.net, r.currency),
    m(r.netTax, r.currency),
  ]);
  lines.push(
    ...table(
      [
        report.kind,
        report.kind === 'item' ? 'name' : '',
        'currency',
        'sales',
        'qty',
        'gross',
        'tax',
        'returned',
        'net',
        'net tax',
      ],
      rows,
      new Set([3, 4, 5, 6, 7, 8, 9]),
    ),
  );
  for (const t of report.totals) {
    lines.push(
      `total ${t.currency}: ${t.sales} sales, gross ${m(t.gross, t.currency)} (tax ${m(t.tax, t.currency)}), returned ${m(t.returned, t.currency)}, net ${m(t.net, t.currency)}${t.untaxed > 0 ? `; ${m(t.untaxed, t.currency)} with no tax rate` : ''}`,
    );
  }
  return lines;
}

export function renderOutages(report: OutageReport): string[] {
  const lines = [`outages, ${rangeOf(report.from, report.to)}, threshold ${report.thresholdMs / 60_000} min`];
  if (report.outages.length === 0) return [...lines, 'no outages in this range'];
  for (const o of report.outages) {
    lines.push(
      `outage ${o.id}: ${new Date(o.start).toISOString()} .. ${new Date(o.end).toISOString()}, ${o.lanes.length} lane(s), ${o.opsQueued} ops queued, ${o.stalePriceSales} stale-price sales (difference ${o.stalePriceDifferences.map((d) => formatMoney(d.amount, d.currency)).join(' + ') || 'none'}), ${o.stockShortfalls} stock shortfalls`,
    );
    lines.push(
      ...table(
        ['  lane', 'location', 'ops', 'revenue', 'stale', 'difference', 'shortfalls'],
        o.lanes.map((l) => [
          `  ${l.lane}`,
          l.location ?? '(unplaced)',
          String(l.opsQueued),
          l.revenue.map((r) => formatMoney(r.gross, r.currency)).join(' + ') || '-',
          String(l.stalePriceSales),
          l.revenue
            .filter((r) => r.staleSales > 0)
            .map((r) => formatMoney(r.staleDifference, r.currency))
            .join(' + ') || '-',
          String(l.stockShortfalls),
        ]),
        new Set([2, 3, 4, 5, 6]),
      ),
    );
  }
  return lines;
}

export function renderAccounting(exported: AccountingExport): string[] {
  const lines = [`journal by ${exported.by}, ${rangeOf(exported.from, exported.to)} (device time)`];
  if (exported.groups.length === 0) return [...lines, 'no money moved in this range'];
  for (const g of exported.groups) {
    lines.push(
      `${exported.by} ${g.key || '(none)'} ${g.currency}: ${g.entries} entries, ${formatMoney(g.amount, g.currency)}`,
    );
    lines.push(
      ...table(
        ['  account', 'name', 'debit', 'credit'],
        g.accounts.map((t) => [
          `  ${t.account}`,
          t.name,
          formatMoney(t.debit, g.currency),
          formatMoney(t.credit, g.currency),
        ]),
        new Set([2, 3]),
      ),
    );
  }
  return lines;
}

/** GETs the report's CSV; the text, or null after printing why not. */
async function csvGet(url: URL, token: string): Promise<string | null> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    console.error(`holdfast report: cannot reach ${url.origin}: ${(error as Error).message}`);
    return null;
  }
  const text = await res.text();
  if (!res.ok) {
    const wire = (() => {
      try {
        return JSON.parse(text) as { code?: string; message?: string; field?: string };
      } catch {
        return null;
      }
    })();
    const field = wire?.field ? ` (${wire.field})` : '';
    console.error(`holdfast report: ${res.status} ${wire?.code ?? ''} ${wire?.message ?? ''}${field}`.trimEnd());
    return null;
  }
  return text;
}

export async function salesReportCommand(which: SalesReportName, argv: string[]): Promise<number> {
  const flags = operatorSettings(argv, 'report', {
    from: { type: 'string' },
    to: { type: 'string' },
    by: { type: 'string' },
    location: { type: 'string' },
    'threshold-minutes': { type: 'string' },
    json: { type: 'boolean' },
    csv: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(SALES_REPORT_HELP);
    return 0;
  }
  if (flags.json && flags.csv) throw new UsageError('--json and --csv exclude each other');
  const { server, token } = operatorTarget(flags);
  const url = new URL(`${server}/v1/admin/reports/${which}`);
  for (const name of ['from', 'to'] as const) {
    const value = stringFlag(flags, name);
    if (value === undefined) continue;
    if (!DATE_OR_MS.test(value))
      throw new UsageError(`--${name} must be YYYY-MM-DD or epoch milliseconds, got "${value}"`);
    url.searchParams.set(name, value);
  }
  const by = stringFlag(flags, 'by');
  if (by !== undefined) {
    if (which === 'outages') throw new UsageError('--by is for the sales and accounting reports');
    url.searchParams.set('by', by);
  }
  const threshold = stringFlag(flags, 'threshold-minutes');
  if (threshold !== undefined) {
    if (which !== 'outages') throw new UsageError('--threshold-minutes is for the outages report');
    url.searchParams.set('thresholdMinutes', threshold);
  }
  const location = stringFlag(flags, 'location');
  if (location !== undefined) url.searchParams.set('location', location);
  if (flags.csv) {
    url.searchParams.set('format', 'csv');
    const text = await csvGet(url, token);
    if (text === null) return 1;
    process.stdout.write(text);
    return 0;
  }
  if (which === 'sales') {
    const report = await operatorGet<SalesReport>('report', url, token);
    if (report === null) return 1;
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of renderSalesReport(report)) console.log(line);
  } else if (which === 'outages') {
    const report = await operatorGet<OutageReport>('report', url, token);
    if (report === null) return 1;
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of renderOutages(report)) console.log(line);
  } else {
    const report = await operatorGet<AccountingExport>('report', url, token);
    if (report === null) return 1;
    if (flags.json) console.log(JSON.stringify(report, null, 2));
    else for (const line of renderAccounting(report)) console.log(line);
  }
  return 0;
}
