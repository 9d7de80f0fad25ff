import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LoyaltyError } from '@holdfast/domain';
import type { Op, SignedPolicy } from '@holdfast/protocol';
import { loyaltyPointsBody } from './loyalty-points.js';

const SHIFT = '01900000-0000-7000-8000-0000000000aa';
const SALE = '01900000-0000-7000-8000-0000000000bb';
const policy = (loyalty?: SignedPolicy['policy']['loyalty']) =>
  ({ policy: { ...(loyalty ? { loyalty } : {}) } }) as unknown as SignedPolicy;
const RULE = policy({ pointsPerUnit: 2, perMinor: 100, offlineCap: 50 });
const sale = (total: number) => ({ id: SALE, kind: 'sale.recorded', body: { shift: SHIFT, total } }) as unknown as Op;
const code = (c: string) => (e: unknown) => e instanceof LoyaltyError && e.code === c;

describe('loyaltyPointsBody', () => {
  it('earns whole steps of the sale total by the signed rule, and redeems within the cap and the known balance', () => {
    assert.deepEqual(loyaltyPointsBody(RULE, sale(1_099), { member: 'CARD0001', sale: SALE, knownBalance: 7 }), {
      shift: SHIFT,
      member: 'CARD0001',
      sale: SALE,
      earned: 20,
      redeemed: 0,
      balanceSeen: 7,
    });
    const body = loyaltyPointsBody(RULE, sale(50), { member: 'CARD0001', sale: SALE, knownBalance: 60, redeem: 50 });
    assert.deepEqual([body.earned, body.redeemed, body.route], [0, 50, 'offline']);
  });

  it('refuses, with a code, what it cannot record', () => {
    const input = { member: 'CARD0001', sale: SALE, knownBalance: 100 };
    assert.throws(() => loyaltyPointsBody(null, sale(100), input), code('loyalty_no_rule'));
    assert.throws(() => loyaltyPointsBody(policy(), sale(100), input), code('loyalty_no_rule'));
    assert.throws(() => loyaltyPointsBody(RULE, undefined, input), code('loyalty_sale_unknown'));
    assert.throws(() => loyaltyPointsBody(RULE, sale(100), { ...input, redeem: 51 }), code('loyalty_needs_online'));
    assert.throws(
      () => loyaltyPointsBody(RULE, sale(100), { ...input, knownBalance: 10, redeem: 11 }),
      code('loyalty_insufficient_points'),
    );
    assert.throws(() => loyaltyPointsBody(RULE, sale(100), { ...input, redeem: -1 }), code('loyalty_points_invalid'));
    assert.throws(() => loyaltyPointsBody(RULE, sale(100), { ...input, redeem: 1.5 }), code('loyalty_points_invalid'));
    assert.throws(() => loyaltyPointsBody(RULE, sale(99), input), code('loyalty_points_invalid'));
  });

  it('records a confirmed online redemption as such: above the cap, its approval, and refuses it mixed or for another member', () => {
    const online = { opId: SALE, redemption: SHIFT, member: 'CARD0001', points: 300 };
    const body = loyaltyPointsBody(RULE, sale(1_000), { member: 'CARD0001', sale: SALE, knownBalance: 500, online });
    assert.deepEqual(
      [body.earned, body.redeemed, body.route, body.approval, body.balanceSeen],
      [20, 300, 'online', SHIFT, 500],
    );
    const input = { member: 'CARD0001', sale: SALE, knownBalance: 500 };
    assert.throws(
      () => loyaltyPointsBody(RULE, sale(1_000), { ...input, online, redeem: 10 }),
      code('loyalty_points_invalid'),
    );
    assert.throws(
      () => loyaltyPointsBody(RULE, sale(1_000), { ...input, online: { ...online, member: 'CARD0002' } }),
      code('loyalty_points_invalid'),
    );
  });
});
