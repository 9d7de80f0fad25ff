/**
 * The clerk's till app (/till/, packages/web/src/till) in real Chromium,
 * served by a real server (the harness: Fastify, SQLite) behind a loopback
 * proxy that can cut it off:
 *
 * - enrollment with a bad token says why, in words; a good one enrolls;
 * - a sale rung up with the server unreachable shows "pending
 *   confirmation" and the offline banner, is still pending after a reload,
 *   and is confirmed once the server is back (the server holds it once);
 * - a reprint is marked COPY; closing the shift prints its Z report;
 * - the app loads from its service worker with the server down;
 * - a second tab of the same till says so and records nothing.
 *
 * HOLDFAST_TILL_SCREENSHOTS=<dir> saves the screens (docs/images/till-*.png).
 * Needs the built till (packages/web/dist/till: npm run build).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { openShift, tillFixture } from './till-fixture.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

const tillApp = tillFixture('till-app');

let deviceId = '';

async function shot(name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await tillApp.page.screenshot({ path: join(SHOTS, `till-${name}.png`) });
}

const url = (till = 'front') => `${tillApp.proxy.origin}/till/?till=${till}`;

describe('the till app in Chromium', () => {
  it('refuses a bad enrollment token in words, then enrolls with a good one', async () => {
    const { h, page } = tillApp;
    await page.goto(url());
    await page.waitForSelector('form[data-form=enroll]');
    await page.fill('textarea[name=token]', 'not-a-real-token');
    await page.click('form[data-form=enroll] button[type=submit]');
    await page.waitForSelector('[data-enroll-error]');
    assert.match((await page.textContent('[data-enroll-error]')) ?? '', /token is not valid/);
    // Well formed, but no operator made it.
    await page.fill('textarea[name=token]', 'A'.repeat(43));
    await page.click('form[data-form=enroll] button[type=submit]');
    await page.waitForSelector('[data-enroll-error]');
    assert.match((await page.textContent('[data-enroll-error]')) ?? '', /token is not valid/);
    await shot('enroll');
    const token = await h.newToken('front counter');
    await page.fill('textarea[name=token]', token);
    await page.fill('input[name=label]', 'Front counter');
    await page.click('form[data-form=enroll] button[type=submit]');
    await page.waitForSelector('nav.tabs');
    const devices = await h.storage.listDevices();
    const device = devices.find((d) => d.label === 'Front counter');
    assert.ok(device, 'the server knows the till');
    deviceId = device.id;
  });

  it('sells offline as pending, keeps it through a reload, confirms it when the server is back', async () => {
    const { h, proxy, page } = tillApp;
    await openShift(page, 'Ana', '50');
    await page.keyboard.press('F1');
    proxy.reachable = false;
    await page.click('[data-quick=COFFEE]');
    await page.keyboard.press('1');
    await page.click('[data-quick=CAKE]');
    await page.fill('input[name=tendered]', '10');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    const done = (await page.textContent('[data-sale-done]')) ?? '';
    assert.match(done, /pending confirmation/);
    assert.match(done, /Change: €1\.20/);
    const saleId = await page.getAttribute('[data-sale-done]', 'data-sale-done');
    await page.waitForSelector('[data-banner=offline]', { timeout: 60_000 });
    await shot('sell-offline');

    await page.reload();
    await page.waitForSelector('nav.tabs');
    await page.keyboard.press('F2');
    const row = `table[data-table=sales] tr[data-op="${saleId}"]`;
    await page.waitForSelector(row);
    assert.equal(await page.getAttribute(row, 'data-state'), 'pending');
    assert.match((await page.textContent(row)) ?? '', /pending confirmation/);

    proxy.reachable = true;
    await page.click('[data-sync-now]');
    await page.waitForSelector(`${row}[data-state=confirmed]`, { timeout: 60_000 });
    await page.waitForSelector('[data-pending="0"]');
    await shot('sales');
    const stored = await h.storage.getDeviceOps(deviceId, [saleId as string]);
    assert.equal(stored.length, 1);
    assert.equal(await h.storage.getOpAt(deviceId, 3), null, 'the shift and the sale, nothing doubled');
  });

  it('marks a reprint COPY, and prints the Z report when the shift closes', async () => {
    const { page } = tillApp;
    await page.click('table[data-table=sales] tr[data-state=confirmed] button');
    await page.waitForSelector('[data-receipt-view] .receipt');
    assert.equal(await page.getAttribute('[data-receipt-view] .receipt', 'data-copy'), 'true');
    assert.match((await page.textContent('[data-receipt-view]')) ?? '', /COPY/);
    await shot('receipt');
    await page.keyboard.press('Escape');
    await page.keyboard.press('F4');
    await page.fill('input[name=counted]', '56.80');
    await page.click('form[data-form=close-shift] button[type=submit]');
    await page.waitForSelector('[data-receipt-view] .receipt');
    assert.match((await page.textContent('[data-receipt-view]')) ?? '', /Z/);
    await shot('z-report');
  });

  it('loads from its service worker with the server down', async () => {
    const { proxy, page } = tillApp;
    await page.evaluate(() => navigator.serviceWorker.ready.then(() => undefined));
    proxy.reachable = false;
    await page.reload();
    await page.waitForSelector('nav.tabs');
    await page.waitForSelector('[data-till-name]');
    assert.equal(await page.textContent('[data-till-name]'), 'Front counter');
    proxy.reachable = true;
  });

  it('tells a second tab of the same till that it is open elsewhere', async () => {
    const { context } = tillApp;
    const second = await context.newPage();
    await second.goto(url());
    await second.waitForSelector('[data-boot-error]', { timeout: 30_000 });
    assert.equal(await second.getAttribute('[data-boot-error]', 'data-boot-error'), 'journal_locked');
    assert.match((await second.textContent('[data-boot-error]')) ?? '', /already open in another window/);
    if (SHOTS) await second.screenshot({ path: join(SHOTS, 'till-second-tab.png') });
    await second.close();
  });

  it('keeps a sale pending and says the answers cannot be read when the server answers garbage', async () => {
    const { proxy, page } = tillApp;
    await openShift(page, 'Ana');
    await page.waitForSelector('[data-pending="0"]', { timeout: 60_000 });
    proxy.garbage = true;
    await page.keyboard.press('F1');
    await page.click('[data-quick=TEA]');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    assert.match((await page.textContent('[data-sale-done]')) ?? '', /pending confirmation/);
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-banner=offline], [data-banner=bad-answers]', { timeout: 60_000 });
    await page.waitForFunction(
      () => /answers cannot be read/.test(document.querySelector('[data-banner]')?.textContent ?? ''),
      undefined,
      { timeout: 60_000 },
    );
    await shot('bad-answers');
    assert.equal(await page.getAttribute('[data-pending]', 'data-pending'), '1');
    proxy.garbage = false;
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-pending="0"]', { timeout: 60_000 });
  });

  it('stops recording once the operator revokes the till, and says so in words', async () => {
    const { h, page } = tillApp;
    const revoked = await h.request('POST', `/v1/admin/devices/${deviceId}/revoke`, {
      admin: true,
      payload: { reason: 'tablet stolen' },
    });
    assert.equal(revoked.status, 200, JSON.stringify(revoked.body));
    await page.keyboard.press('F1');
    await page.click('[data-quick=WATER]');
    await page.click('[data-pay=cash]');
    // Recorded before the till knew; delivering it brings the server's signed refusal.
    await page.waitForSelector('[data-sale-done]');
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-banner=revoked]', { timeout: 60_000 });
    assert.match((await page.textContent('[data-banner=revoked]')) ?? '', /switched off by the operator/);
    await page.click('[data-quick=WATER]');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-error]');
    assert.match((await page.textContent('[data-sale-error]')) ?? '', /switched off by the operator/);
    await shot('revoked');
  });
});
