/**
 * The server's re-evaluation of local approvals, pure: each rule at, just
 * under and just over its value, the exposure the server can prove the
 * terminal held, and what is not a breach.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ChainBuilder,
  type Decision,
  generateDeviceKeys,
  type Op,
  policyRef,
  type RiskPolicy,
  uuidv7,
} from '@holdfast/protocol';
import { type ApprovedCard, type HeldApproval, HeldExposure, reevaluateLocalApproval } from './reevaluate-approval.js';

const T0 = Date.UTC(2026, 10, 21, 12);
const HOUR = 3_600_000;
const DEVICE = uuidv7(T0, new Uint8Array(10).fill(9));
const ACME = { merchant: 'acme', location: 'north', event: null };

function policy(change: (p: RiskPolicy) => void = () => undefined): RiskPolicy {
  const p: RiskPolicy = {
    v: 1,
    id: uuidv7(T0 - HOUR, new Uint8Array(10).fill(1)),
    version: 3,
    issuedAt: T0 - HOUR,
    validFrom: T0 - HOUR,
    expiresAt: T0 + 10 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 10_000, maxCount: 4 },
      tenders: {
        card: {
          floorLimit: 5_000,
          instrument: { maxAmount: 6_000, maxCount: 3, velocity: { count: 2, windowMs: 60_000 } },
        },
      },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
  change(p);
  return p;
}

const P = policy();
const REF = policyRef(P);
const local = (ref: string | null = REF): Decision => ({
  mode: 'local',
  outcome: 'approved',
  policy: ref,
  rule: 'within_limits',
});

/** A sale op at `at` (seq 10) paid by `cards`; the body is not read by the re-evaluation beyond its tenders. */
function saleOp(at: number, decision: Decision = local(), kind = 'sale.recorded'): Op {
  const chain = new ChainBuilder(DEVICE, generateDeviceKeys().privateKey, { now: () => at });
  let op = chain.next(kind, {}, decision);
  for (let i = 1; i < 10; i++) op = chain.next(kind, {}, decision);
  return op;
}

const cardOf = (amount: number, token = 'tok_a', tenderIndex = 0): ApprovedCard => ({ tenderIndex, amount, token });
const heldOf = (amount: number, token = 'tok_b', approvedAt = T0 - HOUR / 2, seq = 5): HeldApproval => ({
  id: `h-${seq}-${token}-${amount}-${approvedAt}`,
  seq,
  amount,
  currency: 'EUR',
  token,
  approvedAt,
});

function check(
  cards: ApprovedCard[],
  options: {
    at?: number;
    decision?: Decision;
    held?: HeldApproval[];
    p?: RiskPolicy;
    placement?: typeof ACME | null;
    currency?: string;
    kind?: string;
  } = {},
) {
  const p = options.p ?? P;
  return reevaluateLocalApproval({
    op: saleOp(options.at ?? T0, options.decision ?? local(policyRef(p)), options.kind),
    currency: options.currency ?? 'EUR',
    cards,
    policies: new Map([[policyRef(p), p]]),
    placement: options.placement === undefined ? ACME : options.placement,
    held: new HeldExposure(options.held ?? []),
  });
}

const rule = (breach: ReturnType<typeof check>) => breach?.rule ?? null;

