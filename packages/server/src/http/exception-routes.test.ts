/**
 * The operator routes about exceptions through HTTP (Fastify inject):
 * listing with status and actions, recording actions, bad input refused
 * naming the field with nothing recorded, and the decline report.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type Decision, type PolicyDraft, policyRef, type SignedPolicy } from '@holdfast/protocol';
import type { DeclineReportRow } from '../model/decline-report.js';
import type { ExceptionView } from '../model/exception-action.js';
import type { DeclineReport } from '../services/exception-desk.js';
import type { Page } from '../storage/storage.js';
import { cardTender, createHarness, type Harness, saleBody, T0 } from '../testing/harness.js';
import { LOCAL_APPROVAL, offlineSales } from '../testing/payments.js';

const POLICY: PolicyDraft = {
  scope: { merchant: 'acme', location: null, event: null, devices: null },
  currency: 'EUR',
  validFrom: T0 - 60_000,
  expiresAt: T0 + 86_400_000,
  offline: {
    maxOfflineMs: 3_600_000,
    device: { maxAmount: 10_000, maxCount: 10 },
    tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 10, velocity: null } } },
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
};

/** A harness with one post-authorization decline of 2500 EUR (with the customer's contact); returns its id. */
async function withDecline(): Promise<{ h: Harness; id: string; opId: string; device: string; shift: string }> {
  const h = await createHarness();
  const d = await h.enrollDevice('bar-1');
  // Approved offline under a policy the server really issued, so the decline is the only exception.
  await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: null, event: null }, T0);
  const issued = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: POLICY });
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  const approval: Decision = { ...LOCAL_APPROVAL, policy: policyRef(issued.body.policy) };
  const open = d.openShift();
  const sale = d.chain.next(
    'sale.recorded',
    saleBody(open.id, 2_500, { tenders: [cardTender(2_500)], customer: { name: 'Ada', email: 'ada@example.org' } }),
    approval,
  );
  assert.equal((await h.send(d.batch([open, sale]))).status, 200);
  await h.storage.settleOfflinePayment({
    payment: { opId: sale.id, tenderIndex: 0 },
    owner: 'w1',
    settlement: { status: 'declined', processorId: 'auth_1', declineCode: 'insufficient_funds', at: T0 + 1 },
    exceptionId: h.service.newId(),
  });
  const [x] = (await h.storage.listExceptions(0, 10)).items.filter((e) => e.type === 'post_auth_decline');
  assert.ok(x);
  return { h, id: x.id, opId: sale.id, device: d.id, shift: open.id };
}

const post = (h: Harness, id: string, payload: unknown, headers?: { authorization: string }) =>
  h.request<ExceptionView>(
    'POST',
    `/v1/admin/exceptions/${id}/actions`,
    headers ? { headers, payload } : { admin: true, payload },
  );

