import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  generateDeviceKeys,
  importPrivateKey,
  MAX_AMOUNT,
  policyRef,
  type RiskPolicy,
  signPolicy,
  uuidv7,
  ValidationError,
} from '@holdfast/protocol';
import fc from 'fast-check';
import {
  type DevicePlacement,
  EMPTY_EXPOSURE,
  evaluateOffline,
  exposureOf,
  formatDuration,
  instrumentKey,
  type OfflineApproval,
  type OfflineContext,
  type OfflineDecision,
  type OfflineExposure,
  type OfflineRequest,
  policyCovers,
  RISK_RULES,
  type RiskRule,
  recordApproval,
  releaseSettled,
} from './risk.js';

const T0 = 1_790_000_000_000;
const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
const bytes = (n: number) => new Uint8Array(10).fill(n);
const DEVICE: DevicePlacement = { id: uuidv7(T0, bytes(1)), merchant: 'acme', location: 'north', event: 'final' };
const CARD = 'tok_visa_4242';
const BAND = 'wb-0077';

function makePolicy(edit?: (p: RiskPolicy) => void): RiskPolicy {
  const p: RiskPolicy = {
    v: 1,
    id: uuidv7(T0 - HOUR, bytes(9)),
    version: 7,
    issuedAt: T0 - HOUR,
    validFrom: T0 - HOUR,
    expiresAt: T0 + DAY,
    scope: { merchant: 'acme', location: 'north', event: 'final', devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * HOUR,
      device: { maxAmount: 100_000, maxCount: 20 },
      tenders: {
        card: {
          floorLimit: 5_000,
          instrument: { maxAmount: 12_000, maxCount: 4, velocity: { count: 3, windowMs: 10 * MINUTE } },
        },
        wristband: { floorLimit: 2_000, instrument: { maxAmount: 6_000, maxCount: 10, velocity: null } },
      },
    },
    online: { kinds: ['ticket.issued'], refundAbove: 3_000, loyaltyRedemptionAbove: 1_000 },
  };
  edit?.(p);
  return p;
}

const approval = (id: string, tender: 'card' | 'wristband', instrument: string, amount: number, at: number) =>
  ({ id, tender, instrument, amount, currency: 'EUR', at }) satisfies OfflineApproval;

/** What the device holds before the request: €10.00 on the card a minute ago, €15.00 on a wristband. */
const BASE_APPROVALS: OfflineApproval[] = [
  approval('a1', 'card', CARD, 1_000, T0 - MINUTE),
  approval('a2', 'wristband', BAND, 1_500, T0 - 2 * HOUR),
];

/** Everything evaluateOffline is given, editable before it runs. */
interface Draft {
  policy: RiskPolicy;
  dropPolicy: boolean;
  approvals: OfflineApproval[];
  request: OfflineRequest;
  context: OfflineContext;
}

function draft(): Draft {
  return {
    policy: makePolicy(),
    dropPolicy: false,
    approvals: BASE_APPROVALS.map((a) => ({ ...a })),
    request: { kind: 'sale.recorded', tender: 'card', amount: 2_500, currency: 'EUR', instrument: CARD },
    context: { now: T0, lastServerContactAt: T0 - HOUR, device: { ...DEVICE }, policyValid: true },
  };
}

function run(d: Draft): OfflineDecision {
  return evaluateOffline(d.dropPolicy ? null : d.policy, exposureOf(d.approvals), d.request, d.context);
}

function evaluate(...edits: ((d: Draft) => void)[]): OfflineDecision {
  const d = draft();
  for (const edit of edits) edit(d);
  return run(d);
}

function expectRule(decision: OfflineDecision, rule: RiskRule, outcome?: string): void {
  assert.equal(decision.rule, rule, decision.message);
  if (outcome) assert.equal(decision.outcome, outcome, decision.message);
}

const card = (d: Draft) => d.policy.offline.tenders.card;
const heldOn = (d: Draft, tender: 'card' | 'wristband', instrument: string) =>
  d.approvals.filter((a) => a.tender === tender && a.instrument === instrument);
const sum = (approvals: OfflineApproval[]) => approvals.reduce((n, a) => n + a.amount, 0);

