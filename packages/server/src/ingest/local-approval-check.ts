/**
 * The local approval check: re-evaluates, op after op of one batch, each
 * accepted op whose terminal approved it locally against the policy it names
 * (reevaluate-approval.ts holds the rules).
 *
 * Which cards to re-evaluate needs no knowledge of op kinds: they are the
 * card payments the op's applier held offline (a sale's card tenders, a card
 * top-up), the last entries of the plan's offline payments. Every payment
 * held before them was held when this op was recorded, so it joins the
 * exposure first.
 */
import type { Op } from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';
import type { OfflinePaymentRecord } from '../model/offline-payment.js';
import type { ApprovalFacts } from './ingest-facts.js';
import {
  type ApprovedCard,
  HeldExposure,
  type PolicyBreach,
  type ReevaluationInput,
  reevaluateLocalApproval,
} from './reevaluate-approval.js';

/** Built on the batch's first local approval: loading the held exposure costs a pass over the device's unsettled payments. */
export class LocalApprovalCheck {
  /** The device's unsettled offline approvals, grown with the batch's own. */
  readonly #held: HeldExposure;
  /** How many of the plan's offline payments are in #held. */
  #counted = 0;
  readonly #policies: ReevaluationInput['policies'];
  readonly #placement: ReevaluationInput['placement'];

  constructor(facts: ApprovalFacts | undefined, device: DeviceRecord) {
    this.#held = new HeldExposure(facts?.held);
    this.#policies = facts?.policies ?? new Map();
    this.#placement =
      device.merchant === null ? null : { merchant: device.merchant, location: device.location, event: device.event };
  }

  /** The policy `op` broke, or null; `payments` are the plan's offline payments, `op`'s own last. */
  breach(op: Op, payments: readonly OfflinePaymentRecord[]): PolicyBreach | null {
    let own = payments.length;
    while (own > this.#counted && payments[own - 1]?.opId === op.id) own--;
    for (; this.#counted < own; this.#counted++) {
      const p = payments[this.#counted] as OfflinePaymentRecord;
      const id = `${p.opId}/${p.tenderIndex}`;
      this.#held.add({
        id,
        seq: p.seq,
        amount: p.amount,
        currency: p.currency,
        token: p.token,
        approvedAt: p.approvedAt,
      });
    }
    const cards: ApprovedCard[] = [];
    for (let i = own; i < payments.length; i++) {
      const p = payments[i] as OfflinePaymentRecord;
      cards.push({ tenderIndex: p.tenderIndex, amount: p.amount, token: p.token });
    }
    return reevaluateLocalApproval({
      op,
      currency: payments[own]?.currency ?? null,
      cards,
      policies: this.#policies,
      placement: this.#placement,
      held: this.#held,
    });
  }
}
