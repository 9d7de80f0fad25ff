/**
 * The fiscal submitter against the real authority simulator (HTTP, its own
 * SQLite) for what follows a bill's first answer (docs/e-invoicing.md):
 * permanent refusals stop at once while transient ones back off; an
 * operator's corrected resubmission is registered under its own key;
 * refunds and cancellations are credit notes, registered after their bill,
 * exactly once, through outages and lost answers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { type RunningFiscalSim, type StartFiscalSimOptions, startFiscalSim } from '@holdfast/processor-sim';
import { type Actor, fiscalCreditKeyOf, fiscalSubmissionKey, type SaleRefundedBody } from '@holdfast/protocol';
import type { ExceptionView } from '../model/exception-action.js';
import { createHarness, type Harness, type TestDevice } from '../testing/harness.js';
import { type FiscalEvent, FiscalSubmitter, type FiscalSubmitterOptions } from './fiscal-submitter.js';

const APPROVED: Actor = { staff: 'ana', approvedBy: 'sup-1' };
const NONE = { mode: 'none', outcome: 'approved', policy: null } as const;

interface Fixture {
  h: Harness;
  sim: RunningFiscalSim;
  client: FiscalClient;
  close(): Promise<void>;
}

async function setup(options: Partial<StartFiscalSimOptions> = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-'));
  const sim = await startFiscalSim({ dataDir, seed: 5, synchronous: 'OFF', ...options });
  const client = new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 });
  const h = await createHarness();
  return {
    h,
    sim,
    client,
    async close() {
      await h.close();
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

function submitter(f: Fixture, extra: Partial<FiscalSubmitterOptions> = {}): FiscalSubmitter {
  return new FiscalSubmitter({
    storage: f.h.storage,
    authority: f.client,
    clock: f.h.clock,
    owner: 'fiscal-1',
    sellerTaxId: 'ESB12345678',
    batchSize: 50,
    leaseMs: 10_000,
    timeoutMs: 2_000,
    random: new SeededRandom(3),
    ...extra,
  });
}

async function sales(h: Harness, d: TestDevice, totals: readonly number[]): Promise<{ shift: string; ids: string[] }> {
  const open = d.openShift();
  const ops = totals.map((t) => d.sale(open.id, t));
  const res = await h.send(d.batch([open, ...ops]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return { shift: open.id, ids: ops.map((o) => o.id) };
}

async function refund(h: Harness, d: TestDevice, shift: string, sale: string, amount: number): Promise<string> {
  const body: SaleRefundedBody = { shift, sale, currency: 'EUR', amount, tender: 'cash' };
  const op = d.chain.next('sale.refunded', body, NONE, undefined, APPROVED);
  const res = await h.send(d.batch([op]));
  assert.equal(res.body.results[0]?.status, 'accepted', JSON.stringify(res.body));
  return op.id;
}

/** Rounds until no bill and no credit note is pending (or waiting on its bill), moving the clock past each backoff. */
async function drain(f: Fixture, s: FiscalSubmitter, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await s.runOnce();
    const pending = [
      ...(await f.h.storage.listFiscalBills(null)).filter((b) => b.state === 'pending'),
      ...(await f.h.storage.listFiscalCreditNotes(null)).filter((n) => n.state === 'pending'),
    ];
    if (pending.length === 0) return;
    f.h.clock.advance(Math.max(f.h.clock.now() + 1, ...pending.map((b) => b.nextAttemptAt)) - f.h.clock.now() + 1);
  }
  assert.fail('documents still pending');
}

async function exceptionsOf(h: Harness, type: string): Promise<ExceptionView[]> {
  return (await h.service.exceptions.list({ after: 0, limit: 1000, type })).items;
}

