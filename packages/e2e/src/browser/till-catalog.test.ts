/**
 * Selling from the catalog in the till app (packages/web/src/till/sell.tsx),
 * in real Chromium against a real server: the operator publishes a price
 * list for the till's location; once the till has talked to the server
 * (opening the shift sends a batch, after which the worker reads the signed
 * feed) the Sell keys are the list's items at the list's prices, and a sale
 * rung up from them reaches the server with that item and price.
 *
 * Needs the till built (npm run build). HOLDFAST_TILL_SCREENSHOTS=<dir> saves
 * the Sell screen with the catalog keys (docs/images/till-catalog.png).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHarness, type Harness } from '@holdfast/server/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumMissing } from './chromium.js';
import { type CutProxy, startProxy } from './till-front.js';

const TILL_DIST = fileURLToPath(new URL('../../../web/dist/till/index.html', import.meta.url));
const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

let h: Harness;
let proxy: CutProxy;
let profile: string;
let context: BrowserContext;
let clockTimer: NodeJS.Timeout;
let page: Page;

async function admin(method: 'POST' | 'PUT', url: string, payload: unknown): Promise<unknown> {
  const res = await h.request(method, url, { admin: true, payload });
  assert.ok(res.status === 200 || res.status === 201, `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

before(async () => {
  assert.ok(existsSync(TILL_DIST), `the till is not built (${TILL_DIST}): run npm run build`);
  h = await createHarness();
  h.clock.set(Date.now());
  clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  proxy = await startProxy(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
  profile = mkdtempSync(join(tmpdir(), 'holdfast-till-catalog-'));
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    viewport: { width: 1280, height: 800 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  page = context.pages()[0] ?? (await context.newPage());
});

after(async () => {
  clearInterval(clockTimer);
  await context?.close().catch(() => undefined);
  await proxy?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the till app sells from the catalog', () => {
  it('shows the location price list as keys once the feed brought it, and sells at its price', async () => {
    await admin('PUT', '/v1/admin/catalog/items', {
      items: [
        { sku: 'LATTE', name: 'Latte', taxCategory: 'standard', unit: 'each' },
        { sku: 'BAGEL', name: 'Bagel', taxCategory: 'standard', unit: 'each' },
      ],
    });
    await admin('POST', '/v1/admin/price-lists', {
      location: 'north',
      currency: 'EUR',
      prices: [
        { sku: 'LATTE', price: 390 },
        { sku: 'BAGEL', price: 275 },
      ],
    });
    const token = (await admin('POST', '/v1/admin/enrollment-tokens', {
      label: 'north till',
      merchant: 'acme',
      location: 'north',
      event: null,
    })) as { token: string };

    await page.goto(`${proxy.origin}/till/?till=north`);
    await page.waitForSelector('form[data-form=enroll]');
    await page.fill('textarea[name=token]', token.token);
    await page.click('form[data-form=enroll] button[type=submit]');
    await page.waitForSelector('nav.tabs');
    await page.keyboard.press('F4');
    await page.fill('input[name=clerk]', 'Ana');
    await page.fill('input[name=float]', '0');
    await page.click('form[data-form=open-shift] button[type=submit]');
    await page.waitForSelector('form[data-form=close-shift]');
    await page.keyboard.press('F1');
    await page.waitForSelector('[data-quick=LATTE][data-catalog="1"]', { timeout: 30_000 });
    assert.equal(await page.$('[data-quick=COFFEE]'), null, 'the quick keys give way to the catalog');
    assert.match((await page.textContent('[data-quick=BAGEL]')) ?? '', /Bagel.*2\.75/);

    await page.click('[data-quick=LATTE]');
    // The number keys follow the catalog too: press the one shown on Bagel's key.
    const bagelKey = (await page.textContent('[data-quick=BAGEL] kbd')) ?? '';
    assert.match(bagelKey, /^[1-8]$/);
    await page.keyboard.press(bagelKey);
    await page.fill('input[name=tendered]', '10');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    assert.match((await page.textContent('[data-sale-done]')) ?? '', /Change: €3\.35/);
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;
    const device = (await h.storage.listDevices()).find((d) => d.label === 'north till');
    assert.ok(device);
    const deadline = Date.now() + 30_000;
    let stored = await h.storage.getDeviceOps(device.id, [saleId]);
    while (stored.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      stored = await h.storage.getDeviceOps(device.id, [saleId]);
    }
    const body = stored[0]?.op.body as { lines: Array<{ sku: string; unitPrice: number }> } | undefined;
    assert.deepEqual(
      body?.lines.map((l) => [l.sku, l.unitPrice]),
      [
        ['LATTE', 390],
        ['BAGEL', 275],
      ],
    );
    // The sale's card follows it: confirmed once the server has it, not left at "pending confirmation".
    await page.waitForSelector('[data-sale-done] .badge.confirmed', { timeout: 30_000 });
    assert.match((await page.textContent('[data-sale-done]')) ?? '', /confirmed/);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'till-catalog.png') });
    }
  });
});
