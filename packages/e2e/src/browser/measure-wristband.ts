// Measures the till app's wristband tender (/till/) in headless Chromium against a real server
// (the harness), offline: a sale paid with the simulated wristband from the clerk's click until
// the page shows it recorded (op + pending chip write committed to OPFS, the chip's own OPFS file
// written and flushed, the write marked done), interleaved with the same sale paid in cash, in the
// same page and run. The wristband payments are decided under a risk policy (issued first, with
// limits wide enough for every payment of the run), so the figure includes the offline decision
// and the exposure it grows, as on a till in service.
// A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-wristband.ts [sales]
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHarness } from '@holdfast/server/testing';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './chromium.js';
import { startProxy } from './till-front.js';

const sales = Number(process.argv[2] ?? 200);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;

const h = await createHarness();
h.clock.set(Date.now());
const clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
await h.app.listen({ host: '127.0.0.1', port: 0 });
const proxy = await startProxy(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
const profile = mkdtempSync(join(tmpdir(), 'holdfast-measure-wristband-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM_PATH,
  headless: true,
  viewport: { width: 1280, height: 900 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const page = context.pages()[0] ?? (await context.newPage());
  const now = Date.now();
  const wide = { maxAmount: 10_000_000, maxCount: 100_000 };
  const issued = await h.request('POST', '/v1/admin/policies', {
    admin: true,
    payload: {
      scope: { merchant: 'acme', location: null, event: null, devices: null },
      currency: 'EUR',
      validFrom: now - 60_000,
      expiresAt: now + 86_400_000,
      offline: {
        maxOfflineMs: 3_600_000,
        device: wide,
        tenders: { wristband: { floorLimit: 10_000, instrument: { ...wide, velocity: null } } },
      },
      online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
    },
  });
  if (issued.status !== 200 && issued.status !== 201) throw new Error(`policy: ${JSON.stringify(issued.body)}`);
  const token = await h.request<{ token: string }>('POST', '/v1/admin/enrollment-tokens', {
    admin: true,
    payload: { label: 'measure', merchant: 'acme', location: 'north', event: null },
  });
  await page.goto(`${proxy.origin}/till/?till=measure`);
  await page.fill('textarea[name=token]', token.body.token);
  await page.click('form[data-form=enroll] button[type=submit]');
  await page.waitForSelector('nav.tabs');
  await page.keyboard.press('F4');
  await page.fill('input[name=clerk]', 'Ana');
  await page.click('form[data-form=open-shift] button[type=submit]');
  await page.waitForSelector('form[data-form=close-shift]');
  await page.keyboard.press('F1');
  await page.waitForSelector('.policy-line:not([data-policy=none])', { timeout: 30_000 });
  await page.click('[data-wristband-new]');
  await page.waitForSelector('[data-chip][aria-pressed=true]');
  await page.fill('input[name=topup]', '100000');
  await page.click('form[data-form=wristband-topup] button[type=submit]');
  await page.waitForSelector('[data-chip][aria-pressed=true][data-counter="1"]');
  // Offline: the sync loop's network work stays out of the figures.
  proxy.reachable = false;
  const result = (await page.evaluate(`(async (count) => {
    const coffee = document.querySelector('[data-quick=COFFEE]');
    const doneId = () => document.querySelector('[data-sale-done]')?.getAttribute('data-sale-done') ?? null;
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
    const sale = async (tender) => {
      const before = doneId();
      coffee.click();
      await nextFrame();
      const t = performance.now();
      document.querySelector('[data-pay=' + tender + ']').click();
      while (doneId() === null || doneId() === before) {
        const error = document.querySelector('[data-sale-error]');
        if (error) throw new Error(error.textContent);
        await new Promise((r) => setTimeout(r, 0));
      }
      return performance.now() - t;
    };
    const cash = [];
    const band = [];
    for (let i = 0; i < 20; i++) {
      await sale('cash');
      await sale('wristband');
    }
    for (let i = 0; i < count; i++) {
      cash.push(await sale('cash'));
      band.push(await sale('wristband'));
    }
    return { cash, band };
  })(${sales})`)) as { cash: number[]; band: number[] };
  const chip = await page.getAttribute('[data-chip][aria-pressed=true]', 'data-counter');
  console.log(`till app, ${sales} sales of each tender after 20 warm-up, interleaved, offline`);
  console.log(
    `  cash sale, click → durable (shown)        p50 ${ms(pct(result.cash, 50))}  p99 ${ms(pct(result.cash, 99))}`,
  );
  console.log(
    `  wristband sale, click → op + chip written p50 ${ms(pct(result.band, 50))}  p99 ${ms(pct(result.band, 99))}`,
  );
  // Each offline approval is held until the server confirms it: the exposure the decision reads grows.
  const first = result.band.slice(0, 50);
  const last = result.band.slice(-50);
  console.log(
    `  wristband sale, first 50 p50 ${ms(pct(first, 50))}, last 50 p50 ${ms(pct(last, 50))} (${sales + 20} approvals held at the end)`,
  );
  console.log(`  chip counter at the end: ${chip} (1 top-up + ${sales + 20} payments)`);
} finally {
  clearInterval(clockTimer);
  await context.close();
  await proxy.close();
  await h.close();
  rmSync(profile, { recursive: true, force: true });
}
