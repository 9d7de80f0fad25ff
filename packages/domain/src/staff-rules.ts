/**
 * Staff rules per op kind (docs/staff-and-roles.md, "Staff at the till"):
 * which kinds need a signed-in staff member when the device's location has
 * a roster, and which need one op's approval by a member of a given role.
 * The terminal refuses to record without them; the server checks them again
 * at ingest and raises an exception when a fact recorded offline breaks
 * them (the fact stands).
 *
 * A kind added to the protocol without a line here does not compile; later
 * kinds (ticket void, payout, refund, sale void) declare their approval here.
 */
import type { OpBodies, OpKind, StaffRole } from '@holdfast/protocol';

export interface StaffRule<K extends OpKind = OpKind> {
  /** True: recorded at a location with a roster, the op must name a signed-in staff member (`actor.staff`). */
  signedIn: boolean;
  /**
   * The role whose approval one op of this kind needs (`actor.approvedBy`),
   * or a function of the body saying so per op (null: none needed).
   */
  approval: StaffRole | null | ((body: OpBodies[K]) => StaffRole | null);
  /**
   * The body fields an approval is bound to (what the approver is shown and
   * the till hashes); absent: the whole body. A kind whose body is only
   * complete at recording time (a wristband refund reads the chip's counter
   * and balance then) binds to the fields known before.
   */
  binds?: readonly (keyof OpBodies[K] & string)[];
}

/** Every op kind's staff rule. */
export const STAFF_RULES: { readonly [K in OpKind]: StaffRule<K> } = {
  'shift.opened': { signedIn: true, approval: null },
  'sale.recorded': { signedIn: true, approval: null },
  // Money paid out of the drawer that is not a refund (a supplier, an expense) needs a supervisor.
  'cash.moved': { signedIn: true, approval: (body) => (body.reason === 'paid_out' ? 'supervisor' : null) },
  'shift.closed': { signedIn: true, approval: null },
  'ticket.issued': { signedIn: true, approval: null },
  // A payout is confirmed online (or offline under the betting limit); the clerk who pays is recorded.
  'ticket.paid': { signedIn: true, approval: null },
  // A void gives the stake back: a supervisor approves it, bound to the ticket and the amount.
  'ticket.voided': { signedIn: true, approval: 'supervisor', binds: ['shift', 'ticket', 'currency', 'amount'] },
  'wallet.topped_up': { signedIn: true, approval: null },
  // Money back off a wristband: a supervisor approves each refund.
  'wallet.refunded': { signedIn: true, approval: 'supervisor', binds: ['shift', 'currency', 'sale', 'amount'] },
  // Points ride a sale the clerk just recorded; an offline redemption is within the signed cap.
  'loyalty.points': { signedIn: true, approval: null },
  // Corrections of a sale (docs/corrections.md): a supervisor approves each, bound to the whole body.
  'sale.voided': { signedIn: true, approval: 'supervisor' },
  'sale.refunded': { signedIn: true, approval: 'supervisor' },
  // Stock (docs/catalog-and-stock.md): receiving and counting by the clerk signed in; an adjustment
  // (breakage, a find) changes the books without goods passing the till, so a supervisor approves it.
  'stock.received': { signedIn: true, approval: null },
  'stock.counted': { signedIn: true, approval: null },
  'stock.adjusted': { signedIn: true, approval: 'supervisor' },
  // A top-up reversed gives cash back: a supervisor approves it, bound to the fields known before the
  // chip is written (its counter and balance are read when the clerk taps it).
  'wallet.topup_reversed': {
    signedIn: true,
    approval: 'supervisor',
    binds: ['shift', 'currency', 'wristband', 'topup', 'amount'],
  },
  // A cash movement corrected moves drawer cash back: a supervisor approves it, bound to the whole body.
  'cash.corrected': { signedIn: true, approval: 'supervisor' },
};

/** The role whose approval this op needs, or null. */
export function approvalNeeded<K extends OpKind>(kind: K, body: OpBodies[K]): StaffRole | null {
  const rule: StaffRule<K> = STAFF_RULES[kind];
  return typeof rule.approval === 'function' ? rule.approval(body) : rule.approval;
}

/** True if ops of `kind` need a signed-in staff member where the location has a roster. */
export function needsSignedIn(kind: OpKind): boolean {
  return STAFF_RULES[kind].signedIn;
}

/** What an approval of an op of `kind` with `body` is bound to: the fields STAFF_RULES `binds` names, or the whole body. */
export function approvalBinding<K extends OpKind>(
  kind: K,
  body: OpBodies[K] | Record<string, unknown>,
): Record<string, unknown> {
  const binds = (STAFF_RULES[kind] as StaffRule<K>).binds;
  const record = body as Record<string, unknown>;
  if (!binds) return record;
  const out: Record<string, unknown> = {};
  for (const key of binds) if (record[key] !== undefined) out[key] = record[key];
  return out;
}
