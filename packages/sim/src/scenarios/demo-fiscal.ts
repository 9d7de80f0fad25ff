/**
 * The demo's bills registered with a simulated tax authority (issue 12
 * point 4, docs/e-invoicing.md): after the evening drained, a real
 * `fiscal-sim` authority (HTTP, its own SQLite) and the server's own fiscal
 * submitter register every accepted sale, and the authority's records join
 * the truth so `fiscal-once` and `fiscal-order` judge the demo's seeds.
 * Cheap: one HTTP call per bill, no outages, after the evening (the
 * evening's own timing and report do not change).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Clock } from '@holdfast/domain';
import { SeededRandom } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { startFiscalSim } from '@holdfast/processor-sim';
import { FiscalSubmitter, type Storage } from '@holdfast/server';
import type { FiscalRecord } from '../check/truth.js';

export interface DemoInvoices {
  /** Bills the server holds registered, each with its fiscal number. */
  issued: number;
  /** Bills the authority rejected (a sale of 0). */
  rejected: number;
  /** The authority's records, for the truth (`truth.fiscal`). */
  records: FiscalRecord[];
}

/** Registers every accepted sale of `storage` with a fresh simulated authority; at most `maxRounds` rounds. */
export async function registerDemoInvoices(
  storage: Storage,
  clock: Clock,
  seed: number,
  maxRounds = 200,
): Promise<DemoInvoices> {
  const dataDir = mkdtempSync(join(tmpdir(), 'holdfast-demo-fiscal-'));
  const sim = await startFiscalSim({ dataDir, seed, synchronous: 'OFF' });
  try {
    const submitter = new FiscalSubmitter({
      storage,
      authority: new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 10_000 }),
      clock,
      owner: 'demo-fiscal',
      sellerTaxId: 'ESB12345678',
      batchSize: 100,
      leaseMs: 60_000,
      timeoutMs: 10_000,
      random: new SeededRandom(seed),
      maxPasses: 1_000,
    });
    for (let round = 0; round < maxRounds; round++) {
      const summary = await submitter.runOnce();
      if (summary.claimed === 0 && summary.enrolled === 0) break;
    }
    const bills = await storage.listFiscalBills(null);
    return {
      issued: bills.filter((b) => b.state === 'registered').length,
      rejected: bills.filter((b) => b.state === 'rejected').length,
      records: sim.storage.list().map(({ key, answer }) => ({
        key,
        billId: answer.billId,
        status: answer.status,
        fiscalNumber: answer.status === 'registered' ? answer.fiscalNumber : null,
        sequence: answer.status === 'registered' ? answer.sequence : null,
      })),
    };
  } finally {
    await sim.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
