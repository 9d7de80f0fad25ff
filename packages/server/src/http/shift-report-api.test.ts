/**
 * POST /v1/shifts/z-report: a till asks the server's word on the Z report of
 * one of its own shifts — signed request, signed answer bound to it; another
 * device's shift, an unknown one and a bad signature get nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  answerProblem,
  type PolicyKeySet,
  type ShiftReportAnswer,
  shiftReportRequestMessage,
  signMessage,
} from '@holdfast/protocol';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';

function ask(h: Harness, d: TestDevice, shift: string, sig?: string) {
  const body = {
    device: d.id,
    shift,
    at: T0,
    sig: sig ?? signMessage(shiftReportRequestMessage(d.id, shift, T0), d.privateKey),
  };
  return { body, answer: h.request<ShiftReportAnswer>('POST', '/v1/shifts/z-report', { payload: body }) };
}

describe('POST /v1/shifts/z-report', () => {
  it('open until the close arrives, then confirmed, signed by the server and bound to the request', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('bar-1');
      const open = d.openShift();
      assert.equal((await h.send(d.batch([open, d.sale(open.id, 450)]))).status, 200);
      const before = await ask(h, d, open.id).answer;
      assert.equal(before.status, 200, JSON.stringify(before.body));
      assert.deepEqual([before.body.state, before.body.stored], ['open', 2]);

      assert.equal((await h.send(d.batch([d.closeShift(open.id, 10_450)]))).status, 200);
      const q = ask(h, d, open.id);
      const after = await q.answer;
      assert.equal(after.body.state, 'confirmed', JSON.stringify(after.body));
      assert.deepEqual([after.body.differences, after.body.notApplied, after.body.pending], [[], [], []]);
      assert.equal(after.body.server.expectedCash, 10_450);
      const keys = (await h.request<{ keys: PolicyKeySet }>('GET', '/v1/admin/policies', { admin: true })).body.keys;
      assert.equal(answerProblem('shifts/z-report', q.body.sig, after.body, keys), null);
      const forged = { ...after.body, state: 'differs' };
      assert.match(answerProblem('shifts/z-report', q.body.sig, forged, keys) ?? '', /does not verify/);
      assert.match(answerProblem('shifts/z-report', before.body.shift, after.body, keys) ?? '', /does not verify/);
    } finally {
      await h.close();
    }
  });

  it('another device’s shift and an unknown one are not found; a bad signature or body is refused', async () => {
    const h = await createHarness();
    try {
      const a = await h.enrollDevice('a');
      const b = await h.enrollDevice('b');
      const open = a.openShift();
      assert.equal((await h.send(a.batch([open]))).status, 200);
      const other = await ask(h, b, open.id).answer;
      assert.deepEqual([other.status, (other.body as unknown as { code: string }).code], [404, 'not_found']);
      const unknown = await ask(h, a, '01900000-0000-7000-8000-000000000001').answer;
      assert.equal(unknown.status, 404);
      const forged = await ask(h, b, open.id, signMessage(shiftReportRequestMessage(a.id, open.id, T0), b.privateKey))
        .answer;
      assert.notEqual(forged.status, 200, 'signed by another device’s key');
      const bad = await h.request('POST', '/v1/shifts/z-report', { payload: { device: a.id, shift: 'nope' } });
      assert.equal(bad.status, 400);
    } finally {
      await h.close();
    }
  });
});
