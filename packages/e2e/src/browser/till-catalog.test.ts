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
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { admin, enrollAndOpenShift, enrollmentToken, storedOp, tillFixture } from './till-fixture.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

const till = tillFixture('till-catalog');

describe('the till app sells from the catalog', () => {
  it('shows the location price list as keys once the feed brought it, and sells at its price', async () => {
    const { h, proxy, page } = till;
    await admin(h, 'PUT', '/v1/admin/catalog/items', {
      items: [
        { sku: 'LATTE', name: 'Latte', taxCategory: 'standard', unit: 'each' },
        { sku: 'BAGEL', name: 'Bagel', taxCategory: 'standard', unit: 'each' },
      ],
    });
    await admin(h, 'POST', '/v1/admin/price-lists', {
      location: 'north',
      currency: 'EUR',
      prices: [
        { sku: 'LATTE', price: 390 },
        { sku: 'BAGEL', price: 275 },
      ],
    });
    await enrollAndOpenShift(page, `${proxy.origin}/till/?till=north`, await enrollmentToken(h, 'north till'), {
      clerk: 'Ana',
      float: '0',
    });
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
    const stored = await storedOp(h, device.id, saleId);
    const body = stored.op.body as { lines: Array<{ sku: string; unitPrice: number }> };
    assert.deepEqual(
      body.lines.map((l) => [l.sku, l.unitPrice]),
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
