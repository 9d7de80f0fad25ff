/**
 * Online card authorization in the till app (packages/web/src/till/sell.tsx,
 * terminal-web/src/till-engine.ts recordSaleOnline: the SDK's OnlineSales on
 * the browser journal), in real Chromium against a real server whose card
 * processor is a real processor simulator. The till holds a policy with an
 * offline card limit of €50.00; above it:
 * - the server reachable: the till asks the card processor through the
 *   server, says so while it waits, then "approved online"; the sale is
 *   stored at the server with decision online/approved, charged once;
 * - the processor declining (its declineRate knob): refused in words,
 *   nothing recorded on the till or at the server;
 * - the server unreachable: refused with the needs-network words, as before.
 *
 * Needs the till built (npm run build). HOLDFAST_TILL_SCREENSHOTS=<dir> saves
 * the Sell screen with the online approval (docs/images/till-online.png).
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ProcessorClient } from '@holdfast/processor-client';
import { type RunningProcessorSim, startProcessorSim } from '@holdfast/processor-sim';
import type { Harness } from '@holdfast/server/testing';
import type { Browser, Page } from 'playwright-core';
import { chromiumMissing, launchChromium } from './chromium.js';
import {
  enrollAndOpenShift,
  enrollmentToken,
  issuePolicy,
  ringUpCard,
  startTillServer,
  storedOp,
  type TillServer,
} from './till-fixture.js';
import type { CutProxy } from './till-front.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

let sim: RunningProcessorSim;
let simDir: string;
let server: TillServer;
let h: Harness;
let proxy: CutProxy;
let browser: Browser;
let page: Page;

/** The sale rows of the Sales list (the shift opening included). */
async function salesRows(): Promise<number> {
  await page.keyboard.press('F2');
  await page.waitForSelector('[data-table=sales]');
  const n = (await page.$$('[data-table=sales] tr[data-op]')).length;
  await page.keyboard.press('F1');
  return n;
}

before(async () => {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  simDir = mkdtempSync(join(tmpdir(), 'holdfast-till-online-sim-'));
  sim = await startProcessorSim({ dataDir: simDir, seed: 11, timeoutMode: 'destroy', synchronous: 'OFF' });
  server = await startTillServer({
    processor: new ProcessorClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 5_000 }),
    processorTimeoutMs: 5_000,
  });
  ({ h, proxy } = server);
  browser = await launchChromium();
  page = await (await browser.newContext({ viewport: { width: 1280, height: 800 } })).newPage();
});

after(async () => {
  await browser?.close().catch(() => undefined);
  await server?.close();
  await sim?.close();
  if (simDir) rmSync(simDir, { recursive: true, force: true });
});