describe('evaluateOffline: the base case', () => {
  it('approves a card payment inside every limit, naming the policy and the figures', () => {
    const decision = evaluate();
    assert.deepEqual(decision, {
      outcome: 'approve',
      rule: 'within_limits',
      message:
        'card payment of €25.00 approved offline under ' +
        `${policyRef(makePolicy())}: device at €50.00 of €1,000.00, 3 of 20 approvals`,
      policy: policyRef(makePolicy()),
    });
    assert.ok(Object.isFrozen(decision));
  });

  it('takes the policy signed or plain, with the same answer', () => {
    const d = draft();
    const signed = signPolicy(d.policy, importPrivateKey(generateDeviceKeys().privateKey), 'srv');
    assert.deepEqual(evaluateOffline(signed, exposureOf(d.approvals), d.request, d.context), run(d));
  });

  it('is deterministic and changes none of its inputs', () => {
    const d = draft();
    const exposure = exposureOf(d.approvals);
    const before = structuredClone({ policy: d.policy, exposure, request: d.request, context: d.context });
    const first = evaluateOffline(d.policy, exposure, d.request, d.context);
    assert.deepEqual(evaluateOffline(d.policy, exposure, d.request, d.context), first);
    assert.deepEqual({ policy: d.policy, exposure, request: d.request, context: d.context }, before);
  });
});

/**
 * Each limit at its value, one under and one over. `at(delta)` builds the
 * case where the quantity the limit caps is `limit + delta`.
 */
const LIMITS: { rule: RiskRule; what: string; at: (delta: number) => (d: Draft) => void; over?: number[] }[] = [
  {
    rule: 'floor_limit',
    what: 'amount vs card floor limit',
    at: (delta) => (d) => (d.request.amount = 5_000 + delta),
  },
  {
    rule: 'floor_limit',
    what: 'amount vs wristband floor limit',
    at: (delta) => (d) => {
      d.request = { ...d.request, tender: 'wristband', instrument: 'wb-new', amount: 2_000 + delta };
    },
  },
  {
    rule: 'device_amount',
    what: 'device total after approval vs device.maxAmount',
    at: (delta) => (d) => (d.policy.offline.device.maxAmount = sum(d.approvals) + d.request.amount - delta),
  },
  {
    rule: 'device_count',
    what: 'device count after approval vs device.maxCount',
    at: (delta) => (d) => (d.policy.offline.device.maxCount = d.approvals.length + 1 - delta),
  },
  {
    rule: 'instrument_amount',
    what: 'card total after approval vs instrument.maxAmount',
    at: (delta) => (d) => {
      const limits = card(d);
      if (limits) limits.instrument.maxAmount = sum(heldOn(d, 'card', CARD)) + d.request.amount - delta;
    },
  },
  {
    rule: 'instrument_count',
    what: 'card count after approval vs instrument.maxCount',
    at: (delta) => (d) => {
      const limits = card(d);
      if (limits) limits.instrument.maxCount = heldOn(d, 'card', CARD).length + 1 - delta;
    },
  },
  {
    rule: 'instrument_velocity',
    what: 'card uses in the window (with this one) vs velocity.count',
    at: (delta) => (d) => {
      const limits = card(d);
      d.approvals.push(approval('v1', 'card', CARD, 100, T0 - 5 * MINUTE), approval('v2', 'card', CARD, 100, T0));
      if (limits)
        limits.instrument = {
          maxAmount: 100_000,
          maxCount: 100,
          velocity: { count: 4 - delta, windowMs: 10 * MINUTE },
        };
    },
  },
  {
    rule: 'instrument_velocity',
    what: 'age of the oldest use vs velocity.windowMs (the window is (now − windowMs, now])',
    // delta −1: the use is windowMs + 1 old; 0: exactly windowMs old (it has left); +1: windowMs − 1 old.
    at: (delta) => (d) => {
      const limits = card(d);
      d.approvals = [approval('w1', 'card', CARD, 100, T0 - 10 * MINUTE + delta)];
      if (limits) limits.instrument.velocity = { count: 1, windowMs: 10 * MINUTE };
    },
  },
  {
    rule: 'max_offline_duration',
    what: 'time since last server contact vs maxOfflineMs',
    at: (delta) => (d) => (d.context.lastServerContactAt = d.context.now - 4 * HOUR - delta),
  },
  {
    rule: 'refund_above',
    what: 'refund amount vs online.refundAbove',
    at: (delta) => (d) => {
      d.request.isRefund = true;
      d.request.amount = 3_000 + delta;
    },
  },
  {
    rule: 'loyalty_redemption_above',
    what: 'redemption amount vs online.loyaltyRedemptionAbove',
    at: (delta) => (d) => {
      d.request.isLoyaltyRedemption = true;
      d.request.amount = 1_000 + delta;
    },
  },
  {
    rule: 'policy_expired',
    what: 'device clock vs expiresAt − 1 (the last valid millisecond)',
    at: (delta) => (d) => {
      d.context.now = d.policy.expiresAt - 1 + delta;
      d.context.lastServerContactAt = d.context.now - HOUR;
    },
  },
  {
    rule: 'policy_not_yet_valid',
    what: 'validFrom vs device clock (valid from validFrom on)',
    at: (delta) => (d) => {
      d.policy.validFrom = T0 + delta;
      d.approvals = []; // nothing recorded before the policy began
    },
  },
];

