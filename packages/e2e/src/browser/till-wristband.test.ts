/**
 * The till app's wristband tender (/till/, packages/web/src/till/wristband.tsx
 * over terminal-web's till engine) in real Chromium, served by a real
 * server (the harness: Fastify, SQLite) behind a loopback proxy that can cut
 * it off. The chips are the simulated reader's, kept in their own OPFS file.
 * The operator issues a risk policy first (wristband floor limit €10.00):
 * wristband payments are decided under it, as on a Node till.
 *
 * - a wristband loaded with cash pays a sale offline within the wristband
 *   limit: the policy's approval is shown in words, the sale is pending, the
 *   chip is debited; once the server is reachable the sale is confirmed with
 *   its decision `{mode:'local', ...}` and the server's wallet holds the spend;
 * - a sale above the chip's balance is refused in words, with the balance,
 *   and nothing is recorded or written;
 * - a sale over the wristband limit (within the balance) is refused in the
 *   policy's words, nothing recorded and the chip not written;
 * - the wristband leaves the reader during the write, the page reloads
 *   between the recorded sale and the chip write: the next tap finishes the
 *   write exactly once (one debit on the chip, one op on the server);
 * - the server blocks the wristband (another device spent a copy of the
 *   chip): once the feed brings the block, a tap says so and a payment is
 *   refused in words, nothing recorded.
 *
 * HOLDFAST_TILL_SCREENSHOTS=<dir> saves the screens (docs/images/till-*.png).
 * Needs the built till (packages/web/dist/till: npm run build).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { saleBody } from '@holdfast/server/testing';
import { enrollmentToken, enrollTill, issuePolicy, openShift, tillFixture } from './till-fixture.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

const till = tillFixture('till-wristband', { viewport: { width: 1280, height: 900 } });
let deviceId = '';
let uid = '';
let policyRef = '';

async function shot(name: string): Promise<void> {
  if (!SHOTS) return;
  mkdirSync(SHOTS, { recursive: true });
  await till.page.screenshot({ path: join(SHOTS, `till-${name}.png`), fullPage: true });
}

const url = `/till/?till=bar`;

/** The chip's image as the simulated reader's panel shows it. */
async function chip(): Promise<{ balance: number; counter: number }> {
  const button = `[data-chip="${uid}"]`;
  return {
    balance: Number(await till.page.getAttribute(button, 'data-balance')),
    counter: Number(await till.page.getAttribute(button, 'data-counter')),
  };
}

async function waitChip(balance: number, counter: number): Promise<void> {
  await till.page.waitForSelector(`[data-chip="${uid}"][data-balance="${balance}"][data-counter="${counter}"]`);
}

