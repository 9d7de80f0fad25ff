/**
 * The card side of the invariant checker. The truth is read from disk: the
 * server's SQLite file (offline_payments, ledger, exceptions) and the
 * processor-sim's own SQLite file (every authorization it ever decided,
 * with its idempotency key and the request it answered).
 *
 *   forwarded-once    every offline payment reached the processor exactly once: one
 *                     authorization under its idempotency key, for its amount,
 *                     currency and card, settled with that authorization's id and
 *                     outcome; no authorization without an offline payment
 *   double-charge     per card token, what the processor captured equals the offline
 *                     payments settled as approved for it
 *   decline-surfaced  each processor decline of an offline payment ⇔ exactly one
 *                     post_auth_decline exception and one payment.declined ledger
 *                     event; each approval ⇔ one payment.settled event
 *   exposure-bound    at every sampling tick, the actual offline exposure (the
 *                     server's, and the fleet's true one) was within the bound,
 *                     per currency and placement
 *   unsettled         nothing is left unsettled after the final drain
 */
import { idempotencyKeyOf, type SqliteStorage } from '@holdfast/server';
import { stamp } from './explain.js';
import type { Violation } from './invariants.js';
import type { SimWorld } from './sim-world.js';

interface PaymentRow {
  op_id: string;
  tender_index: number;
  device: string;
  seq: number;
  amount: number;
  currency: string;
  token: string;
  brand: string;
  last4: string;
  settled_at: number | null;
  outcome: string | null;
  processor_id: string | null;
}

interface ProcessorRecord {
  key: string;
  id: string;
  status: 'approved' | 'declined';
  amount: number;
  currency: string;
  token: string;
  reference: string | null;
}

/** Every authorization in the processor's own store, in creation order. */
export function processorRecords(world: SimWorld): ProcessorRecord[] {
  const cards = world.cards;
  if (!cards) return [];
  const out: ProcessorRecord[] = [];
  for (let after = 0; ; ) {
    const page = cards.processor.storage.list(after, 1000);
    for (const s of page.items) {
      const request = JSON.parse(s.requestJson) as { card: { token: string } };
      out.push({
        key: s.idempotencyKey,
        id: s.authorization.id,
        status: s.authorization.status,
        amount: s.authorization.amount,
        currency: s.authorization.currency,
        token: request.card.token,
        reference: s.authorization.reference ?? null,
      });
    }
    if (page.next === null) return out;
    after = page.next;
  }
}