describe('POST /v1/admin/exceptions/:id/actions', () => {
  it('records actions; the list shows status and actions; money goes to the ledger', async () => {
    const { h, id, opId, device, shift } = await withDecline();
    try {
      const listed = await h.request<Page<ExceptionView>>('GET', '/v1/admin/exceptions', { admin: true });
      assert.equal(listed.status, 200);
      const [x] = listed.body.items;
      assert.deepEqual([x?.type, x?.status, x?.actions], ['post_auth_decline', 'open', []]);
      assert.deepEqual(
        [x?.detail.opId, x?.detail.device, x?.detail.shift, x?.detail.amount, x?.detail.currency],
        [opId, device, shift, 2_500, 'EUR'],
      );
      assert.deepEqual(
        [x?.detail.brand, x?.detail.last4, x?.detail.declineCode, x?.detail.customer],
        ['visa', '4242', 'insufficient_funds', { name: 'Ada', email: 'ada@example.org' }],
      );

      // Recorded under who authenticated: a declared `by` is ignored (ben cannot act as ana).
      const ben = await h.operator('ops-ben', 'supervisor');
      const ana = await h.operator('ops-ana', 'supervisor');
      const contacted = await post(h, id, { action: 'contacted', note: 'emailed Ada', by: 'ops-ana' }, ben);
      assert.equal(contacted.status, 200, JSON.stringify(contacted.body));
      assert.equal(contacted.body.status, 'open');
      const recovered = await post(
        h,
        id,
        {
          action: 'recovered',
          note: 'paid at the bar',
          amount: 2_000,
        },
        ben,
      );
      assert.equal(recovered.body.status, 'open');
      const written = await post(h, id, { action: 'written_off', note: 'not worth chasing' }, ana);
      assert.equal(written.status, 200);
      assert.equal(written.body.status, 'resolved');
      assert.deepEqual(
        written.body.actions.map((a) => [a.action, a.amount, a.by, a.resolves]),
        [
          ['contacted', null, 'ops-ben', false],
          ['recovered', 2_000, 'ops-ben', false],
          ['written_off', 500, 'ops-ana', true],
        ],
      );
      const ledger = (await h.storage.listLedger(0, 100)).items.filter((e) => e.type.startsWith('payment.'));
      assert.deepEqual(
        ledger.map((e) => [e.type, e.amount]),
        [
          ['payment.declined', 2_500],
          ['payment.recovered', 2_000],
          ['payment.written_off', 500],
        ],
      );
      const late = await post(h, id, { action: 'contacted', note: 'again', by: 'ops-cy' });
      assert.deepEqual([late.status, late.error.code, late.error.field], [409, 'already_resolved', 'id']);
      const open = await h.request<Page<ExceptionView>>('GET', '/v1/admin/exceptions?status=open', { admin: true });
      assert.deepEqual(open.body.items, []);
      const resolved = await h.request<Page<ExceptionView>>(
        'GET',
        '/v1/admin/exceptions?status=resolved&type=post_auth_decline',
        { admin: true },
      );
      assert.deepEqual(
        resolved.body.items.map((i) => i.id),
        [id],
      );
    } finally {
      await h.close();
    }
  });

  it('bad input is refused naming the field, and nothing is recorded', async () => {
    const { h, id } = await withDecline();
    try {
      const ok = { action: 'recovered', note: 'n', by: 'ops-ana' };
      const cases: [string, unknown, number, string, string][] = [
        ['unknown exception', ok, 404, 'not_found', 'id'],
        ['unknown action', { ...ok, action: 'deleted' }, 400, 'invalid_request', 'action'],
        ['missing note', { action: 'recovered', by: 'ops-ana' }, 400, 'invalid_request', 'note'],
        ['empty note', { ...ok, note: '' }, 400, 'invalid_request', 'note'],
        ['amount too big', { ...ok, amount: 2_501 }, 400, 'invalid_request', 'amount'],
        ['amount zero', { ...ok, amount: 0 }, 400, 'invalid_request', 'amount'],
        ['amount not an integer', { ...ok, amount: 12.5 }, 400, 'invalid_request', 'amount'],
        ['acknowledging a decline', { ...ok, action: 'acknowledged' }, 400, 'invalid_request', 'action'],
        ['an unknown field', { ...ok, status: 'resolved' }, 400, 'invalid_request', 'status'],
      ];
      for (const [what, payload, status, code, field] of cases) {
        const target = what === 'unknown exception' ? '0190ffff-0000-7000-8000-000000000000' : id;
        const res = await post(h, target, payload);
        assert.deepEqual([res.status, res.error.code, res.error.field], [status, code, field], what);
        assert.ok(res.error.message.length > 0);
      }
      const tooBig = await post(h, id, { ...ok, amount: 2_501 });
      assert.match(tooBig.error.message, /2500 \(€25\.00\) of €25\.00/);
      assert.equal((await post(h, 'not-a-uuid', ok)).error.field, 'id');
      const noToken = await h.request('POST', `/v1/admin/exceptions/${id}/actions`, { payload: ok });
      assert.equal(noToken.status, 401);
      const [x] = (await h.storage.listExceptionViews({ after: 0, limit: 10 })).items;
      assert.deepEqual([x?.status, x?.actions], ['open', []], 'nothing recorded');
    } finally {
      await h.close();
    }
  });

  it('GET /v1/admin/exceptions: a bad status or type filter is refused naming it', async () => {
    const h = await createHarness();
    try {
      const bad = await h.request('GET', '/v1/admin/exceptions?status=closed', { admin: true });
      assert.deepEqual([bad.status, bad.error.field], [400, 'query.status']);
      const type = await h.request('GET', '/v1/admin/exceptions?type=nope', { admin: true });
      assert.deepEqual([type.status, type.error.field], [400, 'query.type']);
    } finally {
      await h.close();
    }
  });
});

