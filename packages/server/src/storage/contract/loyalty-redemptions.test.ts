/**
 * Online loyalty on every backend (testing/storage-backends.ts), through
 * the real HTTP route `POST /v1/loyalty` with signed requests: a member's
 * balance looked up, a redemption confirmed with the one-time code the
 * outbox holds (single use, bound to device, member, points and op; wrong
 * codes spend attempts then lock; codes expire), points held until the op
 * arrives, and the ingest checks: an online redemption the server never
 * confirmed, an offline redemption above the cap and points above the earn
 * rule each raise their exception while the fact stands.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  answerProblem,
  type Decision,
  type LoyaltyAnswer,
  type LoyaltyPointsBody,
  type LoyaltyQuestion,
  loyaltyRequestMessage,
  type Op,
  type PolicyDraft,
  type PolicyKeySet,
  policyRef,
  type SignedPolicy,
  signMessage,
  type WireError,
} from '@holdfast/protocol';
import type { LoyaltyMessageRecord } from '../../model/loyalty.js';
import { LOYALTY_CODE_TTL_MS } from '../../services/loyalty-counter.js';
import { type Harness, saleBody, T0, type TestDevice } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const MEMBER = 'M0000001';

const POLICY: PolicyDraft = {
  scope: { merchant: 'acme', location: null, event: null, devices: null },
  currency: 'EUR',
  validFrom: T0,
  expiresAt: T0 + 86_400_000,
  offline: {
    maxOfflineMs: 3_600_000,
    device: { maxAmount: 10_000, maxCount: 10 },
    tenders: {},
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: 50 },
  loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 50 },
};

type Reply = LoyaltyAnswer & WireError & { serverSig?: string };

async function setup(h: Harness): Promise<{ d: TestDevice; policy: string; keys: PolicyKeySet }> {
  const d = await h.enrollDevice('till-1');
  await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
  const issued = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: POLICY });
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  await h.storage.createLoyaltyMember(MEMBER, 'Ana', T0);
  await h.storage.adjustLoyaltyPoints({
    member: MEMBER,
    points: 200,
    reason: 'welcome',
    actor: 'op',
    id: 'w',
    now: T0,
  });
  const keys = (await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true })).body.keys;
  return { d, policy: policyRef(issued.body.policy), keys };
}

async function ask(h: Harness, d: TestDevice, question: LoyaltyQuestion) {
  const at = h.clock.now();
  const sig = signMessage(loyaltyRequestMessage(d.id, at, question), d.privateKey);
  const res = await h.request<Reply>('POST', '/v1/loyalty', { payload: { device: d.id, at, sig, question } });
  return { ...res, sig };
}

async function codeOf(h: Harness, redemption: string): Promise<string> {
  const out = await h.request<{ messages: LoyaltyMessageRecord[] }>(
    'GET',
    `/v1/admin/loyalty/outbox?member=${MEMBER}`,
    {
      admin: true,
    },
  );
  assert.equal(out.status, 200, JSON.stringify(out.body));
  const m = out.body.messages.filter((x) => x.redemption === redemption).at(-1);
  assert.ok(m, `a message for redemption ${redemption}`);
  assert.match(m.text, new RegExp(m.code));
  return m.code;
}

/** A code that is not `code`. */
const other = (code: string) => String((Number(code) + 1) % 1_000_000).padStart(6, '0');

function pointsOp(
  d: TestDevice,
  shift: string,
  sale: Op,
  extra: Partial<LoyaltyPointsBody>,
  decision: Decision,
  id?: string,
): Op {
  const body: LoyaltyPointsBody = {
    shift,
    member: MEMBER,
    sale: sale.id,
    earned: 0,
    redeemed: 0,
    balanceSeen: 200,
    ...extra,
  };
  return d.chain.next('loyalty.points', body, decision, id);
}