describe('the till app authorizes card payments online when the policy sends them to the server', () => {
  it('approved online and stored so; declined by the processor: nothing recorded; unreachable: refused', async () => {
    const { ref } = await issuePolicy(h, {
      device: { maxAmount: 20_000, maxCount: 10 },
      tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    });

    await enrollAndOpenShift(page, `${proxy.origin}/till/?till=online`, await enrollmentToken(h, 'online till'), {
      clerk: 'Ana',
      float: '0',
    });
    await page.waitForSelector(`.policy-line[data-policy="${ref}"]`, { timeout: 30_000 });
    await page.waitForSelector('[data-pending="0"]', { timeout: 30_000 });
    await page.waitForSelector('[data-link=online]');
    const device = (await h.storage.listDevices()).find((d) => d.label === 'online till');
    assert.ok(device);

    // €60.00 is over the offline limit and the server answers: the processor decides, and the clerk sees it asked.
    // The processor takes a while (its latency knob), so the waiting is on the screen to be read.
    sim.service.configure({ latencyMs: [1_500, 1_500] });
    await ringUpCard(page, '60.00');
    await page.waitForSelector('[data-asking-processor]');
    assert.match((await page.textContent('[data-asking-processor]')) ?? '', /Asking the card processor for €60\.00/);
    await page.waitForSelector('[data-sale-done] [data-decision=online]', { timeout: 30_000 });
    assert.match(
      (await page.textContent('[data-decision=online]')) ?? '',
      /Card approved online by the card processor/,
    );
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;
    assert.equal(await page.$('[data-sale-error]'), null);
    if (SHOTS) {
      mkdirSync(SHOTS, { recursive: true });
      await page.screenshot({ path: join(SHOTS, 'till-online.png') });
    }
    const stored = await storedOp(h, device.id, saleId);
    assert.equal(stored.op.kind, 'sale.recorded');
    assert.deepEqual(stored.op.decision, { mode: 'online', outcome: 'approved', policy: null });
    const charged = (await new ProcessorClient(sim.url, { apiKey: sim.apiKey }).listAll()).filter(
      (l) => l.authorization.reference === saleId,
    );
    assert.deepEqual(
      charged.map((l) => [l.authorization.status, l.authorization.amount, l.authorization.offline]),
      [['approved', 6_000, false]],
      'charged once, online',
    );
    // The offline limit holds nothing for it: it was not approved on the till.
    assert.match((await page.textContent('.policy-line')) ?? '', /€0\.00 held/);
    assert.equal(await salesRows(), 2);

    // The processor declines: refused in words, nothing recorded here or at the server.
    sim.service.configure({ latencyMs: [0, 0], declineRate: 1 });
    await ringUpCard(page, '70.00');
    await page.waitForSelector('[data-sale-error]', { timeout: 30_000 });
    assert.match(
      (await page.textContent('[data-sale-error]')) ?? '',
      /Card declined by the card processor: €70\.00 NOT taken, nothing was recorded\./,
    );
    assert.equal(await page.$('[data-sale-done]'), null, 'no sale is shown as recorded');
    assert.equal(await page.$('[data-waiting-for-server]'), null, 'a decline is final: nothing waits');
    assert.equal(await salesRows(), 2);
    const declined = (await new ProcessorClient(sim.url, { apiKey: sim.apiKey }).listAll()).filter(
      (l) => l.authorization.status !== 'approved',
    );
    assert.equal(declined.length, 1);
    const reference = declined[0]?.authorization.reference as string;
    assert.deepEqual(await h.storage.getDeviceOps(device.id, [reference]), [], 'no op for the declined payment');

    // The server cut: the till knows its link is down, and refuses with the needs-network words, as before.
    sim.service.configure({ declineRate: 0 });
    // A cash sale rung up meanwhile is sent at once and not answered: the link is no longer Online.
    proxy.reachable = false;
    await page.fill('input[name=amount]', '1.00');
    await page.click('form.typed button[type=submit]');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    await page.waitForSelector('[data-link]:not([data-link=online])', { timeout: 30_000 });
    await ringUpCard(page, '80.00');
    await page.waitForSelector('[data-sale-error]:has-text("needs the network")', { timeout: 30_000 });
    const refusal = (await page.textContent('[data-sale-error]')) ?? '';
    assert.match(refusal, /Card NOT taken: nothing was recorded\./);
    assert.match(refusal, /Over the offline limit of €50\.00 per card payment: needs the network\./);
    assert.equal(await page.$('[data-waiting-for-server]'), null);
    assert.equal(await salesRows(), 3, 'the shift opening, the online sale and the cash sale');
    proxy.reachable = true;
  });

  it('no final answer: waiting for the server, listed through a reload, then recorded once with the same op id', async () => {
    await page.click('[data-sync-now]');
    await page.waitForSelector('[data-pending="0"]', { timeout: 30_000 });
    await page.waitForSelector('[data-link=online]', { timeout: 30_000 });
    // The processor is down: the server answers "pending", which is no answer. Nothing is recorded, nothing failed.
    sim.service.configure({ outageRate: 1 });
    await ringUpCard(page, '90.00');
    await page.waitForSelector('[data-waiting-for-server="1"]', { timeout: 30_000 });
    assert.match(
      (await page.textContent('[data-waiting-for-server]')) ?? '',
      /€90\.00 on Visa •••• \d{4}: waiting for the server's answer\. Not recorded yet/,
    );
    const opId = (await page.getAttribute('[data-waiting]', 'data-waiting')) as string;
    assert.equal(await page.$('[data-sale-done]'), null);
    assert.equal(await page.$('[data-sale-error]'), null, 'not failed');
    assert.equal(await salesRows(), 3);
    // Listed under Needs attention too, and still there after a reload (the row is in the journal).
    await page.reload();
    await page.waitForSelector('nav.tabs');
    await page.keyboard.press('F3');
    await page.waitForSelector(`[data-waiting="${opId}"]`, { timeout: 30_000 });
    await page.keyboard.press('F1');
    await page.waitForSelector(`[data-waiting="${opId}"]`);
    // The processor is back: asked again with the same op id, approved, recorded once under it.
    sim.service.configure({ outageRate: 0 });
    await page.click('[data-ask-again]');
    await page.waitForSelector('[data-waiting-for-server]', { state: 'detached', timeout: 30_000 });
    assert.equal(await salesRows(), 4);
    const device = (await h.storage.listDevices()).find((d) => d.label === 'online till');
    assert.ok(device);
    await page.click('[data-sync-now]');
    const stored = await storedOp(h, device.id, opId);
    assert.deepEqual(stored.op.decision, { mode: 'online', outcome: 'approved', policy: null });
    const charged = (await new ProcessorClient(sim.url, { apiKey: sim.apiKey }).listAll()).filter(
      (l) => l.authorization.reference === opId,
    );
    assert.deepEqual(
      charged.map((l) => [l.authorization.status, l.authorization.amount]),
      [['approved', 9_000]],
      'charged once',
    );
  });
});