describe('GET /v1/admin/exceptions in the operator’s language', () => {
  type Displayed = ExceptionView & { display: { language: string; title: string; text: string } };

  it('says each exception in the language asked for, money in whole units of that locale', async () => {
    const { h, id } = await withDecline();
    try {
      const english = await h.request<Page<Displayed>>('GET', '/v1/admin/exceptions', { admin: true });
      assert.deepEqual(english.body.items[0]?.display, {
        language: 'en',
        title: 'Declined after offline approval',
        text: 'The offline-approved visa ****4242 payment of €25.00 was declined by the processor (insufficient_funds); the customer has the goods',
      });
      const spanish = await h.request<Page<Displayed>>('GET', '/v1/admin/exceptions', {
        admin: true,
        headers: { 'accept-language': 'es-ES,es;q=0.9,en;q=0.8' },
      });
      assert.equal(spanish.body.items[0]?.display.language, 'es');
      assert.match(spanish.body.items[0]?.display.text ?? '', / de 25,00\u00a0€ aprobado sin conexión/);
      // ?lang= wins over the header; the stored English message is unchanged beside it.
      const portuguese = await h.request<Page<Displayed>>('GET', '/v1/admin/exceptions?lang=pt-BR', {
        admin: true,
        headers: { 'accept-language': 'es' },
      });
      assert.equal(portuguese.body.items[0]?.display.title, 'Recusa após aprovação offline');
      assert.match(portuguese.body.items[0]?.display.text ?? '', /de €\u00a025,00 aprovado offline/);
      assert.equal(portuguese.body.items[0]?.message, english.body.items[0]?.message);
      // The answer to an action speaks the same way.
      const acted = await h.request<Displayed>('POST', `/v1/admin/exceptions/${id}/actions?lang=es`, {
        admin: true,
        payload: { action: 'contacted', note: 'llamada', by: 'ops-ana' },
      });
      assert.equal(acted.status, 200, JSON.stringify(acted.body));
      assert.equal(acted.body.display.language, 'es');
    } finally {
      await h.close();
    }
  });

  it('refuses a malformed lang naming query.lang; a language it does not speak is English', async () => {
    const h = await createHarness();
    try {
      const bad = await h.request('GET', '/v1/admin/exceptions?lang=not%20a%20tag', { admin: true });
      assert.deepEqual([bad.status, bad.error.field], [400, 'query.lang']);
      const list = await h.request('GET', '/v1/admin/exceptions?lang=es,pt', { admin: true });
      assert.deepEqual([list.status, list.error.field], [400, 'query.lang']);
      const french = await h.request<Page<Displayed>>('GET', '/v1/admin/exceptions?lang=fr', { admin: true });
      assert.equal(french.status, 200);
    } finally {
      await h.close();
    }
  });
});

describe('GET /v1/admin/reports/declines', () => {
  it('rows per placement and UTC day; dates or epoch ms; default the last 7 days', async () => {
    const { h } = await withDecline();
    try {
      const d = await h.enrollDevice('bar-2');
      await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: 'north', event: null }, T0);
      const [op] = (await offlineSales(h, d, [700])) as [string];
      await h.storage.settleOfflinePayment({
        payment: { opId: op, tenderIndex: 0 },
        owner: 'w1',
        settlement: { status: 'approved', processorId: 'auth_2', at: T0 + 2 },
        exceptionId: h.service.newId(),
      });
      const day = new Date(T0).toISOString().slice(0, 10);
      const res = await h.request<DeclineReport>('GET', `/v1/admin/reports/declines?from=${day}`, { admin: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const rows = res.body.rows.map((r: DeclineReportRow) => [
        r.day,
        r.merchant,
        r.location,
        r.forwardedCount,
        r.declinedCount,
        r.declineRate,
      ]);
      assert.deepEqual(rows, [
        [day, 'acme', null, 1, 1, 1],
        [day, 'acme', 'north', 1, 0, 0],
      ]);
      const dflt = await h.request<DeclineReport>('GET', '/v1/admin/reports/declines', { admin: true });
      assert.equal(dflt.body.to - dflt.body.from, 7 * 86_400_000);
      assert.equal(dflt.body.rows.length, 2);
      const ms = await h.request<DeclineReport>('GET', `/v1/admin/reports/declines?from=${T0 + 2}&to=${T0 + 3}`, {
        admin: true,
      });
      assert.deepEqual(
        ms.body.rows.map((r) => r.merchant),
        ['acme'],
      );
    } finally {
      await h.close();
    }
  });

  it('refuses bad ranges naming the parameter', async () => {
    const h = await createHarness();
    try {
      for (const [query, field] of [
        ['from=2026-13-01', 'query.from'],
        ['from=yesterday', 'query.from'],
        ['to=2026-02-30', 'query.to'],
        ['from=2026-11-21&to=2026-11-21', 'query.from'],
        ['from=2025-01-01&to=2026-11-21', 'query.to'],
      ] as const) {
        const res = await h.request('GET', `/v1/admin/reports/declines?${query}`, { admin: true });
        assert.deepEqual([res.status, res.error.code, res.error.field], [400, 'invalid_request', field], query);
      }
      assert.equal((await h.request('GET', '/v1/admin/reports/declines')).status, 401);
    } finally {
      await h.close();
    }
  });
});