describe('the wristband tender in the till app', () => {
  it('loads a new wristband with cash', async () => {
    const { h, proxy, page } = till;
    // The risk policy in force where the till is placed: wristband payments up to €10.00 offline.
    policyRef = (
      await issuePolicy(h, {
        device: { maxAmount: 20_000, maxCount: 20 },
        tenders: {
          card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } },
          wristband: { floorLimit: 1_000, instrument: { maxAmount: 5_000, maxCount: 10, velocity: null } },
        },
      })
    ).ref;
    await enrollTill(page, `${proxy.origin}${url}`, await enrollmentToken(h, 'bar'), 'Bar');
    await page.waitForSelector('nav.tabs');
    const device = (await h.storage.listDevices()).find((d) => d.label === 'Bar');
    assert.ok(device, 'the server knows the till');
    deviceId = device.id;
    await openShift(page, 'Rui', '0');
    await page.keyboard.press('F1');
    // The policy the server signed, fetched after enrollment and verified in this browser.
    await page.waitForSelector(`.policy-line[data-policy="${policyRef}"]`, { timeout: 30_000 });
    assert.match((await page.textContent('.policy-line')) ?? '', /Offline wristband limit €10\.00 per payment\./);

    await page.click('[data-wristband-new]');
    await page.waitForSelector('[data-chip][aria-pressed=true]');
    uid = (await page.getAttribute('[data-chip][aria-pressed=true]', 'data-chip')) ?? '';
    assert.match(uid, /^04[0-9A-F]{12}$/);
    assert.deepEqual(await chip(), { balance: 0, counter: 0 });
    await page.fill('input[name=topup]', 'twenty');
    await page.click('form[data-form=wristband-topup] button[type=submit]');
    await page.waitForSelector('[data-wristband-error]');
    assert.match((await page.textContent('[data-wristband-error]')) ?? '', /“twenty” is not an amount in EUR/);
    assert.deepEqual(await chip(), { balance: 0, counter: 0 });
    await page.fill('input[name=topup]', '20');
    await page.click('form[data-form=wristband-topup] button[type=submit]');
    await waitChip(2000, 1);
    assert.match((await page.textContent('[data-wristband-message]')) ?? '', /Balance on the wristband: €20\.00/);
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-pending="0"]', { timeout: 60_000 });
    assert.equal((await h.storage.getWallet(uid))?.account.balance, 2000);
  });

  it('pays offline within the wristband limit: approved in words, pending, the chip debited; confirmed later', async () => {
    const { h, proxy, page } = till;
    proxy.reachable = false;
    await page.click('[data-quick=COFFEE]');
    await page.click('[data-quick=CAKE]');
    await page.click('[data-pay=wristband]');
    await page.waitForSelector('[data-sale-done]');
    const done = (await page.textContent('[data-sale-done]')) ?? '';
    assert.match(done, /pending confirmation/);
    assert.match(done, /Left on the wristband: €13\.70/);
    assert.match(
      (await page.textContent('[data-sale-done] [data-decision=local]')) ?? '',
      /Wristband payment approved on this till, within the offline limit of €10\.00 per wristband payment/,
    );
    // The approval is held on the till until the server confirms the payment.
    await page.waitForSelector('.policy-line:has-text("€6.30 held")');
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;
    await waitChip(1370, 2);
    await page.waitForSelector('[data-banner=offline]', { timeout: 60_000 });
    await shot('wristband-offline');

    proxy.reachable = true;
    await page.click('[data-sync-now]');
    await page.waitForSelector(`[data-sale-done="${saleId}"] .badge.confirmed`, { timeout: 60_000 });
    const stored = await h.storage.getDeviceOps(deviceId, [saleId]);
    assert.equal(stored.length, 1);
    assert.deepEqual(stored[0]?.op.decision, {
      mode: 'local',
      outcome: 'approved',
      policy: policyRef,
      rule: 'within_limits',
    });
    const wallet = await h.storage.getWallet(uid);
    assert.equal(wallet?.account.balance, 1370, JSON.stringify(wallet?.account));
    assert.equal(wallet?.account.blocked, null);
  });

  it('refuses a sale above the balance in words, showing the balance, and records nothing', async () => {
    const { page } = till;
    await page.click('[data-quick=TSHIRT]');
    await page.click('[data-pay=wristband]');
    await page.waitForSelector('[data-sale-error]');
    const words = (await page.textContent('[data-sale-error]')) ?? '';
    assert.match(words, /Not enough balance on the wristband/);
    assert.match(words, /Balance on the wristband: €13\.70/);
    await shot('wristband-refused');
    await waitChip(1370, 2);
    assert.equal(await page.getAttribute('[data-pending]', 'data-pending'), '0');
    await page.keyboard.press('Backspace');
  });

  it("refuses a sale over the wristband limit in the policy's words: nothing recorded, the chip not written", async () => {
    const { proxy, page } = till;
    proxy.reachable = false;
    // €12.00: within the chip's €13.70, over the policy's €10.00 per wristband payment.
    await page.fill('input[name=amount]', '12');
    await page.click('form.typed button[type=submit]');
    await page.click('[data-pay=wristband]');
    await page.waitForSelector('[data-sale-error]');
    const words = (await page.textContent('[data-sale-error]')) ?? '';
    assert.match(words, /Wristband NOT charged: nothing was recorded and the wristband was not written\./);
    assert.match(words, /Over the offline limit of €10\.00 per wristband payment: needs the network\./);
    await shot('wristband-policy-refused');
    await waitChip(1370, 2);
    assert.equal(await page.getAttribute('[data-pending]', 'data-pending'), '0');
    await page.keyboard.press('Backspace');
    // (The next case's sale is the till's fourth op at the server: this refusal used no seq.)
  });

  it('finishes a chip write cut short by the wristband leaving the reader and a reload, exactly once', async () => {
    const { h, proxy, page } = till;
    proxy.reachable = false;
    await page.check('input[name=lift]');
    await page.click('[data-quick=WATER]');
    await page.click('[data-pay=wristband]');
    await page.waitForSelector('[data-wristband-unfinished]');
    assert.match((await page.textContent('[data-wristband-unfinished]')) ?? '', /Tap the wristband again/);
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;
    await shot('wristband-unfinished');
    // The sale is recorded, the chip is not written yet.
    await waitChip(1370, 2);

    await page.reload();
    await page.waitForSelector('nav.tabs');
    await page.keyboard.press('F1');
    await waitChip(1370, 2);
    await page.click(`[data-chip="${uid}"]`);
    await page.waitForSelector('[data-wristband-message]');
    assert.match((await page.textContent('[data-wristband-message]')) ?? '', /Wristband written/);
    await waitChip(1220, 3);
    // A second tap finds nothing left to finish: the chip is debited once.
    await page.click(`[data-chip="${uid}"]`);
    await page.waitForFunction(() =>
      /Balance on the wristband/.test(document.querySelector('[data-wristband-message]')?.textContent ?? ''),
    );
    assert.doesNotMatch((await page.textContent('[data-wristband-message]')) ?? '', /Wristband written/);
    await waitChip(1220, 3);

    proxy.reachable = true;
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-pending="0"]', { timeout: 60_000 });
    assert.equal((await h.storage.getDeviceOps(deviceId, [saleId])).length, 1);
    // shift, top-up, two sales: nothing doubled.
    assert.ok(await h.storage.getOpAt(deviceId, 4));
    assert.equal(await h.storage.getOpAt(deviceId, 5), null);
    assert.equal((await h.storage.getWallet(uid))?.account.balance, 1220);
    assert.deepEqual(await chip(), { balance: 1220, counter: 3 });
  });

  it('refuses a wristband the server blocked, in words, once the feed brings the block', async () => {
    const { h, page } = till;
    // Another device spends a copy of the chip as it was before the last write (counter 3 twice): a clone.
    const booth = await h.enrollDevice('booth');
    const open = booth.openShift();
    const tender = { type: 'wristband' as const, amount: 100, wristband: uid, counter: 3, balanceBefore: 1370 };
    const copy = booth.chain.next('sale.recorded', saleBody(open.id, 100, { tenders: [tender] }));
    assert.equal((await h.send(booth.batch([open, copy]))).status, 200);
    assert.notEqual((await h.storage.getWallet(uid))?.account.blocked, null, 'the server blocked the wristband');

    // A fresh page reads the feed after its first delivery: a cash sale.
    await page.reload();
    await page.waitForSelector('nav.tabs');
    await page.keyboard.press('F1');
    await page.click('[data-quick=TEA]');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    await page.waitForSelector('[data-pending="0"]', { timeout: 60_000 });
    let words = '';
    for (let tries = 0; tries < 40 && !/blocked/.test(words); tries++) {
      await page.click(`[data-chip="${uid}"]`);
      await page.waitForSelector('[data-wristband-message]');
      words = (await page.textContent('[data-wristband-message]')) ?? '';
      if (!/blocked/.test(words)) await new Promise((r) => setTimeout(r, 250));
    }
    assert.match(words, /This wristband is blocked\. Send the customer to the info desk/);
    await page.click('[data-quick=WATER]');
    await page.click('[data-pay=wristband]');
    await page.waitForSelector('[data-sale-error]');
    assert.match((await page.textContent('[data-sale-error]')) ?? '', /This wristband is blocked/);
    await shot('wristband-blocked');
    await waitChip(1220, 3);
    assert.equal(await page.getAttribute('[data-pending]', 'data-pending'), '0');
  });
});