describe('evaluateOffline: every limit at, just under and just over its value', () => {
  for (const limit of LIMITS) {
    it(`${limit.rule}: ${limit.what}`, () => {
      for (const delta of [-1, 0]) {
        expectRule(evaluate(limit.at(delta)), 'within_limits', 'approve');
      }
      for (const delta of [1, 2]) {
        expectRule(evaluate(limit.at(delta)), limit.rule, 'needs_online');
      }
    });
  }

  it('threshold 0 sends every refund / redemption online; null sends none for its size', () => {
    const refund = (d: Draft) => {
      d.request.isRefund = true;
      d.request.amount = 1;
    };
    expectRule(
      evaluate(refund, (d) => (d.policy.online.refundAbove = 0)),
      'refund_above',
    );
    expectRule(
      evaluate(
        refund,
        (d) => (d.request.amount = 5_000),
        (d) => (d.policy.online.refundAbove = null),
      ),
      'within_limits',
    );
    const redeem = (d: Draft) => {
      d.request.isLoyaltyRedemption = true;
      d.request.amount = 1;
    };
    expectRule(
      evaluate(redeem, (d) => (d.policy.online.loyaltyRedemptionAbove = 0)),
      'loyalty_redemption_above',
    );
    expectRule(
      evaluate(redeem, (d) => (d.policy.online.loyaltyRedemptionAbove = null)),
      'within_limits',
    );
  });

  it('never compares a refund or redemption in another currency with the policy threshold', () => {
    const usdRefund = (d: Draft) => {
      d.request.isRefund = true;
      d.request.currency = 'USD';
      d.request.amount = 1;
    };
    const decision = evaluate(usdRefund);
    expectRule(decision, 'refund_above', 'needs_online');
    assert.match(decision.message, /refund of \$0\.01 cannot be compared with the offline refund limit of €30\.00/);
    expectRule(evaluate(usdRefund, BREAK.cash), 'refund_above');
    expectRule(
      evaluate(usdRefund, (d) => (d.policy.online.refundAbove = null)),
      'currency',
    );
    expectRule(
      evaluate(usdRefund, BREAK.cash, (d) => (d.policy.online.refundAbove = null)),
      'cash',
    );
    const usdRedemption = (d: Draft) => {
      d.request.isLoyaltyRedemption = true;
      d.request.currency = 'USD';
    };
    assert.match(
      evaluate(usdRedemption).message,
      /cannot be compared with the offline loyalty redemption limit of €10\.00/,
    );
  });

  it('a zero cap approves nothing', () => {
    expectRule(
      evaluate((d) => (d.policy.offline.device.maxAmount = 0)),
      'device_amount',
    );
    expectRule(
      evaluate((d) => (d.policy.offline.device.maxCount = 0)),
      'device_count',
    );
    expectRule(
      evaluate((d) => {
        const limits = card(d);
        if (limits) limits.floorLimit = 0;
      }),
      'floor_limit',
    );
  });

  it('maxOfflineMs 0 approves only in the millisecond of the last contact', () => {
    const zero = (d: Draft) => (d.policy.offline.maxOfflineMs = 0);
    expectRule(
      evaluate(zero, (d) => (d.context.lastServerContactAt = T0)),
      'within_limits',
    );
    expectRule(
      evaluate(zero, (d) => (d.context.lastServerContactAt = T0 - 1)),
      'max_offline_duration',
    );
  });
});

/**
 * One edit per rule that makes that rule fire and leaves the others alone
 * (given the edits for later rules ran first). Composing two shows which
 * one the contract says decides.
 */
