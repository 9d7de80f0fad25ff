/**
 * Reads for observability, for every backend: the gauges GET /metrics
 * exports and the readiness probe of GET /v1/ready.
 */
import type { GaugeQuery, OperationalGauges, StoreReadiness } from '../../../model/operational-gauges.js';
import { int, intOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { forwardable } from '../offline-payment-states.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

/** The forwarding backlog and open exceptions by type (a few aggregate queries, autocommitted). */
export function* operationalGauges(d: SqlDialect, q: GaugeQuery): SqlOperation<OperationalGauges> {
  const base = d.least('o.approved_at', 'o.received_at');
  const f = yield* one(
    `SELECT count(*) AS pending, min(${base}) AS oldest,
            sum(CASE WHEN ${base} <= CAST($1 AS BIGINT) THEN 1 ELSE 0 END) AS due
     FROM offline_payments o WHERE ${forwardable('o')}`,
    [q.dueBaseBefore],
  );
  const openExceptions: Record<string, number> = {};
  const rows = yield* all(
    `SELECT x.type, count(*) AS n FROM exceptions x
     WHERE NOT EXISTS (SELECT 1 FROM exception_actions a WHERE a.exception_id = x.id AND a.resolves = TRUE)
     GROUP BY x.type ORDER BY x.type`,
  );
  for (const r of rows) openExceptions[r.type as string] = int(r.n);
  return {
    forwarding: { pending: int(f?.pending ?? 0), oldestBase: intOrNull(f?.oldest), dueSoon: int(f?.due ?? 0) },
    openExceptions,
  };
}

/**
 * Run in a write transaction: counts the recorded migrations and rewrites
 * the newest one's row unchanged, which takes the store's write lock and
 * fails on a read-only file, disk or replica.
 */
export function* readinessProbe(migrationsKnown: number): SqlOperation<StoreReadiness> {
  const row = yield* one('SELECT count(*) AS n, max(version) AS v FROM schema_migrations');
  const applied = int(row?.n ?? 0);
  if (applied > 0) {
    yield* run('UPDATE schema_migrations SET applied_at = applied_at WHERE version = $1', [int(row?.v)]);
  }
  return { migrationsApplied: applied, migrationsKnown };
}
