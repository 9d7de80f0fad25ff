/**
 * The Terminal SDK holding a long outage's backlog: N pending ops recorded
 * one by one (each durable), then the process's resident memory, the journal
 * size, and how long reading the next batch and status() take. Runs in a
 * child process so the figure is the SDK's alone.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface PendingResult {
  pending: number;
  recordSeconds: number;
  rssMiB: number;
  baselineRssMiB: number;
  journalMiB: number;
  statusMs: number;
}

const WORKER = `
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Terminal } from '@holdfast/terminal';
import { FakeServer } from '@holdfast/terminal/testing';
const n = Number(process.argv[1]);
const baseline = process.memoryUsage().rss;
const dir = mkdtempSync(join(tmpdir(), 'holdfast-bench-pending-'));
try {
  const server = new FakeServer();
  const terminal = Terminal.open({ dataDir: dir, transport: server, autoSync: false, idlePingMs: 0 });
  await terminal.enroll(server.createToken(), 'bench');
  terminal.openShift({ clerk: 'bench', currency: 'EUR', openingFloat: 0 });
  const t0 = performance.now();
  for (let i = 1; i < n; i++) {
    terminal.recordSale({ lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 1, unitPrice: 650 }], tenders: [{ type: 'cash', amount: 650, tendered: 1000 }] });
  }
  const recordSeconds = (performance.now() - t0) / 1000;
  globalThis.gc?.();
  const t1 = performance.now();
  const status = terminal.status();
  const statusMs = performance.now() - t1;
  const rss = process.memoryUsage().rss;
  await terminal.close();
  const journal = statSync(join(dir, 'journal.db')).size;
  console.log(JSON.stringify({ pending: status.pending, recordSeconds, rssMiB: rss / 2 ** 20, baselineRssMiB: baseline / 2 ** 20, journalMiB: journal / 2 ** 20, statusMs }));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
`;

/**
 * The same figure twice: with Node's defaults, and with V8's young
 * generation capped at 1 MiB a semi-space (`--max-semi-space-size=1`, a
 * setting an embedded terminal app would use). Recording 100,000 ops in a
 * burst makes V8 grow its young generation to ~40 MiB and keep it; the
 * live heap after a GC is ~6 MiB either way, so the difference is V8's
 * sizing, not data the SDK holds.
 */
export async function benchPending(n: number): Promise<PendingResult & { rssSmallYoungGenMiB: number }> {
  const defaults = await runPending(n, []);
  const tuned = await runPending(n, ['--max-semi-space-size=1']);
  return { ...defaults, rssSmallYoungGenMiB: tuned.rssMiB };
}

function runPending(n: number, flags: string[]): Promise<PendingResult> {
  const root = fileURLToPath(new URL('../../../..', import.meta.url));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...flags, '--expose-gc', '--input-type=module', '-e', WORKER, String(n)], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
    });
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) reject(new Error(`pending-ops worker exited with ${code}`));
      else resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as PendingResult);
    });
  });
}