const BREAK: Record<RiskRule, (d: Draft) => void> = {
  invalid_request: (d) => (d.request.currency = 'eur'),
  online_only_kind: (d) => d.policy.online.kinds.push(d.request.kind),
  refund_above: (d) => {
    d.request.isRefund = true;
    d.policy.online.refundAbove = d.request.amount - 1;
  },
  loyalty_redemption_above: (d) => {
    d.request.isLoyaltyRedemption = true;
    d.policy.online.loyaltyRedemptionAbove = d.request.amount - 1;
  },
  cash: (d) => {
    d.request.tender = 'cash';
    d.request.instrument = null;
  },
  no_policy: (d) => (d.dropPolicy = true),
  policy_invalid: (d) => (d.context.policyValid = false),
  policy_scope: (d) => (d.policy.scope.event = 'another-event'),
  policy_not_yet_valid: (d) => (d.policy.validFrom = d.context.now + 1),
  policy_expired: (d) => (d.policy.expiresAt = d.context.now),
  max_offline_duration: (d) => (d.context.lastServerContactAt = d.context.now - d.policy.offline.maxOfflineMs - 1),
  currency: (d) => (d.request.currency = 'USD'),
  tender_not_allowed: (d) => delete d.policy.offline.tenders.card,
  floor_limit: (d) => {
    const limits = card(d);
    if (limits) limits.floorLimit = d.request.amount - 1;
  },
  device_amount: (d) => (d.policy.offline.device.maxAmount = sum(d.approvals) + d.request.amount - 1),
  device_count: (d) => (d.policy.offline.device.maxCount = d.approvals.length),
  instrument_amount: (d) => {
    const limits = card(d);
    if (limits) limits.instrument.maxAmount = sum(heldOn(d, 'card', CARD)) + d.request.amount - 1;
  },
  instrument_count: (d) => {
    const limits = card(d);
    if (limits) limits.instrument.maxCount = heldOn(d, 'card', CARD).length;
  },
  instrument_velocity: (d) => {
    const limits = card(d);
    if (limits) limits.instrument.velocity = { count: 1, windowMs: 10 * MINUTE };
  },
  within_limits: () => {},
};

/** Restrictions come from a trusted policy that covers the device; these rules remove that policy. */
const RESTRICTIONS: RiskRule[] = ['online_only_kind', 'refund_above', 'loyalty_redemption_above'];
const UNTRUSTED: RiskRule[] = ['no_policy', 'policy_invalid', 'policy_scope'];

describe('evaluateOffline: precedence (the order of checks is the contract)', () => {
  for (const rule of RISK_RULES) {
    it(`${rule} fires alone`, () => {
      const outcome =
        rule === 'cash' || rule === 'within_limits'
          ? 'approve'
          : rule === 'invalid_request'
            ? 'decline'
            : 'needs_online';
      expectRule(evaluate(BREAK[rule]), rule, outcome);
    });
  }

  RISK_RULES.forEach((first, i) => {
    it(`${first} decides over every later rule`, () => {
      for (const later of RISK_RULES.slice(i + 1)) {
        if (first === 'policy_not_yet_valid' && later === 'policy_expired') continue; // validFrom < expiresAt
        const decision = evaluate(BREAK[later], BREAK[first]);
        const expected = RESTRICTIONS.includes(first) && UNTRUSTED.includes(later) ? later : first;
        assert.equal(decision.rule, expected, `${first} + ${later}: ${decision.message}`);
      }
    });
  });

  it('checks validity in time before expiry: a policy not yet valid is reported as such', () => {
    const d = draft();
    d.policy.validFrom = T0 + HOUR;
    d.policy.expiresAt = T0 + 2 * HOUR;
    d.context.now = T0 + 3 * HOUR;
    expectRule(run(d), 'policy_expired');
    d.context.now = T0;
    expectRule(run(d), 'policy_not_yet_valid');
  });
});

