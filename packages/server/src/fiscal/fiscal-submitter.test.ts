/**
 * The fiscal submitter on SQLite against the real authority simulator
 * (HTTP, its own SQLite): every bill registered exactly once, in seq order
 * per device, through outages and answers lost after commit; a rejection
 * an alarm; and the deliberate fresh-key bug caught by the same check.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { type RunningFiscalSim, type StartFiscalSimOptions, startFiscalSim } from '@holdfast/processor-sim';
import { fiscalKeyOf } from '@holdfast/protocol';
import { createHarness, type Harness, type TestDevice } from '../testing/harness.js';
import { type FiscalEvent, FiscalSubmitter, type FiscalSubmitterOptions } from './fiscal-submitter.js';

interface Fixture {
  h: Harness;
  sim: RunningFiscalSim;
  client: FiscalClient;
  close(): Promise<void>;
}

async function setup(options: Partial<StartFiscalSimOptions> = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-'));
  const sim = await startFiscalSim({ dataDir, seed: 11, synchronous: 'OFF', ...options });
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

async function sales(h: Harness, d: TestDevice, totals: readonly number[]): Promise<string[]> {
  const open = d.openShift();
  const ops = totals.map((t) => d.sale(open.id, t));
  const res = await h.send(d.batch([open, ...ops]));
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return ops.map((o) => o.id);
}

/** Rounds until no bill is pending, moving the clock past each backoff. */
async function drain(f: Fixture, s: FiscalSubmitter, rounds = 200): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await s.runOnce();
    const pending = (await f.h.storage.listFiscalBills(null)).filter((b) => b.state === 'pending');
    if (pending.length === 0) return;
    f.h.clock.advance(Math.max(...pending.map((b) => b.nextAttemptAt)) - f.h.clock.now() + 1);
  }
  assert.fail('bills still pending');
}

/**
 * Every bill answered; the authority registered each bill id under exactly
 * one key (its own) and nothing else; each bill's number is the one the
 * authority stored; per device, numbers rise with seq.
 */
async function assertRegisteredExactlyOnce(f: Fixture): Promise<void> {
  const bills = await f.h.storage.listFiscalBills(null);
  const listed = await f.client.listAll();
  assert.equal(f.sim.storage.stats().duplicateBills, 0, 'no bill registered twice');
  assert.equal(listed.length, bills.length, 'one answer per bill');
  const byKey = new Map(listed.map((l) => [l.key, l.answer]));
  const lastSeq = new Map<string, number>();
  for (const b of bills) {
    const answer = byKey.get(fiscalKeyOf(b.opId));
    assert.ok(answer, `bill ${b.opId} reached the authority under its key`);
    assert.equal(b.state, answer.status);
    if (answer.status === 'registered') {
      assert.equal(b.fiscalNumber, answer.fiscalNumber);
      const before = lastSeq.get(b.device) ?? 0;
      assert.ok(answer.sequence > before, `device ${b.device}: numbers in seq order`);
      lastSeq.set(b.device, answer.sequence);
    }
  }
}

