// Measures one staff PIN check in the till app (/till/) in headless Chromium against a real server:
// the page asks the journal worker to sign a member in (browser-staff.ts: the roster's scrypt verifier,
// N = 2^13, r = 8, p = 1, checked with noble's scryptAsync), timed from the page until the answer,
// `checks` times (default 20); beside it node:crypto's scryptSync of the same verifier in this process
// (what the Node till pays), from the same run.
// A script, not a test: it prints figures.
//   node --conditions=holdfast-src --import tsx packages/e2e/src/browser/measure-staff-pin.ts [checks]
import { checkStaffSecret, makeStaffVerifier } from '@holdfast/protocol';
import { admin, enrollmentToken, enrollTill, ms, openTillProfile, pct, startTillServer } from './till-fixture.js';

const checks = Number(process.argv[2] ?? 20);

const server = await startTillServer();
const { h, proxy } = server;
const till = await openTillProfile('measure-pin');
try {
  await admin(h, 'POST', '/v1/admin/staff', { location: 'north', id: 'ana', name: 'Ana', role: 'clerk', pin: '4821' });
  const { page } = till;
  await enrollTill(page, `${proxy.origin}/till/?till=measure&measure`, await enrollmentToken(h, 'measure'));
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
  await till.close();
  await server.close();
}
