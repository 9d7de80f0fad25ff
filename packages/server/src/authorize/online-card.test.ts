/**
 * Online card authorization through a real processor simulator over HTTP:
 * one charge per op id whatever happens to the answers.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  type AuthorizeResponse,
  answerProblem,
  type CardAuthorization,
  type PolicyKeySet,
  uuidv7,
} from '@holdfast/protocol';
import { type SimFixture, startSim } from '../testing/forwarding-fixture.js';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';
import { authorizeBody } from '../testing/payments.js';

const card = (amount: number, token = 'tok_online_4242'): CardAuthorization => ({
  kind: 'card',
  amount,
  currency: 'EUR',
  token,
  brand: 'visa',
  last4: '4242',
});
const newOpId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

describe('POST /v1/authorize: cards through the processor', () => {
  let sim: SimFixture;
  let h: Harness;
  let d: TestDevice;

  before(async () => {
    sim = await startSim({ cards: { tok_blocked_0001: { blocked: true } } });
    h = await createHarness({ processor: sim.client, processorTimeoutMs: 2_000 });
    d = await h.enrollDevice('till');
    await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
  });
  after(async () => {
    await h.close();
    await sim.close();
  });

  const ask = (opId: string, request: CardAuthorization) =>
    h.request<AuthorizeResponse>('POST', '/v1/authorize', { payload: authorizeBody(d, opId, request) });

  it('approves through the processor once; a retry gets the stored answer and no second charge', async () => {
    const opId = newOpId();
    const first = await ask(opId, card(1_500));
    assert.equal(first.status, 200, JSON.stringify(first.body));
    assert.deepEqual([first.body.status, first.body.replayed], ['approved', false]);
    const again = await ask(opId, card(1_500));
    assert.deepEqual(
      [again.body.status, again.body.authorizationId, again.body.replayed],
      ['approved', first.body.authorizationId, true],
    );
    const charged = (await sim.client.listAll()).filter((l) => l.authorization.reference === opId);
    assert.deepEqual(
      charged.map((l) => [l.idempotencyKey, l.authorization.amount, l.authorization.merchant, l.authorization.offline]),
      [[`holdfast-op-${opId}`, 1_500, 'acme', false]],
    );
    const [stored] = await h.storage.getAuthorizations([opId]);
    assert.equal(stored?.processorId, charged[0]?.authorization.id);
  });

  it('signs its answers bound to the request (docs/protocol.md §2): a forged or replayed "approved" does not verify', async () => {
    const keys = (await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true })).body.keys;
    const opId = newOpId();
    const firstReq = authorizeBody(d, opId, card(700));
    const first = await h.request<AuthorizeResponse>('POST', '/v1/authorize', { payload: firstReq });
    assert.equal(first.body.status, 'approved', JSON.stringify(first.body));
    assert.equal(answerProblem('authorize', firstReq.sig, first.body, keys), null);
    const againReq = authorizeBody(d, opId, card(700), T0 + 1);
    const again = await h.request<AuthorizeResponse>('POST', '/v1/authorize', { payload: againReq });
    assert.equal(answerProblem('authorize', againReq.sig, again.body, keys), null);
    // The first answer shown for the second request, or an answer edited on the way, does not verify.
    assert.match(answerProblem('authorize', againReq.sig, first.body, keys) ?? '', /does not verify/);
    const forged = { ...first.body, authorizationId: 'auth_forged' };
    assert.match(answerProblem('authorize', firstReq.sig, forged, keys) ?? '', /does not verify/);
  });

  it('a processor decline is final and answered with its code', async () => {
    const opId = newOpId();
    const res = await ask(opId, card(900, 'tok_blocked_0001'));
    assert.deepEqual([res.body.status, res.body.reason], ['declined', 'card_blocked']);
    assert.equal((await ask(opId, card(900, 'tok_blocked_0001'))).body.status, 'declined');
  });

  it('an answer lost after the processor committed: pending, and the retry finds it by key (one charge)', async () => {
    await sim.client.configure({ timeoutAfterCommitRate: 1 });
    const opId = newOpId();
    try {
      const lost = await ask(opId, card(2_500));
      assert.deepEqual([lost.status, lost.body.status], [200, 'pending']);
      assert.equal(lost.body.authorizationId, undefined, 'no authorization id while pending');
    } finally {
      await sim.client.configure({ timeoutAfterCommitRate: 0 });
    }
    const retry = await ask(opId, card(2_500));
    assert.deepEqual([retry.body.status, retry.body.replayed], ['approved', true]);
    const charged = (await sim.client.listAll()).filter((l) => l.authorization.reference === opId);
    assert.equal(charged.length, 1, 'exactly one authorization at the processor');
    assert.equal((await sim.client.stats()).duplicateApprovedReferences, 0);
  });

  it('a processor outage answers pending, never declined; the retry charges once', async () => {
    await sim.client.configure({ outageRate: 1 });
    const opId = newOpId();
    try {
      assert.equal((await ask(opId, card(300))).body.status, 'pending');
    } finally {
      await sim.client.configure({ outageRate: 0 });
    }
    assert.equal((await ask(opId, card(300))).body.status, 'approved');
    assert.equal((await sim.client.listAll()).filter((l) => l.authorization.reference === opId).length, 1);
  });

  it('the same op id with another amount is op_id_reused, and nothing is charged for it', async () => {
    const opId = newOpId();
    assert.equal((await ask(opId, card(700))).body.status, 'approved');
    const other = await ask(opId, card(701));
    assert.deepEqual([other.status, other.error.code], [409, 'op_id_reused']);
    assert.equal((await sim.client.listAll()).filter((l) => l.authorization.reference === opId).length, 1);
  });
});

describe('POST /v1/authorize without a processor', () => {
  it('refuses a card with online_unavailable (retryable) and stores nothing', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('till');
      const opId = newOpId();
      const res = await h.request('POST', '/v1/authorize', { payload: authorizeBody(d, opId, card(100)) });
      assert.deepEqual([res.status, res.error.code, res.error.retryable], [503, 'online_unavailable', true]);
      assert.ok((res.error.retryAfterMs ?? 0) > 0, 'a 503 carries its retry time (protocol 4.5)');
      assert.deepEqual(await h.storage.getAuthorizations([opId]), []);
    } finally {
      await h.close();
    }
  });
});
