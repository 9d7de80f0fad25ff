/**
 * The card-refund outbox (model/card-refund.ts, docs/corrections.md "Card
 * refunds at the processor"), for every backend: enrolling the card part
 * of each counted `sale.voided` / `sale.refunded` and each card top-up's
 * `wallet.topup_reversed` (`tender: 'card'`), claiming due rows under
 * a lease with what the sale's card payment was captured as, recording
 * the processor's answer once, backing off. Each runs in one transaction.
 *
 * A correction is enrolled once its sale is stored (a refund held for a
 * sale not received yet waits, unenrolled). The claim is a conditional
 * UPDATE (unclaimed or lease expired), so two processes never both hold a
 * row; the processor's idempotency key (`cardRefundKeyOf`) makes a second
 * sending of one row the same refund anyway.
 */
import type {
  SaleBody,
  SaleRefundedBody,
  SaleVoidedBody,
  WalletToppedUpBody,
  WalletTopUpReversedBody,
} from '@holdfast/protocol';
import type {
  CardCapture,
  CardRefund,
  CardRefundAnswerRequest,
  CardRefundDeferRequest,
  CardRefundState,
  ClaimedCardRefund,
} from '../../../model/card-refund.js';
import type { ExceptionRecord } from '../../../model/exception.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';
import { raiseExceptions } from './feed-writes.js';

export function cardRefundOf(r: Row): CardRefund {
  return {
    opId: r.op_id as string,
    tenderIndex: int(r.tender_index),
    kind: r.kind as CardRefund['kind'],
    saleOpId: r.sale_op_id as string,
    device: r.device as string,
    seq: int(r.seq),
    amount: int(r.amount),
    currency: r.currency as string,
    enrolledAt: int(r.enrolled_at),
    state: r.state as CardRefundState,
    attempts: int(r.attempts),
    nextAttemptAt: int(r.next_attempt_at),
    lastError: textOrNull(r.last_error),
    claimedBy: textOrNull(r.claimed_by),
    claimExpiresAt: intOrNull(r.claim_expires_at),
    authorizationId: textOrNull(r.authorization_id),
    refundId: textOrNull(r.refund_id),
    declineCode: textOrNull(r.decline_code),
    declineMessage: textOrNull(r.decline_message),
    settledAt: intOrNull(r.settled_at),
  };
}

interface Part {
  tenderIndex: number;
  amount: number;
}

/**
 * Which card tenders of `sale` a correction refunds, and how much each: a
 * void's `card` spread over the sale's card tenders in order (each up to
 * its amount); a card refund on the tender paid by the refund's card.
 * A string: why no card tender of the sale can take it.
 */
export function refundParts(
  kind: 'void' | 'refund',
  body: SaleVoidedBody | SaleRefundedBody,
  sale: SaleBody,
): Part[] | string {
  const cards = sale.tenders.flatMap((t, i) => (t.type === 'card' ? [{ i, t }] : []));
  if (cards.length === 0) return 'the sale was not paid by card';
  if (kind === 'void') {
    let left = (body as SaleVoidedBody).card;
    const parts: Part[] = [];
    for (const { i, t } of cards) {
      if (left === 0) break;
      const amount = Math.min(left, t.amount);
      parts.push({ tenderIndex: i, amount });
      left -= amount;
    }
    // More than the sale's card tenders: the rest on the last one, for the processor to refuse above its capture.
    const last = parts[parts.length - 1];
    if (left > 0 && last) last.amount += left;
    return parts;
  }
  const refund = body as SaleRefundedBody;
  const match = cards.find(({ t }) => t.type === 'card' && t.token === refund.card?.token);
  if (!match) return 'the refund names a card that did not pay the sale';
  return [{ tenderIndex: match.i, amount: refund.amount }];
}

const insertSql = (d: SqlDialect) => `${d.insertIgnoring.verb} INTO card_refunds (op_id, tender_index, kind,
    sale_op_id, device, seq, amount, currency, enrolled_at, state, decline_code, decline_message, settled_at)
  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) ${d.insertIgnoring.tail}`;

/**
 * Enrolls the card part of each accepted `sale.voided` / `sale.refunded`
 * whose sale is stored and that has no row yet (at most `limit` ops); a
 * correction no card tender of its sale can take is enrolled `declined`
 * with a `card_refund_declined` alarm. Returns how many rows it made. A
 * row exists once per (op, tender) (primary key): two processes enrolling
 * at once make one. `exceptionIds`: at least `limit` fresh ids for those alarms.
 */
