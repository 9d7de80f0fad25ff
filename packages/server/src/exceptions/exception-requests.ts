/**
 * Operator requests about exceptions and reports, validated: each bad
 * field is refused naming it (`action`, `note`, `amount`, `by`,
 * `query.status`, `query.from`).
 */
import { ProtocolError, schema as s } from '@holdfast/protocol';
import { EXCEPTION_TYPES } from '../model/exception.js';
import { EXCEPTION_ACTIONS, type ExceptionFilter } from '../model/exception-action.js';

export const exceptionActionRequestSchema = s.object({
  action: s.oneOf(EXCEPTION_ACTIONS),
  /** What was done and why: every action is explained. */
  note: s.string({ minLength: 1, maxLength: 2_000 }),
  /** Minor units written off or recovered (money exceptions only); default: all that is outstanding. */
  amount: s.optional(s.int({ min: 1, max: Number.MAX_SAFE_INTEGER })),
  /**
   * Ignored: the action is recorded under the authenticated operator's
   * username ("bootstrap" for the bootstrap token), never a name the caller
   * declares. Accepted so that older clients sending it are not refused.
   */
  by: s.optional(s.string({ minLength: 1, maxLength: 100 })),
  /** A stock shortfall's action: the refund op, the SKU given instead, the purchase order (docs/catalog-and-stock.md). */
  reference: s.optional(s.string({ minLength: 1, maxLength: 100 })),
});
export type ExceptionActionBody = s.Infer<typeof exceptionActionRequestSchema>;

/** An exception action request body (none counts as empty); throws ValidationError naming the field. */
export function parseExceptionAction(body: unknown): ExceptionActionBody {
  return exceptionActionRequestSchema.parse(body ?? {});
}

function invalid(field: string, rule: string, message: string): ProtocolError {
  return new ProtocolError('invalid_request', message, { field, rule });
}

/** `status` and `type` filters of GET /v1/admin/exceptions (after and limit are parsed by the route). */
export function exceptionFilterOf(query: unknown, after: number, limit: number): ExceptionFilter {
  const q = (query ?? {}) as Record<string, unknown>;
  const filter: ExceptionFilter = { after, limit };
  if (q.status !== undefined && q.status !== '') {
    if (q.status !== 'open' && q.status !== 'resolved') {
      throw invalid('query.status', 'open or resolved', 'query parameter status must be open or resolved');
    }
    filter.status = q.status;
  }
  if (q.type !== undefined && q.type !== '') {
    if (typeof q.type !== 'string' || !(EXCEPTION_TYPES as readonly string[]).includes(q.type)) {
      throw invalid(
        'query.type',
        `one of ${EXCEPTION_TYPES.join(', ')}`,
        `query parameter type is not an exception type`,
      );
    }
    filter.type = q.type;
  }
  return filter;
}

const DAY_MS = 86_400_000;
/** Longest report range: a year and a day. */
export const MAX_REPORT_DAYS = 367;

/** A report bound: YYYY-MM-DD (UTC midnight) or epoch ms. */
function instant(raw: unknown, name: string): number | undefined {
  if (raw === undefined || raw === '') return undefined;
  if (typeof raw === 'string' && /^\d{4}-\d{2}-\d{2}$/.test(raw)) {
    const ms = Date.parse(`${raw}T00:00:00Z`);
    if (Number.isFinite(ms) && new Date(ms).toISOString().startsWith(raw)) return ms;
  } else if (typeof raw === 'string' && /^\d{1,15}$/.test(raw)) {
    return Number(raw);
  }
  throw invalid(
    `query.${name}`,
    'a UTC date YYYY-MM-DD or epoch milliseconds',
    `query parameter ${name} must be a date (YYYY-MM-DD, UTC) or epoch milliseconds`,
  );
}

/**
 * The range of GET /v1/admin/reports/declines: `from` inclusive, `to`
 * exclusive. A date means its UTC midnight, so `from=2026-11-20&to=2026-11-21`
 * is one day. Default: the last 7 days up to the end of today (UTC).
 */
export function reportRangeOf(query: unknown, now: number): { from: number; to: number } {
  const q = (query ?? {}) as Record<string, unknown>;
  const to = instant(q.to, 'to') ?? (Math.floor(now / DAY_MS) + 1) * DAY_MS;
  const from = instant(q.from, 'from') ?? to - 7 * DAY_MS;
  if (from >= to) throw invalid('query.from', 'before to', 'query parameter from must be before to');
  if (to - from > MAX_REPORT_DAYS * DAY_MS) {
    throw invalid(
      'query.to',
      `at most ${MAX_REPORT_DAYS} days after from`,
      `a report covers at most ${MAX_REPORT_DAYS} days`,
    );
  }
  return { from, to };
}
