/**
 * The ingest planner: the exactly-once rules, as one pure function.
 *
 * A storage backend opens a transaction, locks the device, loads the facts
 * this batch needs (ingest-facts.ts: ops already stored under its ids, ops
 * already stored at its seqs, the device's head, the shifts its ops touch),
 * calls `planIngest`, writes the plan (ingest-plan.ts) and commits. Because
 * the planner is pure, every backend applies exactly the same rules, and the
 * rules can be tested without a database.
 *
 * For each op, in batch order (each op sees the effects of those before it):
 *
 *   chain decision (chain-decision.ts) ── duplicate | conflict | fork | seq_gap: answered, nothing stored
 *        │ store: stored, the chain advances
 *        ▼
 *   unknown kind / invalid body ────────── rejected (stored, no effect but op.rejected and an exception)
 *        │ body parsed
 *        ▼
 *   APPLIERS[kind] (appliers/) ─────────── accepted: ledger event, projections, shift (domain
 *        │                                  shift reducer), wallets, offline payments
 *        ▼
 *   online claim (online-claim-check.ts) ─ an approval the server never gave raises online_unverified
 *   staff (staff-check.ts) ─────────────── a staff member or approver the roster history does not
 *                                           bear out raises staff_* / approval_*
 *   local approval (local-approval-check.ts) ─ re-evaluated against the policy it names:
 *                                               a breach raises policy_breach
 *   catalog (catalog-check.ts) ─────────── a sale line at a superseded price raises stale_price,
 *                                           an unknown SKU or list version catalog_unknown
 *
 * Facts recorded offline have already happened, so an op that breaks a
 * shift or wallet rule is still accepted and raises an exception for
 * reconciliation instead (apply-context.ts).
 */
import type { InjectedBugs } from '@holdfast/domain';
import {
  isKnownKind,
  type Op,
  type OpBodies,
  type OpKind,
  parseBody,
  type StoredResult,
  ValidationError,
} from '@holdfast/protocol';
import type { VerifiedBatch } from '../model/batch.js';
import { APPLIERS } from './appliers/index.js';
import { ApplyContext } from './apply-context.js';
import { catalogProblems } from './catalog-check.js';
import { decideChain } from './chain-decision.js';
import type { IngestFacts } from './ingest-facts.js';
import { type DeviceUpdate, emptyPlan, type IngestPlan } from './ingest-plan.js';
import { LocalApprovalCheck } from './local-approval-check.js';
import { onlineClaimProblem } from './online-claim-check.js';
import { isLocalApproval } from './reevaluate-approval.js';
import { staffProblems } from './staff-check.js';

/** What one run of the planner is given besides the batch and its facts. */
export interface PlanIngestContext {
  /** Server clock: every record of the plan is stamped with it. */
  now: number;
  /** Ids for the exceptions raised (deterministic in tests and the simulator). */
  newId: () => string;
  /** Deliberate bugs switched on for this server (NO_INJECTED_BUGS but in the simulator and tamper tests). */
  bugs: InjectedBugs;
}