export function* enrollCardRefunds(
  d: SqlDialect,
  now: number,
  limit: number,
  exceptionIds: readonly string[],
): SqlOperation<number> {
  let ids = 0;
  const newId = () => {
    const id = exceptionIds[ids++];
    if (id === undefined) throw new RangeError('enrollCardRefunds: give at least `limit` exception ids');
    return id;
  };
  if (exceptionIds.length < limit) throw new RangeError('enrollCardRefunds: give at least `limit` exception ids');
  const rows = yield* all(
    `SELECT c.id, c.device, c.seq, c.kind, c.envelope, s.envelope AS sale_envelope
     FROM ops c
     JOIN sale_corrections sc ON sc.op_id = c.id
     JOIN ops s ON s.id = sc.sale_op_id AND s.kind = 'sale.recorded' AND s.status = 'accepted'
     WHERE c.status = 'accepted'
       AND ((c.kind = 'sale.refunded' AND c.envelope LIKE '%"tender":"card"%')
         OR (c.kind = 'sale.voided' AND c.envelope NOT LIKE '%"card":0,%'))
       AND NOT EXISTS (SELECT 1 FROM card_refunds r WHERE r.op_id = c.id)
     ORDER BY c.device, c.seq LIMIT $1`,
    [limit],
  );
  let made = 0;
  for (const r of rows) {
    const kind = r.kind === 'sale.voided' ? 'void' : 'refund';
    const body = (JSON.parse(r.envelope as string) as { body: SaleVoidedBody | SaleRefundedBody }).body;
    const sale = (JSON.parse(r.sale_envelope as string) as { body: SaleBody }).body;
    const base = [r.id, kind, body.sale, r.device, int(r.seq)];
    const parts = refundParts(kind, body, sale);
    if (typeof parts === 'string') {
      const amount = kind === 'void' ? (body as SaleVoidedBody).card : (body as SaleRefundedBody).amount;
      const changed = yield* run(insertSql(d), [
        base[0],
        0,
        base[1],
        base[2],
        base[3],
        base[4],
        amount,
        body.currency,
        now,
        'declined',
        'card_mismatch',
        parts,
        now,
      ]);
      if (changed === 1) {
        made++;
        yield* raiseExceptions(d, [
          declinedException(
            {
              opId: r.id as string,
              tenderIndex: 0,
              saleOpId: body.sale,
              device: r.device as string,
              seq: int(r.seq),
              amount,
              currency: body.currency,
              kind,
            },
            'card_mismatch',
            parts,
            newId(),
            now,
          ),
        ]);
      }
      continue;
    }
    for (const part of parts) {
      made += yield* run(insertSql(d), [
        base[0],
        part.tenderIndex,
        base[1],
        base[2],
        base[3],
        base[4],
        part.amount,
        body.currency,
        now,
        'pending',
        null,
        null,
        null,
      ]);
    }
  }
  return made + (yield* enrollTopUpReversals(d, now, limit - rows.length, newId));
}

/**
 * Enrolls each accepted card top-up reversal (`wallet.topup_reversed` with
 * `tender: 'card'`) whose top-up is stored: one `refund` row on the top-up's
 * card payment (its op id in `sale_op_id`, tender 0: the top-up's card
 * payment is forwarded as offline payment 0 of its op), so the refunder
 * gives it back to the top-up's card once, like a sale's card refund. A
 * top-up not paid by card is enrolled `declined` (`card_mismatch`) with an alarm.
 */
