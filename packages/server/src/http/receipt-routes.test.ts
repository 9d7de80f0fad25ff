/**
 * GET /v1/admin/receipts/:number: an operator finds a sale again by the
 * number a clerk reads out over the phone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deviceCode, negotiateLocale, type Receipt, receiptNumber, receiptText } from '@holdfast/domain';
import type { StoredOp } from '../model/batch.js';
import { createHarness, saleBody } from '../testing/harness.js';

interface Answer {
  number: string;
  matches: { device: string; deviceLabel: string; stored: StoredOp; receipt: Receipt | null }[];
}

describe('GET /v1/admin/receipts/:number', () => {
  it('finds the sale by its number, typed loosely, with the receipt the till printed', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice('bar-1');
      const open = d.openShift();
      const sale = d.chain.next('sale.recorded', saleBody(open.id, 450));
      assert.equal((await h.send(d.batch([open, sale]))).status, 200);

      const number = receiptNumber(d.id, sale.seq);
      const typed = number.toLowerCase().replace('-', ' ');
      const found = await h.request<Answer>('GET', `/v1/admin/receipts/${encodeURIComponent(typed)}`, { admin: true });
      assert.equal(found.status, 200, JSON.stringify(found.body));
      assert.equal(found.body.number, number);
      const [match] = found.body.matches;
      assert.deepEqual([match?.device, match?.deviceLabel, match?.stored.op.id], [d.id, 'bar-1', sale.id]);
      assert.equal(match?.receipt?.status, 'confirmed');
      assert.match(receiptText(match?.receipt as Receipt, { locale: negotiateLocale('en') }), /TOTAL\s+€4\.50/);

      // The shift's opening has a number too, but prints no receipt.
      const opening = await h.request<Answer>('GET', `/v1/admin/receipts/${receiptNumber(d.id, open.seq)}`, {
        admin: true,
      });
      assert.equal(opening.body.matches[0]?.receipt, null);
    } finally {
      await h.close();
    }
  });

  it('a malformed number is refused naming it; an unknown one is not found; operators only', async () => {
    const h = await createHarness();
    try {
      const d = await h.enrollDevice();
      const bad = await h.request('GET', '/v1/admin/receipts/hello', { admin: true });
      assert.deepEqual([bad.status, bad.error.code, bad.error.field], [400, 'invalid_request', 'number']);
      const none = await h.request('GET', `/v1/admin/receipts/${deviceCode(d.id)}-000001`, { admin: true });
      assert.deepEqual([none.status, none.error.code], [404, 'not_found']);
      const anonymous = await h.request('GET', `/v1/admin/receipts/${deviceCode(d.id)}-000001`);
      assert.equal(anonymous.status, 401);
    } finally {
      await h.close();
    }
  });
});
