/**
 * The ingest planner: the exactly-once rules, as one pure function.
 *
 * A storage backend opens a transaction, locks the device, loads the facts
 * this batch needs (ops already stored under its ids, ops already stored at
 * its seqs, the device's head, the shifts its ops touch), calls
 * `planIngest`, writes the plan and commits. Because the planner is pure,
 * every backend applies exactly the same rules, and the rules can be tested
 * without a database.
 *
 * For each op, in batch order (each op sees the effects of those before it):
 *
 *   id stored, same hash ............ duplicate  (stored result returned, nothing written)
 *   id stored, other hash ........... conflict   (nothing written but an exception)
 *   seq held by another id .......... fork       (nothing written but an exception)
 *   seq > highWater + 1 ............. rejected seq_gap (not stored: send earlier ops first)
 *   prev ≠ hash at highWater ........ fork       (the device's history diverged)
 *   otherwise ....................... stored, chain advances:
 *       unknown kind / invalid body → rejected (stored, no effect but an exception)
 *       else                        → accepted: ledger event, projections
 *                                      (a sale whose decision says "approved locally"
 *                                       also lists its card tenders as offline payments;
 *                                       each chip write, a wristband tender or a wallet.*
 *                                       op, goes to its wallet: wallets/wallet-plan.ts)
 *                                      a local approval is re-evaluated against the policy
 *                                      it names: a breach raises policy_breach (the op stands)
 *
 * Facts recorded offline have already happened, so an op that breaks a
 * shift rule (a sale on a closed shift, a drawer count that does not match)
 * is still accepted and raises an exception for reconciliation instead.
 */
import {
  applyCashMovement,
  applySale,
  applyTopUp,
  applyWalletRefund,
  balanceAfter,
  bugActive,
  closeShift,
  DomainError,
  expectedCash,
  openShift,
  type Shift,
  tenderSplit,
} from '@holdfast/domain';
import {
  GENESIS_HASH,
  isKnownKind,
  type Op,
  type OpResult,
  parseBody,
  type RiskPolicy,
  type SaleBody,
  type StoredResult,
  type TicketIssuedBody,
  ValidationError,
} from '@holdfast/protocol';
import { type AuthorizationFact, claimsOnline, onlineProblem } from '../authorize/online-verification.js';
import type { VerifiedBatch } from '../model/batch.js';
import type { CashMovementRecord } from '../model/cash-movement.js';
import type { DeviceRecord } from '../model/device.js';
import type { ExceptionRecord, ExceptionType } from '../model/exception.js';
import type { LedgerEvent } from '../model/ledger-event.js';
import type { OfflinePaymentRecord } from '../model/offline-payment.js';
import type { SaleRecord } from '../model/sale.js';
import type { ShiftRecord } from '../model/shift.js';
import type { WalletAccountRecord, WalletEntryRecord, WalletFacts } from '../model/wallet.js';
import { WalletPlanner } from '../wallets/wallet-plan.js';
import {
  type ApprovedCard,
  type HeldApproval,
  HeldExposure,
  isLocalApproval,
  reevaluateLocalApproval,
} from './reevaluate-approval.js';

/** A stored op as the planner needs to know it. */
export interface KnownOp {
  device: string;
  seq: number;
  hash: string;
  result: StoredResult;
}

export interface IngestFacts {
  device: DeviceRecord;
  /** Ops already stored under any id of the batch. */
  byId: ReadonlyMap<string, KnownOp>;
  /** Ids and hashes already stored for this device at any seq of the batch. */
  bySeq: ReadonlyMap<number, { id: string; hash: string }>;
  /** Shifts the batch's ops refer to, and every open shift of the device. */
  shifts: ReadonlyMap<string, ShiftRecord>;
  /** What re-evaluating local approvals needs (see approvalFactsNeeded); absent: nothing stored. */
  approvals?: ApprovalFacts;
  /**
   * Online authorizations stored under the ids of the batch's ops that
   * claim one (`onlineClaimIds`); absent when there are none.
   */
  authorizations?: ReadonlyMap<string, AuthorizationFact>;
  /** The wallets of the wristbands the batch writes to (`walletRefs`); absent: none known. */
  wallets?: ReadonlyMap<string, WalletFacts>;
}

