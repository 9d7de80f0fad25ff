/**
 * GET /v1/admin/shifts/:id/z-report: the server confirms a till's Z report
 * from what it applied, or names what differs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ShiftZReportCheck } from '../services/ledger-reads.js';
import { createHarness, saleBody } from '../testing/harness.js';

describe('GET /v1/admin/shifts/:id/z-report', () => {
  it('open until the close arrives, then confirmed: the till’s Z report and the server’s books agree', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('bar-1');
      const open = d.openShift();
      const sale = d.sale(open.id, 450);
      const drop = d.cashMove(open.id, 'out', 2_000);
      assert.equal((await h.send(d.batch([open, sale, drop]))).status, 200);
      const url = `/v1/admin/shifts/${open.id}/z-report`;
      const before = await h.request<ShiftZReportCheck>('GET', url, { admin: true });
      assert.equal(before.status, 200, JSON.stringify(before.body));
      assert.deepEqual([before.body.state, before.body.report, before.body.stored], ['open', null, 3]);

      const close = d.closeShift(open.id, 10_000 + 450 - 2_000);
      assert.equal((await h.send(d.batch([close]))).status, 200);
      const after = await h.request<ShiftZReportCheck>('GET', url, { admin: true });
      assert.equal(after.body.state, 'confirmed', JSON.stringify(after.body));
      assert.deepEqual(after.body.differences, []);
      assert.deepEqual(after.body.pending, []);
      assert.equal(after.body.report?.expectedCash, 8_450);
      assert.equal(after.body.report?.variance, 0);
      assert.equal(after.body.report?.status, 'confirmed');
      assert.equal(after.body.server.expectedCash, 8_450);
    } finally {
      await h.close();
    }
  });

  it('differs when an op of the shift was not applied, naming it', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('bar-2');
      const open = d.openShift();
      const broken = d.chain.next('sale.recorded', { ...saleBody(open.id, 300), lines: [] } as never);
      const close = d.closeShift(open.id, 10_000);
      assert.equal((await h.send(d.batch([open, broken, close]))).status, 200);
      const r = await h.request<ShiftZReportCheck>('GET', `/v1/admin/shifts/${open.id}/z-report`, { admin: true });
      assert.equal(r.body.state, 'differs', JSON.stringify(r.body));
      assert.deepEqual(
        r.body.notApplied.map((x) => [x.id, x.kind]),
        [[broken.id, 'sale.recorded']],
      );
      assert.equal(r.body.report?.status, 'needs_attention');
    } finally {
      await h.close();
    }
  });

  it('an unknown shift is not found, a malformed id refused naming it, operators only', async () => {
    const h = await createHarness();
    try {
      const none = await h.request('GET', '/v1/admin/shifts/0192f1e4-0000-7000-8000-000000000000/z-report', {
        admin: true,
      });
      assert.deepEqual([none.status, none.error.code], [404, 'not_found']);
      const bad = await h.request('GET', '/v1/admin/shifts/nope/z-report', { admin: true });
      assert.deepEqual([bad.status, bad.error.code, bad.error.field], [400, 'invalid_request', 'id']);
      const anonymous = await h.request('GET', '/v1/admin/shifts/0192f1e4-0000-7000-8000-000000000000/z-report');
      assert.equal(anonymous.status, 401);
    } finally {
      await h.close();
    }
  });
});