describe('evaluateOffline: cash and what always needs the server', () => {
  const cash = BREAK.cash;

  it('approves cash with no policy, an unverified, expired or foreign policy, in any currency', () => {
    for (const edit of [
      BREAK.no_policy,
      BREAK.policy_invalid,
      BREAK.policy_expired,
      BREAK.policy_scope,
      BREAK.currency,
    ]) {
      const decision = evaluate(cash, edit);
      expectRule(decision, 'cash', 'approve');
    }
    assert.equal(evaluate(cash, BREAK.no_policy).policy, null);
    assert.equal(evaluate(cash).message, 'cash payment of €25.00 needs no authorization');
  });

  it('sends an online-only kind to the server whatever the tender, even after the policy expired', () => {
    const ticket = (d: Draft) => (d.request.kind = 'ticket.issued');
    expectRule(evaluate(ticket, cash), 'online_only_kind', 'needs_online');
    expectRule(evaluate(ticket, cash, BREAK.policy_expired), 'online_only_kind');
    expectRule(evaluate(ticket, cash, BREAK.policy_not_yet_valid), 'online_only_kind');
    expectRule(evaluate(ticket), 'online_only_kind');
    assert.match(evaluate(ticket).message, /ticket\.issued always needs the server/);
  });

  it('does not take restrictions from a policy it cannot trust for this device', () => {
    const ticket = (d: Draft) => (d.request.kind = 'ticket.issued');
    expectRule(evaluate(ticket, cash, BREAK.policy_invalid), 'cash');
    expectRule(evaluate(ticket, BREAK.policy_invalid), 'policy_invalid');
    expectRule(evaluate(ticket, BREAK.policy_scope), 'policy_scope');
  });

  it('approves a cash refund under the threshold only with a held policy', () => {
    const refund = (d: Draft) => {
      d.request.isRefund = true;
      d.request.amount = 3_000;
    };
    expectRule(evaluate(cash, refund), 'cash', 'approve');
    expectRule(evaluate(cash, refund, BREAK.policy_expired), 'cash');
    expectRule(evaluate(cash, refund, BREAK.no_policy), 'no_policy', 'needs_online');
    expectRule(evaluate(cash, refund, BREAK.policy_invalid), 'policy_invalid');
    expectRule(evaluate(cash, refund, BREAK.policy_scope), 'policy_scope');
    expectRule(
      evaluate(cash, refund, (d) => (d.request.amount = 3_001)),
      'refund_above',
    );
    const redeem = (d: Draft) => {
      d.request.isLoyaltyRedemption = true;
      d.request.amount = 500;
    };
    expectRule(evaluate(cash, redeem), 'cash');
    expectRule(evaluate(cash, redeem, BREAK.no_policy), 'no_policy');
  });
});

describe('evaluateOffline: policy validity and scope', () => {
  it('needs the server without a policy, naming the request', () => {
    const decision = evaluate(BREAK.no_policy);
    expectRule(decision, 'no_policy', 'needs_online');
    assert.equal(decision.policy, null);
    assert.match(decision.message, /€25\.00/);
  });

  it('reports the policy it refused and why', () => {
    const ref = policyRef(makePolicy());
    const invalid = evaluate(BREAK.policy_invalid);
    assert.equal(invalid.policy, ref);
    assert.match(invalid.message, /not verified/);
    const expired = evaluate(BREAK.policy_expired);
    const iso = new Date(T0).toISOString();
    assert.equal(expired.message, `risk policy ${ref} expired at ${iso}; device clock reads ${iso}`);
  });

  const scopes: [string, (d: Draft) => void, boolean][] = [
    ['merchant differs', (d) => (d.policy.scope.merchant = 'globex'), false],
    ['location differs', (d) => (d.policy.scope.location = 'south'), false],
    ['event differs', (d) => (d.policy.scope.event = 'semi'), false],
    ['device has no location, scope names one', (d) => (d.context.device.location = null), false],
    ['device not in the list', (d) => (d.policy.scope.devices = [uuidv7(T0, bytes(5))]), false],
    ['device in the list', (d) => (d.policy.scope.devices = [uuidv7(T0, bytes(5)), DEVICE.id]), true],
    [
      'merchant-wide scope',
      (d) => {
        d.policy.scope.location = null;
        d.policy.scope.event = null;
        d.context.device.location = null;
        d.context.device.event = null;
      },
      true,
    ],
    ['any event at the location', (d) => (d.policy.scope.event = null), true],
  ];
  for (const [what, edit, covered] of scopes) {
    it(`scope: ${what} → ${covered ? 'covered' : 'policy_scope'}`, () => {
      const d = draft();
      edit(d);
      assert.equal(policyCovers(d.policy, d.context.device), covered);
      expectRule(run(d), covered ? 'within_limits' : 'policy_scope');
    });
  }

  it('needs a server contact on record, and tolerates a clock set back since it', () => {
    expectRule(
      evaluate((d) => (d.context.lastServerContactAt = null)),
      'max_offline_duration',
    );
    expectRule(
      evaluate((d) => (d.context.lastServerContactAt = T0 + HOUR)),
      'within_limits',
    );
    assert.match(
      evaluate((d) => (d.context.lastServerContactAt = T0 - 4 * HOUR - 1)).message,
      /no server contact for 4h 1ms; offline approvals stop after 4h/,
    );
  });
});

