/**
 * E-invoicing with several server processes on one PostgreSQL (the storage
 * suite covers the rules on every backend): three pools, each with its own
 * fiscal submitter (its own claim owner), run at once against one real
 * `fiscal-sim` authority with outages, latency and answers lost after
 * commit, and leases short enough to be taken over mid-call. Every bill is
 * registered exactly once, per device in seq order; every refund's credit
 * note once, after its bill.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom, systemClock } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { startFiscalSim } from '@holdfast/processor-sim';
import { type Actor, fiscalCreditKeyOf, fiscalKeyOf, type SaleRefundedBody } from '@holdfast/protocol';
import { FiscalSubmitter } from '../../fiscal/fiscal-submitter.js';
import { createHarness } from '../../testing/harness.js';
import { startTestPostgres } from '../../testing/postgres.js';
import { PostgresStorage } from './postgres-storage.js';

const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;

const server = await startTestPostgres();
const opened: PostgresStorage[] = [];
after(async () => {
  await Promise.all(opened.map((s) => s.close()));
  await server.stop();
});

describe('e-invoicing on PostgreSQL with several processes', () => {
  it('three submitters through one authority (outages, lost answers, lease takeovers): every document registered once, in order', async () => {
    const url = await server.newDatabase();
    const storages = Array.from({ length: 3 }, () => new PostgresStorage({ connectionString: url }));
    opened.push(...storages);
    const [first] = storages as [PostgresStorage];
    await first.migrate();
    const h = await createHarness({ storage: first, closeStorage: async () => undefined });
    const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-fleet-'));
    const sim = await startFiscalSim({
      dataDir,
      seed: 23,
      synchronous: 'OFF',
      outagePct: 0.15,
      lostAnswerPct: 0.15,
      latencyMs: [0, 40],
    });
    try {
      // Four devices, eight sales each; the first sale of each refunded twice in part.
      const refunds: string[] = [];
      for (let i = 0; i < 4; i++) {
        const d = await h.enrollDevice(`lane-${i}`);
        const open = d.openShift();
        const sales = Array.from({ length: 8 }, (_, k) => d.sale(open.id, 100 * (k + 1) + i));
        const body = (amount: number): SaleRefundedBody => ({
          shift: open.id,
          sale: (sales[0] as { id: string }).id,
          currency: 'EUR',
          amount,
          tender: 'cash',
        });
        const r1 = d.chain.next('sale.refunded', body(30), NONE, undefined, APPROVED);
        const r2 = d.chain.next('sale.refunded', body(20), NONE, undefined, APPROVED);
        refunds.push(r1.id, r2.id);
        const res = await h.send(d.batch([open, ...sales, r1, r2]));
        assert.equal(res.status, 200, JSON.stringify(res.body));
        assert.ok(
          res.body.results.every((r) => r.status === 'accepted'),
          JSON.stringify(res.body),
        );
      }
      const submitters = storages.map(
        (storage, i) =>
          new FiscalSubmitter({
            storage,
            authority: new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 1_000 }),
            clock: systemClock,
            owner: `process-${i}`,
            sellerTaxId: 'ESB12345678',
            batchSize: 3,
            // Shorter than the slowest call: another process takes a bill over while its call is in flight.
            leaseMs: 25,
            timeoutMs: 1_000,
            random: new SeededRandom(100 + i),
            backoffSeconds: [0.02, 0.05],
          }),
      );
      const pending = async () =>
        (await first.listFiscalBills(null)).filter((b) => b.state === 'pending').length +
        (await first.listFiscalCreditNotes(null)).filter((n) => n.state === 'pending').length;
      let rounds = 0;
      do {
        await Promise.all(submitters.map((s) => s.runOnce()));
        rounds++;
        assert.ok(rounds < 500, 'documents still pending after 500 rounds');
      } while ((await first.enrollFiscalBills(Date.now(), 1000)) > 0 || (await pending()) > 0);

      const bills = await first.listFiscalBills(null);
      assert.equal(bills.length, 32);
      const stored = new Map(sim.storage.list().map((x) => [x.key, x.answer]));
      assert.equal(sim.storage.stats().duplicateBills, 0, 'no bill registered twice');
      assert.equal(stored.size, 32 + refunds.length, 'one answer per document, under its own key only');
      const last = new Map<string, number>();
      for (const b of bills) {
        const answer = stored.get(fiscalKeyOf(b.opId));
        assert.ok(answer?.status === 'registered', b.opId);
        assert.equal(b.fiscalNumber, answer.fiscalNumber);
        assert.ok(answer.sequence > (last.get(b.device) ?? 0), `device ${b.device}: numbers rise with seq`);
        last.set(b.device, answer.sequence);
      }
      const notes = await first.listFiscalCreditNotes(null);
      assert.deepEqual(notes.map((n) => n.opId).sort(), [...refunds].sort());
      const billSeq = new Map(bills.map((b) => [b.opId, b.fiscalSequence ?? 0]));
      for (const n of notes) {
        const answer = stored.get(fiscalCreditKeyOf(n.opId));
        assert.ok(answer?.status === 'registered' && answer.kind === 'credit_note', n.opId);
        assert.equal(n.fiscalNumber, answer.fiscalNumber);
        assert.equal(n.billFiscalNumber, bills.find((b) => b.opId === n.billOpId)?.fiscalNumber);
        assert.ok(answer.sequence > (billSeq.get(n.billOpId) ?? Infinity), 'after its bill');
      }
      const numbers = [...bills.map((b) => b.fiscalNumber), ...notes.map((n) => n.fiscalNumber)];
      assert.equal(new Set(numbers).size, numbers.length, 'no number on two documents');
    } finally {
      await h.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
