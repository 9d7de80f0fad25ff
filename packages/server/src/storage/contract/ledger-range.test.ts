/**
 * Ledger search by time (GET /v1/admin/ledger?from=&to=; the console's
 * Ledger page), on every backend: only the events applied (server clock)
 * at or after `from` and before `to`, in position order and paged like the
 * whole ledger; a range that ends before it starts is refused naming `to`.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import type { LedgerEvent } from '../../model/ledger-event.js';
import { T0 } from '../../testing/harness.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';
import type { Page } from '../storage.js';

const MIN = 60_000;
type Events = Page<LedgerEvent & { pos: number }>;

for (const backend of STORAGE_BACKENDS) {
  describe(`ledger by time: ${backend.name}`, () => {
    const test = storageTest(backend);

    test('only events applied within [from, to), paged', async (h) => {
      const d = await h.enrollDevice();
      const open = d.openShift();
      assert.equal((await h.send(d.batch([open]))).status, 200);
      h.clock.advance(10 * MIN);
      const middle = [d.sale(open.id, 100), d.sale(open.id, 200), d.sale(open.id, 300)];
      assert.equal((await h.send(d.batch(middle, undefined, h.clock.now()))).status, 200);
      h.clock.advance(10 * MIN);
      const last = d.sale(open.id, 400);
      assert.equal((await h.send(d.batch([last], undefined, h.clock.now()))).status, 200);

      const get = async (query: string) => {
        const res = await h.request<Events>('GET', `/v1/admin/ledger?${query}`, { admin: true });
        assert.equal(res.status, 200, JSON.stringify(res.body));
        return res.body;
      };
      const all = await get('limit=1000');
      const inMiddle = all.items.filter((e) => e.appliedAt === T0 + 10 * MIN);
      assert.ok(inMiddle.length >= 3, 'the middle batch applied events at T0 + 10 min');
      const range = `from=${T0 + 5 * MIN}&to=${T0 + 15 * MIN}`;
      assert.deepEqual(
        (await get(range)).items.map((e) => e.pos),
        inMiddle.map((e) => e.pos),
      );
      // Paged: two at a time, from where the previous page ended.
      const paged: number[] = [];
      let after = 0;
      for (;;) {
        const page = await get(`${range}&limit=2&after=${after}`);
        paged.push(...page.items.map((e) => e.pos));
        if (page.next === null) break;
        after = page.next;
      }
      assert.deepEqual(
        paged,
        inMiddle.map((e) => e.pos),
      );
      // Open-ended: from alone, to alone; `to` is exclusive.
      assert.ok((await get(`from=${T0 + 20 * MIN}`)).items.every((e) => e.appliedAt === T0 + 20 * MIN));
      assert.deepEqual(
        (await get(`to=${T0 + 10 * MIN}`)).items.map((e) => e.appliedAt),
        all.items.filter((e) => e.appliedAt === T0).map(() => T0),
      );
    });

    test('refuses a range that ends before it starts, and a bad bound, naming the parameter', async (h) => {
      for (const [query, field] of [
        [`from=${T0}&to=${T0}`, 'query.to'],
        [`from=${T0}&to=${T0 - 1}`, 'query.to'],
        ['from=yesterday', 'query.from'],
        ['to=-5', 'query.to'],
      ]) {
        const res = await h.request('GET', `/v1/admin/ledger?${query}`, { admin: true });
        assert.deepEqual([res.status, res.error.code, res.error.field], [400, 'invalid_request', field], query);
      }
    });
  });
}
