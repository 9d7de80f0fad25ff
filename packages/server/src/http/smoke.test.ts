import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createHarness } from '../testing/harness.js';

describe('smoke: enroll, ingest, retry', () => {
  it('accepts a batch once and answers a retry with duplicates carrying the stored result', async () => {
    const h = await createHarness();
    const d = await h.enrollDevice('lane-1');
    const shift = d.openShift();
    const ops = [shift, d.sale(shift.id, 450), d.sale(shift.id, 300)];
    const batch = d.batch(ops);
    const first = await h.send(batch);
    assert.equal(first.status, 200);
    assert.deepEqual(
      first.body.results.map((r: { status: string }) => r.status),
      ['accepted', 'accepted', 'accepted'],
    );
    const again = await h.send(batch);
    assert.equal(again.status, 200);
    assert.deepEqual(
      again.body.results.map((r: { status: string }) => r.status),
      ['duplicate', 'duplicate', 'duplicate'],
    );
    const [, firstSale] = first.body.results;
    const [, againSale] = again.body.results;
    assert.equal(againSale?.status, 'duplicate');
    assert.equal(firstSale?.status, 'accepted');
    if (againSale?.status === 'duplicate' && firstSale?.status === 'accepted') {
      assert.deepEqual(againSale.original, firstSale);
    }
    const summary = await h.storage.summary();
    assert.equal(summary.opsAccepted, 3);
    assert.deepEqual(summary.sales, [{ currency: 'EUR', sales: 2, total: 750, cash: 750, card: 0 }]);
    await h.close();
  });
});
