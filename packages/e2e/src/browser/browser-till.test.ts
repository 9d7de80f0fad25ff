/**
 * The Terminal SDK's outbox and sync loop in the browser journal's worker
 * (terminal-web/src/till-engine.ts), in real Chromium against a real
 * server (the harness: Fastify, SQLite) reached through a loopback front
 * that can cut the network: enrollment signed with WebCrypto (and a bad
 * token refused in the server's words), a sale recorded while the server
 * is unreachable stays pending through a page reload, then is confirmed
 * once the server is back — the server holding each op exactly once — and
 * a kill of the whole browser in the middle of syncing loses and doubles
 * nothing.
 *
 * Needs the browser journal's bundle (packages/terminal-web: npm run build;
 * built here if missing).
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
import { browserPids, CHROMIUM_PATH, chromiumMissing } from './chromium.js';
import { startTillFront, type TillFront } from './till-front.js';

const BUILD = fileURLToPath(new URL('../../../terminal-web/scripts/build.mjs', import.meta.url));

/** What the test page holds: client.js as `hf`, the open journal and its till (terminal-web/src/client.ts). */
interface TillWindow {
  hf: { openBrowserJournal(options: { till: string; workerUrl: string }): Promise<TillWindow['journal']> };
  journal: { close(): Promise<void>; startTill(options: object): Promise<TillWindow['till']> };
  till: {
    status(): Promise<Status>;
    enroll(token: string, label?: string): Promise<{ deviceId: string }>;
    openShift(input: { clerk: string; currency: string; openingFloat: number }): Promise<RecordedView>;
    recordSale(input: object): Promise<RecordedView>;
    recent(limit: number): Promise<RecordedView[]>;
  };
}

interface RecordedView {
  id: string;
  state: string;
}

let h: Harness;
let front: TillFront;
let profile: string;
let context: BrowserContext;
let clockTimer: NodeJS.Timeout;

async function launch(): Promise<BrowserContext> {
  const missing = chromiumMissing();
  if (missing) throw new Error(missing);
  return chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
}