/** Plans one verified batch against the facts loaded for it: what to answer and what to write. */
export function planIngest(batch: VerifiedBatch, facts: IngestFacts, context: PlanIngestContext): IngestPlan {
  const { now } = context;
  const plan = emptyPlan(facts.device, batch.trust === 'fresh' ? { now, sentAt: batch.sentAt } : null);
  const ctx = new ApplyContext(plan, facts, now, context.newId);
  let approvals: LocalApprovalCheck | null = null;
  const head = plan.device;
  let firstGapSeq: number | null = null;

  for (const [index, op] of batch.ops.entries()) {
    const decision = decideChain(op, facts, head, context);
    switch (decision.outcome) {
      case 'store': {
        const result = store(op, index);
        plan.inserts.push({ op, result });
        plan.results.push(
          result.status === 'accepted'
            ? { id: op.id, seq: op.seq, status: 'accepted', at: result.at }
            : { id: op.id, seq: op.seq, ...result },
        );
        head.highWater = op.seq;
        head.headHash = op.hash;
        break;
      }
      case 'duplicate':
        plan.results.push({
          id: op.id,
          seq: op.seq,
          status: 'duplicate',
          original: { id: op.id, seq: op.seq, ...decision.original },
        });
        break;
      case 'conflict':
      case 'fork':
        plan.results.push({ id: op.id, seq: op.seq, status: decision.outcome, message: decision.message });
        ctx.raise(decision.outcome, 'alarm', op, decision.dedupe, decision.message, decision.detail);
        break;
      case 'seq_gap':
        firstGapSeq ??= op.seq;
        plan.results.push({
          id: op.id,
          seq: op.seq,
          status: 'rejected',
          reason: 'seq_gap',
          message: decision.message,
          expectedSeq: decision.expectedSeq,
        });
        break;
      case 'reapply': {
        // Deliberate bug `dedupe-disabled`: the effect is applied again.
        const amount = typeof op.body.total === 'number' ? op.body.total : null;
        ctx.ledger(op, op.kind, null, null, amount, { reapplied: true });
        plan.results.push({ id: op.id, seq: op.seq, status: 'accepted', at: now });
        break;
      }
    }
  }

  updateGap(plan.device, batch, firstGapSeq);
  ctx.finish();
  // A batch of nothing but duplicates (a resend after a lost answer, or a
  // replay) changes nothing, not even what the server knows of the device.
  if (plan.results.every((r) => r.status === 'duplicate')) plan.device = emptyPlan(facts.device, null).device;
  return plan;

  /** Applies a stored op: rejected if its kind or body is not one this server knows, else its kind's applier and the checks every kind shares. */
  function store(op: Op, index: number): StoredResult {
    if (!isKnownKind(op.kind)) return reject(op, 'unknown_kind', `op kind "${op.kind}" is not known to this server`);
    let body: OpBodies[OpKind];
    try {
      body = apply(op.kind, op, index);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return reject(op, 'invalid_body', `invalid ${op.kind} body: ${error.message}`, error.field, error.rule);
    }
    const fact = facts.authorizations?.get(op.id);
    const problem = onlineClaimProblem(op, body, facts.device.id, fact);
    if (problem !== null) {
      ctx.raise('online_unverified', 'alarm', op, op.id, problem, {
        kind: op.kind,
        decision: op.decision,
        authorization: fact?.status ?? null,
      });
    }
    for (const p of staffProblems(op, op.kind, body, facts.device, facts.staff)) {
      ctx.raise(p.type, p.severity, op, p.dedupe, p.message, p.detail);
    }
    if (op.kind === 'sale.recorded') {
      for (const p of catalogProblems(op, body as OpBodies['sale.recorded'], facts.catalog)) {
        ctx.raise(p.type, p.severity, op, op.id, p.message, p.detail);
      }
    }
    if (isLocalApproval(op)) {
      approvals ??= new LocalApprovalCheck(facts.approvals, facts.device);
      const breach = approvals.breach(op, plan.offlinePayments);
      if (breach) {
        ctx.raise(
          'policy_breach',
          'alarm',
          op,
          op.id,
          `op ${op.id} (seq ${op.seq}) was approved offline under ${breach.policy ?? 'no policy'} but breaks rule ${breach.rule}: ${breach.message}`,
          { rule: breach.rule, policy: breach.policy, tenderIndex: breach.tenderIndex, kind: op.kind, opAt: op.at },
        );
      }
    }
    return { status: 'accepted', at: now };
  }

  /**
   * Parses the body by its kind (throwing ValidationError), unless the
   * verifier did (VerifiedBatch.bodies), and runs the kind's applier.
   */
  function apply<K extends OpKind>(kind: K, op: Op, index: number): OpBodies[K] {
    const checked = batch.bodies?.[index];
    if (checked) throw new ValidationError(checked.field, checked.rule, checked.got);
    const body = checked === null ? (op.body as unknown as OpBodies[K]) : parseBody(kind, op.body);
    APPLIERS[kind](op, body, ctx);
    return body;
  }

  /** A stored op with no effect but an `op.rejected` ledger event and an `op_rejected` warning. */
  function reject(
    op: Op,
    reason: 'invalid_body' | 'unknown_kind',
    message: string,
    field?: string,
    rule?: string,
  ): StoredResult {
    const stored: StoredResult = { status: 'rejected', reason, message, at: now };
    if (field !== undefined) stored.field = field;
    if (rule !== undefined) stored.rule = rule;
    ctx.ledger(op, 'op.rejected', null, null, null, { kind: op.kind, reason, message });
    ctx.raiseAggregated('op_rejected', 'warning', op, field === undefined ? reason : `${reason}:${field}`, message, {
      kind: op.kind,
      reason,
      field: field ?? null,
      rule: rule ?? null,
    });
    return stored;
  }
}

/**
 * Sets the device's latest seq and gap after the batch. The gap is every seq
 * missing below the furthest op seen past a hole, whatever order those ops
 * came in; it shrinks as the hole is filled.
 */
function updateGap(d: DeviceUpdate, batch: VerifiedBatch, firstGapSeq: number | null): void {
  // latestSeq is the device's word only when its signature covers it.
  d.latestSeq = Math.max(d.latestSeq, batch.trust === 'unsigned' ? 0 : batch.latestSeq, d.highWater);
  if (firstGapSeq !== null) {
    d.gapFrom = d.highWater + 1;
    d.gapTo = Math.max(d.gapTo ?? 0, firstGapSeq - 1);
  } else if (d.gapTo !== null && d.highWater >= d.gapTo) {
    d.gapFrom = null;
    d.gapTo = null;
  } else if (d.gapTo !== null) {
    d.gapFrom = d.highWater + 1;
  }
}
