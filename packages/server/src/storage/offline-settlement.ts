/**
 * What settling an offline payment writes, shared by every backend: the
 * ledger event for the audit trail and, for a decline after the fact, the
 * `post_auth_decline` exception an operator must act on. Pure: the
 * backends read the payment row and write these inside their own
 * transaction.
 */

import type { InjectedBugs } from '@holdfast/domain';
import { formatMoney } from '@holdfast/protocol';
import type { ExceptionRecord } from '../model/exception.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { StoredOfflinePayment } from '../model/offline-payment.js';
import type { PaymentSettlement, RefuseRequest, SettleRequest } from '../model/payment-forwarding.js';

/** What the sale of a payment adds to its exceptions: its shift and the customer's contact, if captured. */
export interface SaleContext {
  shift: string | null;
  customer: Record<string, unknown> | null;
}

/**
 * The sale context from the op's stored envelope (canonical JSON; null if
 * the op is missing). The envelope was validated at ingest; this only picks.
 */
export function saleContextOf(envelope: string | null | undefined): SaleContext {
  if (typeof envelope !== 'string') return { shift: null, customer: null };
  const body = (JSON.parse(envelope) as { body?: Record<string, unknown> }).body ?? {};
  const customer = body.customer;
  return {
    shift: typeof body.shift === 'string' ? body.shift : null,
    customer: typeof customer === 'object' && customer !== null ? (customer as Record<string, unknown>) : null,
  };
}

/** Stored `outcome` column → settlement fields (the processor id and decline code have their own columns). */
export function storedSettlement(row: {
  outcome: string | null;
  processorId: string | null;
  declineCode: string | null;
  settledAt: number | null;
}): PaymentSettlement | null {
  if (row.settledAt === null || (row.outcome !== 'approved' && row.outcome !== 'declined')) return null;
  return {
    status: row.outcome,
    processorId: row.processorId ?? '',
    ...(row.declineCode !== null ? { declineCode: row.declineCode } : {}),
    at: row.settledAt,
  };
}

export interface SettlementWrites {
  ledger: LedgerEvent;
  exception: ExceptionRecord | null;
}

/**
 * The ledger event and (for a decline) the exception of settling `payment`,
 * sold as `sale` tells. `bugs` are the deliberate bugs the storage was
 * built with (the simulator's bug-injection runs only).
 */
export function settlementWrites(
  payment: StoredOfflinePayment,
  request: SettleRequest,
  sale: SaleContext,
  bugs: InjectedBugs,
): SettlementWrites {
  const { settlement } = request;
  const declined = settlement.status === 'declined';
  const ledger: LedgerEvent = {
    opId: payment.opId,
    device: payment.device,
    seq: payment.seq,
    type: declined ? 'payment.declined' : 'payment.settled',
    shiftId: null,
    currency: payment.currency,
    amount: payment.amount,
    data: {
      tenderIndex: payment.tenderIndex,
      processorId: settlement.processorId,
      ...(settlement.declineCode !== undefined ? { declineCode: settlement.declineCode } : {}),
      settledBy: request.owner,
    },
    deviceAt: payment.approvedAt,
    appliedAt: settlement.at,
  };
  // Deliberate bug 'decline-without-exception' (only when given in `bugs`): the decline is recorded but nobody is told.
  if (!declined || bugs.has('decline-without-exception')) return { ledger, exception: null };
  const code = settlement.declineCode ?? 'unknown';
  return {
    ledger,
    exception: {
      id: request.exceptionId,
      type: 'post_auth_decline',
      severity: 'alarm',
      device: payment.device,
      opId: payment.opId,
      seq: payment.seq,
      message: `offline-approved ${payment.brand} ****${payment.last4} payment of ${formatMoney(payment.amount, payment.currency)} was declined by the processor (${code}); the customer has the goods`,
      detail: {
        opId: payment.opId,
        tenderIndex: payment.tenderIndex,
        device: payment.device,
        seq: payment.seq,
        shift: sale.shift,
        amount: payment.amount,
        currency: payment.currency,
        brand: payment.brand,
        last4: payment.last4,
        customer: sale.customer,
        declineCode: code,
        processorId: settlement.processorId,
      },
      raisedAt: settlement.at,
      dedupeKey: `post_auth_decline:${payment.opId}:${payment.tenderIndex}`,
    },
  };
}

/**
 * The `payment_refused` alarm of a permanent refusal: the processor will
 * never take this request, so the money is not collected until an
 * operator acts. Not a decline: no card was declined, no ledger event.
 */
export function refusalException(
  payment: StoredOfflinePayment,
  request: RefuseRequest,
  sale: SaleContext,
): ExceptionRecord {
  return {
    id: request.exceptionId,
    type: 'payment_refused',
    severity: 'alarm',
    device: payment.device,
    opId: payment.opId,
    seq: payment.seq,
    message: `the processor refused the offline-approved ${payment.brand} ****${payment.last4} payment of ${formatMoney(payment.amount, payment.currency)} (HTTP ${request.status} ${request.code}); it will not be sent again`,
    detail: {
      opId: payment.opId,
      tenderIndex: payment.tenderIndex,
      device: payment.device,
      seq: payment.seq,
      shift: sale.shift,
      amount: payment.amount,
      currency: payment.currency,
      brand: payment.brand,
      last4: payment.last4,
      customer: sale.customer,
      code: request.code,
      status: request.status,
      field: request.field,
      processorMessage: request.message,
      attempts: payment.attempts,
    },
    raisedAt: request.at,
    dedupeKey: `payment_refused:${payment.opId}:${payment.tenderIndex}`,
  };
}