function* enrollTopUpReversals(d: SqlDialect, now: number, limit: number, newId: () => string): SqlOperation<number> {
  if (limit <= 0) return 0;
  const rows = yield* all(
    `SELECT c.id, c.device, c.seq, c.envelope, t.envelope AS topup_envelope
     FROM ops c
     JOIN topup_reversals tr ON tr.op_id = c.id
     JOIN ops t ON t.id = tr.topup_op_id AND t.kind = 'wallet.topped_up' AND t.status = 'accepted'
     WHERE c.status = 'accepted' AND c.kind = 'wallet.topup_reversed' AND c.envelope LIKE '%"tender":"card"%'
       AND NOT EXISTS (SELECT 1 FROM card_refunds r WHERE r.op_id = c.id)
     ORDER BY c.device, c.seq LIMIT $1`,
    [limit],
  );
  let made = 0;
  for (const r of rows) {
    const body = (JSON.parse(r.envelope as string) as { body: WalletTopUpReversedBody }).body;
    const topUp = (JSON.parse(r.topup_envelope as string) as { body: WalletToppedUpBody }).body;
    const why = topUp.paid === 'card' ? null : `top-up ${body.topup} was paid by ${topUp.paid}, not by card`;
    const changed = yield* run(insertSql(d), [
      r.id,
      0,
      'refund',
      body.topup,
      r.device,
      int(r.seq),
      body.amount,
      body.currency,
      now,
      why === null ? 'pending' : 'declined',
      why === null ? null : 'card_mismatch',
      why,
      why === null ? null : now,
    ]);
    made += changed;
    if (changed === 1 && why !== null) {
      yield* raiseExceptions(d, [
        declinedException(
          {
            opId: r.id as string,
            tenderIndex: 0,
            saleOpId: body.topup,
            device: r.device as string,
            seq: int(r.seq),
            amount: body.amount,
            currency: body.currency,
            kind: 'refund',
          },
          'card_mismatch',
          why,
          newId(),
          now,
          'wallet.topped_up',
        ),
      ]);
    }
  }
  return made;
}

/** What tender `tenderIndex` of sale `sale` was captured as at the processor (see CardCapture). */
function* captureOf(sale: string, tenderIndex: number): SqlOperation<CardCapture> {
  const offline = yield* one(
    'SELECT outcome, processor_id, refused_at FROM offline_payments WHERE op_id = $1 AND tender_index = $2',
    [sale, tenderIndex],
  );
  if (offline) {
    if (offline.outcome === 'approved' && typeof offline.processor_id === 'string') {
      return { kind: 'captured', authorizationId: offline.processor_id };
    }
    if (offline.outcome === 'declined') return { kind: 'none', why: 'the processor declined the sale’s card payment' };
    if (offline.refused_at !== null && offline.refused_at !== undefined) {
      return { kind: 'none', why: 'the processor refused the sale’s card payment' };
    }
    return { kind: 'waiting', why: 'the sale’s offline card payment is not forwarded yet' };
  }
  const online = yield* one(
    `SELECT status, processor_id FROM online_authorizations WHERE op_id = $1 AND kind = 'card'`,
    [sale],
  );
  if (online) {
    if (online.status === 'approved' && typeof online.processor_id === 'string') {
      return { kind: 'captured', authorizationId: online.processor_id };
    }
    if (online.status === 'declined') return { kind: 'none', why: 'the sale’s card payment was declined online' };
    return { kind: 'waiting', why: 'the sale’s online card authorization is not answered yet' };
  }
  return { kind: 'none', why: 'no card payment of the sale reached the processor' };
}

/** Claims up to `limit` due pending rows not leased by another, each with its sale's capture. */
export function* claimCardRefunds(
  owner: string,
  now: number,
  leaseMs: number,
  limit: number,
): SqlOperation<ClaimedCardRefund[]> {
  const candidates = yield* all(
    `SELECT op_id, tender_index FROM card_refunds
     WHERE state = 'pending' AND next_attempt_at <= $1 AND (claimed_by IS NULL OR claim_expires_at <= $1)
     ORDER BY enrolled_at, device, seq, tender_index LIMIT $2`,
    [now, limit],
  );
  const claimed: ClaimedCardRefund[] = [];
  for (const c of candidates) {
    const changed = yield* run(
      `UPDATE card_refunds SET claimed_by = $1, claim_expires_at = $2
       WHERE op_id = $3 AND tender_index = $4 AND state = 'pending' AND (claimed_by IS NULL OR claim_expires_at <= $5)`,
      [owner, now + leaseMs, c.op_id, c.tender_index, now],
    );
    if (changed !== 1) continue;
    const row = cardRefundOf(
      (yield* one('SELECT * FROM card_refunds WHERE op_id = $1 AND tender_index = $2', [
        c.op_id,
        c.tender_index,
      ])) as Row,
    );
    claimed.push({ ...row, capture: yield* captureOf(row.saleOpId, row.tenderIndex) });
  }
  return claimed;
}

