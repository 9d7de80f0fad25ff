/**
 * The fiscal rules bite: a real server's sales registered by the real
 * submitter with the authority simulator are judged clean; then the truth
 * is tampered with on disk and at the authority — a number the authority
 * never gave, a sequence out of order, a bill registered again under a
 * fresh key, a registered bill set back to pending — and each is named.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom, systemClock } from '@holdfast/domain';
import { FiscalClient } from '@holdfast/processor-client';
import { startFiscalSim } from '@holdfast/processor-sim';
import { ChainBuilder, enrollmentMessage, generateDeviceKeys, importPrivateKey, signMessage } from '@holdfast/protocol';
import { FiscalSubmitter, HoldfastService, SqliteStorage } from '@holdfast/server';
import Database from 'better-sqlite3';
import { readServer } from '../server-reader.js';
import { SqliteServerReader } from '../sqlite/sqlite-server-reader.js';
import type { FiscalRecord, Truth } from '../truth.js';
import { fiscalRules } from './fiscal.js';

const dir = mkdtempSync(join(tmpdir(), 'holdfast-fiscal-rule-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function truthOf(path: string, client: FiscalClient): Promise<Truth> {
  const reader = SqliteServerReader.open(path);
  try {
    const fiscal: FiscalRecord[] = (await client.listAll()).map(({ key, answer }) => ({
      key,
      billId: answer.billId,
      status: answer.status,
      fiscalNumber: answer.status === 'registered' ? answer.fiscalNumber : null,
      sequence: answer.status === 'registered' ? answer.sequence : null,
    }));
    return { journals: [], server: await readServer(reader), processor: null, fiscal };
  } finally {
    await reader.close();
  }
}

const named = (truth: Truth) => fiscalRules(truth).map((v) => `${v.rule}: ${v.message}`);

describe('fiscal rules', () => {
  it('a clean run is clean; each tampering is named', async () => {
    const path = join(dir, 'server.db');
    const storage = new SqliteStorage({ path });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    const sim = await startFiscalSim({ dataDir: join(dir, 'authority'), seed: 8, synchronous: 'OFF' });
    const client = new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 });
    try {
      const { token } = await service.createEnrollmentToken({});
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
      const { deviceId } = await service.enroll({ token, publicKey: keys.publicKey, sig });
      const chain = new ChainBuilder(deviceId, key);
      const shift = chain.next('shift.opened', { clerk: 'bo', currency: 'EUR', openingFloat: 0 });
      const sales = [300, 400, 500].map((total) =>
        chain.next('sale.recorded', {
          shift: shift.id,
          currency: 'EUR',
          lines: [{ sku: 'TEA', name: 'Tea', qty: 1, unitPrice: total }],
          total,
          tenders: [{ type: 'cash', amount: total, tendered: total }],
        }),
      );
      await service.ingest(chain.batch([shift, ...sales]));
      const submitter = new FiscalSubmitter({
        storage,
        authority: client,
        clock: systemClock,
        owner: 'rule-test',
        sellerTaxId: 'ESB12345678',
        batchSize: 10,
        leaseMs: 10_000,
        timeoutMs: 2_000,
        random: new SeededRandom(1),
      });
      assert.equal((await submitter.runOnce()).registered, 3);
      await storage.close();
      assert.deepEqual(named(await truthOf(path, client)), [], 'a clean run is clean');
      assert.deepEqual(named({ ...(await truthOf(path, client)), fiscal: null }), [], 'no authority, no judgement');

      const db = new Database(path);
      try {
        const [a, b, c] = sales.map((s) => s.id);
        // A number the authority never gave (the schema's UNIQUE already keeps one number off two bills).
        const numberOf = (id: string | undefined) =>
          (db.prepare('SELECT fiscal_number AS n FROM fiscal_bills WHERE op_id = ?').get(id) as { n: string }).n;
        const second = numberOf(b);
        db.prepare('UPDATE fiscal_bills SET fiscal_number = ? WHERE op_id = ?').run('FE-77777777', b);
        const made = named(await truthOf(path, client));
        assert.ok(
          made.some((m) => m.startsWith('fiscal-once') && m.includes('which the authority never gave it')),
          made.join('\n'),
        );
        db.prepare('UPDATE fiscal_bills SET fiscal_number = ? WHERE op_id = ?').run(second, b);
        assert.deepEqual(named(await truthOf(path, client)), [], 'restored');

        // One number on two bills (a backend without the UNIQUE, or a reader's bug): tampered in memory.
        const clean = await truthOf(path, client);
        const bills = clean.server.fiscalBills.map((x) => (x.opId === c ? { ...x, fiscalNumber: second } : x));
        const shared = named({ ...clean, server: { ...clean.server, fiscalBills: bills } });
        assert.ok(
          shared.some((m) => m.includes('is on two bills')),
          shared.join('\n'),
        );

        // Out of order: the first bill's sequence after the second's.
        db.prepare('UPDATE fiscal_bills SET fiscal_sequence = 99 WHERE op_id = ?').run(a);
        const order = named(await truthOf(path, client));
        assert.ok(
          order.some((m) => m.startsWith('fiscal-order')),
          order.join('\n'),
        );
        db.prepare('UPDATE fiscal_bills SET fiscal_sequence = 1 WHERE op_id = ?').run(a);

        // A registered bill the server lost track of.
        db.prepare(
          "UPDATE fiscal_bills SET state = 'pending', fiscal_number = NULL, fiscal_sequence = NULL WHERE op_id = ?",
        ).run(c);
        const lost = named(await truthOf(path, client));
        assert.ok(
          lost.some((m) => m.includes('but the server holds it pending')),
          lost.join('\n'),
        );
        // A sale never made a bill.
        db.prepare('DELETE FROM fiscal_bills WHERE op_id = ?').run(c);
        const never = named(await truthOf(path, client));
        assert.ok(
          never.some((m) => m.includes('was never made a bill')),
          never.join('\n'),
        );
      } finally {
        db.close();
      }

      // Registered again at the authority under a fresh key (what the fresh-key bug does).
      await client.register('fresh-key-1', {
        billId: sales[0]?.id as string,
        sellerTaxId: 'ESB12345678',
        device: deviceId,
        provisionalNumber: 'again',
        issuedAt: 1,
        currency: 'EUR',
        total: 300,
        lines: 1,
      });
      const twice = named(await truthOf(path, client));
      assert.ok(
        twice.some((m) => m.includes('was registered 2 times')),
        twice.join('\n'),
      );
    } finally {
      await sim.close();
    }
  });
  it('credit notes: a clean run is clean; a number never given, a note before its bill, a note lost track of are named', async () => {
    const path = join(dir, 'server-notes.db');
    const storage = new SqliteStorage({ path });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    const sim = await startFiscalSim({ dataDir: join(dir, 'authority-notes'), seed: 9, synchronous: 'OFF' });
    const client = new FiscalClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 2_000 });
    try {
      const { token } = await service.createEnrollmentToken({});
      const keys = generateDeviceKeys();
      const key = importPrivateKey(keys.privateKey);
      const sig = signMessage(enrollmentMessage(token, keys.publicKey), key);
      const { deviceId } = await service.enroll({ token, publicKey: keys.publicKey, sig });
      const chain = new ChainBuilder(deviceId, key);
      const shift = chain.next('shift.opened', { clerk: 'bo', currency: 'EUR', openingFloat: 0 });
      const sale = chain.next('sale.recorded', {
        shift: shift.id,
        currency: 'EUR',
        lines: [{ sku: 'TEA', name: 'Tea', qty: 1, unitPrice: 900 }],
        total: 900,
        tenders: [{ type: 'cash', amount: 900, tendered: 900 }],
      });
      const refund = chain.next(
        'sale.refunded',
        { shift: shift.id, sale: sale.id, currency: 'EUR', amount: 400, tender: 'cash' },
        { mode: 'none', outcome: 'approved', policy: null },
        undefined,
        { staff: 'bo', approvedBy: 'sup-1' },
      );
      const ingested = await service.ingest(chain.batch([shift, sale, refund]));
      assert.ok(
        ingested.results.every((r) => r.status === 'accepted'),
        JSON.stringify(ingested),
      );
      const submitter = new FiscalSubmitter({
        storage,
        authority: client,
        clock: systemClock,
        owner: 'rule-test-notes',
        sellerTaxId: 'ESB12345678',
        batchSize: 10,
        leaseMs: 10_000,
        timeoutMs: 2_000,
        random: new SeededRandom(2),
      });
      assert.equal((await submitter.runOnce()).creditNotes, 1);
      await storage.close();
      const clean = await truthOf(path, client);
      assert.equal(clean.server.fiscalCreditNotes?.[0]?.state, 'registered');
      assert.deepEqual(named(clean), [], 'a clean run is clean');

      const db = new Database(path);
      try {
        const number = (db.prepare('SELECT fiscal_number AS n FROM fiscal_credit_notes').get() as { n: string }).n;
        db.prepare('UPDATE fiscal_credit_notes SET fiscal_number = ?').run('FE-55555555');
        const made = named(await truthOf(path, client));
        assert.ok(
          made.some((m) => m.startsWith('fiscal-once') && m.includes(`credit note ${refund.id} holds`)),
          made.join('\n'),
        );
        db.prepare('UPDATE fiscal_credit_notes SET fiscal_number = ?').run(number);
        db.prepare('UPDATE fiscal_credit_notes SET fiscal_sequence = 0').run();
        const order = named(await truthOf(path, client));
        assert.ok(
          order.some((m) => m.startsWith('fiscal-order') && m.includes('not after its bill')),
          order.join('\n'),
        );
        db.prepare(
          "UPDATE fiscal_credit_notes SET state = 'pending', fiscal_number = NULL, fiscal_sequence = NULL",
        ).run();
        const lost = named(await truthOf(path, client));
        assert.ok(
          lost.some((m) => m.includes(`credit note ${refund.id}`) && m.includes('server holds it pending')),
          lost.join('\n'),
        );
      } finally {
        db.close();
      }
    } finally {
      await sim.close();
    }
  });
});