/** Facts for re-evaluating the batch's local approvals, loaded only if approvalFactsNeeded(ops). */
export interface ApprovalFacts {
  /** The stored policies the batch's local approvals name, by policyRef (refs not stored are absent). */
  policies: ReadonlyMap<string, RiskPolicy>;
  /** The device's offline payments stored and still unsettled. */
  held: readonly HeldApproval[];
}

/** The policy refs the batch's local approvals name: load these policies (and the device's unsettled payments) if any op is a local approval. */
export function approvalFactsNeeded(ops: readonly Op[]): { needed: boolean; refs: string[] } {
  const refs = new Set<string>();
  let needed = false;
  for (const op of ops) {
    if (!isLocalApproval(op)) continue;
    needed = true;
    if (op.decision.policy !== null) refs.add(op.decision.policy);
  }
  return { needed, refs: [...refs] };
}

/** Ids of the ops whose online authorization the planner needs as a fact. */
export function onlineClaimIds(ops: readonly Op[]): string[] {
  return ops.filter(claimsOnline).map((op) => op.id);
}

export interface DeviceUpdate {
  highWater: number;
  headHash: string;
  latestSeq: number;
  gapFrom: number | null;
  gapTo: number | null;
  lastSeenAt: number;
  clockOffsetMs: number;
}

export interface IngestPlan {
  results: OpResult[];
  /** Ops to store, in seq order, with the result to store beside each. */
  inserts: { op: Op; result: StoredResult }[];
  ledger: LedgerEvent[];
  sales: SaleRecord[];
  /** Card tenders of sales approved locally (offline), for the exposure actually held. */
  offlinePayments: OfflinePaymentRecord[];
  cashMovements: CashMovementRecord[];
  /** Shifts created or changed, final state. */
  shifts: ShiftRecord[];
  /** Wallet accounts created or changed, final state. */
  wallets: WalletAccountRecord[];
  /** Chip writes applied to wallets. */
  walletEntries: WalletEntryRecord[];
  exceptions: ExceptionRecord[];
  device: DeviceUpdate;
}

/** The ids of the shifts an op refers to (by its body), for loading facts. */
export function shiftRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  for (const op of ops) {
    const ref = op.body.shift;
    if (typeof ref === 'string') refs.add(ref);
  }
  return [...refs];
}

