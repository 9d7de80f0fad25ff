/**
 * `holdfast report declines`: the decline rate of forwarded offline card
 * payments per location and UTC day (GET /v1/admin/reports/declines); and
 * `holdfast report sales|outages|accounting` (sales-report-command.ts).
 */
import { formatMoney } from '@holdfast/protocol';
import type { DeclineReport } from '@holdfast/server';
import { stringFlag, UsageError } from '../args.js';
import { operatorGet, operatorSettings, operatorTarget } from './operator-request.js';
import { SALES_REPORT_HELP, SALES_REPORTS, type SalesReportName, salesReportCommand } from './sales-report-command.js';

export const REPORT_HELP = `holdfast report declines --server URL (--operator-token T | --operator-token-file F) [--from D] [--to D] [--json]

Prints, per location (the device's placement; unplaced devices as one group),
UTC day of the processor's answer and currency: the offline card payments
forwarded (count, amount), those declined after the fact, and the decline rate.
  --server URL              the Holdfast server, e.g. http://10.0.0.5:8080
  --operator-token T        operator bearer token
  --operator-token-file F   read it from F (e.g. DATA/operator-token)
  --from D                  first day, YYYY-MM-DD (UTC) or epoch ms     default 7 days before --to
  --to D                    end, exclusive: YYYY-MM-DD or epoch ms      default the end of today (UTC)
  --json                    print the server's answer as JSON instead
Exit 0 with the report, 1 if the server refused or could not be reached.

${SALES_REPORT_HELP}`;

const DATE_OR_MS = /^(\d{4}-\d{2}-\d{2}|\d{1,15})$/;

const percent = (rate: number) => `${(rate * 100).toFixed(1)} %`;

/** The report as lines of text: one table row per location, day and currency, then the totals per currency. */
export function renderDeclineReport(report: DeclineReport): string[] {
  const range = `${new Date(report.from).toISOString()} .. ${new Date(report.to).toISOString()}`;
  const lines = [`post-authorization declines, ${range} (by UTC day of the processor's answer)`];
  if (report.rows.length === 0) {
    lines.push('no offline payments were forwarded in this range');
    return lines;
  }
  const header = ['day', 'merchant', 'location', 'currency', 'forwarded', 'amount', 'declined', 'amount', 'rate'];
  const cells = report.rows.map((r) => [
    r.day,
    r.merchant ?? '(unplaced)',
    r.merchant === null ? '-' : (r.location ?? '*'),
    r.currency,
    String(r.forwardedCount),
    formatMoney(r.forwardedAmount, r.currency),
    String(r.declinedCount),
    formatMoney(r.declinedAmount, r.currency),
    percent(r.declineRate),
  ]);
  const totals = new Map<string, { n: number; d: number; dAmount: number }>();
  for (const r of report.rows) {
    const t = totals.get(r.currency) ?? { n: 0, d: 0, dAmount: 0 };
    t.n += r.forwardedCount;
    t.d += r.declinedCount;
    t.dAmount += r.declinedAmount;
    totals.set(r.currency, t);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => (c[i] as string).length)));
  const right = new Set([4, 5, 6, 7, 8]);
  const format = (c: string[]) =>
    c
      .map((v, i) => (right.has(i) ? v.padStart(widths[i] as number) : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  lines.push(format(header), ...cells.map(format));
  for (const [currency, t] of [...totals].sort(([a], [b]) => (a < b ? -1 : 1))) {
    lines.push(
      `total ${currency}: ${t.d} of ${t.n} declined (${percent(t.n === 0 ? 0 : t.d / t.n)}), ${formatMoney(t.dAmount, currency)} to recover`,
    );
  }
  return lines;
}

export async function reportCommand(argv: string[]): Promise<number> {
  const [which, ...rest] = argv;
  if (which === undefined || which === '--help' || which === '-h') {
    console.log(REPORT_HELP);
    return which === undefined ? 2 : 0;
  }
  if ((SALES_REPORTS as readonly string[]).includes(which)) {
    return salesReportCommand(which as SalesReportName, rest);
  }
  if (which !== 'declines') {
    throw new UsageError(`unknown report "${which}" (reports: declines, ${SALES_REPORTS.join(', ')})`);
  }
  const flags = operatorSettings(rest, 'report', {
    from: { type: 'string' },
    to: { type: 'string' },
    json: { type: 'boolean' },
  });
  if (flags.help) {
    console.log(REPORT_HELP);
    return 0;
  }
  const { server, token } = operatorTarget(flags);
  const url = new URL(`${server}/v1/admin/reports/declines`);
  for (const name of ['from', 'to'] as const) {
    const value = stringFlag(flags, name);
    if (value === undefined) continue;
    if (!DATE_OR_MS.test(value))
      throw new UsageError(`--${name} must be YYYY-MM-DD or epoch milliseconds, got "${value}"`);
    url.searchParams.set(name, value);
  }
  const report = await operatorGet<DeclineReport>('report', url, token);
  if (report === null) return 1;
  if (flags.json) console.log(JSON.stringify(report, null, 2));
  else for (const line of renderDeclineReport(report)) console.log(line);
  return 0;
}
