// Measures, in headless Chromium, the latency of a journal append from the page's call to the
// durable answer (SQLite WASM on OPFS, opfs-sahpool, synchronous=FULL), beside a bare durable
// INSERT through the same worker in the same page and run. A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/terminal-web/scripts/measure-latency.ts [count]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { NO_DECISION, uuidv7 } from '@holdfast/protocol';
import type { BrowserJournal } from '../src/client.js';
import { buildBundle, launchPersistent, serveBundle } from '../src/testing/browser-harness.js';

const count = Number(process.argv[2] ?? 500);
buildBundle();
const { origin, server } = await serveBundle();
const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'holdfast-latency-'));
const context = await launchPersistent(profile);
try {
  const page = await context.newPage();
  await page.goto(`${origin}/`);
  await page.waitForFunction(() => (window as unknown as { hfReady: boolean }).hfReady === true);
  const inputs = Array.from({ length: count + 50 }, (_, i) => {
    const random = new Uint8Array(10);
    new DataView(random.buffer).setUint32(6, i);
    return {
      id: uuidv7(1_735_689_600_000 + i, random),
      device: '01934f8e-7b2a-7c3d-8e4f-5a6b7c8d9e0f',
      kind: 'sale.recorded',
      body: { lines: [{ sku: `SKU-${i}`, qty: 1, unitPrice: 250 }], total: 250 },
      at: 1_735_689_600_000 + i,
      decision: NO_DECISION,
    };
  });
  const result = await page.evaluate(
    async ({ inputs, count, workerUrl }) => {
      type Hf = { openBrowserJournal(o: { till: string; workerUrl: string }): Promise<BrowserJournal> };
      const journal = await (window as unknown as { hf: Hf }).hf.openBrowserJournal({ till: 'latency', workerUrl });
      const payload = JSON.stringify(inputs[0]);
      const append: number[] = [];
      const raw: number[] = [];
      // Warm-up (JIT, first pages of the file), then interleave so both see the same conditions.
      for (let i = 0; i < 50; i++) {
        await journal.append(inputs[i] as never);
        await journal.rawInsert(payload);
      }
      for (let i = 50; i < count + 50; i++) {
        let t = performance.now();
        await journal.append(inputs[i] as never);
        append.push(performance.now() - t);
        t = performance.now();
        await journal.rawInsert(payload);
        raw.push(performance.now() - t);
      }
      await journal.close();
      return { append, raw, persisted: journal.persisted };
    },
    { inputs, count, workerUrl: `${origin}/journal-worker.js` },
  );
  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return (sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number).toFixed(2);
  };
  console.log(`browser journal latency, ${count} each, headless Chromium, opfs-sahpool, synchronous=FULL`);
  console.log(
    `  append to durable (page -> worker -> COMMIT -> page): p50 ${pct(result.append, 50)} ms  p99 ${pct(result.append, 99)} ms`,
  );
  console.log(
    `  raw INSERT, own transaction (same path):              p50 ${pct(result.raw, 50)} ms  p99 ${pct(result.raw, 99)} ms`,
  );
  console.log(`  persistent storage granted: ${result.persisted}`);
} finally {
  await context.close();
  server.close();
  fs.rmSync(profile, { recursive: true, force: true });
}
