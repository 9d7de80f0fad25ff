/**
 * Finding items in a long price list on the till app's Sell screen
 * (packages/web/src/till/catalog-search.tsx), in real Chromium against a
 * real server: the operator publishes a list of 400 items for the till's
 * location; once the feed brought it, the clerk presses "/", types part of
 * a name or a SKU, moves with the arrows and adds with Enter, all from the
 * keyboard; a word nothing matches says so; the sale reaches the server
 * with the items and prices found.
 *
 * Needs the till built (npm run build). HOLDFAST_TILL_SCREENSHOTS=<dir> saves
 * the Sell screen with the search open (docs/images/till-catalog-search.png).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { admin, enrollAndOpenShift, enrollmentToken, storedOp, tillFixture } from './till-fixture.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;
const ITEMS = 400;

const till = tillFixture('till-search');

/** A long list: a few named items among hundreds of numbered ones. */
function catalog(): Array<{ sku: string; name: string; price: number }> {
  const out = [
    { sku: 'LATTE', name: 'Latte', price: 390 },
    { sku: 'LATTE-OAT', name: 'Oat milk latte', price: 430 },
    { sku: 'CREME-BRULEE', name: 'Crème brûlée', price: 520 },
    { sku: 'BAGEL', name: 'Bagel', price: 275 },
  ];
  for (let i = out.length; i < ITEMS; i++) {
    const n = String(i).padStart(4, '0');
    out.push({ sku: `SKU-${n}`, name: `Shelf item ${n}`, price: 100 + i });
  }
  return out;
}

const results = () =>
  till.page.$$eval('[data-search-results] [data-search-item]', (li) =>
    li.map((l) => l.getAttribute('data-search-item')),
  );

describe('the till app finds items in a long price list', () => {
  it('finds by name or SKU from the keyboard, and sells what it found at the list price', async () => {
    const { h, proxy, page } = till;
    const items = catalog();
    await admin(h, 'PUT', '/v1/admin/catalog/items', {
      items: items.map((i) => ({ sku: i.sku, name: i.name, taxCategory: 'standard', unit: 'each' })),
    });
    await admin(h, 'POST', '/v1/admin/price-lists', {
      location: 'south',
      currency: 'EUR',
      prices: items.map((i) => ({ sku: i.sku, price: i.price })),
    });
    await enrollAndOpenShift(
      page,
      `${proxy.origin}/till/?till=south`,
      await enrollmentToken(h, 'south till', 'south'),
      { clerk: 'Ana' },
    );
    await page.waitForSelector('[data-quick=LATTE][data-catalog]', { timeout: 30_000 });
    // A long list shows its first 24 keys; the rest are found by search, or every key on request (below).
    assert.equal(await page.$$eval('[data-quick][data-catalog]', (keys) => keys.length), 24);
    assert.match((await page.textContent('[data-more-keys]')) ?? '', new RegExp(`^${ITEMS - 24} more items`));

    // "/" from anywhere on the screen, then type: names and SKUs, case and accents ignored.
    await page.locator('body').click({ position: { x: 5, y: 790 } });
    await page.keyboard.press('/');
    assert.equal(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name), 'search');
    await page.keyboard.type('latte');
    assert.deepEqual(await results(), ['LATTE', 'LATTE-OAT']);
    // Arrow down marks the oat latte; Enter adds it and empties the box for the next.
    await page.keyboard.press('ArrowDown');
    assert.equal(await page.getAttribute('[data-search-item=LATTE-OAT]', 'data-marked'), 'true');
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'till-catalog-search.png'), fullPage: true });
    }
    await page.keyboard.press('Enter');
    assert.equal(await page.inputValue('input[name=search]'), '');
    await page.keyboard.type('creme brulee');
    assert.deepEqual(await results(), ['CREME-BRULEE']);
    await page.keyboard.press('Enter');
    // A SKU typed whole comes first, among the many it also starts.
    await page.keyboard.type('sku-0357');
    assert.deepEqual(await results(), ['SKU-0357']);
    await page.keyboard.press('Enter');
    await page.keyboard.type('shelf item');
    assert.equal((await results()).length, 8, 'eight listed');
    assert.equal(await page.getAttribute('[data-search-more]', 'data-search-more'), String(ITEMS - 4 - 8));
    await page.keyboard.press('ArrowUp'); // from the first, up wraps to the last listed
    assert.equal(await page.getAttribute('[data-search-item=SKU-0011]', 'data-marked'), 'true');
    await page.keyboard.press('Enter');
    await page.keyboard.type('zzz');
    await page.waitForSelector('[data-search-none]');
    assert.match((await page.textContent('[data-search-none]')) ?? '', /No item matches “zzz”/);
    await page.keyboard.press('Escape');
    assert.equal(await page.inputValue('input[name=search]'), '');
    assert.notEqual(await page.evaluate(() => (document.activeElement as HTMLInputElement | null)?.name), 'search');

    // Out of the box, Enter pays cash, as before.
    assert.equal(await page.getAttribute('[data-total]', 'data-total'), String(430 + 520 + 457 + 111));
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-sale-done]');
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;
    const device = (await h.storage.listDevices()).find((d) => d.label === 'south till');
    assert.ok(device);
    const stored = await storedOp(h, device.id, saleId);
    const body = stored.op.body as { lines: Array<{ sku: string; unitPrice: number }> };
    assert.deepEqual(
      body.lines.map((l) => [l.sku, l.unitPrice]),
      [
        ['LATTE-OAT', 430],
        ['CREME-BRULEE', 520],
        ['SKU-0357', 457],
        ['SKU-0011', 111],
      ],
    );
    // Every key on request.
    await page.click('[data-more-keys]');
    assert.equal(await page.$$eval('[data-quick][data-catalog]', (keys) => keys.length), ITEMS);
    assert.equal(await page.$('[data-more-keys]'), null);
  });
});