describe('fiscal submitter', () => {
  it('registers every bill once, in seq order per device, with its fiscal number', async () => {
    const f = await setup();
    try {
      const a = await f.h.enrollDevice('a');
      const b = await f.h.enrollDevice('b');
      await sales(f.h, a, [100, 200, 300]);
      await sales(f.h, b, [400, 500]);
      const summary = await submitter(f).runOnce();
      assert.deepEqual([summary.enrolled, summary.registered, summary.deferred], [5, 5, 0]);
      await assertRegisteredExactlyOnce(f);
      const numbers = (await f.h.storage.listFiscalBills(a.id)).map((x) => x.fiscalNumber);
      assert.ok(
        numbers.every((n) => /^FE-\d{8}$/.test(n ?? '')),
        String(numbers),
      );
    } finally {
      await f.close();
    }
  });

  it('through outages and answers lost after commit: found by key, never registered twice', async () => {
    const f = await setup({ outagePct: 0.3, lostAnswerPct: 0.3 });
    try {
      const devices = [await f.h.enrollDevice('a'), await f.h.enrollDevice('b'), await f.h.enrollDevice('c')];
      for (const [i, d] of devices.entries()) await sales(f.h, d, [100 + i, 200 + i, 300 + i, 400 + i, 500 + i]);
      const events: FiscalEvent[] = [];
      await drain(f, submitter(f, { onEvent: (e) => events.push(e) }));
      await assertRegisteredExactlyOnce(f);
      assert.ok(
        events.some((e) => e.kind === 'deferred'),
        'an outage deferred a bill',
      );
      assert.ok(
        events.some((e) => e.kind === 'registered' && e.recovered),
        'a lost answer was found by key',
      );
    } finally {
      await f.close();
    }
  });

  it('a bill the authority rejects (total 0) is a fiscal_rejected alarm; the device goes on', async () => {
    const f = await setup();
    try {
      const a = await f.h.enrollDevice('a');
      const [zero] = await sales(f.h, a, [0, 250]);
      await drain(f, submitter(f));
      const bills = await f.h.storage.listFiscalBills(a.id);
      assert.deepEqual(
        bills.map((x) => [x.state, x.rejectCode]),
        [
          ['rejected', 'zero_total'],
          ['registered', null],
        ],
      );
      const exceptions = (await f.h.storage.listExceptions(0, 100)).items.filter((x) => x.type === 'fiscal_rejected');
      assert.deepEqual(
        exceptions.map((x) => x.opId),
        [zero],
      );
      await assertRegisteredExactlyOnce(f);
    } finally {
      await f.close();
    }
  });

  it('a malformed seller tax id: every bill rejected as malformed_tax_id, none registered', async () => {
    const f = await setup();
    try {
      const a = await f.h.enrollDevice('a');
      await sales(f.h, a, [100]);
      await drain(f, submitter(f, { sellerTaxId: 'bad id' }));
      const [bill] = await f.h.storage.listFiscalBills(a.id);
      assert.deepEqual([bill?.state, bill?.rejectCode, bill?.fiscalNumber], ['rejected', 'malformed_tax_id', null]);
    } finally {
      await f.close();
    }
  });

  it('a duplicate answer recorded again (same or different) never gives a second number', async () => {
    const f = await setup();
    try {
      const a = await f.h.enrollDevice('a');
      const [id] = await sales(f.h, a, [100]);
      const s = submitter(f);
      await s.runOnce();
      const answer = await f.client.findByKey(fiscalKeyOf(id as string));
      assert.ok(answer?.status === 'registered');
      assert.equal((await s.recordAnswer(id as string, answer)).kind, 'same');
      const other = { ...answer, fiscalNumber: 'FE-99999999', sequence: 99_999_999 };
      assert.equal((await s.recordAnswer(id as string, other)).kind, 'conflict');
      assert.equal((await s.recordAnswer('019a0000-0000-7000-8000-00000000dead', answer)).kind, 'unknown_bill');
      const [bill] = await f.h.storage.listFiscalBills(a.id);
      assert.equal(bill?.fiscalNumber, answer.fiscalNumber);
    } finally {
      await f.close();
    }
  });

  it('the deliberate fresh-key bug registers bills twice, and the check catches it', async () => {
    const f = await setup({ lostAnswerPct: 1 });
    try {
      const a = await f.h.enrollDevice('a');
      await sales(f.h, a, [100, 200]);
      const s = submitter(f, { bugs: new Set(['fiscal-fresh-key']) });
      await s.runOnce();
      await f.client.configure({ lostAnswerPct: 0 });
      await drain(f, s);
      assert.ok(f.sim.storage.stats().duplicateBills > 0, 'the bug registered a bill twice');
      await assert.rejects(assertRegisteredExactlyOnce(f), /registered twice/);
    } finally {
      await f.close();
    }
  });
});
