/**
 * The naive baseline at a tiny size: the server is correct (exactly once per
 * key, replays identical, refuses a reused key), and the comparison's result
 * is consistent with what both servers stored. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ChainBuilder, generateDeviceKeys } from '@holdfast/protocol';
import { benchNaive } from './naive-bench.js';
import { buildNaiveServer } from './naive-server.js';
import { SHIFT_BODY, saleBody } from './sale-body.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-naive-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

describe('naive one-op-per-request server', () => {
  it('applies each key once, replays the stored answer, and refuses a reused key or a resent op', async () => {
    const naive = buildNaiveServer(join(dir, 'naive.db'));
    try {
      const chain = new ChainBuilder('019aa6c0-0000-7000-8000-000000000001', generateDeviceKeys().privateKey);
      const shift = chain.next('shift.opened', SHIFT_BODY);
      const sale = chain.next('sale.recorded', saleBody(shift.id, 1));
      const post = (key: string | null, op: unknown) =>
        naive.app.inject({
          method: 'POST',
          url: '/ops',
          headers: key === null ? {} : { 'idempotency-key': key },
          payload: op as Record<string, unknown>,
        });

      const first = await post(shift.id, shift);
      assert.equal(first.statusCode, 200);
      assert.equal(first.json().status, 'accepted');
      const again = await post(shift.id, shift);
      assert.equal(again.statusCode, 200);
      assert.equal(again.body, first.body, 'a retry gets the stored answer, byte for byte');
      assert.equal(again.headers['idempotent-replayed'], 'true');

      assert.equal((await post(shift.id, sale)).statusCode, 422, 'one key, another body');
      assert.equal((await post('another-key-0001', shift)).statusCode, 409, 'the same op under a new key');
      assert.equal((await post(null, sale)).statusCode, 400, 'no key');
      assert.equal((await post(sale.id, { ...sale, extra: 1 })).statusCode, 400, 'envelope schema');
      assert.equal((await post(sale.id, sale)).statusCode, 200);
      // Two ops stored; keys: shift, sale, and the refused "another-key" whose 409 is stored as its answer.
      assert.deepEqual(naive.counts(), { ops: 2, keys: 3 });
    } finally {
      await naive.close();
    }
  });
});

describe('benchNaive', () => {
  it('sends the same rows to both servers, and both store each exactly once per round', async () => {
    const result = await benchNaive(2, 2, 10, 2);
    assert.equal(result.ops, 40);
    assert.equal(result.rounds, 2);
    assert.equal(result.oursAccepted, 80);
    assert.deepEqual(result.naiveStored, { ops: 80, keys: 80 });
    assert.equal(result.oursRoundsOpsPerSec.length, 2);
    assert.equal(result.naiveRoundsOpsPerSec.length, 2);
    for (const rate of [result.oursOpsPerSec, result.naiveOpsPerSec, ...result.naiveRoundsOpsPerSec])
      assert.ok(Number.isFinite(rate) && rate > 0, `rate ${rate}`);
    assert.ok(Math.abs(result.ratio - result.oursOpsPerSec / result.naiveOpsPerSec) < 1e-9);
  });
});
