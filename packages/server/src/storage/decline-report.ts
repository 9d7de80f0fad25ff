/**
 * The decline-rate report's rows from the grouped counts both SQL backends
 * read: the UTC day as YYYY-MM-DD, the rate, one order.
 */

import type { DeclineReportRow } from '../model/decline-report.js';
import { int, type Row, textOrNull } from './rows.js';

const DAY_MS = 86_400_000;

/** Rows grouped by (day number = settledAt / DAY_MS, merchant, location, currency), as the report answers them. */
export function declineReportRows(rows: readonly Row[]): DeclineReportRow[] {
  const out = rows.map((r): DeclineReportRow => {
    const forwardedCount = int(r.n);
    const declinedCount = int(r.declined_n);
    return {
      day: new Date(int(r.day) * DAY_MS).toISOString().slice(0, 10),
      merchant: textOrNull(r.merchant),
      location: textOrNull(r.location),
      currency: r.currency as string,
      forwardedCount,
      forwardedAmount: int(r.amount),
      declinedCount,
      declinedAmount: int(r.declined_amount),
      declineRate: forwardedCount === 0 ? 0 : declinedCount / forwardedCount,
    };
  });
  const key = (v: string | null) => (v === null ? '' : `~${v}`);
  return out.sort(
    (a, b) =>
      a.day.localeCompare(b.day) ||
      key(a.merchant).localeCompare(key(b.merchant)) ||
      key(a.location).localeCompare(key(b.location)) ||
      a.currency.localeCompare(b.currency),
  );
}

/** The SELECT list and grouping both backends use (`o` offline_payments, `p` device_placements). */
export const DECLINE_REPORT_SELECT = `o.settled_at / ${DAY_MS} AS day, p.merchant, p.location, o.currency,
  count(*) AS n, sum(o.amount) AS amount,
  sum(CASE WHEN o.outcome = 'declined' THEN 1 ELSE 0 END) AS declined_n,
  sum(CASE WHEN o.outcome = 'declined' THEN o.amount ELSE 0 END) AS declined_amount
  FROM offline_payments o LEFT JOIN device_placements p ON p.device = o.device`;
export const DECLINE_REPORT_GROUP = `GROUP BY o.settled_at / ${DAY_MS}, p.merchant, p.location, o.currency`;
