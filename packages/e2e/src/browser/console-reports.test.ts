/**
 * The console's Reports page in real Chromium against an in-process server
 * (the harness): a viewer picks the days, sees sales by item with tax and
 * returns as formatted money, exports the table (minor units in the CSV
 * only), downloads the server's CSV with their session, and sees the
 * journal's sums per account.
 *
 * Needs the built console (packages/web/dist/console: `npm run build`).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHarness, type Harness, OPERATOR_PASSWORD, saleBody, T0 } from '@holdfast/server/testing';
import type { Browser } from 'playwright-core';
import { launchChromium } from './chromium.js';

const CONSOLE_DIST = fileURLToPath(new URL('../../../web/dist/console/index.html', import.meta.url));
const DAY = new Date(T0).toISOString().slice(0, 10);
const NEXT = new Date(T0 + 86_400_000).toISOString().slice(0, 10);

let h: Harness;
let base: string;
let browser: Browser;

before(async () => {
  assert.ok(existsSync(CONSOLE_DIST), `the console is not built (${CONSOLE_DIST}): run npm run build`);
  h = await createHarness();
  await h.request('PUT', '/v1/admin/catalog/items', {
    admin: true,
    payload: { items: [{ sku: 'BEER', name: 'Beer', taxCategory: 'standard', unit: 'each' }] },
  });
  await h.request('PUT', '/v1/admin/catalog/tax-rates', {
    admin: true,
    payload: { rates: [{ category: 'standard', rate: 2100 }] },
  });
  const d = await h.enrollDevice('lane-1');
  await h.storage.setDevicePlacement(d.id, { merchant: 'acme', location: 'north', event: null }, T0);
  const open = d.openShift();
  const sale = d.chain.next(
    'sale.recorded',
    saleBody(open.id, 2_420, { lines: [{ sku: 'BEER', name: 'Beer', qty: 2, unitPrice: 1_210 }] }),
  );
  const refund = d.chain.next('sale.refunded', {
    shift: open.id,
    sale: sale.id,
    currency: 'EUR',
    amount: 1_210,
    tender: 'cash',
  });
  assert.equal((await h.send(d.batch([open, sale, refund]))).status, 200);
  await h.operator('vera', 'viewer');
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

describe('console Reports page in Chromium', () => {
  it('a viewer sees sales by item and the journal for the days picked, and exports both CSVs', async () => {
    const context = await browser.newContext({ acceptDownloads: true, locale: 'en-US' });
    const page = await context.newPage();
    await page.goto(`${base}/console/`);
    await page.fill('input[name=username]', 'vera');
    await page.fill('input[name=password]', OPERATOR_PASSWORD);
    await page.click('form[data-form=signin] button[type=submit]');
    await page.click('[data-nav=reports]');
    await page.fill('input[name=From]', DAY);
    await page.fill('input[name="To (exclusive)"]', NEXT);
    const row = page.locator('table[data-table=sales-by-item] tbody tr', { hasText: 'BEER' });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    // SKU, item, currency, sales, qty, gross, tax, returned, net, net tax: no minor-unit column on screen.
    assert.deepEqual(cells, ['BEER', 'Beer', 'EUR', '1', '2', '€24.20', '€4.20', '€12.10', '€12.10', '€2.10']);

    const [download] = await Promise.all([page.waitForEvent('download'), page.click('button[data-csv=sales-by-item]')]);
    const csv = readFileSync((await download.path()) as string, 'utf8').split('\r\n');
    assert.match(csv[0] ?? '', /,Gross \(minor units\),Tax \(minor units\),Untaxed \(minor units\),/);
    assert.match(csv[1] ?? '', /^BEER,Beer,EUR,1,2,€24\.20,€4\.20,€12\.10,€12\.10,€2\.10,2420,420,0,1210,1210,210$/);

    const href = await page.getAttribute('a[data-server-csv=sales]', 'href');
    assert.ok(href);
    const server = await page.evaluate(async (url) => {
      const res = await fetch(url);
      return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
    }, href);
    assert.equal(server.status, 200, 'the session cookie reads the server CSV');
    assert.equal(server.type, 'text/csv; charset=utf-8');
    assert.match(server.text, /^SKU,Item,Currency,Sales,Qty,Gross \(minor units\),Gross,/);

    const journal = page.locator('table[data-table=journal-by-day] tbody tr');
    await journal.first().waitFor();
    if (process.env.HOLDFAST_CONSOLE_SCREENSHOTS) {
      mkdirSync(process.env.HOLDFAST_CONSOLE_SCREENSHOTS, { recursive: true });
      await page.screenshot({
        path: join(process.env.HOLDFAST_CONSOLE_SCREENSHOTS, 'console-reports.png'),
        fullPage: true,
      });
    }
    const accounts = (await journal.allTextContents()).map((t) => t.replace(/\s+/g, ' '));
    assert.ok(
      accounts.some((t) => t.includes('1000 Cash in drawers') && t.includes('€24.20') && t.includes('€12.10')),
      accounts.join('\n'),
    );
    assert.equal(await page.locator('table[data-table=outages] td.empty').count(), 1, 'no outages');
    await context.close();
  });
});
