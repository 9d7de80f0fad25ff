import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  applyLoyaltyEntry,
  checkLoyaltyPolicy,
  EMPTY_LOYALTY_TOTALS,
  type LoyaltyEntryMove,
  LoyaltyError,
  type LoyaltyPolicy,
  pointsEarned,
  redemptionRoute,
} from './loyalty.js';

const POLICY: LoyaltyPolicy = { pointsPerUnit: 1, perMinor: 100, offlineCap: 200 };

const code = (c: string) => (e: unknown) => e instanceof LoyaltyError && e.code === c;

describe('pointsEarned', () => {
  it('counts whole steps only, rounding down', () => {
    assert.equal(pointsEarned(999, POLICY), 9);
    assert.equal(pointsEarned(1000, POLICY), 10);
    assert.equal(pointsEarned(99, POLICY), 0);
    assert.equal(pointsEarned(1_050, { ...POLICY, pointsPerUnit: 3, perMinor: 50 }), 63);
  });

  it('refuses a negative or fractional total', () => {
    assert.throws(() => pointsEarned(-1, POLICY), code('loyalty_points_invalid'));
    assert.throws(() => pointsEarned(10.5, POLICY), code('loyalty_points_invalid'));
  });

  it('never earns more than the sale is worth in steps, and splitting a sale never earns more', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10_000_000 }), fc.integer({ min: 0, max: 10_000_000 }), (a, b) => {
        assert.ok(pointsEarned(a, POLICY) + pointsEarned(b, POLICY) <= pointsEarned(a + b, POLICY));
        assert.ok(Number.isInteger(pointsEarned(a, POLICY)));
      }),
    );
  });
});

describe('redemptionRoute', () => {
  it('offline within the cap, online above it', () => {
    assert.equal(redemptionRoute(200, 1_000, POLICY), 'offline');
    assert.equal(redemptionRoute(201, 1_000, POLICY), 'online');
  });

  it('refuses zero, negative, fractional points and more than the known balance, naming each', () => {
    assert.throws(() => redemptionRoute(0, 100, POLICY), code('loyalty_points_invalid'));
    assert.throws(() => redemptionRoute(-5, 100, POLICY), code('loyalty_points_invalid'));
    assert.throws(() => redemptionRoute(1.5, 100, POLICY), code('loyalty_points_invalid'));
    assert.throws(() => redemptionRoute(101, 100, POLICY), /balance is 100/);
  });
});

describe('checkLoyaltyPolicy', () => {
  it('accepts a sane policy and refuses a negative cap or a zero step', () => {
    checkLoyaltyPolicy(POLICY);
    assert.throws(() => checkLoyaltyPolicy({ ...POLICY, offlineCap: -1 }), /policy.offlineCap/);
    assert.throws(() => checkLoyaltyPolicy({ ...POLICY, perMinor: 0 }), /policy.perMinor/);
  });
});

describe('applyLoyaltyEntry', () => {
  it('reports an overdrawn episode once, until the balance is back at zero', () => {
    let t = EMPTY_LOYALTY_TOTALS;
    const step = (key: string, move: LoyaltyEntryMove) => {
      const r = applyLoyaltyEntry(t, key, move);
      t = r.totals;
      return r.overdrawn;
    };
    assert.equal(step('a', { kind: 'earn', points: 100 }), false);
    assert.equal(step('b', { kind: 'redeem', points: 80 }), false);
    assert.equal(step('c', { kind: 'redeem', points: 80 }), true);
    assert.equal(t.balance, -60);
    assert.equal(t.overdrawnBy, 'c');
    assert.equal(step('d', { kind: 'redeem', points: 10 }), false);
    assert.equal(t.overdrawnBy, 'c');
    assert.equal(step('e', { kind: 'adjust', points: 70 }), false);
    assert.equal(t.overdrawnBy, null);
    assert.equal(step('f', { kind: 'redeem', points: 1 }), true);
  });

  it('refuses negative earn, fractional redeem and a zero adjustment', () => {
    assert.throws(() => applyLoyaltyEntry(EMPTY_LOYALTY_TOTALS, 'x', { kind: 'earn', points: -1 }));
    assert.throws(() => applyLoyaltyEntry(EMPTY_LOYALTY_TOTALS, 'x', { kind: 'redeem', points: 0.5 }));
    assert.throws(() => applyLoyaltyEntry(EMPTY_LOYALTY_TOTALS, 'x', { kind: 'adjust', points: 0 }));
  });

  it('keeps balance = earned − redeemed + adjusted for any sequence', () => {
    const move = fc.oneof(
      fc.record({ kind: fc.constant('earn' as const), points: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({ kind: fc.constant('redeem' as const), points: fc.integer({ min: 0, max: 10_000 }) }),
      fc.record({
        kind: fc.constant('adjust' as const),
        points: fc.integer({ min: -10_000, max: 10_000 }).filter((n) => n !== 0),
      }),
    );
    fc.assert(
      fc.property(fc.array(move, { maxLength: 60 }), (moves) => {
        let t = EMPTY_LOYALTY_TOTALS;
        let episodes = 0;
        let wasNegative = false;
        moves.forEach((m, i) => {
          const r = applyLoyaltyEntry(t, String(i), m);
          t = r.totals;
          if (r.overdrawn) episodes++;
          if (t.balance < 0 && !wasNegative) assert.equal(r.overdrawn, true);
          wasNegative = t.balance < 0;
        });
        const sum = (k: string) => moves.filter((m) => m.kind === k).reduce((a, m) => a + m.points, 0);
        assert.equal(t.balance, sum('earn') - sum('redeem') + sum('adjust'));
        assert.equal(t.earned, sum('earn'));
        assert.ok(episodes <= moves.length);
      }),
    );
  });
});