describe('evaluateOffline: currency, tenders and instruments', () => {
  it('never approves another currency, nor on top of unsettled approvals in another currency', () => {
    expectRule(evaluate(BREAK.currency), 'currency', 'needs_online');
    const d = draft();
    d.approvals.push({ ...approval('usd', 'card', 'tok_other_1', 500, T0 - HOUR), currency: 'USD' });
    const decision = run(d);
    expectRule(decision, 'currency');
    assert.match(decision.message, /unsettled offline approvals in USD; the risk policy is in EUR/);
  });

  it('never approves a tender type the policy leaves out', () => {
    const noBands = (d: Draft) => delete d.policy.offline.tenders.wristband;
    const band = (d: Draft) => (d.request = { ...d.request, tender: 'wristband', instrument: BAND, amount: 100 });
    expectRule(evaluate(band), 'within_limits');
    expectRule(evaluate(band, noBands), 'tender_not_allowed', 'needs_online');
    assert.match(evaluate(band, noBands).message, /wristband payments are never approved offline/);
  });

  it('counts per instrument: another card is not held back by this one', () => {
    const full = (d: Draft) => {
      const limits = card(d);
      if (limits) limits.instrument.maxCount = 1;
    };
    expectRule(evaluate(full), 'instrument_count');
    expectRule(
      evaluate(full, (d) => (d.request.instrument = 'tok_mc_5454')),
      'within_limits',
    );
  });

  it('keeps a card and a wristband with the same id apart', () => {
    const d = draft();
    d.approvals = [approval('x', 'wristband', CARD, 5_000, T0)];
    const limits = card(d);
    if (limits) limits.instrument.maxAmount = 2_500;
    expectRule(run(d), 'within_limits');
    assert.notEqual(instrumentKey('card', CARD), instrumentKey('wristband', CARD));
  });

  it('states the figures that decided', () => {
    assert.match(
      evaluate((d) => (d.request.amount = 5_001)).message,
      /payment of €50\.01 is over the card floor limit of €50\.00/,
    );
    assert.match(
      evaluate(BREAK.device_amount).message,
      /device holds €25\.00 approved offline and unsettled; €25\.00 more would pass its cap of €49\.99/,
    );
    assert.match(
      evaluate(BREAK.instrument_velocity).message,
      /this card was approved offline 1 time in the last 10m; the limit is 1 per 10m/,
    );
    assert.match(evaluate(BREAK.device_count).message, /device holds 2 offline approvals unsettled; its cap is 2/);
  });
});

describe('evaluateOffline: malformed requests are declined, naming the field', () => {
  const cases: [string, (d: Draft) => void][] = [
    ['request.amount', (d) => (d.request.amount = 0)],
    ['request.amount', (d) => (d.request.amount = -5)],
    ['request.amount', (d) => (d.request.amount = 1.5)],
    ['request.amount', (d) => (d.request.amount = MAX_AMOUNT + 1)],
    ['request.currency', (d) => (d.request.currency = 'EURO')],
    ['request.instrument', (d) => (d.request.instrument = null)],
    ['request.instrument', (d) => (d.request.instrument = '')],
    ['request.tender', (d) => (d.request.tender = 'cheque' as 'cash')],
    ['request.kind', (d) => (d.request.kind = '')],
    ['context.now', (d) => (d.context.now = Number.NaN)],
    ['context.lastServerContactAt', (d) => (d.context.lastServerContactAt = 1.5)],
  ];
  for (const [field, edit] of cases) {
    it(`${field}`, () => {
      const decision = evaluate(edit);
      expectRule(decision, 'invalid_request', 'decline');
      assert.ok(decision.message.startsWith(`invalid request: ${field}: expected`), decision.message);
    });
  }

  it('a cash request needs no instrument', () => {
    expectRule(evaluate(BREAK.cash), 'cash');
  });
});

