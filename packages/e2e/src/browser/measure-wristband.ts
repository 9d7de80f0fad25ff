// Measures the till app's wristband tender (/till/) in headless Chromium against a real server
// (the harness), offline: a sale paid with the simulated wristband from the clerk's click until
// the page shows it recorded (op + pending chip write committed to OPFS, the chip's own OPFS file
// written and flushed, the write marked done), interleaved with the same sale paid in cash, in the
// same page and run. The wristband payments are decided under a risk policy (issued first, with
// limits wide enough for every payment of the run), so the figure includes the offline decision
// and the exposure it grows, as on a till in service.
// A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-wristband.ts [sales]
import {
  enrollAndOpenShift,
  enrollmentToken,
  issuePolicy,
  ms,
  openTillProfile,
  pct,
  startTillServer,
} from './till-fixture.js';

const sales = Number(process.argv[2] ?? 200);

const server = await startTillServer();
const { h, proxy } = server;
const till = await openTillProfile('measure-wristband', { viewport: { width: 1280, height: 900 } });
try {
  const { page } = till;
  const wide = { maxAmount: 10_000_000, maxCount: 100_000 };
  await issuePolicy(h, {
    device: wide,
    tenders: { wristband: { floorLimit: 10_000, instrument: { ...wide, velocity: null } } },
  });
  await enrollAndOpenShift(page, `${proxy.origin}/till/?till=measure`, await enrollmentToken(h, 'measure'), {
    clerk: 'Ana',
  });
  await page.waitForSelector('.policy-line:not([data-policy=none])', { timeout: 30_000 });
  await page.click('[data-wristband-new]');
  await page.waitForSelector('[data-chip][aria-pressed=true]');
  await page.fill('input[name=topup]', '100000');
  await page.click('form[data-form=wristband-topup] button[type=submit]');
  await page.waitForSelector('[data-chip][aria-pressed=true][data-counter="1"]');
  // Offline: the sync loop's network work stays out of the figures.
  proxy.reachable = false;
  const result = (await page.evaluate(`(async (count) => {
    const coffee = document.querySelector('[data-quick=COFFEE]');
    const doneId = () => document.querySelector('[data-sale-done]')?.getAttribute('data-sale-done') ?? null;
    const nextFrame = () => new Promise((r) => requestAnimationFrame(() => r(null)));
    const sale = async (tender) => {
      const before = doneId();
      coffee.click();
      await nextFrame();
      const t = performance.now();
      document.querySelector('[data-pay=' + tender + ']').click();
      while (doneId() === null || doneId() === before) {
        const error = document.querySelector('[data-sale-error]');
        if (error) throw new Error(error.textContent);
        await new Promise((r) => setTimeout(r, 0));
      }
      return performance.now() - t;
    };
    const cash = [];
    const band = [];
    for (let i = 0; i < 20; i++) {
      await sale('cash');
      await sale('wristband');
    }
    for (let i = 0; i < count; i++) {
      cash.push(await sale('cash'));
      band.push(await sale('wristband'));
    }
    return { cash, band };
  })(${sales})`)) as { cash: number[]; band: number[] };
  const chip = await page.getAttribute('[data-chip][aria-pressed=true]', 'data-counter');
  console.log(`till app, ${sales} sales of each tender after 20 warm-up, interleaved, offline`);
  console.log(
    `  cash sale, click → durable (shown)        p50 ${ms(pct(result.cash, 50))}  p99 ${ms(pct(result.cash, 99))}`,
  );
  console.log(
    `  wristband sale, click → op + chip written p50 ${ms(pct(result.band, 50))}  p99 ${ms(pct(result.band, 99))}`,
  );
  // Each offline approval is held until the server confirms it: the exposure the decision reads grows.
  const first = result.band.slice(0, 50);
  const last = result.band.slice(-50);
  console.log(
    `  wristband sale, first 50 p50 ${ms(pct(first, 50))}, last 50 p50 ${ms(pct(last, 50))} (${sales + 20} approvals held at the end)`,
  );
  console.log(`  chip counter at the end: ${chip} (1 top-up + ${sales + 20} payments)`);
} finally {
  await till.close();
  await server.close();
}
