/**
 * `holdfast demo --live`: the demo in real time, for the operator console.
 *
 * Starts a real server on a port (SQLite in a temporary directory, card
 * payments forwarded to an in-process processor simulator), creates an
 * operator account with a fresh password, and runs terminals (real SDK,
 * real journals, HTTP) that sell every couple of seconds through a
 * repeating script of trouble: a zone's lanes lose the network for a
 * while (they keep selling offline, then deliver), a stolen card is sold
 * offline (declined after authorization), a drawer is counted short, and
 * one lane goes silent for good. It prints the console's address and the
 * sign-in, and runs until Ctrl-C (or --minutes).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startProcessorSim } from '@holdfast/processor-sim';
import type { PolicyDraft } from '@holdfast/protocol';
import { startServer } from '@holdfast/server';
import { HttpTransport, Terminal } from '@holdfast/terminal';
import { cliAppVersion } from './app-version.js';

export interface LiveDemoOptions {
  port: number;
  host: string;
  terminals: number;
  /** Stop after this many minutes; null: run until SIGINT/SIGTERM. */
  minutes: number | null;
}

/** One cycle of the script, in seconds. */
const CYCLE_S = 180;
/** The south zone is offline from..to (seconds into each cycle). */
const PARTITION: readonly [number, number] = [60, 120];
const STOLEN_CARD = 'tok_demo_stolen_0001';
const MERCHANT = 'demo-venue';

function policy(location: string): PolicyDraft {
  return {
    scope: { merchant: MERCHANT, location, event: null, devices: null },
    currency: 'EUR',
    expiresAt: Date.now() + 7 * 86_400_000,
    offline: {
      maxOfflineMs: 3_600_000,
      device: { maxAmount: 50_000, maxCount: 40 },
      tenders: { card: { floorLimit: 6_000, instrument: { maxAmount: 20_000, maxCount: 10, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function runLiveDemo(options: LiveDemoOptions): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-live-demo-'));
  const processor = await startProcessorSim({
    dataDir: join(dir, 'processor'),
    seed: 7,
    synchronous: 'OFF',
    cards: { [STOLEN_CARD]: { blocked: true } },
  });
  const server = await startServer({
    dataDir: join(dir, 'server'),
    port: options.port,
    host: options.host,
    logger: false,
    processor: { url: processor.url, apiKey: processor.apiKey, intervalMs: 1_000 },
  });
  const terminals: Terminal[] = [];
  let stopping = false;
  const stop = () => {
    stopping = true;
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    const admin = async <T>(method: string, path: string, body?: unknown): Promise<T> => {
      const res = await fetch(`${server.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${server.operatorToken}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      const text = await res.text();
      if (!res.ok) throw new Error(`${method} ${path}: HTTP ${res.status} ${text}`);
      return JSON.parse(text) as T;
    };
    const password = randomBytes(12).toString('base64url');
    await admin('POST', '/v1/admin/operators', { username: 'demo', role: 'admin', password });
    await admin('POST', '/v1/admin/policies', policy('north'));
    await admin('POST', '/v1/admin/policies', policy('south'));

    const lanes: { t: Terminal; zone: 'north' | 'south'; label: string }[] = [];
    for (let i = 0; i < options.terminals; i++) {
      const zone = i % 2 === 0 ? 'north' : 'south';
      const label = `${zone}-${Math.floor(i / 2) + 1}`;
      const { token } = await admin<{ token: string }>('POST', '/v1/admin/enrollment-tokens', {
        label,
        merchant: MERCHANT,
        location: zone,
      });
      const t = Terminal.open({
        dataDir: join(dir, label),
        transport: new HttpTransport(server.url),
        autoSync: false,
        idlePingMs: 0,
        offlineCardPolicy: 'enforce',
        appVersion: cliAppVersion('holdfast-demo'),
      });
      terminals.push(t);
      await t.enroll(token, label);
      await t.refreshPolicy();
      t.openShift({ clerk: `clerk-${label}`, currency: 'EUR', openingFloat: 10_000 });
      lanes.push({ t, zone, label });
    }

    const consoleUrl = `${server.url.replace('://0.0.0.0', '://127.0.0.1')}/console/`;
    console.log(
      [
        'Holdfast live demo: a real server and terminals selling in real time.',
        '',
        `  Console   ${consoleUrl}`,
        '  Sign in   username demo',
        `            password ${password}`,
        '',
        `  ${lanes.length} lanes (${lanes.map((l) => l.label).join(', ')}); every ${CYCLE_S / 60} minutes: the south lanes lose`,
        `  the network (seconds ${PARTITION[0]}–${PARTITION[1]}), a stolen card is sold offline on north-1, a drawer is counted short;`,
        `  ${lanes.at(-1)?.label ?? 'the last lane'} goes silent for good after the first cycle. Ctrl-C stops (data in ${dir}, removed).`,
      ].join('\n'),
    );

    const started = Date.now();
    const silent = lanes.at(-1);
    let second = 0;
    let lastCycle = -1;
    while (!stopping) {
      if (options.minutes !== null && Date.now() - started >= options.minutes * 60_000) break;
      const inCycle = second % CYCLE_S;
      const cycle = Math.floor(second / CYCLE_S);
      const partitioned = inCycle >= PARTITION[0] && inCycle < PARTITION[1];
      for (const [i, lane] of lanes.entries()) {
        if (cycle >= 1 && lane === silent) continue; // its battery died
        if ((second + i) % 2 !== 0) continue; // a sale every 2 s per lane
        const amount = 300 + ((second * 37 + i * 101) % 4_500);
        const byCard = (second + i) % 3 === 0;
        const stolen = lane.label === 'north-1' && inCycle === 20;
        try {
          lane.t.recordSale({
            lines: [{ sku: 'DRINK', name: 'Drink', qty: 1, unitPrice: amount }],
            tenders:
              byCard || stolen
                ? [
                    {
                      type: 'card',
                      amount,
                      token: stolen ? STOLEN_CARD : `tok_demo_${lane.label}_${second % 50}`,
                      brand: 'visa',
                      last4: stolen ? '0002' : '4242',
                    },
                  ]
                : [{ type: 'cash', amount, tendered: amount }],
          });
        } catch {
          // Refused offline by the policy (a limit reached): the customer pays cash.
          lane.t.recordSale({
            lines: [{ sku: 'DRINK', name: 'Drink', qty: 1, unitPrice: amount }],
            tenders: [{ type: 'cash', amount, tendered: amount }],
          });
        }
        if (!(partitioned && lane.zone === 'south')) await lane.t.syncNow().catch(() => undefined);
      }
      // Each cycle's end: shifts are counted and closed (one drawer 5.00 short), and new ones opened.
      if (cycle !== lastCycle && cycle > 0) {
        for (const [i, lane] of lanes.entries()) {
          if (lane === silent) continue;
          const s = lane.t.currentShift();
          if (!s) continue;
          const expected = s.openingFloat + s.cashSales + s.cashIn - s.cashOut;
          lane.t.closeShift({ countedCash: i === 0 ? expected - 500 : expected });
          lane.t.openShift({ clerk: `clerk-${lane.label}`, currency: 'EUR', openingFloat: 10_000 });
          await lane.t.syncNow().catch(() => undefined);
        }
      }
      lastCycle = cycle;
      second++;
      await sleep(1_000);
    }
    console.log('Stopping the live demo.');
    return 0;
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
    for (const t of terminals) await t.close().catch(() => undefined);
    await server.close();
    await processor.close();
    rmSync(dir, { recursive: true, force: true });
  }
}
