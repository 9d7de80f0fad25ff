/**
 * The operator console in real Chromium against an in-process server on
 * loopback (the harness: real Fastify, SQLite, a manual server clock):
 * sign-in (and a wrong password), a device going offline in the fleet
 * view, a post-authorization decline resolved from the inbox and found in
 * the audit log, a viewer who sees no action and whom the API refuses, the
 * exposure page against `holdfast exposure --json`, an expired session,
 * a cross-site request without the CSRF token, and script in a device
 * label and a customer name rendered as text.
 *
 * Needs the built console (packages/web/dist/console: `npm run build`).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { CLI_BIN, childNodeFlags } from '@holdfast/cli/testing';
import {
  type Decision,
  feedRequestMessage,
  formatMoney,
  type PolicyDraft,
  policyRef,
  type SignedPolicy,
  signMessage,
} from '@holdfast/protocol';
import {
  cardTender,
  createHarness,
  HARNESS_OPERATOR_TOKEN,
  type Harness,
  LOCAL_APPROVAL,
  OPERATOR_PASSWORD,
  saleBody,
  T0,
} from '@holdfast/server/testing';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './chromium.js';

const CONSOLE_DIST = fileURLToPath(new URL('../../../web/dist/console/index.html', import.meta.url));

/** Markup a terminal or a customer could send: it must reach the page as text. */
const HOSTILE_LABEL = '<img src=x onerror="window.__xss=1">';
const HOSTILE_NAME = '<script>window.__xss=2</script>Ada';

const POLICY: PolicyDraft = {
  scope: { merchant: 'acme', location: 'north', event: null, devices: null },
  currency: 'EUR',
  validFrom: T0 - 60_000,
  expiresAt: T0 + 86_400_000,
  offline: {
    maxOfflineMs: 3_600_000,
    device: { maxAmount: 10_000, maxCount: 10 },
    tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 10, velocity: null } } },
  },
  online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
};

let h: Harness;
let base: string;
let browser: Browser;
let hostileDevice: string;
let declineId: string;

/** A till with a hostile label that synced at T0, and a bar device with one post-authorization decline of 25.00 EUR. */
async function seed(): Promise<void> {
  const till = await h.enrollDevice(HOSTILE_LABEL);
  hostileDevice = till.id;
  const shift = till.openShift();
  assert.equal((await h.send(till.batch([shift, till.sale(shift.id, 1_000)]))).status, 200);

  const bar = await h.enrollDevice('bar-1');
  await h.storage.setDevicePlacement(bar.id, { merchant: 'acme', location: 'north', event: null }, T0);
  const issued = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: POLICY });
  assert.equal(issued.status, 200, JSON.stringify(issued.body));
  const approval: Decision = { ...LOCAL_APPROVAL, policy: policyRef(issued.body.policy) };
  const open = bar.openShift();
  const sale = bar.chain.next(
    'sale.recorded',
    saleBody(open.id, 2_500, {
      tenders: [cardTender(2_500)],
      customer: { name: HOSTILE_NAME, email: 'ada@example.org' },
    }),
    approval,
  );
  // A second approved payment stays unsettled: the exposure page has money held.
  const held = bar.chain.next('sale.recorded', saleBody(open.id, 1_500, { tenders: [cardTender(1_500)] }), approval);
  assert.equal((await h.send(bar.batch([open, sale, held]))).status, 200);
  await h.storage.settleOfflinePayment({
    payment: { opId: sale.id, tenderIndex: 0 },
    owner: 'w1',
    settlement: { status: 'declined', processorId: 'auth_1', declineCode: 'insufficient_funds', at: T0 + 1 },
    exceptionId: h.service.newId(),
  });
  const [x] = (await h.storage.listExceptions(0, 10)).items.filter((e) => e.type === 'post_auth_decline');
  assert.ok(x);
  declineId = x.id;
  await h.operator('sam', 'supervisor');
  await h.operator('vera', 'viewer');
}