describe('recordApproval / releaseSettled / exposureOf', () => {
  const request: OfflineRequest = {
    kind: 'sale.recorded',
    tender: 'card',
    amount: 700,
    currency: 'EUR',
    instrument: CARD,
  };

  it('adds the approval to the totals and its instrument, leaving the old exposure as it was', () => {
    const before = exposureOf(BASE_APPROVALS);
    const after = recordApproval(before, request, T0 + 5, 'op-1');
    assert.equal(after.amount, 3_200);
    assert.equal(after.count, 3);
    assert.deepEqual(after.byInstrument.get(`card:${CARD}`), { amount: 1_700, count: 2, uses: [T0 - MINUTE, T0 + 5] });
    assert.deepEqual(after.byInstrument.get(`wristband:${BAND}`), { amount: 1_500, count: 1, uses: [T0 - 2 * HOUR] });
    assert.deepEqual(after.approvals.get('op-1'), {
      id: 'op-1',
      tender: 'card',
      instrument: CARD,
      amount: 700,
      currency: 'EUR',
      at: T0 + 5,
    });
    assert.equal(before.amount, 2_500);
    assert.equal(before.count, 2);
    assert.equal(before.approvals.has('op-1'), false);
  });

  it('ignores cash and an op id already recorded', () => {
    const e = recordApproval(EMPTY_EXPOSURE, request, T0, 'op-1');
    assert.equal(recordApproval(e, request, T0 + 1, 'op-1'), e);
    assert.equal(recordApproval(e, { ...request, tender: 'cash', instrument: null }, T0, 'op-2'), e);
  });

  it('refuses a malformed request with the field named', () => {
    assert.throws(
      () => recordApproval(EMPTY_EXPOSURE, { ...request, instrument: null }, T0, 'op-1'),
      (e: unknown) => e instanceof ValidationError && e.field === 'request.instrument',
    );
    assert.throws(
      () => recordApproval(EMPTY_EXPOSURE, request, T0, ''),
      (e: unknown) => e instanceof ValidationError && e.field === 'id',
    );
  });

  it('releases by op id, once: a repeated or unknown notice changes nothing', () => {
    let e: OfflineExposure = EMPTY_EXPOSURE;
    e = recordApproval(e, request, T0, 'op-1');
    e = recordApproval(e, { ...request, amount: 300 }, T0 + 1, 'op-2');
    const released = releaseSettled(e, ['op-1']);
    assert.equal(released.amount, 300);
    assert.equal(released.count, 1);
    assert.deepEqual(released.byInstrument.get(`card:${CARD}`)?.uses, [T0 + 1]);
    assert.equal(releaseSettled(released, ['op-1']), released);
    assert.equal(releaseSettled(released, ['never-seen']), released);
    const empty = releaseSettled(released, ['op-2', 'op-2']);
    assert.equal(empty.amount, 0);
    assert.equal(empty.byInstrument.size, 0, 'an instrument with nothing unsettled is forgotten');
  });

  it('exposureOf: uses sorted, a repeated id counted once', () => {
    const e = exposureOf([
      approval('b', 'card', CARD, 10, T0 + 9),
      approval('a', 'card', CARD, 20, T0 + 1),
      approval('b', 'card', CARD, 999, T0),
    ]);
    assert.equal(e.amount, 30);
    assert.deepEqual(e.byInstrument.get(`card:${CARD}`)?.uses, [T0 + 1, T0 + 9]);
  });

  it('formatDuration is exact', () => {
    assert.equal(formatDuration(4 * HOUR + 1), '4h 1ms');
    assert.equal(formatDuration(DAY + 61_000), '1d 1m 1s');
    assert.equal(formatDuration(0), '0ms');
  });
});

