/**
 * The terminal's device report (protocol device-report.ts), against the
 * fake server: nothing is reported to a server that has not said, in a
 * signed feed answer, that it takes reports (a server before them refuses
 * the field); once it has, every batch says when the oldest op waiting
 * after it was recorded, and every feed poll when the oldest waiting op was,
 * with the policy held and the software (`appVersion`).
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { MANUAL_CLOCK_START } from '@holdfast/domain/testing';
import { generateDeviceKeys, policyRef, signPolicy, uuidv7 } from '@holdfast/protocol';
import { cashSale, createHarness, openTill } from './testing/harness.js';

const SERVER_KEY = generateDeviceKeys();
const HOUR = 3_600_000;
const POLICY = signPolicy(
  {
    v: 1,
    id: uuidv7(MANUAL_CLOCK_START - 1000, new Uint8Array(10).fill(7)),
    version: 4,
    issuedAt: MANUAL_CLOCK_START - 1000,
    validFrom: MANUAL_CLOCK_START - 60_000,
    expiresAt: MANUAL_CLOCK_START + 24 * HOUR,
    scope: { merchant: 'acme', location: null, event: null, devices: null },
    currency: 'EUR',
    offline: { maxOfflineMs: 4 * HOUR, device: { maxAmount: 50_000, maxCount: 20 }, tenders: {} },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  },
  SERVER_KEY.privateKey,
  'k1',
);

describe('device report (terminal)', () => {
  test('a server that never said it takes reports gets none', async () => {
    const h = await createHarness({ autoSync: false, appVersion: 'till/9.1' });
    try {
      openTill(h.terminal);
      h.terminal.recordSale(cashSale());
      await h.terminal.pollFeed();
      assert.equal((await h.terminal.syncNow()).outcome, 'idle');
      await h.terminal.pollFeed();
      assert.ok(h.server.requests.batches > 0 && h.server.requests.feeds > 1);
      assert.deepEqual(h.server.reports, []);
    } finally {
      await h.cleanup();
    }
  });

  test('once the server says so, batches and polls report the oldest op still waiting, the policy, the app', async () => {
    const h = await createHarness({ autoSync: false, batchSize: 1, appVersion: 'till/9.1' });
    try {
      h.server.takesReports = true;
      h.server.policyKeys = { k1: SERVER_KEY.publicKey };
      h.server.policy = POLICY;
      h.server.placements.set(h.terminal.deviceId as string, { merchant: 'acme', location: null, event: null });
      await h.terminal.pollFeed();
      assert.deepEqual(h.server.reports, [], 'the first poll learns; it carries nothing');
      await h.terminal.refreshPolicy();
      const policy = policyRef(POLICY.policy);

      const recordedAt: number[] = [];
      recordedAt.push(h.clock.now());
      openTill(h.terminal);
      h.clock.advance(1_000);
      recordedAt.push(h.clock.now());
      h.terminal.recordSale(cashSale());
      h.clock.advance(1_000);
      recordedAt.push(h.clock.now());
      h.terminal.recordSale(cashSale());
      h.clock.advance(1_000);
      await h.terminal.pollFeed();
      assert.equal((await h.terminal.syncNow()).outcome, 'idle');
      await h.terminal.pollFeed();
      const app = 'till/9.1';
      assert.deepEqual(h.server.reports, [
        // While three ops wait, the poll reports the first.
        { route: 'feed', report: { pendingSince: recordedAt[0], policy, app } },
        // Each batch (one op) reports the op after it, the last nothing.
        { route: 'batches', report: { pendingSince: recordedAt[1], policy, app } },
        { route: 'batches', report: { pendingSince: recordedAt[2], policy, app } },
        { route: 'batches', report: { pendingSince: null, policy, app } },
        { route: 'feed', report: { pendingSince: null, policy, app } },
      ]);
    } finally {
      await h.cleanup();
    }
  });

  test('a terminal without appVersion reports app null; a bad appVersion is refused when opening', async () => {
    const h = await createHarness({ autoSync: false });
    try {
      h.server.takesReports = true;
      await h.terminal.pollFeed();
      await h.terminal.pollFeed();
      assert.deepEqual(h.server.reports, [{ route: 'feed', report: { pendingSince: null, policy: null, app: null } }]);
      for (const appVersion of ['', 'till\n1', 'x'.repeat(65), 'café']) {
        assert.throws(() => h.openAt(`${h.dir}-bad`, { appVersion }), /appVersion must be 1\.\.64 printable ASCII/);
      }
    } finally {
      await h.cleanup();
    }
  });
});