describe('fiscal submitter: refusals, resubmissions, credit notes', () => {
  it('a permanent refusal stops at once (one fiscal_refused alarm per bill); a corrected resubmission is registered', async () => {
    const f = await setup({ deregisteredTaxIds: ['ESB12345678'] });
    try {
      const a = await f.h.enrollDevice('a');
      const { ids } = await sales(f.h, a, [100, 200]);
      const events: FiscalEvent[] = [];
      const s = submitter(f, { onEvent: (e) => events.push(e) });
      const summary = await s.runOnce();
      assert.deepEqual([summary.refused, summary.deferred, summary.registered], [2, 0, 0]);
      assert.equal(events.filter((e) => e.kind === 'deferred').length, 0, 'no retry of a refusal');
      await s.runOnce();
      assert.equal(events.filter((e) => e.kind === 'refused').length, 2, 'nothing submitted again');
      const alarms = await exceptionsOf(f.h, 'fiscal_refused');
      assert.deepEqual(alarms.map((x) => x.opId).sort(), [...ids].sort());
      assert.equal(f.sim.storage.list().length, 0, 'the authority stored nothing');

      // The operator corrects the seller tax id and resubmits the first; the second is accepted as non-fiscal.
      const sup = await f.h.operator('sue', 'supervisor');
      const resub = await f.h.request('POST', `/v1/admin/fiscal/bills/${ids[0]}/actions`, {
        headers: sup,
        payload: { action: 'resubmit', note: 'new registration', sellerTaxId: 'ESB87654321' },
      });
      assert.equal(resub.status, 200, JSON.stringify(resub.body));
      const nf = await f.h.request('POST', `/v1/admin/fiscal/bills/${ids[1]}/actions`, {
        headers: sup,
        payload: { action: 'non_fiscal', note: 'internal transfer, not a sale to a customer' },
      });
      assert.equal(nf.status, 200, JSON.stringify(nf.body));
      await drain(f, s);
      const [first, second] = await f.h.storage.listFiscalBills(a.id);
      assert.deepEqual([first?.state, first?.submission], ['registered', 1]);
      assert.deepEqual([second?.state, second?.resolution], ['rejected', 'non_fiscal']);
      const stored = f.sim.storage.list();
      assert.deepEqual(
        stored.map((x) => x.key),
        [fiscalSubmissionKey(ids[0] as string, 1)],
      );
      assert.equal(stored[0]?.answer.status === 'registered' && stored[0].answer.fiscalNumber, first?.fiscalNumber);
      assert.ok(
        (await exceptionsOf(f.h, 'fiscal_refused')).every((x) => x.status === 'resolved'),
        'both alarms resolved by the actions',
      );
    } finally {
      await f.close();
    }
  });

  it('a transient refusal (the authority down) keeps backing off and is registered once it is back', async () => {
    const f = await setup({ outagePct: 1 });
    try {
      const a = await f.h.enrollDevice('a');
      await sales(f.h, a, [100]);
      const s = submitter(f);
      const summary = await s.runOnce();
      assert.deepEqual([summary.refused, summary.deferred], [0, 1]);
      const [bill] = await f.h.storage.listFiscalBills(a.id);
      assert.equal(bill?.state, 'pending');
      await f.client.configure({ outagePct: 0 });
      await drain(f, s);
      assert.equal((await f.h.storage.listFiscalBills(a.id))[0]?.state, 'registered');
      assert.equal((await exceptionsOf(f.h, 'fiscal_refused')).length, 0);
    } finally {
      await f.close();
    }
  });

  it('refunds are credit notes after their bill, naming its fiscal number, each registered exactly once through outages and lost answers', async () => {
    const f = await setup({ outagePct: 0.25, lostAnswerPct: 0.3 });
    try {
      const a = await f.h.enrollDevice('a');
      const b = await f.h.enrollDevice('b');
      const sa = await sales(f.h, a, [1_000, 2_000]);
      const sb = await sales(f.h, b, [3_000]);
      const notes = [
        await refund(f.h, a, sa.shift, sa.ids[0] as string, 300),
        await refund(f.h, a, sa.shift, sa.ids[0] as string, 200),
        await refund(f.h, b, sb.shift, sb.ids[0] as string, 3_000),
      ];
      const events: FiscalEvent[] = [];
      const s = submitter(f, { onEvent: (e) => events.push(e) });
      await drain(f, s);
      await s.runOnce();
      const bills = new Map((await f.h.storage.listFiscalBills(null)).map((x) => [x.opId, x]));
      const stored = new Map(f.sim.storage.list().map((x) => [x.key, x.answer]));
      const credit = await f.h.storage.listFiscalCreditNotes(null);
      assert.deepEqual(credit.map((n) => n.opId).sort(), [...notes].sort());
      for (const n of credit) {
        assert.equal(n.state, 'registered', n.opId);
        const answer = stored.get(fiscalCreditKeyOf(n.opId));
        assert.ok(answer?.status === 'registered' && answer.kind === 'credit_note', n.opId);
        assert.equal(answer.fiscalNumber, n.fiscalNumber);
        const bill = bills.get(n.billOpId);
        assert.equal(n.billFiscalNumber, bill?.fiscalNumber);
        assert.ok((n.fiscalSequence ?? 0) > (bill?.fiscalSequence ?? Infinity), 'after its bill');
      }
      const stats = f.sim.storage.stats();
      assert.deepEqual([stats.registered, stats.creditNotes, stats.duplicateBills], [6, 3, 0]);
      assert.equal(stored.size, 6, 'one answer per document: nothing sent under a second key');
      assert.ok(
        events.some((e) => e.kind === 'deferred'),
        'an outage deferred a document',
      );
    } finally {
      await f.close();
    }
  });

  it('cancel a rejected bill: a credit note naming no fiscal number, which the authority accepts for the rejected bill', async () => {
    const f = await setup();
    try {
      const a = await f.h.enrollDevice('a');
      const { ids } = await sales(f.h, a, [0, 500]);
      const s = submitter(f);
      await drain(f, s);
      const cancel = await f.h.request<{ creditNote: string }>('POST', `/v1/admin/fiscal/bills/${ids[0]}/actions`, {
        admin: true,
        payload: { action: 'cancel', note: 'sale of 0 entered by mistake' },
      });
      assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
      await drain(f, s);
      const [note] = await f.h.storage.listFiscalCreditNotes(ids[0] as string);
      assert.deepEqual([note?.opId, note?.state, note?.billFiscalNumber], [`cancel-${ids[0]}`, 'registered', null]);
      assert.equal(f.sim.storage.stats().duplicateBills, 0);
    } finally {
      await f.close();
    }
  });
});
