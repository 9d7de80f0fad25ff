/**
 * The signed device feed in the browser till's worker
 * (terminal-web/src/browser-feed.ts), in real Chromium against a real
 * server: the placement from the enrollment token, the location's roster
 * and price list arrive signed, are checked with WebCrypto and stored with
 * the cursor; a feed answer changed on the path (a roster member renamed)
 * is refused whole — nothing of it stored — and the next honest answer
 * brings the change.
 *
 * Needs the browser journal's bundle (built here).
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createHarness, type Harness } from '@holdfast/server/testing';
import { type BrowserContext, chromium, type Page } from 'playwright-core';
import { CHROMIUM_PATH, chromiumMissing } from './chromium.js';
import { startTillFront, type TillFront } from './till-front.js';

const BUILD = fileURLToPath(new URL('../../../terminal-web/scripts/build.mjs', import.meta.url));

interface FeedStatus {
  cursor: number;
  location: string | null;
  rosterVersion: number;
  priceListVersion: number;
  error: string | null;
}

interface Poll {
  pages: number;
  rosterVersion: number;
  priceListVersion: number;
  rosterRefused: string | null;
  priceListRefused: string | null;
  placement: { location: string | null } | null;
}

interface TillWindow {
  hf: { openBrowserJournal(options: { till: string; workerUrl: string }): Promise<TillWindow['journal']> };
  journal: { close(): Promise<void>; startTill(options: object): Promise<TillWindow['till']> };
  till: {
    status(): Promise<{ feed: FeedStatus }>;
    enroll(token: string, label?: string): Promise<{ deviceId: string }>;
    pollFeed(): Promise<Poll>;
    signIn(staff: string, pin: string): Promise<unknown>;
    catalog(): Promise<{
      location: string;
      currency: string;
      version: number;
      items: Array<{ sku: string; name: string; price: number }>;
    } | null>;
    openShift(input: { clerk: string; currency: string; openingFloat: number }): Promise<unknown>;
  };
}

let h: Harness;
let front: TillFront;
let profile: string;
let context: BrowserContext;
let clockTimer: NodeJS.Timeout;

async function openTill(name: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${front.origin}/`);
  await page.waitForFunction(() => (window as unknown as { hfReady?: boolean }).hfReady === true);
  await page.evaluate(
    async ({ name, origin }) => {
      const w = window as unknown as TillWindow;
      w.journal = await w.hf.openBrowserJournal({ till: name, workerUrl: './journal-worker.js' });
      w.till = await w.journal.startTill({ serverUrl: origin, requestTimeoutMs: 5000, feedIntervalMs: 0 });
    },
    { name, origin: front.origin },
  );
  return page;
}

const feedStatus = (page: Page) =>
  page.evaluate(async () => (await (window as unknown as TillWindow).till.status()).feed);

const pollFeed = (page: Page) =>
  page.evaluate(() =>
    (window as unknown as TillWindow).till.pollFeed().then(
      (poll) => ({ poll, error: null }),
      (e: { code: string; message: string }) => ({ poll: null, error: { code: e.code, message: e.message } }),
    ),
  );

async function admin(method: 'POST' | 'PUT', url: string, payload: unknown): Promise<void> {
  const res = await h.request(method, url, { admin: true, payload });
  assert.ok(res.status === 200 || res.status === 201, `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
}

before(async () => {
  execFileSync(process.execPath, [BUILD], { stdio: 'pipe' });
  h = await createHarness();
  h.clock.set(Date.now());
  clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  front = await startTillFront(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
  profile = mkdtempSync(join(tmpdir(), 'holdfast-till-feed-'));
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
});

after(async () => {
  clearInterval(clockTimer);
  await context?.close().catch(() => undefined);
  await front?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the signed device feed in the browser till', () => {
  it('stores the placement, roster and price list it verified, and refuses an answer changed on the path', async () => {
    await admin('POST', '/v1/admin/staff', { location: 'north', id: 'ana', name: 'Ana', role: 'clerk', pin: '4821' });
    await admin('PUT', '/v1/admin/catalog/items', {
      items: [{ sku: 'COFFEE', name: 'Coffee', taxCategory: 'standard', unit: 'each' }],
    });
    await admin('POST', '/v1/admin/price-lists', {
      location: 'north',
      currency: 'EUR',
      prices: [{ sku: 'COFFEE', price: 350 }],
    });
    const token = await h.request<{ token: string }>('POST', '/v1/admin/enrollment-tokens', {
      admin: true,
      payload: { label: 'feed till', merchant: 'acme', location: 'north', event: null },
    });
    assert.equal(token.status, 200, JSON.stringify(token.body));

    const page = await openTill('feed-1');
    await page.evaluate((t) => (window as unknown as TillWindow).till.enroll(t), token.body.token);
    assert.deepEqual(await feedStatus(page), {
      cursor: 0,
      location: 'north',
      rosterVersion: 0,
      priceListVersion: 0,
      error: null,
    });

    const first = await pollFeed(page);
    assert.equal(first.error, null, JSON.stringify(first.error));
    assert.equal(first.poll?.rosterRefused, null);
    assert.equal(first.poll?.priceListRefused, null);
    assert.equal(first.poll?.placement?.location, 'north');
    const held = await feedStatus(page);
    assert.equal(held.location, 'north');
    assert.equal(held.rosterVersion, 1);
    assert.equal(held.priceListVersion, 1);
    // The till sells from the list it holds: its items, priced now.
    assert.deepEqual(await page.evaluate(() => (window as unknown as TillWindow).till.catalog()), {
      location: 'north',
      version: 1,
      currency: 'EUR',
      items: [{ sku: 'COFFEE', name: 'Coffee', price: 350 }],
    });

    // The operator renames Ana: a new roster version. A hostile network renames her otherwise on the way.
    await h.request('PATCH', '/v1/admin/staff/ana?location=north', {
      admin: true,
      payload: { role: 'supervisor', name: 'Ana B.' },
    });
    const renamed = await h.request('GET', '/v1/admin/staff?location=north', { admin: true });
    assert.equal(renamed.status, 200, JSON.stringify(renamed.body));
    front.rewrite = (path, body) => {
      if (path !== '/v1/feed' || typeof body.roster !== 'object' || body.roster === null) return body;
      const signed = body.roster as { roster: { staff: Array<{ name: string }> } };
      for (const member of signed.roster.staff) member.name = 'Mallory';
      return body;
    };
    const tampered = await pollFeed(page);
    front.rewrite = null;
    assert.equal(tampered.poll, null, 'a changed answer is no answer');
    assert.match(tampered.error?.message ?? '', /unverifiable feed answer/);
    const refused = await feedStatus(page);
    assert.match(refused.error ?? '', /unverifiable feed answer/, 'the till shows why');
    assert.deepEqual({ ...refused, error: null }, held, 'nothing of the changed answer stored');

    const honest = await pollFeed(page);
    assert.equal(honest.error, null, JSON.stringify(honest.error));
    const after2 = await feedStatus(page);
    assert.ok(after2.rosterVersion > held.rosterVersion, `roster ${after2.rosterVersion} after ${held.rosterVersion}`);
    assert.equal(after2.priceListVersion, 1, 'the list held is not sent again');

    // A successful exchange with the server reads the feed on its own (feedIntervalMs 0 here).
    const patched = await h.request('PATCH', '/v1/admin/staff/ana?location=north', {
      admin: true,
      payload: { role: 'clerk' },
    });
    assert.equal(patched.status, 200, JSON.stringify(patched.body));
    // A batch is an exchange with the server: recording the shift sends one, and the feed is read after it.
    // The till holds a roster now, so the shift needs a signed-in member (browser-staff.ts).
    await page.evaluate(async () => {
      const { till } = window as unknown as TillWindow;
      await till.signIn('ana', '4821');
      await till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    });
    const deadline = Date.now() + 20_000;
    let auto = await feedStatus(page);
    while (auto.rosterVersion <= after2.rosterVersion && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      auto = await feedStatus(page);
    }
    assert.ok(auto.rosterVersion > after2.rosterVersion, `roster ${auto.rosterVersion} after ${after2.rosterVersion}`);
    assert.equal(auto.error, null);
    await page.evaluate(() => (window as unknown as TillWindow).journal.close());
  });
});
