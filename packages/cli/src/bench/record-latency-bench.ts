/**
 * Terminal record latency: what a clerk waits for between pressing "pay" and
 * the sale being durably recorded (validation, domain rules, canonical JSON,
 * SHA-256, one SQLite commit with synchronous=FULL), beside the baseline of a
 * raw durable SQLite insert of the same row into the same kind of table.
 *
 * The two alternate in blocks of `block` ops (250 by default: 40 rounds for
 * the default 10,000 ops), after one uncounted block of each (warm-up), so
 * that a noisy neighbour or a slow stretch of the
 * disk hits both alike; with four rounds of 500, the raw insert's p50 swung
 * 0.25 – 0.36 ms between runs minutes apart while the terminal's held at
 * 0.47 – 0.50. Op by op (a block of 1) each commit follows the other file's
 * and both slow a little, the baseline a little more: not used
 * (docs/performance.md, round six).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ChainBuilder, generateDeviceKeys } from '@holdfast/protocol';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import { inProcessTransport } from '@holdfast/sim';
import { Terminal } from '@holdfast/terminal';
import Database from 'better-sqlite3';
import { type LatencySummary, summarize } from './stats.js';

export interface RecordLatencyResult {
  ops: number;
  terminal: LatencySummary;
  rawInsert: LatencySummary;
  ratioP50: number;
  ratioP99: number;
}

const LINES = [
  { sku: 'BEER-05', name: 'Beer 0.5l', qty: 2, unitPrice: 650 },
  { sku: 'PRETZEL', name: 'Pretzel', qty: 1, unitPrice: 450 },
];

export async function benchRecordLatency(ops: number, block = 250): Promise<RecordLatencyResult> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-record-'));
  try {
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.migrate();
    const service = new HoldfastService({ storage });
    const terminal = Terminal.open({
      dataDir: join(dir, 'terminal'),
      transport: inProcessTransport(service),
      autoSync: false,
    });
    const { token } = await service.createEnrollmentToken({});
    await terminal.enroll(token, 'bench');
    terminal.openShift({ clerk: 'bench', currency: 'EUR', openingFloat: 0 });

    // The baseline: the same kind of row, built beforehand, one durable insert per commit.
    const raw = new Database(join(dir, 'raw.db'));
    raw.pragma('journal_mode = WAL');
    raw.pragma('synchronous = FULL');
    raw.exec(`CREATE TABLE ops (seq INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL, envelope TEXT NOT NULL,
      hash TEXT NOT NULL, recorded_at INTEGER NOT NULL, state TEXT NOT NULL)`);
    const insert = raw.prepare(
      'INSERT INTO ops (seq, id, kind, envelope, hash, recorded_at, state) VALUES (?, ?, ?, ?, ?, ?, ?)',
    );
    const keys = generateDeviceKeys();
    const chain = new ChainBuilder('019aa6c0-0000-7000-8000-000000000001', keys.privateKey);
    const shift = chain.next('shift.opened', { clerk: 'bench', currency: 'EUR', openingFloat: 0 });
    // One block of each first, not counted: the first few hundred calls of either column run before the JIT has
    // compiled their code (the terminal's is most of it), and a process records a sale far more often than it starts.
    const warmup = Math.min(block, ops);
    const rows = Array.from({ length: warmup + ops }, () =>
      chain.next('sale.recorded', {
        shift: shift.id,
        currency: 'EUR',
        lines: LINES,
        total: 1750,
        tenders: [{ type: 'cash', amount: 1750, tendered: 2000 }],
      }),
    );

    const terminalMs: number[] = [];
    const rawMs: number[] = [];
    for (let next = 0; next < warmup + ops; next += block) {
      const end = Math.min(warmup + ops, next + block);
      for (let i = next; i < end; i++) {
        const op = rows[i] as (typeof rows)[number];
        const t0 = performance.now();
        insert.run(op.seq, op.id, op.kind, JSON.stringify(op), op.hash, op.at, 'pending');
        if (i >= warmup) rawMs.push(performance.now() - t0);
      }
      for (let i = next; i < end; i++) {
        const t0 = performance.now();
        terminal.recordSale({ lines: LINES, tenders: [{ type: 'cash', amount: 1750, tendered: 2000 }] });
        if (i >= warmup) terminalMs.push(performance.now() - t0);
      }
    }
    raw.close();
    await terminal.close();
    await storage.close();
    const t = summarize(terminalMs);
    const b = summarize(rawMs);
    return { ops, terminal: t, rawInsert: b, ratioP50: t.p50 / b.p50, ratioP99: t.p99 / b.p99 };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
