/**
 * The loyalty part of the storage suite (every backend of
 * testing/storage-backends.ts): points earned and redeemed at ingest once
 * per op, two tills overdrawing a member offline (one loyalty_overdrawn),
 * points for an unknown member, operators' adjustments, and coded errors.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { LoyaltyPointsBody, Op } from '@holdfast/protocol';
import { ProtocolError } from '@holdfast/protocol';
import type { LoyaltyMemberRecord, LoyaltyMemberView } from '../../model/loyalty.js';
import type { Harness, TestDevice } from '../../testing/harness.js';
import { saleBody } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const MEMBER = 'M0000001';

function points(d: TestDevice, shift: string, sale: Op, extra: Partial<LoyaltyPointsBody>): Op {
  const body: LoyaltyPointsBody = {
    shift,
    member: MEMBER,
    sale: sale.id,
    earned: 0,
    redeemed: 0,
    balanceSeen: 0,
    ...extra,
  };
  return d.chain.next('loyalty.points', body);
}

async function send(h: Harness, d: TestDevice, ops: Op[]): Promise<string[]> {
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body.results.map((r) => r.status);
}

async function member(h: Harness, id = MEMBER): Promise<LoyaltyMemberView> {
  const view = await h.storage.getLoyaltyMember(id);
  assert.ok(view, `member ${id} exists`);
  return view;
}

async function exceptionsOf(h: Harness, type: string) {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => x.type === type);
}

function conserved(v: LoyaltyMemberView): void {
  const a: LoyaltyMemberRecord = v.account;
  assert.equal(a.balance, a.earned - a.redeemed + a.adjusted, 'earned − redeemed + adjusted == balance');
  const sum = (k: string) => v.entries.filter((e) => e.kind === k).reduce((s, e) => s + e.points, 0);
  assert.deepEqual(
    [sum('earn'), sum('redeem'), sum('adjust')],
    [a.earned, a.redeemed, a.adjusted],
    'entries sum to totals',
  );
}

async function rejects(run: () => Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(run, (e: unknown) => e instanceof ProtocolError && e.code === code);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('loyalty points', () => {
      test('earned and redeemed on sales: entries once per op, totals conserved, ledger event, replay changes nothing', async (h) => {
        await h.storage.createLoyaltyMember(MEMBER, 'Ana', 1);
        const d = await h.enrollDevice('till-1');
        const open = d.openShift();
        const s1 = d.chain.next('sale.recorded', saleBody(open.id, 4_250));
        const p1 = points(d, open.id, s1, { earned: 42 });
        const s2 = d.chain.next('sale.recorded', saleBody(open.id, 1_000));
        const p2 = points(d, open.id, s2, { earned: 10, redeemed: 30, balanceSeen: 42, route: 'offline' });
        assert.deepEqual(await send(h, d, [open, s1, p1, s2, p2]), Array(5).fill('accepted'));
        const view = await member(h);
        assert.deepEqual(
          [view.account.earned, view.account.redeemed, view.account.adjusted, view.account.balance],
          [52, 30, 0, 22],
        );
        conserved(view);
        assert.deepEqual(
          view.entries.map((e) => [e.entryId, e.kind, e.points, e.sale, e.device]),
          [
            [`${p1.id}:earn`, 'earn', 42, s1.id, d.id],
            [`${p2.id}:earn`, 'earn', 10, s2.id, d.id],
            [`${p2.id}:redeem`, 'redeem', 30, s2.id, d.id],
          ],
        );
        const ledger = (await h.storage.listLedger(0, 1000)).items.filter((e) => e.type === 'loyalty.points');
        assert.equal(ledger.length, 2);
        assert.equal(ledger[1]?.data.redeemed, 30);
        assert.deepEqual(await send(h, d, [open, s1, p1, s2, p2]), Array(5).fill('duplicate'));
        assert.equal((await member(h)).entries.length, 3);
        assert.equal((await member(h)).account.balance, 22);
      });

      test('two tills redeem the same points offline: both applied, one loyalty_overdrawn, resolved by an adjustment', async (h) => {
        await h.storage.createLoyaltyMember(MEMBER, 'Ana', 1);
        const a = await h.enrollDevice('till-a');
        const b = await h.enrollDevice('till-b');
        const [oa, ob] = [a.openShift(), b.openShift()];
        const sa0 = a.chain.next('sale.recorded', saleBody(oa.id, 10_000));
        await send(h, a, [oa, sa0, points(a, oa.id, sa0, { earned: 100 })]);
        // Both tills knew 100 points and each spent 80.
        const sa = a.chain.next('sale.recorded', saleBody(oa.id, 500));
        const sb = b.chain.next('sale.recorded', saleBody(ob.id, 500));
        const ra = points(a, oa.id, sa, { redeemed: 80, balanceSeen: 100, route: 'offline' });
        const rb = points(b, ob.id, sb, { redeemed: 80, balanceSeen: 100, route: 'offline' });
        await send(h, a, [sa, ra]);
        assert.deepEqual(await exceptionsOf(h, 'loyalty_overdrawn'), []);
        await send(h, b, [ob, sb, rb]);
        const view = await member(h);
        assert.equal(view.account.balance, -60);
        assert.equal(view.account.overdrawnBy, rb.id);
        conserved(view);
        const raised = await exceptionsOf(h, 'loyalty_overdrawn');
        assert.equal(raised.length, 1);
        assert.equal(raised[0]?.opId, rb.id);
        assert.equal(raised[0]?.detail.balance, -60);
        // Still overdrawn: a further redemption is applied without a second exception.
        const sb2 = b.chain.next('sale.recorded', saleBody(ob.id, 500));
        await send(h, b, [sb2, points(b, ob.id, sb2, { redeemed: 5, balanceSeen: 20, route: 'offline' })]);
        assert.equal((await exceptionsOf(h, 'loyalty_overdrawn')).length, 1);
        // The shop accepts the loss: an adjustment back to zero, once per id.
        const adjusted = await h.storage.adjustLoyaltyPoints({
          member: MEMBER,
          points: 65,
          reason: 'accept loss: double redemption offline',
          actor: 'op-1',
          id: 'adj-1',
          now: 5,
        });
        assert.equal(adjusted.account.balance, 0);
        assert.equal(adjusted.account.overdrawnBy, null);
        conserved(adjusted);
        await rejects(
          () =>
            h.storage.adjustLoyaltyPoints({
              member: MEMBER,
              points: 65,
              reason: 'again',
              actor: 'op-1',
              id: 'adj-1',
              now: 6,
            }),
          'loyalty_adjustment_exists',
        );
        assert.equal((await member(h)).account.balance, 0);
      });

      test('points for an unknown member: the op is stored, nothing applied, loyalty_unknown_member names it', async (h) => {
        const d = await h.enrollDevice('till-1');
        const open = d.openShift();
        const s = d.chain.next('sale.recorded', saleBody(open.id, 1_000));
        const p = points(d, open.id, s, { member: 'NOBODY01', earned: 10 });
        assert.deepEqual(await send(h, d, [open, s, p]), ['accepted', 'accepted', 'accepted']);
        const raised = await exceptionsOf(h, 'loyalty_unknown_member');
        assert.equal(raised.length, 1);
        assert.equal(raised[0]?.opId, p.id);
        assert.equal(await h.storage.getLoyaltyMember('NOBODY01'), null);
        assert.deepEqual(await h.storage.listLoyaltyMembers(), []);
      });

      test('bad input gets coded errors and changes nothing', async (h) => {
        await h.storage.createLoyaltyMember(MEMBER, 'Ana', 1);
        await rejects(() => h.storage.createLoyaltyMember(MEMBER, 'Bea', 2), 'loyalty_member_exists');
        assert.equal((await member(h)).account.name, 'Ana');
        await rejects(
          () =>
            h.storage.adjustLoyaltyPoints({ member: 'NOBODY01', points: 5, reason: 'x', actor: 'op', id: 'a', now: 1 }),
          'loyalty_member_unknown',
        );
        for (const bad of [0, 1.5, Number.NaN, 2_000_000_000]) {
          await rejects(
            () =>
              h.storage.adjustLoyaltyPoints({
                member: MEMBER,
                points: bad,
                reason: 'x',
                actor: 'op',
                id: `b${bad}`,
                now: 1,
              }),
            'loyalty_points_invalid',
          );
        }
        assert.deepEqual((await member(h)).entries, []);
        // A fractional or negative point count from a till is refused with the op (the body is invalid).
        const d = await h.enrollDevice('till-1');
        const open = d.openShift();
        const s = d.chain.next('sale.recorded', saleBody(open.id, 1_000));
        const bad = d.chain.next('loyalty.points', {
          shift: open.id,
          member: MEMBER,
          sale: s.id,
          earned: -3,
          redeemed: 0,
          balanceSeen: 0,
        } as unknown as LoyaltyPointsBody);
        const statuses = await send(h, d, [open, s, bad]);
        assert.deepEqual(statuses.slice(0, 2), ['accepted', 'accepted']);
        assert.notEqual(statuses[2], 'accepted');
        assert.deepEqual((await member(h)).entries, []);
      });
    });
  });
}
