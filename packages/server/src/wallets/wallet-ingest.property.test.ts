/**
 * Wallets through real ingest (SQLite in memory, HTTP in process): a
 * wristband's chip writes are spread over several devices, which sync in
 * any order, in batches of any size, some sent twice. Whatever the order,
 * money is conserved, every chip write is applied once, and a genuine chip
 * raises nothing while a copied one is always found.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Op } from '@holdfast/protocol';
import fc from 'fast-check';
import type { WalletView } from '../model/wallet.js';
import { createHarness, saleBody, type TestDevice } from '../testing/harness.js';

const UID = '0A1B2C3D';

type Step = { kind: 'topup' | 'debit' | 'refund'; amount: number; device: number };
interface Write extends Step {
  counter: number;
  before: number;
}

/** A genuine chip's history: each write reads what the previous one left; a debit never exceeds the balance. */
function history(steps: readonly Step[]): Write[] {
  let balance = 0;
  return steps.map((s, i) => {
    const kind = s.kind === 'debit' && s.amount > balance ? 'topup' : s.kind;
    const w = { ...s, kind, counter: i + 1, before: balance };
    balance += kind === 'debit' ? -s.amount : s.amount;
    return w;
  });
}

const stepArb = fc.record({
  kind: fc.constantFrom<Step['kind']>('topup', 'debit', 'refund'),
  amount: fc.integer({ min: 1, max: 3_000 }),
  device: fc.nat({ max: 2 }),
});

function opOf(d: TestDevice, shift: string, w: Write): Op {
  if (w.kind === 'debit') {
    return d.chain.next(
      'sale.recorded',
      saleBody(shift, w.amount, {
        tenders: [{ type: 'wristband', amount: w.amount, wristband: UID, counter: w.counter, balanceBefore: w.before }],
      }),
    );
  }
  const common = {
    shift,
    currency: 'EUR',
    wristband: UID,
    amount: w.amount,
    counter: w.counter,
    balanceBefore: w.before,
  };
  return w.kind === 'topup'
    ? d.chain.next('wallet.topped_up', { ...common, paid: 'cash' })
    : d.chain.next('wallet.refunded', { ...common, sale: shift });
}

/** Records `writes` on their devices, then delivers each device's ops in chunks, devices interleaved by `order`. */
async function run(writes: readonly Write[], order: readonly number[], chunk: number, replay: boolean) {
  const h = await createHarness();
  try {
    const devices = await Promise.all([0, 1, 2].map((i) => h.enrollDevice(`bar-${i}`)));
    const queues = devices.map((d) => [d.openShift()]);
    for (const w of writes) {
      const d = devices[w.device] as TestDevice;
      const queue = queues[w.device] as Op[];
      queue.push(opOf(d, (queue[0] as Op).id, w));
    }
    for (const i of order) {
      const queue = queues[i] as Op[];
      if (queue.length === 0) continue;
      const ops = queue.splice(0, chunk);
      const batch = (devices[i] as TestDevice).batch(ops);
      for (const _ of replay ? [1, 2] : [1]) {
        const res = await h.send(batch);
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
    }
    for (const [i, queue] of queues.entries()) {
      if (queue.length > 0) assert.equal((await h.send((devices[i] as TestDevice).batch(queue))).status, 200);
    }
    const wallet = await h.request<WalletView>('GET', `/v1/admin/wallets/${UID}`, { admin: true });
    const exceptions = (await h.storage.listExceptions(0, 1000)).items;
    return { wallet: wallet.status === 200 ? wallet.body : null, exceptions };
  } finally {
    await h.close();
  }
}

const signed = (writes: readonly Write[]) =>
  writes.reduce((t, w) => t + (w.kind === 'debit' ? -w.amount : w.amount), 0);

describe('wallets through ingest, any arrival order', () => {
  it('a genuine chip: conserved, each write once, nothing raised', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 1, maxLength: 12 }),
        fc.array(fc.nat({ max: 2 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        fc.boolean(),
        async (steps, order, chunk, replay) => {
          const writes = history(steps);
          const { wallet, exceptions } = await run(writes, order, chunk, replay);
          assert.ok(wallet);
          const a = wallet.account;
          assert.equal(a.balance, a.toppedUp - a.debited + a.refunded);
          assert.equal(a.balance, signed(writes));
          assert.equal(wallet.entries.length, writes.length);
          assert.deepEqual(
            exceptions.filter((x) => x.type.startsWith('wristband_')),
            [],
          );
          assert.equal(a.blocked, null);
        },
      ),
      { numRuns: 25 },
    );
  });

  it('a copied chip spent on another device: found as a clone whatever the order, and still conserved', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(stepArb, { minLength: 2, maxLength: 10 }),
        fc.nat(),
        fc.array(fc.nat({ max: 2 }), { maxLength: 30 }),
        fc.integer({ min: 1, max: 4 }),
        async (steps, at, order, chunk) => {
          const writes = history(steps);
          // The copy was made after write k (not the last, so its next counter is already taken).
          const k = at % (writes.length - 1);
          const image = writes[k] as Write;
          const left = image.before + (image.kind === 'debit' ? -image.amount : image.amount);
          const copy: Write = {
            kind: 'topup',
            amount: 100,
            device: (image.device + 1) % 3,
            counter: image.counter + 1,
            before: left,
          };
          const all = [...writes, copy];
          const { wallet, exceptions } = await run(all, order, chunk, false);
          assert.ok(wallet);
          assert.ok(
            exceptions.some((x) => x.type === 'wristband_clone'),
            JSON.stringify(exceptions.map((x) => x.message)),
          );
          assert.equal(wallet.account.balance, signed(all));
          assert.equal(wallet.entries.length, all.length);
          assert.ok(wallet.account.blocked);
        },
      ),
      { numRuns: 20 },
    );
  });
});
