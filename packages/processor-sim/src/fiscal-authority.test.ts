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

  it('credit notes: numbered after the bill they name; a wrong reference rejected; malformed ones named', async () => {
    await withSim({}, async (client) => {
      const b = await client.register('b1', bill(1));
      assert.ok(b.answer.status === 'registered');
      const note = (
        n: number,
        refersTo: NonNullable<FiscalBillRequest['refersTo']>,
        extra: Partial<FiscalBillRequest> = {},
      ) => bill(n, { billId: `note-${n}`, kind: 'credit_note', refersTo, total: 50, ...extra });
      const ok = await client.register('n1', note(1, { billId: 'bill-1', fiscalNumber: b.answer.fiscalNumber }));
      assert.deepEqual(
        [ok.answer.status, ok.answer.kind, ok.answer.status === 'registered' && ok.answer.sequence],
        ['registered', 'credit_note', 2],
      );
      const wrongNumber = await client.register('n2', note(2, { billId: 'bill-1', fiscalNumber: 'FE-00000099' }));
      const unknownBill = await client.register('n3', note(3, { billId: 'bill-9', fiscalNumber: null }));
      const registeredAsCancel = await client.register('n4', note(4, { billId: 'bill-1', fiscalNumber: null }));
      for (const a of [wrongNumber, unknownBill, registeredAsCancel]) {
        assert.equal(a.answer.status === 'rejected' && a.answer.rejectCode, 'unknown_reference');
      }
      // A rejected bill (total 0) is cancelled by a note naming no number, of 0.
      await client.register('z', bill(5, { total: 0 }));
      const cancel = await client.register('n5', note(5, { billId: 'bill-5', fiscalNumber: null }, { total: 0 }));
      assert.equal(cancel.answer.status, 'registered');
      await assert.rejects(
        client.register('n6', note(6, { billId: 'bill-1', fiscalNumber: 'FE-00000001' }, { total: 0 })),
        (e: unknown) => e instanceof ProcessorRefusedError && e.field === 'total',
      );
      await assert.rejects(
        client.register('n7', { ...bill(7), kind: 'invoice' } as unknown as FiscalBillRequest),
        (e: unknown) => e instanceof ProcessorRefusedError && e.field === 'kind',
      );
      await assert.rejects(
        client.register('n8', {
          ...note(8, { billId: 'bill-1', fiscalNumber: null }),
          refersTo: { billId: '' },
        } as FiscalBillRequest),
        (e: unknown) => e instanceof ProcessorRefusedError && e.field === 'refersTo.billId',
      );
    });
  });

  it('a deregistered seller tax id is refused for good (422, not retryable), nothing stored', async () => {
    await withSim({ deregisteredTaxIds: ['ESB12345678'] }, async (client) => {
      await assert.rejects(
        client.register('k', bill(1)),
        (e: unknown) =>
          e instanceof ProcessorRefusedError && e.status === 422 && e.code === 'tax_id_deregistered' && !e.retryable,
      );
      assert.equal(await client.findByKey('k'), null);
      const other = await client.register('k2', bill(2, { sellerTaxId: 'ESB87654321' }));
      assert.equal(other.answer.status, 'registered');
    });
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { deregisteredTaxIds: 'ESB1' }), /deregisteredTaxIds/);
  });

  it('knobs: unknown or out-of-range values are named', () => {
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { outagePct: 2 }), /outagePct/);
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { latencyMs: [5, 1] }), /latencyMs/);
    assert.throws(() => patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { speed: 1 }), /speed: not a knob/);
    assert.equal(patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, { prefix: 'NFE' }).prefix, 'NFE');
  });
});
