/**
 * The tax authority simulator over HTTP: sequential numbers, idempotent by
 * key (a reused key for another bill refused), rejections by rule, bad
 * requests named, outages and answers lost after commit, records that
 * survive a restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import {
  type FiscalBillRequest,
  FiscalClient,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-client';
import {
  DEFAULT_FISCAL_KNOBS,
  patchFiscalKnobs,
  type StartFiscalSimOptions,
  startFiscalSim,
} from './fiscal-authority.js';

const bill = (n: number, extra: Partial<FiscalBillRequest> = {}): FiscalBillRequest => ({
  billId: `bill-${n}`,
  sellerTaxId: 'ESB12345678',
  device: 'dev-1',
  provisionalNumber: `P-dev-1-${n}`,
  issuedAt: 1_800_000_000_000,
  currency: 'EUR',
  total: 100 * n,
  lines: 1,
  ...extra,
});

async function withSim(
  options: Partial<StartFiscalSimOptions>,
  body: (client: FiscalClient, dataDir: string) => Promise<void>,
): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-sim-'));
  const sim = await startFiscalSim({ dataDir, seed: 5, synchronous: 'OFF', ...options });
  try {
    await body(new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 }), dataDir);
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

describe('fiscal authority simulator', () => {
  it('numbers bills in sequence, once per key; a replay gets the stored answer; records survive a restart', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-sim-'));
    try {
      const first = await startFiscalSim({ dataDir, seed: 1 });
      const client = new FiscalClient(first.url, { apiKey: first.apiKey });
      const a = await client.register('k1', bill(1));
      const b = await client.register('k2', bill(2));
      const again = await client.register('k1', bill(1));
      assert.deepEqual(
        [
          a.answer.status === 'registered' && a.answer.fiscalNumber,
          b.answer.status === 'registered' && b.answer.fiscalNumber,
        ],
        ['FE-00000001', 'FE-00000002'],
      );
      assert.deepEqual([again.answer, again.replayed, a.replayed], [a.answer, true, false]);
      await first.close();
      const second = await startFiscalSim({ dataDir, seed: 1 });
      const client2 = new FiscalClient(second.url, { apiKey: second.apiKey });
      assert.deepEqual(await client2.findByKey('k2'), b.answer);
      const c = await client2.register('k3', bill(3));
      assert.equal(c.answer.status === 'registered' && c.answer.sequence, 3);
      assert.equal(await client2.findByKey('k-none'), null);
      await second.close();
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('rejects by rule (total 0, malformed tax id) as a stored, final answer that takes no number', async () => {
    await withSim({}, async (client) => {
      const zero = await client.register('z', bill(1, { total: 0 }));
      const badTax = await client.register('t', bill(2, { sellerTaxId: 'es-123' }));
      const ok = await client.register('o', bill(3));
      assert.deepEqual(
        [
          zero.answer.status === 'rejected' && zero.answer.rejectCode,
          badTax.answer.status === 'rejected' && badTax.answer.rejectCode,
        ],
        ['zero_total', 'malformed_tax_id'],
      );
      assert.equal(ok.answer.status === 'registered' && ok.answer.fiscalNumber, 'FE-00000001');
      assert.deepEqual((await client.register('z', bill(1, { total: 0 }))).answer, zero.answer);
    });
  });

  it('refuses a key reused for another bill, a malformed bill (naming the field) and a missing key', async () => {
    await withSim({}, async (client) => {
      await client.register('k', bill(1));
      await assert.rejects(
        client.register('k', bill(2)),
        (e: unknown) => e instanceof ProcessorRefusedError && e.status === 409 && e.code === 'idempotency_key_reused',
      );
      await assert.rejects(
        client.register('k2', { ...bill(2), total: -1 }),
        (e: unknown) => e instanceof ProcessorRefusedError && e.status === 400 && e.field === 'total',
      );
      await assert.rejects(
        client.register('k3', { ...bill(3), extra: 1 } as FiscalBillRequest),
        (e: unknown) => e instanceof ProcessorRefusedError && e.field === 'extra',
      );
      await assert.rejects(
        client.register('bad key!', bill(4)),
        (e: unknown) => e instanceof ProcessorRefusedError && e.field === 'header.idempotency-key',
      );
    });
  });

  it('an outage refuses with 503 (nothing stored); a lost answer is stored and found by key', async () => {
    await withSim({ outagePct: 1 }, async (client) => {
      await assert.rejects(
        client.register('k', bill(1)),
        (e: unknown) => e instanceof ProcessorRefusedError && e.status === 503 && e.retryable,
      );
      await client.configure({ outagePct: 0, lostAnswerPct: 1 });
      await assert.rejects(client.register('k', bill(1)), (e: unknown) => e instanceof ProcessorOutcomeUnknownError);
      const found = await client.findByKey('k');
      assert.equal(
        found?.status === 'registered' && found.fiscalNumber,
        'FE-00000001',
        'the outage stored nothing; the lost answer was stored',
      );
    });
  });

  it('knobs: unknown or out-of-range values are named', () => {
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { outagePct: 2 }), /outagePct/);
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { latencyMs: [5, 1] }), /latencyMs/);
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { speed: 1 }), /speed: not a knob/);
    assert.equal(patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { prefix: 'NFE' }).prefix, 'NFE');
  });
});