describe('reevaluateLocalApproval', () => {
  it('within every limit: no breach', () => {
    assert.equal(check([cardOf(5_000)]), null);
  });

  it('a card approval naming no policy is a breach; a cash-only one is not', () => {
    assert.deepEqual(check([cardOf(100)], { decision: local(null) }), {
      rule: 'no_policy',
      message: 'card payment approved offline without naming a risk policy',
      policy: null,
      tenderIndex: 0,
    });
    assert.equal(check([], { decision: local(null) }), null);
  });

  it('a policy the server never issued (or another version of it) is a breach', () => {
    const other = `${P.id}@${P.version + 1}`;
    const breach = check([cardOf(100)], { decision: local(other) });
    assert.deepEqual([breach?.rule, breach?.policy], ['unknown_policy', other]);
  });

  it('scope: an unplaced device, or one of another merchant or location, is not covered', () => {
    assert.equal(rule(check([cardOf(100)], { placement: null })), 'policy_scope');
    assert.equal(rule(check([cardOf(100)], { placement: { ...ACME, merchant: 'globex' } })), 'policy_scope');
    const north = policy((p) => {
      p.scope.location = 'south';
    });
    assert.equal(rule(check([cardOf(100)], { p: north })), 'policy_scope');
    const listed = policy((p) => {
      p.scope.devices = [DEVICE];
    });
    assert.equal(check([cardOf(100)], { p: listed }), null);
  });

  it('time: validFrom ≤ at < expiresAt, on the device clock the op records', () => {
    assert.equal(rule(check([cardOf(100)], { at: P.validFrom - 1 })), 'policy_not_yet_valid');
    assert.equal(check([cardOf(100)], { at: P.validFrom }), null);
    assert.equal(check([cardOf(100)], { at: P.expiresAt - 1 }), null);
    assert.equal(rule(check([cardOf(100)], { at: P.expiresAt })), 'policy_expired');
  });

  it('an online-only kind approved locally is a breach, with or without tenders', () => {
    const p = policy((x) => {
      x.online.kinds = ['ticket.issued', 'sale.recorded'];
    });
    assert.equal(rule(check([cardOf(100)], { p })), 'online_only_kind');
    assert.equal(rule(check([], { p, kind: 'ticket.issued' })), 'online_only_kind');
    assert.equal(check([], { kind: 'ticket.issued' }), null, 'not online-only under P');
  });

  it('currency and tender type', () => {
    assert.equal(rule(check([cardOf(100)], { currency: 'USD' })), 'currency');
    const noCards = policy((p) => {
      delete p.offline.tenders.card;
    });
    assert.equal(rule(check([cardOf(100)], { p: noCards })), 'tender_not_allowed');
  });

  it('floor limit: at and under pass, one over is a breach naming the tender', () => {
    assert.equal(check([cardOf(4_999)]), null);
    assert.equal(check([cardOf(5_000)]), null);
    const breach = check([{ tenderIndex: 2, amount: 5_001, token: 'tok_a' }]);
    assert.deepEqual([breach?.rule, breach?.tenderIndex, breach?.policy], ['floor_limit', 2, REF]);
  });

  it('device amount: what the device provably held counts; at the cap passes, one over does not', () => {
    const held = [heldOf(3_000, 'tok_x'), heldOf(3_000, 'tok_y')];
    assert.equal(check([cardOf(3_999)], { held }), null);
    assert.equal(check([cardOf(4_000)], { held }), null);
    assert.equal(rule(check([cardOf(4_001)], { held })), 'device_amount');
  });

  it('device count: maxCount − 1 held passes, maxCount held is a breach', () => {
    const three = [1, 2, 3].map((i) => heldOf(100, `tok_${i}`));
    assert.equal(check([cardOf(100)], { held: three }), null);
    assert.equal(rule(check([cardOf(100)], { held: [...three, heldOf(100, 'tok_4')] })), 'device_count');
  });

  it('instrument amount, count and velocity, per card token', () => {
    assert.equal(check([cardOf(1_000)], { held: [heldOf(5_000, 'tok_a')] }), null, 'at the card cap');
    assert.equal(rule(check([cardOf(1_001)], { held: [heldOf(5_000, 'tok_a')] })), 'instrument_amount');
    assert.equal(check([cardOf(1_001)], { held: [heldOf(5_000, 'tok_other')] }), null, 'another card');
    const old = (i: number) => heldOf(100, 'tok_a', T0 - HOUR + i, i);
    assert.equal(check([cardOf(100)], { held: [old(1), old(2)] }), null, 'two uses, outside the window');
    assert.equal(rule(check([cardOf(100)], { held: [old(1), old(2), old(3)] })), 'instrument_count');
    const recent = (i: number) => heldOf(100, 'tok_a', T0 - 60_000 + i, i);
    assert.equal(
      check([cardOf(100)], { held: [recent(0)] }),
      null,
      'the window is (at − windowMs, at]: one use at its edge is out',
    );
    assert.equal(check([cardOf(100)], { held: [recent(1)] }), null, 'one recent use: the second is allowed');
    assert.equal(rule(check([cardOf(100)], { held: [recent(1), recent(2)] })), 'instrument_velocity');
  });

  it('the tenders of one sale count against each other, in order', () => {
    const cards = [cardOf(5_000, 'tok_a', 0), cardOf(5_000, 'tok_b', 1), cardOf(1, 'tok_c', 2)];
    const breach = check(cards);
    assert.deepEqual([breach?.rule, breach?.tenderIndex], ['device_amount', 2]);
    assert.equal(check(cards.slice(0, 2)), null);
  });
});
