/**
 * Test fixture for the forwarder: a real processor simulator on a temporary
 * directory, its client, and checks against the processor's own records.
 * Not part of the server (imported by tests only).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ListedAuthorization, ProcessorClient } from '@holdfast/processor-client';
import { type RunningProcessorSim, type StartProcessorSimOptions, startProcessorSim } from '@holdfast/processor-sim';
import { idempotencyKeyOf } from '../forwarding/forwarder.js';
import type { Storage } from '../storage/storage.js';

export interface SimFixture {
  sim: RunningProcessorSim;
  client: ProcessorClient;
  close(): Promise<void>;
}

export async function startSim(options: Partial<StartProcessorSimOptions> = {}): Promise<SimFixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-forwarder-'));
  // `destroy`: an answer lost after commit drops the connection at once (no hang to wait out).
  const sim = await startProcessorSim({ dataDir, seed: 7, timeoutMode: 'destroy', synchronous: 'OFF', ...options });
  const client = new ProcessorClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 });
  return {
    sim,
    client,
    async close() {
      await sim.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * Asserts that every offline payment in `storage` was settled, reached the
 * processor exactly once (one authorization per key and per reference, no
 * double charge), with the outcome the processor stored, and that each
 * device's payments were created at the processor in seq order.
 */
export async function assertForwardedExactlyOnce(
  storage: Storage,
  fixture: SimFixture,
): Promise<ListedAuthorization[]> {
  const payments = await storage.listOfflinePayments(null);
  const listed = await fixture.client.listAll();
  const stats = await fixture.client.stats();
  assert.equal(stats.duplicateApprovedReferences, 0, 'no double charge');
  assert.equal(listed.length, payments.length, 'one authorization per payment');
  const byKey = new Map(listed.map((l) => [l.idempotencyKey, l]));
  assert.equal(byKey.size, listed.length, 'one authorization per key');
  const references = listed.map((l) => l.authorization.reference);
  assert.equal(new Set(references).size, references.length, 'one authorization per op');
  const lastSeq = new Map<string, { seq: number; processorSeq: number }>();
  for (const p of payments) {
    const l = byKey.get(idempotencyKeyOf(p));
    assert.ok(l, `payment ${p.opId} reached the processor`);
    assert.deepEqual([p.outcome, p.amount], [l.authorization.status, l.authorization.amount]);
    assert.notEqual(p.settledAt, null);
    const before = lastSeq.get(p.device); // payments are listed by device, then seq
    if (before) assert.ok(l.seq > before.processorSeq, `device ${p.device}: seq ${p.seq} sent after ${before.seq}`);
    lastSeq.set(p.device, { seq: p.seq, processorSeq: l.seq });
  }
  return listed;
}