async function signIn(username: string, password = OPERATOR_PASSWORD): Promise<Page> {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/console/`);
  await page.fill('input[name=username]', username);
  await page.fill('input[name=password]', password);
  await page.click('form[data-form=signin] button[type=submit]');
  return page;
}

const noScriptRan = (page: Page) => page.evaluate(() => (window as unknown as { __xss?: number }).__xss);

before(async () => {
  assert.ok(existsSync(CONSOLE_DIST), `the console is not built (${CONSOLE_DIST}): run npm run build`);
  h = await createHarness();
  await seed();
  await h.app.listen({ host: '127.0.0.1', port: 0 });
  base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await h?.close();
});

describe('operator console in Chromium', () => {
  it('refuses a wrong password in words, then signs in and shows who is signed in', async () => {
    const page = await signIn('sam', 'not the password');
    await page.waitForSelector('[data-signin-error]');
    assert.match((await page.textContent('[data-signin-error]')) ?? '', /^wrong username or password/);
    await page.fill('input[name=password]', OPERATOR_PASSWORD);
    await page.click('form[data-form=signin] button[type=submit]');
    await page.waitForSelector('[data-who]');
    assert.equal(await page.textContent('[data-who]'), 'sam (supervisor)');
    await page.context().close();
  });

  it('shows a device go offline once the server has not heard from it for 30 s; its label stays text', async () => {
    const page = await signIn('sam');
    await page.waitForSelector('table[data-table=fleet] tbody tr');
    const row = page.locator('table[data-table=fleet] tbody tr', { hasText: HOSTILE_LABEL });
    assert.equal(await row.locator('.badge').textContent(), 'online');
    assert.equal(await page.locator('#app img[src="x"]').count(), 0);

    h.clock.advance(31_000);
    await row.locator('.badge', { hasText: 'offline' }).waitFor({ timeout: 10_000 });
    assert.equal(await page.locator('[data-tile=offline] b').textContent(), '2');

    await row.locator('a').click();
    await page.waitForSelector('[data-device-label]');
    assert.equal(await page.textContent('[data-device-label]'), HOSTILE_LABEL);
    assert.equal(await page.textContent('[data-completeness]'), 'all 2 ops of this device accounted for');
    assert.equal(await noScriptRan(page), undefined);
    await page.context().close();
  });

  it('a viewer sees no action on the decline, and the API refuses the action', async () => {
    const page = await signIn('vera');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=exceptions]');
    await page.click(`[data-open="${declineId}"]`);
    await page.waitForSelector(`[data-exception="${declineId}"]`);
    assert.equal(await page.locator('form[data-form=exception-action]').count(), 0);
    assert.equal(await page.locator('[data-nav=audit]').count(), 0);
    const refused = await page.evaluate(async (id) => {
      const csrf = /holdfast_csrf=([^;]+)/.exec(document.cookie)?.[1] ?? '';
      const res = await fetch(`/v1/admin/exceptions/${id}/actions`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify({ action: 'written_off', note: 'viewer tries' }),
      });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, declineId);
    assert.deepEqual([refused.status, refused.body.code], [403, 'forbidden']);
    await page.goto(`${base}/console/#/device/${hostileDevice}`);
    await page.waitForSelector('[data-device-label]');
    assert.equal(await page.locator('form[data-form=revoke]').count(), 0);
    await page.context().close();
  });

  it('a supervisor resolves the decline from the inbox; the action is in the audit log under their name', async () => {
    const page = await signIn('sam');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=exceptions]');
    await page.waitForSelector('[data-count=post_auth_decline]');
    await page.click(`[data-open="${declineId}"]`);
    const detail = page.locator(`[data-exception="${declineId}"]`);
    await detail.waitFor();
    assert.equal(await detail.locator('[data-outstanding]').textContent(), formatMoney(2_500, 'EUR', 'en-US'));
    // Money in the detail is formatted too, never shown as minor units.
    assert.equal(await detail.locator('dt:text-is("amount") + dd').textContent(), formatMoney(2_500, 'EUR', 'en-US'));
    // The customer's name, markup and all, is shown as text.
    assert.ok((await detail.textContent())?.includes(HOSTILE_NAME));
    assert.equal(await noScriptRan(page), undefined);

    await detail.locator('select[name=action]').selectOption('written_off');
    // The amount is typed as money, in the exception's currency, and shown back before it is recorded.
    const typed = detail.locator('input[name=amount]');
    await typed.fill('25.5055');
    await detail.locator('[data-amount-preview]', { hasText: 'EUR has 2 decimals' }).waitFor();
    await typed.fill('30');
    await detail.locator('[data-amount-preview]', { hasText: 'outstanding' }).waitFor();
    await typed.fill('25');
    assert.equal(
      await detail.locator('[data-amount-preview]').textContent(),
      `= ${formatMoney(2_500, 'EUR', 'en-US')}`,
    );
    await detail.locator('input[name=note]').fill('customer unreachable');
    await detail.locator('form[data-form=exception-action] button[type=submit]').click();
    await page.locator('.outcome', { hasText: 'Recorded: written_off.' }).waitFor();

    const audit = await h.request<{ items: { action: string; actorName: string; target: string; outcome: string }[] }>(
      'GET',
      `/v1/admin/audit?action=exceptions.act&target=${declineId}`,
      { admin: true },
    );
    assert.deepEqual(
      audit.body.items.map((a) => [a.action, a.actorName, a.outcome]),
      [
        ['exceptions.act', 'vera', 'forbidden'],
        ['exceptions.act', 'sam', 'ok'],
      ],
    );
    const listed = await h.request<{
      items: { id: string; status: string; actions: { by: string; amount: number | null }[] }[];
    }>('GET', '/v1/admin/exceptions?type=post_auth_decline', { admin: true });
    const x = listed.body.items.find((i) => i.id === declineId);
    assert.deepEqual([x?.status, x?.actions.map((a) => [a.by, a.amount])], ['resolved', [['sam', 2_500]]]);
    await page.context().close();
  });

  it('the exposure page shows what `holdfast exposure --json` answers', async () => {
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [
        ...childNodeFlags(),
        CLI_BIN,
        'exposure',
        '--server',
        base,
        '--operator-token',
        HARNESS_OPERATOR_TOKEN,
        '--json',
      ],
      { timeout: 60_000 },
    );
    const cli = JSON.parse(stdout) as {
      bound: {
        merchant: string;
        location: string | null;
        currency: string;
        devices: number;
        maxAmount: number;
        worstAmount: number;
      }[];
      actual: { merchant: string | null; location: string | null; currency: string; amount: number; count: number }[];
    };
    assert.ok(cli.bound.length > 0 && cli.actual.length > 0, stdout);
    const page = await signIn('sam');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=risk]');
    await page.waitForSelector('table[data-table=exposure] tbody tr td + td');
    const cells = (table: string) =>
      page.$$eval(`table[data-table=${table}] tbody tr`, (rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
    const bound = await cells('exposure');
    const locale = await page.evaluate(() => navigator.language);
    assert.deepEqual(
      bound.map((r) => [r[0], r[2], r[3], r[4]]),
      cli.bound.map((g) => [
        [g.merchant, g.location].filter((p) => p !== null).join(' / '),
        String(g.devices),
        formatMoney(g.maxAmount, g.currency, locale),
        formatMoney(g.worstAmount, g.currency, locale),
      ]),
    );
    const held = await cells('exposure-held');
    assert.deepEqual(
      held.map((r) => [r[1], r[2]]),
      cli.actual.map((a) => [String(a.count), formatMoney(a.amount, a.currency, locale)]),
    );

    // The policy behind the bound, in force for its scope.
    await page.click('[data-nav=policies]');
    await page.waitForSelector('table[data-table=policies] tbody tr td + td');
    const policies = await cells('policies');
    assert.deepEqual(
      policies.map((r) => [r[0], r[1], r[2], r[7]]),
      [['acme / north', '1', 'yes', formatMoney(5_000, 'EUR', locale)]],
    );
    await page.context().close();
  });

  it('refuses an unsafe request without the CSRF token; an expired session sends the operator back to sign-in', async () => {
    const page = await signIn('sam');
    await page.waitForSelector('[data-who]');
    const refused = await page.evaluate(async (id) => {
      const res = await fetch(`/v1/admin/devices/${id}/revoke`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ reason: 'forged' }),
      });
      return { status: res.status, body: (await res.json()) as { code: string } };
    }, hostileDevice);
    assert.deepEqual([refused.status, refused.body.code], [403, 'csrf_failed']);
    const device = await h.request<{ revokedAt: number | null }>('GET', `/v1/admin/devices/${hostileDevice}`, {
      admin: true,
    });
    assert.equal(device.body.revokedAt, null);

    // Idle for longer than a session may be (30 min): the next poll is refused and the sign-in comes back.
    h.clock.advance(31 * 60_000);
    await page.waitForSelector('form[data-form=signin]', { timeout: 10_000 });
    assert.equal(await page.textContent('.notice'), 'Your session has ended: sign in again.');
    await page.context().close();
  });

  it('edits a policy: errors next to their fields, the bound previewed, issued only by a role that may', async () => {
    await h.operator('ada', 'admin');
    const viewer = await signIn('vera');
    await viewer.waitForSelector('[data-who]');
    await viewer.click('[data-nav=policies]');
    await viewer.waitForSelector('[data-policy-preview] table tbody tr');
    assert.equal(await viewer.locator('[data-issue]').count(), 0, 'a viewer previews but cannot issue');
    await viewer.context().close();

    const page = await signIn('ada');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=policies]');
    const editor = page.locator('[data-policy-editor]');
    await editor.locator('[data-policy-preview] table tbody tr').waitFor();
    const locale = await page.evaluate(() => navigator.language);
    const m = (n: number) => formatMoney(n, 'EUR', locale);

    // A text that is not an amount is refused in the form, before anything is sent.
    await editor.locator('input[name=deviceAmount]').fill('fifty');
    await editor.locator('[data-field-error=deviceAmount]').waitFor();
    assert.equal(await editor.locator('[data-issue]').isDisabled(), true);
    // What only the server can judge comes back as its reason, next to the field.
    await editor.locator('input[name=deviceAmount]').fill('50');
    await editor.locator('input[name=days]').fill('120');
    await editor.locator('[data-field-error=days]', { hasText: '90 days' }).waitFor();
    assert.match((await editor.locator('[data-policy-error]').textContent()) ?? '', /expiresAt/);
    assert.equal(await editor.locator('[data-issue]').isDisabled(), true);

    await editor.locator('input[name=days]').fill('7');
    await editor.locator('[data-policy-preview] td', { hasText: m(5_000) }).waitFor();
    const row = await editor
      .locator('[data-policy-preview] table tbody tr')
      .first()
      .evaluate((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''));
    // acme / north, one device: the cap was 100.00 and becomes 50.00 (the smaller of the device cap and 10 × 50.00).
    assert.deepEqual(row.slice(0, 5), ['acme / north', 'EUR', '1', m(10_000), m(5_000)]);
    const preview = await h.request<{ bound: { worstAmount: number }[] }>('POST', '/v1/admin/policies/dry-run', {
      admin: true,
      payload: {
        ...POLICY,
        validFrom: undefined,
        expiresAt: h.clock.now() + 86_400_000,
        offline: { ...POLICY.offline, device: { maxAmount: 5_000, maxCount: 10 } },
      },
    });
    assert.equal(row[6], m(preview.body.bound[0]?.worstAmount ?? -1), 'the worst case the server previews');
    assert.equal(await editor.locator('[data-field-error]').count(), 0);

    await editor.locator('[data-issue]:not([disabled])').click();
    await editor.locator('[data-issued]', { hasText: 'Issued version 2 for acme / north.' }).waitFor();
    await page
      .locator('table[data-table=policies] tbody tr', { hasText: m(5_000) })
      .first()
      .waitFor();
    const audit = await h.request<{ items: { action: string; actorName: string; outcome: string }[] }>(
      'GET',
      '/v1/admin/audit?action=policies.issue',
      { admin: true },
    );
    assert.deepEqual(
      audit.body.items.filter((a) => a.actorName === 'ada').map((a) => [a.action, a.outcome]),
      [['policies.issue', 'ok']],
    );
    const listed = await h.request<{ policies: SignedPolicy[] }>('GET', '/v1/admin/policies', { admin: true });
    assert.deepEqual(
      listed.body.policies.map((p) => [p.policy.version, p.policy.offline.device.maxAmount]),
      [
        [1, 10_000],
        [2, 5_000],
      ],
    );
    await page.context().close();
  });

  it('the fleet and the device page show what a device reported, and the device page its ops and rejected ones', async () => {
    const lane = await h.enrollDevice('lane-r');
    const open = lane.openShift();
    const bad = lane.chain.next('sale.recorded', { ...saleBody(open.id, 100), total: 101 });
    const stored = await h.send(lane.batch([open, bad, lane.sale(open.id, 300)]));
    assert.deepEqual(
      stored.body.results.map((r) => r.status),
      ['accepted', 'rejected', 'accepted'],
    );
    const policies = await h.request<{ policies: SignedPolicy[] }>('GET', '/v1/admin/policies', { admin: true });
    const ref = policyRef((policies.body.policies[0] as SignedPolicy).policy);
    const at = h.clock.now();
    const report = { pendingSince: at - 90_000, policy: ref, app: 'till/3.2 <i>' };
    const polled = await h.request('POST', '/v1/feed', {
      payload: {
        device: lane.id,
        after: 0,
        at,
        report,
        sig: signMessage(feedRequestMessage(lane.id, 0, at, report), lane.privateKey),
      },
    });
    assert.equal(polled.status, 200, JSON.stringify(polled.body));

    const page = await signIn('sam');
    await page.waitForSelector('table[data-table=fleet] tbody tr');
    const cellsOf = (label: string) =>
      page
        .locator('table[data-table=fleet] tbody tr', { hasText: label })
        .evaluate((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? ''));
    const headers = await page.$$eval('table[data-table=fleet] thead th', (ths) => ths.map((t) => t.textContent));
    const col = (name: string) => headers.indexOf(name);
    const reported = await cellsOf('lane-r');
    assert.deepEqual(
      [reported[col('Oldest pending')], reported[col('Policy')], reported[col('App')]],
      ['1 min', `v${ref.split('@')[1]}`, 'till/3.2 <i>'],
    );
    const silent = await cellsOf('bar-1');
    assert.deepEqual([silent[col('Policy')], silent[col('App')]], ['not reported', 'not reported']);

    await page.locator('table[data-table=fleet] tbody tr', { hasText: 'lane-r' }).locator('a').click();
    await page.waitForSelector('[data-device-policy]');
    assert.equal(await page.textContent('[data-device-policy]'), ref);
    assert.equal(await page.textContent('[data-device-app]'), 'till/3.2 <i>');
    assert.match((await page.textContent('[data-device-oldest-pending]')) ?? '', /waiting 1 min$/);
    const tableRows = (table: string) =>
      page.$$eval(`table[data-table=${table}] tbody tr`, (rows) =>
        rows.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')),
      );
    await page.waitForSelector('table[data-table=device-ops] tbody tr td + td');
    assert.deepEqual(
      (await tableRows('device-ops')).map((r) => [r[0], r[1], r[4]]),
      [
        ['3', 'sale.recorded', 'accepted'],
        ['2', 'sale.recorded', 'rejected'],
        ['1', 'shift.opened', 'accepted'],
      ],
    );
    const rejected = await tableRows('device-rejected');
    assert.deepEqual(
      rejected.map((r) => [r[0], r[6]]),
      [['2', bad.id]],
    );
    assert.match(rejected[0]?.[5] ?? '', /^invalid_body \(body\.total\): /);
    await page.context().close();
  });

  it('Money at risk lists the card payments not yet forwarded with their deadline, most urgent first', async () => {
    const api = await h.request<{ items: { opId: string; deadlineAt: number; amount: number }[] }>(
      'GET',
      '/v1/admin/forwarding/deadlines',
      { admin: true },
    );
    assert.deepEqual(
      api.body.items.map((r) => r.amount),
      [1_500],
      'the declined payment is settled; the held one waits',
    );
    const page = await signIn('sam');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=risk]');
    await page.waitForSelector('table[data-table=forwarding-deadlines] tbody tr td + td');
    const locale = await page.evaluate(() => navigator.language);
    const rows = await page.$$eval('table[data-table=forwarding-deadlines] tbody tr', (trs) =>
      trs.map((r) => [...r.querySelectorAll('td')].map((td) => td.textContent ?? '')),
    );
    assert.equal(rows.length, 1);
    const [row] = rows as string[][];
    assert.deepEqual([row?.[2], row?.[3], row?.[4]], [formatMoney(1_500, 'EUR', locale), 'visa ****4242', 'bar-1']);
    const left = (api.body.items[0]?.deadlineAt ?? 0) - h.clock.now();
    assert.equal(row?.[1], `${Math.floor(left / 3_600_000)} h ${Math.floor((left % 3_600_000) / 60_000)} min left`);
    await page.context().close();
  });

  it('the ledger page narrows the events to a time range', async () => {
    const page = await signIn('vera');
    await page.waitForSelector('[data-who]');
    await page.click('[data-nav=ledger]');
    await page.waitForSelector('table[data-table=ledger] tbody tr td + td');
    const count = () => page.locator('table[data-table=ledger] tbody tr td + td').count();
    assert.ok((await count()) > 0);
    await page.fill('input[name=from]', '2199-01-01T00:00');
    await page.locator('table[data-table=ledger] td.empty').waitFor();
    await page.fill('input[name=from]', '');
    await page.fill('input[name=to]', '2199-01-01T00:00');
    await page.waitForSelector('table[data-table=ledger] tbody tr td + td');
    assert.ok((await count()) > 0, 'everything was applied before 2199');
    await page.context().close();
  });
});