/** A transient failure (or a capture not answered yet): backoff stored and the claim released, if `owner` holds it. */
export function* deferCardRefund(r: CardRefundDeferRequest): SqlOperation<boolean> {
  const changed = yield* run(
    `UPDATE card_refunds SET attempts = $1, next_attempt_at = $2, last_error = $3, claimed_by = NULL,
       claim_expires_at = NULL
     WHERE op_id = $4 AND tender_index = $5 AND claimed_by = $6 AND state = 'pending'`,
    [r.attempts, r.nextAttemptAt, r.error, r.opId, r.tenderIndex, r.owner],
  );
  return changed === 1;
}

function declinedException(
  r: Pick<CardRefund, 'opId' | 'tenderIndex' | 'saleOpId' | 'device' | 'seq' | 'amount' | 'currency' | 'kind'>,
  code: string,
  message: string,
  id: string,
  at: number,
  /** The kind of the op `saleOpId` names: a card top-up's reversal refunds a `wallet.topped_up`. */
  original: string = 'sale.recorded',
): ExceptionRecord {
  const what =
    original === 'wallet.topped_up'
      ? `top-up reversal of card top-up ${r.saleOpId}`
      : `${r.kind === 'void' ? 'part of a void' : 'refund'} of sale ${r.saleOpId}`;
  return {
    id,
    type: 'card_refund_declined',
    severity: 'alarm',
    device: r.device,
    opId: r.opId,
    seq: r.seq,
    message: `the card ${what} was not refunded by the processor (${code}): ${message}`,
    detail: {
      sale: r.saleOpId,
      kind: r.kind,
      tenderIndex: r.tenderIndex,
      amount: r.amount,
      currency: r.currency,
      code,
      reason: message,
    },
    raisedAt: at,
    dedupeKey: `card_refund_declined:${r.opId}:${r.tenderIndex}`,
  };
}

/**
 * Records the processor's answer for a row, once: the first answer sets
 * the state (declined: a `card_refund_declined` alarm); a row answered
 * already is left as it was (the key made the same refund). Returns the
 * row after, or null for a row that does not exist.
 */
export function* recordCardRefund(d: SqlDialect, r: CardRefundAnswerRequest): SqlOperation<CardRefund | null> {
  const found = yield* one(`SELECT * FROM card_refunds WHERE op_id = $1 AND tender_index = $2${d.forUpdate}`, [
    r.opId,
    r.tenderIndex,
  ]);
  if (!found) return null;
  const row = cardRefundOf(found);
  if (row.state !== 'pending') return row;
  const { outcome } = r;
  if (outcome.status === 'refunded') {
    yield* run(
      `UPDATE card_refunds SET state = 'refunded', authorization_id = $1, refund_id = $2, settled_at = $3,
         claimed_by = NULL, claim_expires_at = NULL, last_error = NULL
       WHERE op_id = $4 AND tender_index = $5`,
      [outcome.authorizationId, outcome.refundId, r.at, r.opId, r.tenderIndex],
    );
  } else {
    yield* run(
      `UPDATE card_refunds SET state = 'declined', authorization_id = $1, decline_code = $2, decline_message = $3,
         settled_at = $4, claimed_by = NULL, claim_expires_at = NULL
       WHERE op_id = $5 AND tender_index = $6`,
      [outcome.authorizationId, outcome.code, outcome.message, r.at, r.opId, r.tenderIndex],
    );
    const original = yield* one('SELECT kind FROM ops WHERE id = $1', [row.saleOpId]);
    yield* raiseExceptions(d, [
      declinedException(
        row,
        outcome.code,
        outcome.message,
        r.exceptionId,
        r.at,
        typeof original?.kind === 'string' ? original.kind : undefined,
      ),
    ]);
  }
  return cardRefundOf(
    (yield* one('SELECT * FROM card_refunds WHERE op_id = $1 AND tender_index = $2', [r.opId, r.tenderIndex])) as Row,
  );
}

/** The card refunds of one sale, or all, in enrolment order. */
export function* listCardRefunds(sale: string | null): SqlOperation<CardRefund[]> {
  const rows =
    sale === null
      ? yield* all('SELECT * FROM card_refunds ORDER BY enrolled_at, device, seq, tender_index')
      : yield* all('SELECT * FROM card_refunds WHERE sale_op_id = $1 ORDER BY enrolled_at, device, seq, tender_index', [
          sale,
        ]);
  return rows.map(cardRefundOf);
}