async function exceptions(h: Harness) {
  return (await h.storage.listExceptions(0, 1000)).items.filter((x) => x.type.startsWith('loyalty_'));
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('loyalty online', () => {
      test('lookup, redeem with the code from the outbox, confirm once, ingest the op: signed answers, points held then applied', async (h) => {
        const { d, policy, keys } = await setup(h);
        const decision: Decision = { mode: 'none', outcome: 'approved', policy };
        const lookup = await ask(h, d, { kind: 'lookup', member: MEMBER });
        assert.equal(lookup.status, 200, JSON.stringify(lookup.body));
        assert.deepEqual([lookup.body.kind, (lookup.body as { balance: number }).balance], ['lookup', 200]);
        assert.equal(answerProblem('loyalty', lookup.sig, lookup.body, keys), null);

        const opId = h.service.newId();
        const redeem = await ask(h, d, { kind: 'redeem', member: MEMBER, opId, points: 120 });
        assert.equal(redeem.status, 200, JSON.stringify(redeem.body));
        assert.equal(answerProblem('loyalty', redeem.sig, redeem.body, keys), null);
        const redemption = (redeem.body as { redemption: string }).redemption;
        const code = await codeOf(h, redemption);

        const wrong = await ask(h, d, { kind: 'confirm', redemption, code: other(code) });
        assert.deepEqual([wrong.status, wrong.body.code], [403, 'loyalty_code_wrong']);
        assert.match(wrong.body.message, /2 attempt\(s\) left/);
        // Another till cannot confirm this till's redemption, even with the right code.
        const d2 = await h.enrollDevice('till-2');
        const foreign = await ask(h, d2, { kind: 'confirm', redemption, code });
        assert.deepEqual([foreign.status, foreign.body.code], [404, 'loyalty_redemption_unknown']);

        const ok = await ask(h, d, { kind: 'confirm', redemption, code });
        assert.equal(ok.status, 200, JSON.stringify(ok.body));
        assert.deepEqual(
          [ok.body.kind, (ok.body as { status: string }).status, (ok.body as { opId: string }).opId],
          ['confirm', 'confirmed', opId],
        );
        assert.equal(answerProblem('loyalty', ok.sig, ok.body, keys), null);
        assert.match(answerProblem('loyalty', lookup.sig, ok.body, keys) ?? '', /does not verify/);
        // A lost answer asked again: the same confirmation, nothing spent twice.
        assert.equal((await ask(h, d, { kind: 'confirm', redemption, code })).status, 200);

        // Held until the op arrives: 200 − 120 available, so 100 more is refused, 80 is fine.
        const held = await ask(h, d, { kind: 'lookup', member: MEMBER });
        assert.deepEqual(
          [(held.body as { balance: number }).balance, (held.body as { held: number }).held],
          [200, 120],
        );
        const tooMuch = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: h.service.newId(), points: 100 });
        assert.deepEqual([tooMuch.status, tooMuch.body.code], [409, 'loyalty_insufficient_points']);

        const open = d.openShift();
        const sale = d.chain.next('sale.recorded', saleBody(open.id, 1_000));
        const op = pointsOp(
          d,
          open.id,
          sale,
          { earned: 10, redeemed: 120, route: 'online', approval: redemption },
          decision,
          opId,
        );
        const res = await h.send(d.batch([open, sale, op]));
        assert.deepEqual(
          res.body.results.map((r) => r.status),
          ['accepted', 'accepted', 'accepted'],
        );
        assert.deepEqual(await exceptions(h), []);
        const after = await ask(h, d, { kind: 'lookup', member: MEMBER });
        assert.deepEqual([(after.body as { balance: number }).balance, (after.body as { held: number }).held], [90, 0]);
      });

      test('wrong codes lock the redemption; codes expire; a retried redeem sends a new code; bad questions are coded errors', async (h) => {
        const { d } = await setup(h);
        const opId = h.service.newId();
        const first = await ask(h, d, { kind: 'redeem', member: MEMBER, opId, points: 60 });
        const redemption = (first.body as { redemption: string }).redemption;
        const code = await codeOf(h, redemption);
        for (const left of [2, 1]) {
          const wrong = await ask(h, d, { kind: 'confirm', redemption, code: other(code) });
          assert.match(wrong.body.message, new RegExp(`${left} attempt`));
        }
        const last = await ask(h, d, { kind: 'confirm', redemption, code: other(code) });
        assert.deepEqual([last.status, last.body.code], [423, 'loyalty_code_locked']);
        const late = await ask(h, d, { kind: 'confirm', redemption, code });
        assert.deepEqual([late.status, late.body.code], [423, 'loyalty_code_locked']);

        const op2 = h.service.newId();
        const r2 = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: op2, points: 60 });
        const id2 = (r2.body as { redemption: string }).redemption;
        const code1 = await codeOf(h, id2);
        const again = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: op2, points: 60 });
        assert.equal((again.body as { redemption: string }).redemption, id2, 'same op id, same redemption');
        const code2 = await codeOf(h, id2);
        const messages = (await h.storage.listLoyaltyMessages(MEMBER)).filter((m) => m.redemption === id2);
        assert.equal(messages.length, 2, 'a retried redeem sends a new code');
        if (code1 !== code2) {
          const stale = await ask(h, d, { kind: 'confirm', redemption: id2, code: code1 });
          assert.equal(stale.body.code, 'loyalty_code_wrong', 'the replaced code no longer works');
        }
        const reused = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: op2, points: 61 });
        assert.deepEqual([reused.status, reused.body.code], [409, 'op_id_reused']);
        h.clock.advance(LOYALTY_CODE_TTL_MS + 1);
        const expired = await ask(h, d, { kind: 'confirm', redemption: id2, code: code2 });
        assert.deepEqual([expired.status, expired.body.code], [410, 'loyalty_code_expired']);

        const unknown = await ask(h, d, { kind: 'lookup', member: 'NOBODY01' });
        assert.deepEqual([unknown.status, unknown.body.code], [404, 'loyalty_member_unknown']);
        const badCode = await ask(h, d, { kind: 'confirm', redemption: id2, code: '12345' } as LoyaltyQuestion);
        assert.deepEqual(
          [badCode.status, badCode.body.code, badCode.body.field],
          [400, 'invalid_request', 'question.code'],
        );
        const zero = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: h.service.newId(), points: 0 });
        assert.deepEqual([zero.status, zero.body.field], [400, 'question.points']);
        const at = h.clock.now();
        const forged = await h.request<WireError>('POST', '/v1/loyalty', {
          payload: {
            device: d.id,
            at,
            sig: signMessage(loyaltyRequestMessage(d.id, at, { kind: 'lookup', member: MEMBER }), d.privateKey),
            question: { kind: 'lookup', member: 'M0000002' },
          },
        });
        assert.equal(forged.status, 401, JSON.stringify(forged.body));
      });

      test('ingest: an unconfirmed online claim, an offline redemption above the cap and points above the rule are flagged; the facts stand', async (h) => {
        const { d, policy } = await setup(h);
        const decision: Decision = { mode: 'none', outcome: 'approved', policy };
        const open = d.openShift();
        const sale = d.chain.next('sale.recorded', saleBody(open.id, 999));
        // Asked but never confirmed (no code typed).
        const asked = h.service.newId();
        const r = await ask(h, d, { kind: 'redeem', member: MEMBER, opId: asked, points: 70 });
        const redemption = (r.body as { redemption: string }).redemption;
        const unconfirmed = pointsOp(
          d,
          open.id,
          sale,
          { redeemed: 70, route: 'online', approval: redemption },
          decision,
          asked,
        );
        const sale2 = d.chain.next('sale.recorded', saleBody(open.id, 500));
        const overCap = pointsOp(d, open.id, sale2, { redeemed: 51, route: 'offline' }, decision);
        const sale3 = d.chain.next('sale.recorded', saleBody(open.id, 999));
        const overEarn = pointsOp(d, open.id, sale3, { earned: 10 }, decision);
        const fair = pointsOp(d, open.id, sale3, { earned: 9 }, decision);
        const noPolicy = pointsOp(
          d,
          open.id,
          sale3,
          { earned: 9 },
          { mode: 'none', outcome: 'approved', policy: null },
        );
        const res = await h.send(d.batch([open, sale, unconfirmed, sale2, overCap, sale3, overEarn, fair, noPolicy]));
        assert.deepEqual(
          res.body.results.map((x) => x.status),
          Array(9).fill('accepted'),
        );
        const xs = await exceptions(h);
        assert.deepEqual(
          xs.map((x) => [x.type, x.opId, x.detail.rule ?? null]).sort(),
          [
            ['loyalty_online_unverified', unconfirmed.id, null],
            ['loyalty_rule_breach', noPolicy.id, 'no_rule'],
            ['loyalty_rule_breach', overCap.id, 'offline_cap'],
            ['loyalty_rule_breach', overEarn.id, 'earn_rule'],
          ].sort(),
        );
        // Every fact applied: 200 − 70 − 51 + 10 + 9 + 9.
        assert.equal((await h.storage.getLoyaltyMember(MEMBER))?.account.balance, 107);
      });
    });
  });
}
