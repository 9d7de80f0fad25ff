// Measures the till app (/till/) in headless Chromium against a real server (the harness):
//   - a sale from the clerk's click to durable: the quick key and Cash clicked, until the page
//     shows the sale recorded (the record call answered once the op was committed to OPFS),
//     beside a bare durable INSERT through the same journal worker in the same page and run;
//   - the till's JavaScript, gzipped (page bundle, journal worker, service worker; sqlite3.wasm apart);
//   - time to interactive on a cold load from the service worker with the server unreachable:
//     a new tab opened, until the Sell screen answers (journal opened, till started).
// A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-till.ts [sales]
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { enrollAndOpenShift, ms, openTillProfile, pct, startTillServer } from './till-fixture.js';

const sales = Number(process.argv[2] ?? 200);
const DIST = fileURLToPath(new URL('../../../web/dist/till/', import.meta.url));

const sizes = ['till.js', 'journal-worker.js', 'sw.js', 'till.css', 'sqlite3.wasm'].map((f) => {
  const body = readFileSync(join(DIST, f));
  return { file: f, raw: body.length, gzip: gzipSync(body, { level: 9 }).length };
});

const server = await startTillServer();
const { h, proxy } = server;
const till = await openTillProfile('measure-till');
try {
  const { page } = till;
  await enrollAndOpenShift(page, `${proxy.origin}/till/?till=measure&measure`, await h.newToken('measure'), {
    clerk: 'Ana',
  });
  await page.waitForSelector('[data-quick=COFFEE]');
  // The sales are recorded offline: the sync loop's network work stays out of the figures.
  proxy.reachable = false;
  // Plain JavaScript run in the page (a string: the TypeScript loader's helpers do not exist there).
  const result = (await page.evaluate(`(async (count) => {
    const raw = window.holdfastMeasure;
    const coffee = document.querySelector('[data-quick=COFFEE]');
    const cash = () => document.querySelector('[data-pay=cash]');
    const doneId = () => document.querySelector('[data-sale-done]')?.getAttribute('data-sale-done') ?? null;
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
    const sale = async () => {
      const before = doneId();
      coffee.click(); // the cart's new line clears the last sale's note
      await nextFrame();
      const t = performance.now();
      cash().click();
      // Shown once recordSale answered: durable in OPFS (the worker answers after COMMIT).
      while (doneId() === null || doneId() === before) await new Promise((r) => setTimeout(r, 0));
      return performance.now() - t;
    };
    const payload = JSON.stringify({ sku: 'COFFEE', qty: 1, unitPrice: 250, note: 'x'.repeat(200) });
    const sell = [];
    const insert = [];
    for (let i = 0; i < 20; i++) {
      await sale();
      await raw.rawInsert(payload);
    }
    for (let i = 0; i < count; i++) {
      sell.push(await sale());
      const t = performance.now();
      await raw.rawInsert(payload);
      insert.push(performance.now() - t);
    }
    return { sell, insert };
  })(${sales})`)) as { sell: number[]; insert: number[] };

  // Cold loads from the service worker, the server unreachable: a new tab each time.
  await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
  await page.close();
  const tti: number[] = [];
  const phases: Array<Record<string, number>> = [];
  for (let i = 0; i < 10; i++) {
    const tab = await till.context.newPage();
    const start = Date.now();
    await tab.goto(`${proxy.origin}/till/?till=measure`);
    const loaded = Date.now() - start;
    await tab.waitForSelector('[data-quick=COFFEE]');
    tti.push(Date.now() - start);
    const marks = (await tab.evaluate(
      `Object.fromEntries(performance.getEntriesByType('mark').map((m) => [m.name, Math.round(m.startTime)]))`,
    )) as Record<string, number>;
    phases.push({ loaded, ...marks });
    await tab.close();
    // The next tab must find the till free: the closed tab's worker let go of the journal.
    await new Promise((r) => setTimeout(r, Number(process.env.TTI_GAP_MS ?? 1000)));
  }

  console.log(`till app, ${sales} sales after 20 warm-up, interleaved with a bare INSERT, offline`);
  console.log(`  sale click → durable (shown)     p50 ${ms(pct(result.sell, 50))}  p99 ${ms(pct(result.sell, 99))}`);
  console.log(
    `  bare durable INSERT, same worker  p50 ${ms(pct(result.insert, 50))}  p99 ${ms(pct(result.insert, 99))}`,
  );
  console.log('JavaScript and assets (bytes raw / gzip -9):');
  for (const s of sizes)
    console.log(`  ${s.file.padEnd(18)} ${String(s.raw).padStart(8)} / ${String(s.gzip).padStart(7)}`);
  const js = sizes.filter((s) => s.file.endsWith('.js')).reduce((a, s) => a + s.gzip, 0);
  console.log(`  all JavaScript gzipped: ${js} bytes`);
  console.log(
    `cold load from the service worker, server down, 10 new tabs: p50 ${pct(tti, 50)} ms, max ${Math.max(...tti)} ms`,
  );
  const phase = (k: string) =>
    pct(
      phases.map((p) => p[k] ?? Number.NaN),
      50,
    );
  console.log(
    `  p50 phases (ms from navigation): page loaded ${phase('loaded')}, journal open ${phase('till:journal-open')}, till started ${phase('till:started')}`,
  );
} finally {
  await till.close();
  await server.close();
}