export function planIngest(batch: VerifiedBatch, facts: IngestFacts, now: number, newId: () => string): IngestPlan {
  const { device } = facts;
  const plan: IngestPlan = {
    results: [],
    inserts: [],
    ledger: [],
    sales: [],
    offlinePayments: [],
    cashMovements: [],
    shifts: [],
    wallets: [],
    walletEntries: [],
    exceptions: [],
    device: {
      highWater: device.highWater,
      headHash: device.highWater === 0 ? GENESIS_HASH : device.headHash,
      latestSeq: device.latestSeq,
      gapFrom: device.gapFrom,
      gapTo: device.gapTo,
      lastSeenAt: now,
      clockOffsetMs: now - batch.sentAt,
    },
  };
  const shifts = new Map(facts.shifts);
  // The device's offline approvals still unsettled, grown with the batch's own (re-evaluation; built on first use).
  let held: HeldExposure | null = null;
  let heldPayments = 0;
  const changedShifts = new Set<string>();
  const wallets = new WalletPlanner(facts.wallets);
  let firstGapSeq: number | null = null;

  const raise = (
    type: ExceptionType,
    severity: ExceptionRecord['severity'],
    op: Op,
    dedupe: string,
    message: string,
    detail: Record<string, unknown>,
  ) => {
    plan.exceptions.push({
      id: newId(),
      type,
      severity,
      device: device.id,
      opId: op.id,
      seq: op.seq,
      message,
      detail,
      raisedAt: now,
      dedupeKey: `${type}:${dedupe}`,
    });
  };

  for (const op of batch.ops) {
    const head = plan.device;
    const known = facts.byId.get(op.id);
    if (known) {
      if (known.hash === op.hash && bugActive('dedupe-disabled')) {
        // Deliberate bug (bug-injection processes only): the effect is applied again.
        const amount = typeof op.body.total === 'number' ? op.body.total : null;
        plan.ledger.push({
          opId: op.id,
          device: device.id,
          seq: op.seq,
          type: op.kind,
          shiftId: null,
          currency: null,
          amount,
          data: { reapplied: true },
          deviceAt: op.at,
          appliedAt: now,
        });
        plan.results.push({ id: op.id, seq: op.seq, status: 'accepted', at: now });
      } else if (known.hash === op.hash) {
        // Deliberate bug (bug-injection processes only): a fresh result instead of the stored one.
        const original: StoredResult = bugActive('results-not-stored') ? { status: 'accepted', at: now } : known.result;
        plan.results.push({ id: op.id, seq: op.seq, status: 'duplicate', original });
      } else {
        // The message goes back to the sender: it must not reveal another device's ops.
        const message = `op id ${op.id} is already stored with a different hash`;
        plan.results.push({ id: op.id, seq: op.seq, status: 'conflict', message });
        raise('conflict', 'alarm', op, `${op.id}:${op.hash}`, message, {
          storedDevice: known.device,
          storedSeq: known.seq,
          storedHash: known.hash,
          sentHash: op.hash,
        });
      }
      continue;
    }
    const taken = facts.bySeq.get(op.seq);
    if (taken || op.seq <= head.highWater) {
      const message = `seq ${op.seq} of device ${device.id} already holds op ${taken?.id ?? '(unknown)'}`;
      plan.results.push({ id: op.id, seq: op.seq, status: 'fork', message });
      raise('fork', 'alarm', op, `${device.id}:${op.seq}:${op.hash}`, message, {
        storedId: taken?.id ?? null,
        storedHash: taken?.hash ?? null,
        sentHash: op.hash,
      });
      continue;
    }
    if (op.seq > head.highWater + 1) {
      firstGapSeq ??= op.seq;
      plan.results.push({
        id: op.id,
        seq: op.seq,
        status: 'rejected',
        reason: 'seq_gap',
        message: `seq ${op.seq} cannot be applied before seq ${head.highWater + 1}`,
        expectedSeq: head.highWater + 1,
      });
      continue;
    }
    if (op.prev !== head.headHash) {
      const message = `prev of seq ${op.seq} does not match the stored op at seq ${head.highWater}`;
      plan.results.push({ id: op.id, seq: op.seq, status: 'fork', message });
      raise('fork', 'alarm', op, `${device.id}:${op.seq}:${op.hash}`, message, {
        storedHeadHash: head.headHash,
        sentPrev: op.prev,
        sentHash: op.hash,
      });
      continue;
    }

    const result = applyOp(op);
    if (result.status === 'accepted' && isLocalApproval(op)) checkLocalApproval(op);
    if (result.status === 'accepted' && op.kind !== 'sale.recorded' && op.kind !== 'ticket.issued') {
      checkOnlineOtherKind(op);
    }
    plan.inserts.push({ op, result });
    plan.results.push(
      result.status === 'accepted'
        ? { id: op.id, seq: op.seq, status: 'accepted', at: result.at }
        : { id: op.id, seq: op.seq, ...result },
    );
    head.highWater = op.seq;
    head.headHash = op.hash;
  }

  const { device: d } = plan;
  d.latestSeq = Math.max(d.latestSeq, batch.latestSeq, d.highWater);
  // The gap is every seq missing below the furthest op seen past a hole,
  // whatever order those ops came in; it shrinks as the hole is filled.
  if (firstGapSeq !== null) {
    d.gapFrom = d.highWater + 1;
    d.gapTo = Math.max(d.gapTo ?? 0, firstGapSeq - 1);
  } else if (d.gapTo !== null && d.highWater >= d.gapTo) {
    d.gapFrom = null;
    d.gapTo = null;
  } else if (d.gapTo !== null) {
    d.gapFrom = d.highWater + 1;
  }
  for (const id of changedShifts) plan.shifts.push(shifts.get(id) as ShiftRecord);
  plan.wallets = wallets.accounts(now);
  plan.walletEntries = wallets.entries;
  return plan;

  /** Re-evaluates an accepted local approval; a breach raises policy_breach (the op stands). */
  function checkLocalApproval(op: Op): void {
    const sale = op.kind === 'sale.recorded' ? parseBody('sale.recorded', op.body) : null;
    const cards: ApprovedCard[] = [];
    sale?.tenders.forEach((t, tenderIndex) => {
      if (t.type === 'card') cards.push({ tenderIndex, amount: t.amount, token: t.token });
    });
    // A card top-up approved offline is a card payment under the same limits as a sale's card.
    const topUp = op.kind === 'wallet.topped_up' ? parseBody('wallet.topped_up', op.body) : null;
    if (topUp?.card) cards.push({ tenderIndex: 0, amount: topUp.amount, token: topUp.card.token });
    held ??= new HeldExposure(facts.approvals?.held);
    // Every offline payment planned before this op's own (which applyOp just appended) was held when it was recorded.
    const payments = plan.offlinePayments;
    let end = payments.length;
    while (end > heldPayments && payments[end - 1]?.opId === op.id) end--;
    for (; heldPayments < end; heldPayments++) {
      const p = payments[heldPayments] as OfflinePaymentRecord;
      const id = `${p.opId}/${p.tenderIndex}`;
      held.add({ id, seq: p.seq, amount: p.amount, currency: p.currency, token: p.token, approvedAt: p.approvedAt });
    }
    const breach = reevaluateLocalApproval({
      op,
      currency: sale?.currency ?? topUp?.currency ?? null,
      cards,
      policies: facts.approvals?.policies ?? new Map(),
      placement:
        device.merchant === null ? null : { merchant: device.merchant, location: device.location, event: device.event },
      held,
    });
    if (!breach) return;
    raise(
      'policy_breach',
      'alarm',
      op,
      op.id,
      `op ${op.id} (seq ${op.seq}) was approved offline under ${breach.policy ?? 'no policy'} but breaks rule ${breach.rule}: ${breach.message}`,
      {
        rule: breach.rule,
        policy: breach.policy,
        tenderIndex: breach.tenderIndex,
        kind: op.kind,
        opAt: op.at,
      },
    );
  }

  /**
   * A kind with no online path (only sales and tickets are authorized
   * online) that claims an online approval: nobody charged or checked it,
   * so it raises online_unverified like a claim the server never gave.
   */
  function checkOnlineOtherKind(op: Op): void {
    if (op.decision.mode !== 'online' || op.decision.outcome !== 'approved') return;
    raise('online_unverified', 'alarm', op, op.id, `op kind ${op.kind} is never authorized online, yet claims it was`, {
      kind: op.kind,
      decision: op.decision,
      authorization: facts.authorizations?.get(op.id)?.status ?? null,
    });
  }

  /** An op claiming an online approval the server never gave: the fact stands, an alarm is raised. */
  function checkOnline(op: Op, body: SaleBody | TicketIssuedBody): void {
    if (!claimsOnline(op)) return;
    const problem = onlineProblem(op, body, device.id, facts.authorizations?.get(op.id));
    if (problem === null) return;
    raise('online_unverified', 'alarm', op, op.id, problem, {
      kind: op.kind,
      decision: op.decision,
      authorization: facts.authorizations?.get(op.id)?.status ?? null,
    });
  }

  /**
   * Applies one chip write to its wallet: exceptions for what it reveals,
   * and a `wristband.blocked` ledger event if it blocked the wristband.
   */
  function walletWrite(
    op: Op,
    shiftId: string,
    w: { kind: WalletEntryRecord['kind']; tenderIndex: number; wristband: string; amount: number; currency: string },
    counter: number,
    before: number,
  ): void {
    const entry: WalletEntryRecord = {
      opId: op.id,
      tenderIndex: w.tenderIndex,
      wristband: w.wristband,
      kind: w.kind,
      amount: w.amount,
      currency: w.currency,
      counter,
      balanceBefore: before,
      balanceAfter: balanceAfter(w.kind, before, w.amount),
      device: device.id,
      seq: op.seq,
      at: op.at,
      shiftId,
      appliedAt: now,
    };
    const { blocked } = wallets.apply(entry, device.merchant, (r) => {
      raise(r.type, 'alarm', op, r.dedupe, r.message, r.detail);
      return (plan.exceptions[plan.exceptions.length - 1] as ExceptionRecord).id;
    });
    if (blocked) {
      plan.ledger.push(
        event(op, 'wristband.blocked', null, w.currency, null, {
          wristband: w.wristband,
          reason: blocked.reason,
          exceptionId: blocked.exceptionId,
        }),
      );
    }
  }

  /** A shift rule broke: the fact stands, an exception is raised. Other errors propagate. */
  function raiseShiftRule(op: Op, error: unknown): void {
    if (!(error instanceof DomainError)) throw error;
    raise('shift_rule', 'warning', op, `${op.id}:${error.code}`, error.message, { code: error.code, kind: op.kind });
  }

  /**
   * Takes the new state of a shift. Records are copied on first change in
   * this batch (facts belong to the caller) and then updated in place.
   */
  function updateShift(shift: Shift): void {
    let record = shifts.get(shift.id) as ShiftRecord;
    if (!changedShifts.has(shift.id)) {
      record = { ...record };
      shifts.set(shift.id, record);
      changedShifts.add(shift.id);
    }
    Object.assign(record, shift);
  }

  /**
   * A ledger event for `op`. Records are built as whole literals (no spread
   * of a shared base): at hundreds of ops a batch, objects grown by spreading
   * cost more than the rest of the plan.
   */
  function event(
    op: Op,
    type: string,
    shiftId: string | null,
    currency: string | null,
    amount: number | null,
    data: Record<string, unknown>,
  ): LedgerEvent {
    return {
      opId: op.id,
      device: device.id,
      seq: op.seq,
      type,
      shiftId,
      currency,
      amount,
      data,
      deviceAt: op.at,
      appliedAt: now,
    };
  }

  function applyOp(op: Op): StoredResult {
    const reject = (reason: 'invalid_body' | 'unknown_kind', message: string, field?: string, rule?: string) => {
      const stored: StoredResult = { status: 'rejected', reason, message, at: now };
      if (field !== undefined) stored.field = field;
      if (rule !== undefined) stored.rule = rule;
      plan.ledger.push(event(op, 'op.rejected', null, null, null, { kind: op.kind, reason, message }));
      raise('op_rejected', 'warning', op, op.id, message, {
        kind: op.kind,
        reason,
        field: field ?? null,
        rule: rule ?? null,
      });
      return stored;
    };
    if (!isKnownKind(op.kind)) return reject('unknown_kind', `op kind "${op.kind}" is not known to this server`);
    const shiftRule = (error: unknown) => raiseShiftRule(op, error);

    try {
      switch (op.kind) {
        case 'shift.opened': {
          const body = parseBody(op.kind, op.body);
          for (const other of shifts.values()) {
            if (other.device === device.id && other.status === 'open') {
              shiftRule(
                new DomainError('shift_already_open', `shift ${other.id} was still open when shift ${op.id} opened`),
              );
            }
          }
          shifts.set(op.id, {
            ...openShift(op.id, body),
            device: device.id,
            openedAt: op.at,
            closedAt: null,
            expectedCash: null,
            variance: null,
          });
          changedShifts.add(op.id);
          plan.ledger.push(event(op, op.kind, op.id, body.currency, body.openingFloat, { clerk: body.clerk }));
          break;
        }
        case 'sale.recorded': {
          const body = parseBody(op.kind, op.body);
          const { cash, card, wristband } = tenderSplit(body);
          const shift = shifts.get(body.shift);
          if (!shift || shift.device !== device.id) {
            shiftRule(
              new DomainError('no_open_shift', `sale refers to shift ${body.shift}, which this device never opened`),
            );
          } else {
            try {
              updateShift(applySale(shift, body));
            } catch (error) {
              shiftRule(error);
            }
          }
          plan.sales.push({
            opId: op.id,
            device: device.id,
            seq: op.seq,
            shiftId: body.shift,
            currency: body.currency,
            total: body.total,
            cash,
            card,
            lines: body.lines.length,
            deviceAt: op.at,
            appliedAt: now,
          });
          if (op.decision.mode === 'local' && op.decision.outcome === 'approved') {
            body.tenders.forEach((tender, tenderIndex) => {
              if (tender.type !== 'card') return;
              plan.offlinePayments.push({
                opId: op.id,
                tenderIndex,
                device: device.id,
                seq: op.seq,
                tender: 'card',
                amount: tender.amount,
                currency: body.currency,
                brand: tender.brand,
                last4: tender.last4,
                token: tender.token,
                policy: op.decision.policy,
                approvedAt: op.at,
                receivedAt: now,
              });
            });
          }
          plan.ledger.push(
            event(op, op.kind, body.shift, body.currency, body.total, {
              cash,
              card,
              lines: body.lines.length,
              ...(wristband > 0 ? { wristband } : {}),
            }),
          );
          body.tenders.forEach((tender, tenderIndex) => {
            if (tender.type !== 'wristband') return;
            walletWrite(
              op,
              body.shift,
              {
                kind: 'debit',
                tenderIndex,
                wristband: tender.wristband,
                amount: tender.amount,
                currency: body.currency,
              },
              tender.counter,
              tender.balanceBefore,
            );
          });
          checkOnline(op, body);
          break;
        }
        case 'ticket.issued': {
          const body = parseBody(op.kind, op.body);
          const shift = shifts.get(body.shift);
          if (!shift || shift.device !== device.id) {
            shiftRule(
              new DomainError('no_open_shift', `ticket refers to shift ${body.shift}, which this device never opened`),
            );
          } else if (shift.status !== 'open') {
            shiftRule(new DomainError('shift_not_open', `ticket sold on shift ${body.shift}, which was closed`));
          }
          plan.ledger.push(
            event(op, op.kind, body.shift, body.currency, body.stake, {
              potentialPayout: body.potentialPayout,
              authorization: body.authorization,
              selections: body.selections.length,
            }),
          );
          checkOnline(op, body);
          break;
        }
        case 'wallet.topped_up':
        case 'wallet.refunded': {
          const body = op.kind === 'wallet.topped_up' ? parseBody(op.kind, op.body) : parseBody(op.kind, op.body);
          const shift = shifts.get(body.shift);
          if (!shift || shift.device !== device.id) {
            shiftRule(
              new DomainError(
                'no_open_shift',
                `${op.kind} refers to shift ${body.shift}, which this device never opened`,
              ),
            );
          } else {
            try {
              updateShift('paid' in body ? applyTopUp(shift, body) : applyWalletRefund(shift, body));
            } catch (error) {
              shiftRule(error);
            }
          }
          const isTopUp = 'paid' in body;
          plan.ledger.push(
            event(op, op.kind, body.shift, body.currency, body.amount, {
              wristband: body.wristband,
              counter: body.counter,
              ...(isTopUp ? { paid: body.paid } : { sale: body.sale }),
            }),
          );
          walletWrite(
            op,
            body.shift,
            {
              kind: isTopUp ? 'topup' : 'refund',
              tenderIndex: 0,
              wristband: body.wristband,
              amount: body.amount,
              currency: body.currency,
            },
            body.counter,
            body.balanceBefore,
          );
          // A card top-up approved offline is a card payment the processor has not seen: forward it like a sale's.
          if (isTopUp && body.card && op.decision.mode === 'local' && op.decision.outcome === 'approved') {
            plan.offlinePayments.push({
              opId: op.id,
              tenderIndex: 0,
              device: device.id,
              seq: op.seq,
              tender: 'card',
              amount: body.amount,
              currency: body.currency,
              brand: body.card.brand,
              last4: body.card.last4,
              token: body.card.token,
              policy: op.decision.policy,
              approvedAt: op.at,
              receivedAt: now,
            });
          }
          break;
        }
        case 'cash.moved': {
          const body = parseBody(op.kind, op.body);
          const shift = shifts.get(body.shift);
          if (!shift || shift.device !== device.id) {
            shiftRule(
              new DomainError(
                'no_open_shift',
                `cash movement refers to shift ${body.shift}, which this device never opened`,
              ),
            );
          } else {
            try {
              // Read before the update: shift records change in place.
              const held = expectedCash(shift);
              updateShift(applyCashMovement(shift, body, { allowOverdraw: true }));
              if (body.direction === 'out' && held < body.amount) {
                shiftRule(new DomainError('insufficient_cash', `drawer held ${held}, ${body.amount} moved out`));
              }
            } catch (error) {
              shiftRule(error);
            }
          }
          plan.cashMovements.push({
            opId: op.id,
            device: device.id,
            seq: op.seq,
            shiftId: body.shift,
            currency: body.currency,
            direction: body.direction,
            reason: body.reason,
            amount: body.amount,
            deviceAt: op.at,
            appliedAt: now,
          });
          plan.ledger.push(
            event(op, op.kind, body.shift, body.currency, body.amount, {
              direction: body.direction,
              reason: body.reason,
            }),
          );
          break;
        }
        case 'shift.closed': {
          const body = parseBody(op.kind, op.body);
          const shift = shifts.get(body.shift);
          let expected: number | null = null;
          let variance: number | null = null;
          if (!shift || shift.device !== device.id) {
            shiftRule(
              new DomainError('no_open_shift', `close refers to shift ${body.shift}, which this device never opened`),
            );
          } else {
            try {
              const closed = closeShift(shift, body);
              expected = expectedCash(closed);
              variance = body.countedCash - expected;
              updateShift(closed);
              const record = shifts.get(shift.id) as ShiftRecord;
              shifts.set(shift.id, { ...record, closedAt: op.at, expectedCash: expected, variance });
              if (variance !== 0) {
                raise(
                  'cash_variance',
                  'warning',
                  op,
                  op.id,
                  `drawer ${variance < 0 ? 'short' : 'over'} by ${Math.abs(variance)} ${body.currency} at close`,
                  {
                    shift: shift.id,
                    expected,
                    counted: body.countedCash,
                    variance,
                  },
                );
              }
            } catch (error) {
              shiftRule(error);
            }
          }
          plan.ledger.push(event(op, op.kind, body.shift, body.currency, body.countedCash, { expected, variance }));
          break;
        }
      }
    } catch (error) {
      if (error instanceof ValidationError)
        return reject('invalid_body', `invalid ${op.kind} body: ${error.message}`, error.field, error.rule);
      throw error;
    }
    return { status: 'accepted', at: now };
  }
}
