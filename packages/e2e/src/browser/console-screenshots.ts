/**
 * Takes the screenshots of docs/console.md from a real-time demo: starts
 * `holdfast demo --live` on a free port, waits until the south lanes have
 * been offline for half a minute (about 100 s in), signs in and captures
 * each main screen into docs/images/console-*.png. Run:
 *
 *   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/console-screenshots.ts
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { launchChromium } from './chromium.js';

const root = fileURLToPath(new URL('../../../../', import.meta.url));
const images = `${root}docs/images`;
const child = spawn(
  process.execPath,
  [
    '--conditions=holdfast-src',
    '--import',
    'tsx',
    `${root}packages/cli/src/bin.ts`,
    'demo',
    '--live',
    '--port',
    '0',
    '--minutes',
    '3',
  ],
  { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
);
let out = '';
const ready = new Promise<{ url: string; password: string }>((resolve, reject) => {
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    out += chunk;
    const url = /Console\s+(\S+)/.exec(out)?.[1];
    const password = /password (\S+)/.exec(out)?.[1];
    if (url && password) resolve({ url, password });
  });
  child.once('exit', (code) => reject(new Error(`demo exited ${code}: ${out}`)));
});
const { url, password } = await ready;
console.log(`demo at ${url}; waiting for the south lanes to go offline…`);
await new Promise((r) => setTimeout(r, 100_000));

const browser = await launchChromium();
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, locale: 'en-GB' });
  await page.goto(url);
  await page.fill('input[name=username]', 'demo');
  await page.fill('input[name=password]', password);
  await page.screenshot({ path: `${images}/console-signin.png` });
  await page.click('form[data-form=signin] button[type=submit]');
  await page.waitForSelector('table[data-table=fleet] tbody tr');
  await page.waitForTimeout(1_000);
  await page.screenshot({ path: `${images}/console-fleet.png` });

  await page.click('[data-nav=exceptions]');
  await page.waitForSelector('[data-count]');
  const decline = page.locator('[data-count=post_auth_decline]');
  if ((await decline.count()) > 0) await decline.click();
  const open = page.locator('[data-open]').first();
  if ((await open.count()) > 0) await open.click();
  await page.waitForTimeout(1_000);
  await page.screenshot({ path: `${images}/console-exceptions.png` });

  await page.click('[data-nav=live]');
  await page.waitForTimeout(12_000);
  await page.screenshot({ path: `${images}/console-live.png`, fullPage: true });

  await page.click('[data-nav=risk]');
  await page.waitForSelector('table[data-table=exposure] tbody tr');
  await page.waitForTimeout(1_000);
  await page.screenshot({ path: `${images}/console-risk.png`, fullPage: true });

  await page.click('[data-nav=policies]');
  await page.waitForSelector('[data-policy-preview] table tbody tr');
  await page.fill('input[name=deviceAmount]', '150');
  await page.waitForTimeout(1_500);
  await page.screenshot({ path: `${images}/console-policies.png`, fullPage: true });

  await page.click('[data-nav=fleet]');
  await page.locator('table[data-table=fleet] tbody tr a').first().click();
  await page.waitForSelector('table[data-table=device-ops] tbody tr td + td');
  await page.waitForTimeout(1_000);
  await page.screenshot({ path: `${images}/console-device.png`, fullPage: true });

  await page.click('[data-nav=reconciliation]');
  await page.waitForTimeout(1_500);
  await page.screenshot({ path: `${images}/console-reconciliation.png` });

  await page.click('[data-nav=enroll]');
  await page.fill('input[name=label]', 'bar-7');
  await page.fill('input[name=merchant]', 'demo-venue');
  await page.fill('input[name=location]', 'north');
  await page.click('form[data-form=enroll] button[type=submit]');
  await page.waitForSelector('img[data-qr]');
  await page.screenshot({ path: `${images}/console-enrollment.png` });
  console.log(`screenshots in ${images}`);
} finally {
  await browser.close();
  child.kill('SIGINT');
}
