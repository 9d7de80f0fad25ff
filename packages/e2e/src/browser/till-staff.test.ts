/**
 * Staff sign-in in the till app (packages/web/src/till/signin.tsx; the PIN
 * checked in the journal worker with noble's scrypt, terminal-web
 * browser-staff.ts), in real Chromium against a real server: the operator
 * puts staff with PINs on the till's location; the till, once it read the
 * signed feed, asks for a sign-in before selling. Wrong PINs are refused
 * and count down to a lock-out that a reload does not undo; the right PIN
 * signs in, and the shift and sale reach the server stamped with that
 * member, so the server's staff check raises nothing.
 *
 * Needs the till built (npm run build). HOLDFAST_TILL_SCREENSHOTS=<dir> saves
 * the sign-in screen (docs/images/till-sign-in.png).
 */
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { admin, enrollmentToken, enrollTill, storedOp, tillFixture } from './till-fixture.js';

const SHOTS = process.env.HOLDFAST_TILL_SCREENSHOTS;

const till = tillFixture('till-staff', { locale: 'en-GB' });

/** Picks `staff` in the list, types `pin` on the PIN pad, OK; answers the refusal's code, or null once signed in. */
async function signInByTouch(staff: string, pin: string): Promise<string | null> {
  const { page } = till;
  await page.click(`[data-member=${staff}]`);
  // Picking a member clears the last refusal: wait for it to go, so the next one read is this attempt's.
  await page.waitForSelector('[data-sign-in-error]', { state: 'detached' });
  for (const digit of pin) await page.click(`[data-pin-key="${digit}"]`);
  await page.click('[data-pin-key=OK]');
  await page.waitForSelector(`[data-sign-in-error], [data-signed-in=${staff}]`);
  const refusal = await page.$('[data-sign-in-error]');
  return refusal ? refusal.getAttribute('data-sign-in-error') : null;
}

describe('staff sign-in at the till app', () => {
  it('signs in with the right PIN only, locks out after five wrong ones across a reload, and stamps the sale', async () => {
    const { h, proxy, page } = till;
    await admin(h, 'POST', '/v1/admin/staff', {
      location: 'north',
      id: 'ana',
      name: 'Ana',
      role: 'clerk',
      pin: '4821',
    });
    await admin(h, 'POST', '/v1/admin/staff', {
      location: 'north',
      id: 'ben',
      name: 'Ben',
      role: 'supervisor',
      pin: '7315',
    });
    await admin(h, 'POST', '/v1/admin/staff', { location: 'north', id: 'eva', name: 'Eva', role: 'manager' });
    await enrollTill(page, `${proxy.origin}/till/?till=north`, await enrollmentToken(h, 'north till'));
    // The feed brings the roster: the till asks for a sign-in, and offers no Sell screen until then.
    await page.waitForSelector('form[data-form=sign-in]', { timeout: 30_000 });
    await page.waitForSelector('[data-member=eva]');
    assert.equal(await page.$('nav.tabs'), null, 'no selling before a sign-in');
    assert.match((await page.textContent('header.bar')) ?? '', /Nobody signed in/);

    // A member with no PIN cannot sign in; an unknown id is refused in words.
    assert.equal(await signInByTouch('eva', '1111'), 'staff_no_pin');
    await page.fill('input[name=staff]', 'zoe');
    await page.fill('input[name=pin]', '1111');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-sign-in-error=staff_unknown]');
    assert.match((await page.textContent('[data-sign-in-error]')) ?? '', /Unknown staff member/);

    // Ben: four wrong PINs, each refused with the tries left; the fifth locks him out, with when it ends.
    for (let left = 4; left >= 1; left--) {
      assert.equal(await signInByTouch('ben', '0000'), 'wrong_pin');
      assert.match(
        (await page.textContent('[data-sign-in-error]')) ?? '',
        new RegExp(`Wrong PIN\\. ${left} attempts left`),
      );
    }
    assert.equal(await signInByTouch('ben', '0000'), 'locked_out');
    assert.match((await page.textContent('[data-sign-in-error]')) ?? '', /Too many wrong PINs.*Unlocks at \d\d:\d\d/);
    assert.equal(await signInByTouch('ben', '7315'), 'locked_out', 'locked out even with the right PIN');

    // A reload: a new worker on the same journal. Nobody is signed in, and Ben is still locked out.
    await page.reload();
    await page.waitForSelector('[data-member=ben]');
    assert.match((await page.textContent('[data-member=ben]')) ?? '', /Unlocks at/);
    assert.equal(await signInByTouch('ben', '7315'), 'locked_out', 'the lock-out survives a reload');
    if (SHOTS) {
      // The sign-in screen as Ben finds it: locked out, with when it ends.
      mkdirSync(SHOTS, { recursive: true });
      await page.waitForSelector('[data-link=online]', { timeout: 30_000 });
      await page.screenshot({ path: join(SHOTS, 'till-sign-in.png') });
    }

    // Ana, keyboard only: id, Tab, PIN, Enter.
    await page.click('input[name=staff]');
    await page.fill('input[name=staff]', 'ana');
    await page.keyboard.press('Tab');
    await page.keyboard.type('4821');
    await page.keyboard.press('Enter');
    await page.waitForSelector('[data-signed-in=ana]');
    await page.waitForSelector('nav.tabs');
    assert.match((await page.textContent('header.bar')) ?? '', /Ana.*Clerk.*Sign out/);

    await page.keyboard.press('F4');
    assert.equal(await page.inputValue('input[name=clerk]'), 'Ana', "the shift form takes the signed-in member's name");
    await page.fill('input[name=float]', '0');
    await page.click('form[data-form=open-shift] button[type=submit]');
    await page.waitForSelector('form[data-form=close-shift]');
    await page.keyboard.press('F1');
    await page.click('[data-quick=COFFEE]');
    await page.fill('input[name=tendered]', '10');
    await page.click('[data-pay=cash]');
    await page.waitForSelector('[data-sale-done]');
    const saleId = (await page.getAttribute('[data-sale-done]', 'data-sale-done')) as string;

    const device = (await h.storage.listDevices()).find((d) => d.label === 'north till');
    assert.ok(device);
    const sale = await storedOp(h, device.id, saleId);
    assert.deepEqual(
      sale.op.actor,
      { staff: 'ana' },
      'the sale carries the signed-in member, as the Node till stamps it',
    );
    // Every op the till recorded while Ana was signed in names her: the shift's opening and the sale.
    const all = await h.storage.listDeviceOps(device.id, { before: null, limit: 100, status: null });
    assert.deepEqual(all.items.map((o) => [o.op.kind, o.op.actor]).sort(), [
      ['sale.recorded', { staff: 'ana' }],
      ['shift.opened', { staff: 'ana' }],
    ]);
    await page.waitForSelector('[data-sale-done] .badge.confirmed', { timeout: 30_000 });
    const exceptions = await h.request('GET', '/v1/admin/exceptions?limit=1000', { admin: true });
    assert.equal(exceptions.status, 200);
    const staffExceptions = (exceptions.body as { items: Array<{ type: string; message: string }> }).items.filter((e) =>
      /^(staff|approval)_/.test(e.type),
    );
    assert.deepEqual(staffExceptions, [], 'the server accepts the staff actor');

    // Sign out: the sign-in screen is back, and the Sell screen with it gone. Ana signs in again.
    await page.click('[data-sign-out]');
    await page.waitForSelector('form[data-form=sign-in]');
    assert.equal(await page.$('nav.tabs'), null);
    assert.equal(await signInByTouch('ana', '4821'), null);
    await page.waitForSelector('nav.tabs');
  });
});
