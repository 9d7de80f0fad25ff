/**
 * WalletAdmin against a harness server: what GET/POST /v1/admin/wallets
 * answer today (storage/wallet-suite.ts tests them over HTTP), reached as
 * service.wallets, refusals included.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_DECISION, type Op, ProtocolError } from '@holdfast/protocol';
import { createHarness, type Harness, saleBody, type TestDevice } from '../testing/harness.js';

const UID = '04A1B2C3D4E5F6';

function topUp(d: TestDevice, shift: string, amount: number, counter: number, before: number): Op {
  return d.chain.next(
    'wallet.topped_up',
    { shift, currency: 'EUR', wristband: UID, amount, counter, balanceBefore: before, paid: 'cash' },
    NO_DECISION,
  );
}

function bandSale(d: TestDevice, shift: string, amount: number, counter: number, before: number): Op {
  const tender = { type: 'wristband' as const, amount, wristband: UID, counter, balanceBefore: before };
  return d.chain.next('sale.recorded', saleBody(shift, amount, { tenders: [tender] }));
}

function refusal(code: string, field?: string) {
  return (error: unknown) => {
    assert.ok(error instanceof ProtocolError, String(error));
    assert.deepEqual([error.code, error.field], [code, field]);
    return true;
  };
}

describe('WalletAdmin (service.wallets)', () => {
  let h: Harness;
  let device: TestDevice;

  before(async () => {
    h = await createHarness();
    device = await h.enrollDevice('bar');
    const open = device.openShift();
    // A balance chain that breaks (9 999 before, 1 000 held): the wristband is blocked as a clone.
    const ops = [open, topUp(device, open.id, 1_000, 1, 0), bandSale(device, open.id, 100, 2, 9_999)];
    const res = await h.send(device.batch(ops));
    assert.equal(res.status, 200, JSON.stringify(res.body));
  });
  after(() => h.close());

  it('lists and reads a wallet; an unknown wristband is not_found', async () => {
    const listed = await h.service.wallets.list({ limit: 10 });
    assert.deepEqual(
      listed.map((w) => w.wristband),
      [UID],
    );
    assert.equal((await h.service.wallets.list({ limit: 10, blocked: false })).length, 0);
    const view = await h.service.wallets.get(UID);
    assert.equal(view.account.blocked?.reason, 'wristband_clone');
    await assert.rejects(h.service.wallets.get('0102030405060708'), refusal('not_found'));
  });

  it('unblocks once; refuses a device that is not enrolled and an unknown wristband, changing nothing', async () => {
    const ghost = h.service.newId();
    await assert.rejects(
      h.service.wallets.unblock(UID, { reason: 'checked', device: ghost }),
      refusal('invalid_request', 'body.device'),
    );
    assert.notEqual((await h.service.wallets.get(UID)).account.blocked, null);
    await assert.rejects(h.service.wallets.unblock('0102030405060708', { reason: 'x' }), refusal('not_found'));
    const first = await h.service.wallets.unblock(UID, { reason: 'chip replaced', device: device.id });
    assert.deepEqual([first.unblockedNow, first.account.blocked], [true, null]);
    const again = await h.service.wallets.unblock(UID, { reason: 'again' });
    assert.equal(again.unblockedNow, false);
  });
});