export function checkCards(world: SimWorld, storage: SqliteStorage, out: Violation[]): void {
  const cards = world.cards;
  if (!cards) return;
  const labelOf = new Map(world.lanes.map((l) => [l.deviceId ?? '', l.label]));
  const where = (p: { device: string; op_id: string; seq: number }) => ({
    device: labelOf.get(p.device) ?? p.device,
    opId: p.op_id,
    seq: p.seq,
  });
  const payments = storage.query<PaymentRow>(
    `SELECT op_id, tender_index, device, seq, amount, currency, token, brand, last4, settled_at, outcome, processor_id
       FROM offline_payments ORDER BY device, seq, tender_index`,
  );
  const records = processorRecords(world);
  const byKey = new Map(records.map((r) => [r.key, r]));
  const used = new Set<string>();

  // forwarded-once and unsettled
  for (const p of payments) {
    const key = idempotencyKeyOf({ opId: p.op_id, tenderIndex: p.tender_index });
    const r = byKey.get(key);
    const what = `offline payment ${p.op_id}/${p.tender_index} (${p.amount} ${p.currency}, ${p.brand} ****${p.last4})`;
    if (p.settled_at === null) {
      out.push({ rule: 'unsettled', ...where(p), message: `${what} is still unsettled after the final drain` });
    }
    if (!r) {
      out.push({
        rule: 'forwarded-once',
        ...where(p),
        message: `${what} never reached the processor (no authorization under ${key})`,
      });
      continue;
    }
    used.add(key);
    if (r.amount !== p.amount || r.currency !== p.currency || r.token !== p.token) {
      out.push({
        rule: 'forwarded-once',
        ...where(p),
        message: `${what}: the processor authorized ${r.amount} ${r.currency} on another card or amount (${r.id})`,
      });
    }
    if (p.settled_at !== null && (p.outcome !== r.status || p.processor_id !== r.id)) {
      out.push({
        rule: 'forwarded-once',
        ...where(p),
        message: `${what} is settled ${p.outcome} with ${p.processor_id}, but the processor holds ${r.id} ${r.status}`,
      });
    }
  }
  const deviceOfOp = new Map(payments.map((p) => [p.op_id, p]));
  for (const r of records) {
    if (used.has(r.key)) continue;
    const p = r.reference ? deviceOfOp.get(r.reference) : undefined;
    out.push({
      rule: 'forwarded-once',
      ...(p ? where(p) : r.reference ? { opId: r.reference } : {}),
      message: `the processor holds authorization ${r.id} (${r.status}, ${r.amount} ${r.currency}) under key ${r.key}, which is no offline payment's key${r.reference ? ` (reference ${r.reference})` : ''}`,
    });
  }

  // double-charge: per card, captured by the processor = settled approved offline payments
  const captured = new Map<string, { amount: number; ids: string[] }>();
  for (const r of records) {
    if (r.status !== 'approved') continue;
    const c = captured.get(r.token) ?? { amount: 0, ids: [] };
    c.amount += r.amount;
    c.ids.push(r.id);
    captured.set(r.token, c);
  }
  const settled = new Map<string, { amount: number; row: PaymentRow }>();
  for (const p of payments) {
    if (p.outcome !== 'approved') continue;
    const s = settled.get(p.token) ?? { amount: 0, row: p };
    s.amount += p.amount;
    settled.set(p.token, s);
  }
  for (const [token, c] of captured) {
    const s = settled.get(token);
    if ((s?.amount ?? 0) !== c.amount) {
      const card = cards.pool.cards.find((x) => x.token === token);
      out.push({
        rule: 'double-charge',
        ...(s ? where(s.row) : {}),
        message: `card ${card ? `${card.brand} ****${card.last4}` : '(unknown)'}: the processor captured ${c.amount} (${c.ids.length} authorizations) but the settled offline payments for it total ${s?.amount ?? 0}`,
      });
    }
  }

  // decline-surfaced
  const exceptions = countBy(
    storage.query<{ k: string; n: number }>(
      `SELECT op_id || ':' || json_extract(detail, '$.tenderIndex') AS k, COUNT(*) AS n FROM exceptions
        WHERE type = 'post_auth_decline' GROUP BY k`,
    ),
  );
  const events = countBy(
    storage.query<{ k: string; n: number }>(
      `SELECT type || ' ' || op_id || ':' || json_extract(data, '$.tenderIndex') AS k, COUNT(*) AS n FROM ledger
        WHERE type IN ('payment.settled', 'payment.declined') GROUP BY k`,
    ),
  );
  for (const p of payments) {
    if (p.settled_at === null) continue;
    const k = `${p.op_id}:${p.tender_index}`;
    const r = byKey.get(idempotencyKeyOf({ opId: p.op_id, tenderIndex: p.tender_index }));
    const declined = (r?.status ?? p.outcome) === 'declined';
    const want = { exception: declined ? 1 : 0, declined: declined ? 1 : 0, settled: declined ? 0 : 1 };
    const got = {
      exception: take(exceptions, k),
      declined: take(events, `payment.declined ${k}`),
      settled: take(events, `payment.settled ${k}`),
    };
    if (got.exception !== want.exception || got.declined !== want.declined || got.settled !== want.settled) {
      out.push({
        rule: 'decline-surfaced',
        ...where(p),
        message: `offline payment ${k} was ${declined ? 'declined' : 'approved'} by the processor; the server holds ${got.exception} post_auth_decline exceptions, ${got.declined} payment.declined and ${got.settled} payment.settled events (want ${want.exception}, ${want.declined}, ${want.settled})`,
      });
    }
  }
  for (const [k, n] of [...exceptions, ...events]) {
    if (n > 0)
      out.push({
        rule: 'decline-surfaced',
        message: `${n} settlement record(s) "${k}" for no settled offline payment`,
      });
  }

  // exposure-bound
  for (const b of cards.breaches.slice(0, 20)) {
    out.push({
      rule: 'exposure-bound',
      message: `at ${stamp(b.at - world.plan.start)} the ${b.source === 'server' ? "server's" : "fleet's true"} offline exposure of ${b.group} was ${b.amount} in ${b.count} payments, above the bound ${b.boundAmount} / ${b.boundCount}`,
    });
  }
  for (const e of world.server.roundErrors.slice(0, 20)) {
    out.push({
      rule: 'server-error',
      message: `forwarding round failed at ${stamp(e.at - world.plan.start)}: ${e.error instanceof Error ? e.error.message : String(e.error)}`,
    });
  }
}

function countBy(rows: readonly { k: string; n: number }[]): Map<string, number> {
  return new Map(rows.map((r) => [r.k, Number(r.n)]));
}

/** The count under `k`, removed (what is left at the end matched nothing). */
function take(counts: Map<string, number>, k: string): number {
  const n = counts.get(k) ?? 0;
  counts.delete(k);
  return n;
}
