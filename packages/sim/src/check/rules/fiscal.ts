/**
 * E-invoicing (docs/e-invoicing.md), judged when the run had a tax
 * authority (`truth.fiscal`):
 *
 *   fiscal-once   every accepted sale is a bill; every bill the authority
 *                 answered is recorded on the server with that answer;
 *                 no bill registered twice at the authority (one bill id,
 *                 one registration) and no fiscal number on two bills
 *   fiscal-order  per device, fiscal numbers rise with seq
 *
 * Credit notes (refunds, voids, cancellations) the same way: every one the
 * server holds registered carries a number the authority gave it (under
 * its own id), none registered twice, no number on two documents
 * (fiscal-once), and each after its bill (fiscal-order).
 */
import type { Truth } from '../truth.js';
import type { Violation } from '../violation.js';

/** The authority's registrations per bill id (what `fiscal-once` counts as twice when above 1). */
export function billsRegisteredTwice(truth: Truth): number {
  const per = new Map<string, number>();
  for (const r of truth.fiscal ?? []) {
    if (r.status === 'registered') per.set(r.billId, (per.get(r.billId) ?? 0) + 1);
  }
  let twice = 0;
  for (const n of per.values()) if (n > 1) twice += n - 1;
  return twice;
}

export function fiscalRules(truth: Truth): Violation[] {
  if (!truth.fiscal) return [];
  const out: Violation[] = [];
  const bills = new Map(truth.server.fiscalBills.map((b) => [b.opId, b]));
  for (const op of truth.server.ops) {
    if (op.kind === 'sale.recorded' && op.status === 'accepted' && !bills.has(op.id)) {
      out.push({ rule: 'fiscal-once', opId: op.id, seq: op.seq, message: `sale ${op.id} was never made a bill` });
    }
  }
  const registrations = new Map<string, FiscalRegistration[]>();
  for (const r of truth.fiscal) {
    if (r.status !== 'registered') continue;
    registrations.set(r.billId, [...(registrations.get(r.billId) ?? []), { key: r.key, number: r.fiscalNumber }]);
  }
  for (const [billId, regs] of registrations) {
    if (regs.length > 1) {
      out.push({
        rule: 'fiscal-once',
        opId: billId,
        message: `bill ${billId} was registered ${regs.length} times (${regs.map((r) => `${r.number} under ${r.key}`).join(', ')})`,
      });
    }
  }
  const holders = new Map<string, string>();
  for (const b of truth.server.fiscalBills) {
    const regs = registrations.get(b.opId) ?? [];
    if (b.state === 'registered') {
      if (b.fiscalNumber === null || !regs.some((r) => r.number === b.fiscalNumber)) {
        out.push({
          rule: 'fiscal-once',
          opId: b.opId,
          seq: b.seq,
          message: `bill ${b.opId} holds fiscal number ${String(b.fiscalNumber)}, which the authority never gave it`,
        });
      }
      if (b.fiscalNumber !== null) {
        const other = holders.get(b.fiscalNumber);
        if (other !== undefined) {
          out.push({
            rule: 'fiscal-once',
            opId: b.opId,
            seq: b.seq,
            message: `fiscal number ${b.fiscalNumber} is on two bills, ${other} and ${b.opId}`,
          });
        }
        holders.set(b.fiscalNumber, b.opId);
      }
    } else if (regs.length > 0) {
      out.push({
        rule: 'fiscal-once',
        opId: b.opId,
        seq: b.seq,
        message: `the authority registered bill ${b.opId} (${regs[0]?.number}) but the server holds it ${b.state}`,
      });
    }
  }
  const billSequence = new Map(truth.server.fiscalBills.map((b) => [b.opId, b.fiscalSequence]));
  for (const n of truth.server.fiscalCreditNotes ?? []) {
    const regs = registrations.get(n.opId) ?? [];
    if (n.state === 'registered') {
      if (n.fiscalNumber === null || !regs.some((r) => r.number === n.fiscalNumber)) {
        out.push({
          rule: 'fiscal-once',
          opId: n.opId,
          message: `credit note ${n.opId} holds fiscal number ${String(n.fiscalNumber)}, which the authority never gave it`,
        });
      }
      if (n.fiscalNumber !== null) {
        const other = holders.get(n.fiscalNumber);
        if (other !== undefined) {
          out.push({
            rule: 'fiscal-once',
            opId: n.opId,
            message: `fiscal number ${n.fiscalNumber} is on two documents, ${other} and credit note ${n.opId}`,
          });
        }
        holders.set(n.fiscalNumber, n.opId);
      }
      const bill = billSequence.get(n.billOpId) ?? null;
      if (n.fiscalSequence !== null && bill !== null && n.fiscalSequence <= bill) {
        out.push({
          rule: 'fiscal-order',
          opId: n.opId,
          message: `credit note ${n.opId} got fiscal sequence ${n.fiscalSequence}, not after its bill's ${bill}`,
        });
      }
    } else if (regs.length > 0) {
      out.push({
        rule: 'fiscal-once',
        opId: n.opId,
        message: `the authority registered credit note ${n.opId} (${regs[0]?.number}) but the server holds it ${n.state}`,
      });
    }
  }
  const last = new Map<string, { seq: number; sequence: number }>();
  for (const b of truth.server.fiscalBills) {
    if (b.state !== 'registered' || b.fiscalSequence === null) continue;
    const before = last.get(b.device);
    if (before && b.fiscalSequence <= before.sequence) {
      out.push({
        rule: 'fiscal-order',
        opId: b.opId,
        seq: b.seq,
        message: `bill #${b.seq} got fiscal sequence ${b.fiscalSequence}, not after #${before.seq}'s ${before.sequence}`,
      });
    }
    last.set(b.device, { seq: b.seq, sequence: b.fiscalSequence });
  }
  return out;
}

interface FiscalRegistration {
  key: string;
  number: string | null;
}
