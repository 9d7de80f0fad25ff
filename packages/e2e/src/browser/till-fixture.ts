/**
 * The setup the till app's Chromium tests and measure scripts share: a real
 * server (the harness) whose clock follows the wall clock, behind a cut
 * proxy (till-front.ts); a persistent Chromium profile; the operator's admin
 * calls (a risk policy, an enrollment token); and the clerk's first steps on
 * the app's screens (enroll, open a shift, ring up a card sale).
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { SignedPolicy } from '@holdfast/protocol';
import { createHarness, type Harness, type HarnessOptions } from '@holdfast/server/testing';
import type { BrowserContext, Page } from 'playwright-core';
import { launchPersistentChromium } from './chromium.js';
import { type CutProxy, startProxy } from './till-front.js';

/** The till app as `npm run build` leaves it. */
export const TILL_DIST = fileURLToPath(new URL('../../../web/dist/till/index.html', import.meta.url));
export const DAY = 86_400_000;

export interface TillServer {
  h: Harness;
  /** The server's origin as the browser reaches it; `proxy.reachable = false` cuts it. */
  proxy: CutProxy;
  close(): Promise<void>;
}

/** A harness listening on loopback, its clock kept at the wall clock (never back), behind a cut proxy. */
export async function startTillServer(options: HarnessOptions = {}): Promise<TillServer> {
  assert.ok(existsSync(TILL_DIST), `the till is not built (${TILL_DIST}): run npm run build`);
  const h = await createHarness(options);
  h.clock.set(Date.now());
  const clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  const proxy = await startProxy(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
  return {
    h,
    proxy,
    close: async () => {
      clearInterval(clockTimer);
      await proxy.close();
      await h.close();
    },
  };
}

export interface TillProfile {
  /** The profile directory (a fresh temporary one). */
  dir: string;
  context: BrowserContext;
  /** The context's first page. */
  page: Page;
  /** Closes the browser and removes the profile. */
  close(): Promise<void>;
}

/** Chromium on a fresh persistent profile named after `name`; `options` as launchPersistentChromium takes them. */
export async function openTillProfile(
  name: string,
  options: Parameters<typeof launchPersistentChromium>[1] = {},
): Promise<TillProfile> {
  const dir = mkdtempSync(join(tmpdir(), `holdfast-${name}-`));
  const context = await launchPersistentChromium(dir, options);
  const page = context.pages()[0] ?? (await context.newPage());
  return {
    dir,
    context,
    page,
    close: async () => {
      await context.close().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What a test file's hooks set up: the server and the browser on a fresh profile (filled in `before`). */
export interface Till {
  h: Harness;
  proxy: CutProxy;
  context: BrowserContext;
  page: Page;
}

/**
 * Registers this test file's `before` (startTillServer, then openTillProfile(name, options)) and
 * `after` (both closed); the answer is filled in when `before` has run.
 */
export function tillFixture(name: string, options: Parameters<typeof launchPersistentChromium>[1] = {}): Till {
  const till = {} as Till;
  let server: TillServer | undefined;
  let profile: TillProfile | undefined;
  before(async () => {
    server = await startTillServer();
    profile = await openTillProfile(name, options);
    Object.assign(till, { h: server.h, proxy: server.proxy, context: profile.context, page: profile.page });
  });
  after(async () => {
    await profile?.close();
    await server?.close();
  });
  return till;
}

/** An operator's admin call that must succeed (200 or 201); answers the body. */
export async function admin(h: Harness, method: 'POST' | 'PUT', url: string, payload: unknown): Promise<unknown> {
  const res = await h.request(method, url, { admin: true, payload });
  assert.ok(res.status === 200 || res.status === 201, `${method} ${url}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** A new enrollment token for a till of acme at `location` (no event). */
export async function enrollmentToken(h: Harness, label: string, location = 'north'): Promise<string> {
  const body = (await admin(h, 'POST', '/v1/admin/enrollment-tokens', {
    label,
    merchant: 'acme',
    location,
    event: null,
  })) as { token: string };
  return body.token;
}

/**
 * Issues a risk policy for all of acme in EUR, valid from a minute ago for a day, with these offline
 * limits (`maxOfflineMs` one hour unless given) and nothing sent online; answers it with its
 * reference (`id@version`, as the till shows it in data-policy).
 */
export async function issuePolicy(
  h: Harness,
  offline: { maxOfflineMs?: number; device: unknown; tenders: unknown },
): Promise<{ policy: SignedPolicy; ref: string }> {
  const now = Date.now();
  const policy = (await admin(h, 'POST', '/v1/admin/policies', {
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    validFrom: now - 60_000,
    expiresAt: now + DAY,
    offline: { maxOfflineMs: 3_600_000, ...offline },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  })) as SignedPolicy;
  return { policy, ref: `${policy.policy.id}@${policy.policy.version}` };
}

/** Opens the app at `url` and submits `token` on its enrollment screen (and `label`, when given). */
export async function enrollTill(page: Page, url: string, token: string, label?: string): Promise<void> {
  await page.goto(url);
  await page.waitForSelector('form[data-form=enroll]');
  await page.fill('textarea[name=token]', token);
  if (label !== undefined) await page.fill('input[name=label]', label);
  await page.click('form[data-form=enroll] button[type=submit]');
}

/** Opens a shift on the Shift screen (F4) for `clerk`, with the opening float typed when given. */
export async function openShift(page: Page, clerk: string, float?: string): Promise<void> {
  await page.keyboard.press('F4');
  await page.fill('input[name=clerk]', clerk);
  if (float !== undefined) await page.fill('input[name=float]', float);
  await page.click('form[data-form=open-shift] button[type=submit]');
  await page.waitForSelector('form[data-form=close-shift]');
}

/** enrollTill, then (once the tabs show) openShift, and back to the Sell screen (F1). */
export async function enrollAndOpenShift(
  page: Page,
  url: string,
  token: string,
  shift: { clerk: string; float?: string },
): Promise<void> {
  await enrollTill(page, url, token);
  await page.waitForSelector('nav.tabs');
  await openShift(page, shift.clerk, shift.float);
  await page.keyboard.press('F1');
}

/** Types `amount` on the Sell screen, adds it and pays by card. */
export async function ringUpCard(page: Page, amount: string): Promise<void> {
  await page.fill('input[name=amount]', amount);
  await page.click('form.typed button[type=submit]');
  await page.click('[data-pay=card]');
}

/** Polls `fn` every 100 ms until it answers a value; throws naming `what` after `ms`. */
export async function until<T>(what: string, fn: () => Promise<T | null | undefined>, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await fn();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** The op `opId` of `deviceId` as the server stored it, once it has arrived (30 s at the most). */
export async function storedOp(h: Harness, deviceId: string, opId: string) {
  return until(`op ${opId} at the server`, async () => (await h.storage.getDeviceOps(deviceId, [opId]))[0] ?? null);
}

/** The measure scripts' figures: the `p`th percentile of `xs` (nearest rank below), and milliseconds as printed. */
export function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
export const ms = (x: number) => `${x.toFixed(1)} ms`;
