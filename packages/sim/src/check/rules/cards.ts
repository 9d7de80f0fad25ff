/**
 * The card rules: the server's offline payments, ledger and exceptions
 * against the processor's own records (every authorization it ever decided,
 * with its idempotency key and the request it answered). Without processor
 * records (no card traffic) there is nothing to judge.
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
 *   unsettled         nothing is left unsettled after the final drain
 */
import { idempotencyKeyOf } from '@holdfast/server';
import type { OfflinePaymentRow, Truth } from '../truth.js';
import { indexTruth } from '../truth-index.js';
import type { Violation } from '../violation.js';

export function cardRules(truth: Truth): Violation[] {
  const records = truth.processor;
  if (!records) return [];
  const out: Violation[] = [];
  const index = indexTruth(truth);
  const where = (p: { device: string; opId: string; seq: number }) => ({
    device: index.labelOf(p.device),
    opId: p.opId,
    seq: p.seq,
  });
  const payments = truth.server.offlinePayments;
  const byKey = new Map(records.map((r) => [r.key, r]));
  const used = new Set<string>();

  // forwarded-once and unsettled
  for (const p of payments) {
    const key = idempotencyKeyOf({ opId: p.opId, tenderIndex: p.tenderIndex });
    const r = byKey.get(key);
    const what = `offline payment ${p.opId}/${p.tenderIndex} (${p.amount} ${p.currency}, ${p.brand} ****${p.last4})`;
    if (p.settledAt === null) {
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
    if (p.settledAt !== null && (p.outcome !== r.status || p.processorId !== r.id)) {
      out.push({
        rule: 'forwarded-once',
        ...where(p),
        message: `${what} is settled ${p.outcome} with ${p.processorId}, but the processor holds ${r.id} ${r.status}`,
      });
    }
  }
  const deviceOfOp = new Map(payments.map((p) => [p.opId, p]));
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
  const settled = new Map<string, { amount: number; row: OfflinePaymentRow }>();
  for (const p of payments) {
    if (p.outcome !== 'approved') continue;
    const s = settled.get(p.token) ?? { amount: 0, row: p };
    s.amount += p.amount;
    settled.set(p.token, s);
  }
  for (const [token, c] of captured) {
    const s = settled.get(token);
    if ((s?.amount ?? 0) !== c.amount) {
      const card = truth.run?.cardNames.get(token);
      out.push({
        rule: 'double-charge',
        ...(s ? where(s.row) : {}),
        message: `card ${card ?? '(unknown)'}: the processor captured ${c.amount} (${c.ids.length} authorizations) but the settled offline payments for it total ${s?.amount ?? 0}`,
      });
    }
  }

  // decline-surfaced
  const exceptions = new Map<string, number>();
  for (const x of truth.server.exceptions) {
    if (x.type !== 'post_auth_decline') continue;
    const k = joinKey(x.opId, x.detail.tenderIndex);
    exceptions.set(k, (exceptions.get(k) ?? 0) + 1);
  }
  const events = new Map<string, number>();
  for (const l of truth.server.ledger) {
    if (l.type !== 'payment.settled' && l.type !== 'payment.declined') continue;
    const k = `${l.type} ${joinKey(l.opId, l.data.tenderIndex)}`;
    events.set(k, (events.get(k) ?? 0) + 1);
  }
  for (const p of payments) {
    if (p.settledAt === null) continue;
    const k = `${p.opId}:${p.tenderIndex}`;
    const r = byKey.get(idempotencyKeyOf({ opId: p.opId, tenderIndex: p.tenderIndex }));
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
  return out;
}

/** `opId:tenderIndex`, or "null" when either is missing (as SQL's || would give NULL). */
function joinKey(opId: string | null, tenderIndex: unknown): string {
  return opId === null || tenderIndex === undefined || tenderIndex === null ? 'null' : `${opId}:${String(tenderIndex)}`;
}

/** The count under `k`, removed (what is left at the end matched nothing). */
function take(counts: Map<string, number>, k: string): number {
  const n = counts.get(k) ?? 0;
  counts.delete(k);
  return n;
}