/** Opens the test page and the till `name` on it (journal + till engine, fast retries). */
async function openTill(name: string): Promise<Page> {
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${front.origin}/`);
  await page.waitForFunction(() => (window as unknown as { hfReady?: boolean }).hfReady === true);
  await page.evaluate(
    async ({ name, origin }) => {
      const w = window as unknown as TillWindow;
      w.journal = await w.hf.openBrowserJournal({ till: name, workerUrl: './journal-worker.js' });
      w.till = await w.journal.startTill({
        serverUrl: origin,
        backoffSeconds: [0.1, 0.2, 0.4],
        requestTimeoutMs: 2000,
        probeIntervalMs: 200,
      });
    },
    { name, origin: front.origin },
  );
  return page;
}

interface Status {
  pending: number;
  confirmed: number;
  deadLetters: number;
  enrolled: boolean;
  deviceId: string | null;
}

const status = (page: Page) => page.evaluate(() => (window as unknown as TillWindow).till.status() as Promise<Status>);

async function waitForStatus(page: Page, pred: (s: Status) => boolean, what: string): Promise<Status> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = await status(page);
    if (pred(s)) return s;
    if (Date.now() > deadline) throw new Error(`gave up waiting for ${what}: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Every op the server stored for `device`, seq 1 up to the first gap. */
async function serverOps(device: string): Promise<Array<{ seq: number; id: string }>> {
  const out: Array<{ seq: number; id: string }> = [];
  for (let seq = 1; ; seq++) {
    const op = await h.storage.getOpAt(device, seq);
    if (!op) return out;
    out.push({ seq, id: op.op.id });
  }
}

const sell = (page: Page, amount: number) =>
  page.evaluate(
    (amount) =>
      (window as unknown as TillWindow).till.recordSale({
        lines: [{ sku: 'COFFEE', name: 'Coffee', qty: 1, unitPrice: amount }],
        tenders: [{ type: 'cash', amount, tendered: amount }],
      }),
    amount,
  );

before(async () => {
  execFileSync(process.execPath, [BUILD], { stdio: 'pipe' });
  h = await createHarness();
  // The harness's server clock is manual; the browser till stamps real time.
  h.clock.set(Date.now());
  clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  front = await startTillFront(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
  profile = mkdtempSync(join(tmpdir(), 'holdfast-till-'));
  context = await launch();
});

after(async () => {
  clearInterval(clockTimer);
  await context?.close().catch(() => undefined);
  await front?.close();
  await h?.close();
  if (profile) rmSync(profile, { recursive: true, force: true });
});

describe('the till engine in the browser worker', () => {
  it('refuses a bad enrollment token with the server’s reason, recording nothing', async () => {
    const page = await openTill('bad-token');
    const refused = await page.evaluate(() =>
      (window as unknown as TillWindow).till.enroll('not-a-token-at-all').then(
        () => null,
        (e: { code: string; serverCode?: string; message: string }) => ({
          code: e.code,
          serverCode: e.serverCode,
          message: e.message,
        }),
      ),
    );
    assert.ok(refused, 'a bad token must be refused');
    assert.equal(refused.code, 'enrollment_rejected');
    assert.ok(refused.serverCode && refused.serverCode.length > 0, JSON.stringify(refused));
    const s = await status(page);
    assert.equal(s.enrolled, false);
    await page.evaluate(() => (window as unknown as TillWindow).journal.close());
  });

  it('records offline as pending, keeps it through a reload, confirms it once the server is back', async () => {
    let page = await openTill('t1');
    const token = await h.newToken('browser till 1');
    const { deviceId } = await page.evaluate(
      (token) => (window as unknown as TillWindow).till.enroll(token, 'browser till 1'),
      token,
    );
    assert.match(deviceId, /^[0-9a-f-]{36}$/);
    front.reachable = false;
    await page.evaluate(() =>
      (window as unknown as TillWindow).till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 5_000 }),
    );
    const sale = await sell(page, 350);
    assert.equal(sale.state, 'pending');
    const offline = await status(page);
    assert.equal(offline.pending, 2);
    assert.equal(offline.confirmed, 0);

    await page.reload();
    page = await openTill('t1');
    const reloaded = await status(page);
    assert.equal(reloaded.pending, 2, 'still pending after the reload');
    assert.equal(reloaded.deviceId, deviceId);
    const [recent] = await page.evaluate(() => (window as unknown as TillWindow).till.recent(1));
    assert.equal(recent?.id, sale.id);
    assert.equal(recent?.state, 'pending');

    front.reachable = true;
    const synced = await waitForStatus(page, (s) => s.confirmed === 2, 'both ops confirmed');
    assert.equal(synced.pending, 0);
    assert.equal(synced.deadLetters, 0);
    const stored = await serverOps(deviceId);
    assert.equal(stored.length, 2);
    assert.equal(stored[1]?.id, sale.id);
    await page.evaluate(() => (window as unknown as TillWindow).journal.close());
  });

  it('loses and doubles nothing when the browser is killed in the middle of syncing', async () => {
    let page = await openTill('t2');
    const token = await h.newToken('browser till 2');
    const { deviceId } = await page.evaluate((token) => (window as unknown as TillWindow).till.enroll(token), token);
    front.reachable = false;
    await page.evaluate(() =>
      (window as unknown as TillWindow).till.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 }),
    );
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) ids.push((await sell(page, 100 + i)).id);
    // The server comes back; the browser dies once the first batch has left.
    front.forwarded.length = 0;
    front.reachable = true;
    const deadline = Date.now() + 30_000;
    while (!front.forwarded.includes('/v1/batches') && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 5));
    const pids = browserPids(profile);
    assert.ok(pids.length > 0);
    for (const pid of pids) process.kill(pid, 'SIGKILL');
    await context.close().catch(() => undefined);

    context = await launch();
    page = await openTill('t2');
    const s = await waitForStatus(page, (x) => x.pending === 0, 'everything delivered after the restart');
    assert.equal(s.confirmed, 31);
    assert.equal(s.deadLetters, 0);
    const stored = await serverOps(deviceId);
    assert.equal(stored.length, 31, 'each op stored exactly once');
    assert.deepEqual(
      stored.slice(1).map((o) => o.id),
      ids,
    );
    await page.evaluate(() => (window as unknown as TillWindow).journal.close());
  });
});