describe('property: what a device approves stays inside its policy', () => {
  const limitsArb = fc.record({
    floorLimit: fc.integer({ min: 0, max: 60 }),
    instrument: fc.record({
      maxAmount: fc.integer({ min: 0, max: 150 }),
      maxCount: fc.integer({ min: 0, max: 6 }),
      velocity: fc.option(
        fc.record({ count: fc.integer({ min: 1, max: 4 }), windowMs: fc.integer({ min: 1, max: 120 }) }),
        {
          nil: null,
        },
      ),
    }),
  });
  const policyArb = fc
    .record({
      maxAmount: fc.integer({ min: 0, max: 400 }),
      maxCount: fc.integer({ min: 0, max: 16 }),
      card: fc.option(limitsArb, { nil: undefined }),
      wristband: fc.option(limitsArb, { nil: undefined }),
      refundAbove: fc.option(fc.integer({ min: 0, max: 60 }), { nil: null }),
    })
    .map((g) =>
      makePolicy((p) => {
        p.offline.device = { maxAmount: g.maxAmount, maxCount: g.maxCount };
        p.offline.tenders = {};
        if (g.card) p.offline.tenders.card = g.card;
        if (g.wristband) p.offline.tenders.wristband = g.wristband;
        p.online.refundAbove = g.refundAbove;
      }),
    );
  const stepArb = fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        type: fc.constant('pay' as const),
        tender: fc.constantFrom('cash' as const, 'card' as const, 'wristband' as const),
        instrument: fc.integer({ min: 0, max: 3 }),
        amount: fc.integer({ min: 1, max: 80 }),
        refund: fc.boolean(),
        dt: fc.integer({ min: 0, max: 50 }),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('settle' as const), pick: fc.nat() }) },
  );

  it('never passes a device or instrument cap or velocity, and conserves every approved amount', () => {
    fc.assert(
      fc.property(policyArb, fc.array(stepArb, { maxLength: 80 }), (policy, steps) => {
        let exposure = EMPTY_EXPOSURE;
        const ledger = new Map<string, { key: string; amount: number }>(); // approved, not yet settled
        let now = T0;
        steps.forEach((step, i) => {
          if (step.type === 'settle') {
            const ids = [...ledger.keys()];
            if (ids.length === 0) return;
            const id = ids[step.pick % ids.length] as string;
            exposure = releaseSettled(exposure, [id]);
            ledger.delete(id);
          } else {
            now += step.dt;
            const request: OfflineRequest = {
              kind: 'sale.recorded',
              tender: step.tender,
              amount: step.amount,
              currency: 'EUR',
              instrument: step.tender === 'cash' ? null : `i${step.instrument}`,
              isRefund: step.refund,
            };
            const context: OfflineContext = { now, lastServerContactAt: T0, device: DEVICE, policyValid: true };
            const decision = evaluateOffline(policy, exposure, request, context);
            // Re-runnable: the server rebuilds the exposure from the approvals and gets the same answer.
            assert.deepEqual(
              evaluateOffline(policy, exposureOf(exposure.approvals.values()), request, context),
              decision,
            );
            if (decision.outcome === 'approve' && request.tender !== 'cash') {
              const floor = policy.offline.tenders[request.tender]?.floorLimit ?? -1;
              assert.ok(request.amount <= floor, 'approved over the floor limit');
              const id = `op-${i}`;
              exposure = recordApproval(exposure, request, now, id);
              ledger.set(id, {
                key: instrumentKey(request.tender, request.instrument as string),
                amount: request.amount,
              });
            }
          }
          const { device } = policy.offline;
          assert.ok(exposure.amount <= device.maxAmount, `amount ${exposure.amount} > ${device.maxAmount}`);
          assert.ok(exposure.count <= device.maxCount, `count ${exposure.count} > ${device.maxCount}`);
          let total = 0;
          const perInstrument = new Map<string, { amount: number; count: number }>();
          for (const { key, amount } of ledger.values()) {
            total += amount;
            const entry = perInstrument.get(key) ?? { amount: 0, count: 0 };
            perInstrument.set(key, { amount: entry.amount + amount, count: entry.count + 1 });
          }
          assert.equal(exposure.amount, total, 'conservation: exposure = approved − settled');
          assert.equal(exposure.count, ledger.size);
          assert.equal(exposure.byInstrument.size, perInstrument.size);
          for (const [key, held] of exposure.byInstrument) {
            assert.deepEqual({ amount: held.amount, count: held.count }, perInstrument.get(key));
            const limits = policy.offline.tenders[key.startsWith('card:') ? 'card' : 'wristband'];
            assert.ok(limits, `approved ${key} with no offline tender`);
            assert.ok(held.amount <= limits.instrument.maxAmount, `${key} amount ${held.amount}`);
            assert.ok(held.count <= limits.instrument.maxCount, `${key} count ${held.count}`);
            const v = limits.instrument.velocity;
            if (v) {
              for (const t of held.uses) {
                const inWindow = held.uses.filter((u) => u > t - v.windowMs && u <= t).length;
                assert.ok(inWindow <= v.count, `${key}: ${inWindow} uses in ${v.windowMs} ms, limit ${v.count}`);
              }
            }
          }
        });
      }),
      { numRuns: 300 },
    );
  });
});
