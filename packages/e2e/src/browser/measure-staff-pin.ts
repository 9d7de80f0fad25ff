// Measures one staff PIN check in the till app (/till/) in headless Chromium against a real server:
// the page asks the journal worker to sign a member in (browser-staff.ts: the roster's scrypt verifier,
// N = 2^13, r = 8, p = 1, checked with noble's scryptAsync), timed from the page until the answer,
// `checks` times (default 20); beside it node:crypto's scryptSync of the same verifier in this process
// (what the Node till pays), from the same run.
// A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-staff-pin.ts [checks]
import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { checkStaffSecret, makeStaffVerifier } from '@holdfast/protocol';
import { createHarness } from '@holdfast/server/testing';
import { chromium } from 'playwright-core';
import { CHROMIUM_PATH } from './chromium.js';
import { startProxy } from './till-front.js';

const checks = Number(process.argv[2] ?? 20);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))] as number;
}
const ms = (x: number) => `${x.toFixed(1)} ms`;

const h = await createHarness();
h.clock.set(Date.now());
const clockTimer = setInterval(() => h.clock.set(Math.max(h.clock.now(), Date.now())), 50);
await h.app.listen({ host: '127.0.0.1', port: 0 });
const proxy = await startProxy(`http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`);
const profile = mkdtempSync(join(tmpdir(), 'holdfast-measure-pin-'));
const context = await chromium.launchPersistentContext(profile, {
  executablePath: CHROMIUM_PATH,
  headless: true,
  viewport: { width: 1280, height: 800 },
  args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
});
try {
  const staff = await h.request('POST', '/v1/admin/staff', {
    admin: true,
    payload: { location: 'north', id: 'ana', name: 'Ana', role: 'clerk', pin: '4821' },
  });
  if (staff.status !== 200 && staff.status !== 201) throw new Error(`staff: ${staff.status}`);
  const token = await h.request('POST', '/v1/admin/enrollment-tokens', {
    admin: true,
    payload: { label: 'measure', merchant: 'acme', location: 'north', event: null },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  await page.goto(`${proxy.origin}/till/?till=measure&measure`);
  await page.fill('textarea[name=token]', (token.body as { token: string }).token);
  await page.click('form[data-form=enroll] button[type=submit]');
  await page.waitForSelector('form[data-form=sign-in]', { timeout: 30_000 });
  const browser = await page.evaluate(async (n) => {
    const m = (window as unknown as { holdfastMeasure: { signIn(s: string, p: string): Promise<unknown> } })
      .holdfastMeasure;
    await m.signIn('ana', '4821'); // warm-up: the first call compiles noble's code
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      const t0 = performance.now();
      await m.signIn('ana', '4821');
      out.push(performance.now() - t0);
    }
    return out;
  }, checks);
  const verifier = makeStaffVerifier('4821');
  checkStaffSecret('4821', verifier);
  const node: number[] = [];
  for (let i = 0; i < checks; i++) {
    const t0 = performance.now();
    checkStaffSecret('4821', verifier);
    node.push(performance.now() - t0);
  }
  console.log(`staff PIN check, ${checks} checks each (N = 2^13, r = 8, p = 1)`);
  console.log(
    `  Chromium, page → worker (noble scryptAsync) → page: p50 ${ms(pct(browser, 50))}, p90 ${ms(pct(browser, 90))}, max ${ms(Math.max(...browser))}`,
  );
  console.log(
    `  Node, node:crypto scryptSync (the Node till):       p50 ${ms(pct(node, 50))}, p90 ${ms(pct(node, 90))}, max ${ms(Math.max(...node))}`,
  );
} finally {
  clearInterval(clockTimer);
  await context.close();
  await proxy.close();
  await h.close();
  rmSync(profile, { recursive: true, force: true });
}
