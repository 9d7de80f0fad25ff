/**
 * Stock at the till (stock.ts): the last-known levels delivered by the
 * feed and kept across a restart, the till's own sales since reserved
 * softly, a warning when it believes an item is out (the sale recorded),
 * a refusal only under a policy that blocks, stock ops only at the till's
 * own location, and levels for another location refused from the feed.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import {
  generateDeviceKeys,
  type RiskPolicy,
  type SaleLine,
  signPolicy,
  uuidv7,
  ValidationError,
} from '@holdfast/protocol';
import { StockError, type StockErrorCode } from './stock.js';
import { createHarness, type Harness, openTill } from './testing/harness.js';

const SERVER_KEY = generateDeviceKeys();
const PLACEMENT = { merchant: 'acme', location: 'stand-1', event: null };
const HOUR = 3_600_000;

function policy(blockWhenOut: boolean | null): RiskPolicy {
  const issuedAt = MANUAL_CLOCK_START - 1000;
  return {
    v: 1,
    id: uuidv7(issuedAt, new Uint8Array(10).fill(blockWhenOut ? 2 : 1)),
    version: 1,
    issuedAt,
    validFrom: issuedAt - 60_000,
    expiresAt: issuedAt + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: { maxOfflineMs: 4 * HOUR, device: { maxAmount: 10_000, maxCount: 10 }, tenders: {} },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
    ...(blockWhenOut === null ? {} : { stock: { blockWhenOut } }),
  };
}

async function till(blockWhenOut: boolean | null = null): Promise<Harness> {
  const h = await createHarness({ enroll: false, autoSync: false, placement: PLACEMENT });
  h.server.policyKeys = { k1: SERVER_KEY.publicKey };
  h.server.policy = signPolicy(policy(blockWhenOut), SERVER_KEY.privateKey, 'k1');
  const { deviceId } = await h.terminal.enroll(h.server.createToken('till-1'), 'till-1');
  h.server.placements.set(deviceId, PLACEMENT);
  await h.terminal.refreshPolicy();
  openTill(h.terminal);
  return h;
}

const beer = (qty: number) => {
  const lines: SaleLine[] = [{ sku: 'BEER-05', name: 'Beer', qty, unitPrice: 500 }];
  return { lines, tenders: [{ type: 'cash' as const, amount: 500 * qty, tendered: 500 * qty }] };
};

const code = (expected: StockErrorCode) => (error: unknown) => {
  assert.ok(error instanceof StockError, String(error));
  assert.equal(error.code, expected, error.message);
  return true;
};

describe('stock at the till', () => {
  test('last-known levels from the feed, own sales reserved softly, a warning when out, kept across a restart', async () => {
    const h = await till();
    try {
      assert.equal(h.terminal.stock.version(), 0);
      assert.deepEqual(h.terminal.stock.check(beer(50).lines), [], 'nothing known: nothing to say');
      // The server knew 3 beers and 10 pretzels when it read this till's ops up to seq 1 (the shift).
      h.server.stock = {
        location: 'stand-1',
        version: 7,
        throughSeq: 1,
        levels: [
          { sku: 'BEER-05', qty: 3 },
          { sku: 'PRETZEL', qty: 10 },
        ],
      };
      const polled = await h.terminal.pollFeed();
      assert.equal(polled.stockRefused, null);
      assert.equal(h.terminal.stock.version(), 7);
      h.terminal.recordSale(beer(2));
      assert.equal(h.terminal.stock.believed().get('BEER-05'), 1, 'its own sale since the level is reserved');
      assert.deepEqual(h.terminal.stock.check(beer(2).lines), [{ sku: 'BEER-05', believed: 1, selling: 2 }]);
      // Without a blocking policy the clerk is warned and the sale is a fact.
      h.terminal.recordSale(beer(2));
      assert.equal(h.terminal.stock.believed().get('BEER-05'), -1);
      const reopened = await h.reopen();
      assert.equal(reopened.stock.version(), 7);
      assert.equal(reopened.stock.believed().get('BEER-05'), -1);
      assert.equal(reopened.stock.believed().get('PRETZEL'), 10);
      // A newer level replaces it; the request names the version held, so the same one is not sent again.
      h.server.stock = { ...h.server.stock, version: 9, throughSeq: 3, levels: [{ sku: 'BEER-05', qty: 0 }] };
      await reopened.pollFeed();
      assert.equal(reopened.stock.believed().get('BEER-05'), 0);
      assert.equal(reopened.stock.believed().has('PRETZEL'), false);
    } finally {
      await h.cleanup();
    }
  });

  test('a policy that blocks refuses the sale before anything is written; receiving lifts it', async () => {
    const h = await till(true);
    try {
      h.server.stock = { location: 'stand-1', version: 1, throughSeq: 1, levels: [{ sku: 'BEER-05', qty: 1 }] };
      await h.terminal.pollFeed();
      const before = h.terminal.status().pending;
      assert.throws(() => h.terminal.recordSale(beer(2)), code('out_of_stock'));
      assert.equal(h.terminal.status().pending, before, 'nothing recorded');
      h.terminal.recordStock('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 5 });
      h.terminal.recordSale(beer(2));
      assert.equal(h.terminal.stock.believed().get('BEER-05'), 4);
      // Items the server does not track are never blocked.
      h.terminal.recordSale({
        lines: [{ sku: 'COFFEE', name: 'Coffee', qty: 9, unitPrice: 100 }],
        tenders: [{ type: 'cash', amount: 900, tendered: 900 }],
      });
    } finally {
      await h.cleanup();
    }
  });

  test('stock ops only at the till’s own location, whole positive quantities; foreign levels refused', async () => {
    const h = await till();
    try {
      const before = h.terminal.status().pending;
      assert.throws(
        () => h.terminal.recordStock('stock.counted', { location: 'stand-2', sku: 'BEER-05', counted: 4 }),
        code('stock_other_location'),
      );
      assert.throws(
        () => h.terminal.recordStock('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: 1.5 }),
        (e: unknown) => e instanceof ValidationError && e.field === 'body.qty',
      );
      assert.throws(
        () => h.terminal.recordStock('stock.received', { location: 'stand-1', sku: 'BEER-05', qty: -2 }),
        (e: unknown) => e instanceof ValidationError && e.field === 'body.qty',
      );
      assert.equal(h.terminal.status().pending, before, 'nothing recorded');
      h.server.stock = { location: 'stand-2', version: 3, throughSeq: 0, levels: [{ sku: 'BEER-05', qty: 9 }] };
      const polled = await h.terminal.pollFeed();
      assert.match(String(polled.stockRefused), /stand-1/);
      assert.equal(h.terminal.stock.version(), 0, 'the levels of another location are not kept');
    } finally {
      await h.cleanup();
    }
  });
});
