/**
 * Measures (does not assert) how long the console's fleet page takes to
 * render N devices in Chromium: from opening #/fleet, signed in, until the
 * table shows every row. Run:
 *
 *   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-fleet.ts [N=200] [runs=5]
 *
 * Prints the median and the range for a 10-device fleet (the baseline,
 * same run, same machine) and for N devices.
 */
import type { AddressInfo } from 'node:net';
import { createHarness, OPERATOR_PASSWORD } from '@holdfast/server/testing';
import { launchChromium } from './chromium.js';

const n = Number(process.argv[2] ?? 200);
const runs = Number(process.argv[3] ?? 5);

async function measure(devices: number): Promise<number[]> {
  const h = await createHarness();
  try {
    for (let i = 0; i < devices; i++) {
      const d = await h.enrollDevice(`lane-${String(i + 1).padStart(3, '0')}`);
      const open = d.openShift();
      await h.send(d.batch([open, d.sale(open.id, 100 + i)]));
    }
    await h.operator('bench', 'viewer');
    await h.app.listen({ host: '127.0.0.1', port: 0 });
    const base = `http://127.0.0.1:${(h.app.server.address() as AddressInfo).port}`;
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(`${base}/console/`);
      await page.fill('input[name=username]', 'bench');
      await page.fill('input[name=password]', OPERATOR_PASSWORD);
      await page.click('form[data-form=signin] button[type=submit]');
      await page.waitForSelector('[data-who]');
      const times: number[] = [];
      for (let r = 0; r < runs; r++) {
        await page.goto(`${base}/console/#/ledger`);
        await page.waitForSelector('[data-who]');
        const ms = await page.evaluate(async (expected) => {
          const t0 = performance.now();
          window.location.hash = '#/fleet';
          while (document.querySelectorAll('table[data-table=fleet] tbody tr').length < expected) {
            await new Promise((r) => requestAnimationFrame(() => r(null)));
          }
          // The frame that shows them.
          await new Promise((r) => requestAnimationFrame(() => r(null)));
          return performance.now() - t0;
        }, devices);
        times.push(ms);
      }
      return times;
    } finally {
      await browser.close();
    }
  } finally {
    await h.close();
  }
}

const report = (label: string, t: number[]) => {
  const s = [...t].sort((a, b) => a - b);
  const median = s[Math.floor(s.length / 2)] ?? 0;
  console.log(
    `${label}: median ${median.toFixed(0)} ms (min ${s[0]?.toFixed(0)}, max ${s.at(-1)?.toFixed(0)}) over ${s.length} renders`,
  );
};

report('fleet page, 10 devices (baseline)', await measure(10));
report(`fleet page, ${n} devices`, await measure(n));
