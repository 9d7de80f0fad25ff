/**
 * Re-evaluating a local approval on arrival (docs/risk-policy.md, "Server
 * re-evaluation"): an op whose decision says the terminal approved it
 * itself (`mode: local, outcome: approved, policy: '<id>@<version>'`) is
 * checked against the policy it names, with the same rules the terminal ran
 * (domain `evaluateOffline`, the same order). The op stands either way (it
 * happened); a breach is raised as a `policy_breach` alarm by the planner.
 *
 * Pure: the backends load the facts (the named policies, the device's
 * unsettled offline payments) inside the ingest transaction.
 *
 * What the server holds differs from what the terminal held in two ways,
 * and both keep the check sound (it never accuses an honest terminal):
 *
 * - Exposure: the terminal counts every approval it has not been told is
 *   settled. The server counts the device's earlier offline approvals that
 *   are still unsettled now (and those earlier in the same batch): the
 *   terminal cannot have been told of a settlement that has not happened,
 *   so these are a subset of what it held. A cap broken by the subset was
 *   broken by the whole; a breach hidden by settlements the terminal had
 *   not heard of yet goes unseen (the check is a lower bound).
 * - Time: the terminal decided on its own clock, which the op records as
 *   `at`; the window (validFrom ≤ at < expiresAt) is checked on that same
 *   reading, with no tolerance needed. A device whose clock was set wrong
 *   on purpose is not caught here (the clock offset comes from an unsigned
 *   `sentAt` that a resent batch carries from its first attempt).
 *
 * Not re-checked: the maximum offline duration (the terminal's last server
 * contact is its own record), refund and loyalty thresholds (no op kind
 * carries them yet), and tenders other than cards.
 */
import {
  type DevicePlacement,
  evaluateOffline,
  instrumentKey,
  type OfflineApproval,
  type OfflineExposure,
  type OfflineRequest,
  recordApproval,
} from '@holdfast/domain';
import type { Op, RiskPolicy } from '@holdfast/protocol';

/** A stored offline approval of the device, as the re-evaluation counts it. */
export interface HeldApproval {
  /** Unique per tender: `<opId>/<tenderIndex>`. */
  id: string;
  seq: number;
  amount: number;
  currency: string;
  /** The card token. */
  token: string;
  /** Device clock at approval. */
  approvedAt: number;
}

/**
 * The approvals a device provably held, grown in place as a batch is
 * planned: an OfflineExposure for `evaluateOffline` without rebuilding one
 * per op (domain `recordApproval` copies the whole exposure, which would
 * make a batch of n local approvals cost n²). Same totals as `exposureOf`;
 * `uses` are not sorted (the velocity rule only counts them).
 */
export class HeldExposure implements OfflineExposure {
  amount = 0;
  count = 0;
  readonly byInstrument = new Map<string, { amount: number; count: number; uses: number[] }>();
  readonly approvals = new Map<string, OfflineApproval>();

  constructor(held: Iterable<HeldApproval> = []) {
    for (const h of held) this.add(h);
  }

  /** Adds a card approval; an id already held changes nothing. */
  add(h: HeldApproval): void {
    if (this.approvals.has(h.id)) return;
    this.approvals.set(h.id, {
      id: h.id,
      tender: 'card',
      instrument: h.token,
      amount: h.amount,
      currency: h.currency,
      at: h.approvedAt,
    });
    this.amount += h.amount;
    this.count += 1;
    const key = instrumentKey('card', h.token);
    let entry = this.byInstrument.get(key);
    if (!entry) {
      entry = { amount: 0, count: 0, uses: [] };
      this.byInstrument.set(key, entry);
    }
    entry.amount += h.amount;
    entry.count += 1;
    entry.uses.push(h.approvedAt);
  }
}

/** One card tender of the op under re-evaluation. */
export interface ApprovedCard {
  tenderIndex: number;
  amount: number;
  token: string;
}

export interface ReevaluationInput {
  op: Op;
  /** The sale's currency (ops without tenders: null). */
  currency: string | null;
  cards: readonly ApprovedCard[];
  /** Stored policies by policyRef. */
  policies: ReadonlyMap<string, RiskPolicy>;
  /** The device's current placement, or null if it was never placed. */
  placement: Omit<DevicePlacement, 'id'> | null;
  /** What the device provably held just before this op: its earlier approvals still unsettled. */
  held: OfflineExposure;
}

/** Why a local approval broke the policy it names. */
export interface PolicyBreach {
  /** A RISK_RULE of domain `evaluateOffline`, or `unknown_policy`. */
  rule: string;
  message: string;
  /** The policyRef the op named (null when it named none). */
  policy: string | null;
  /** The card tender that broke it, or null for the op as a whole. */
  tenderIndex: number | null;
}

/** True if `op`'s decision claims a local approval (the only ones re-evaluated). */
export function isLocalApproval(op: Op): boolean {
  return op.decision.mode === 'local' && op.decision.outcome === 'approved';
}

/** Re-evaluates a local approval; null when it kept to the policy (as far as the server can tell). */
export function reevaluateLocalApproval(input: ReevaluationInput): PolicyBreach | null {
  const { op, cards } = input;
  const ref = op.decision.policy;
  if (ref === null) {
    if (cards.length === 0) return null; // cash needs no policy
    return {
      rule: 'no_policy',
      message: `card payment approved offline without naming a risk policy`,
      policy: null,
      tenderIndex: cards[0]?.tenderIndex ?? null,
    };
  }
  const policy = input.policies.get(ref);
  if (policy === undefined) {
    return {
      rule: 'unknown_policy',
      message: `approved offline under risk policy ${ref}, which this server never issued`,
      policy: ref,
      tenderIndex: null,
    };
  }
  // Unplaced: no merchant, so no scope covers it (as on the terminal).
  const device: DevicePlacement = {
    id: op.device,
    ...(input.placement ?? { merchant: '', location: null, event: null }),
  };
  const context = { now: op.at, lastServerContactAt: op.at, device, policyValid: true };
  if (cards.length === 0) {
    if (policy.online.kinds.includes(op.kind)) {
      return {
        rule: 'online_only_kind',
        message: `${op.kind} always needs the server (policy ${ref}) but was approved offline`,
        policy: ref,
        tenderIndex: null,
      };
    }
    return null;
  }
  let exposure: OfflineExposure = input.held;
  for (const card of cards) {
    const request: OfflineRequest = {
      kind: op.kind,
      tender: 'card',
      amount: card.amount,
      currency: input.currency ?? '',
      instrument: card.token,
    };
    const decided = evaluateOffline(policy, exposure, request, context);
    if (decided.outcome !== 'approve') {
      return { rule: decided.rule, message: decided.message, policy: ref, tenderIndex: card.tenderIndex };
    }
    // Only a sale's second and later card tenders get here: copying the exposure for them is rare.
    if (card !== cards[cards.length - 1])
      exposure = recordApproval(exposure, request, op.at, `${op.id}/${card.tenderIndex}`);
  }
  return null;
}
