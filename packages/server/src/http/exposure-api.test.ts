/**
 * `GET /v1/admin/exposure` for a small fleet: the bound the issued policies
 * allow (per currency and placement, now and ahead of time), the devices
 * no policy covers, and the offline-approved card payments actually held
 * unsettled, ingested through the real API.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Decision, PolicyDraft, PolicyScope, SignedPolicy } from '@holdfast/protocol';
import type { ExposureAnswer } from '../risk-policies.js';
import { createHarness, type Harness, T0, type TestDevice } from '../testing/harness.js';

const DAY = 86_400_000;
const LOCAL: Decision = { mode: 'local', outcome: 'approved', policy: null, rule: 'within_limits' };
const ONLINE: Decision = { mode: 'online', outcome: 'approved', policy: null };
const DECLINED: Decision = { mode: 'local', outcome: 'declined', policy: null, rule: 'floor_limit' };

function draft(
  scope: Partial<PolicyScope>,
  device: { maxAmount: number; maxCount: number },
  floorLimit: number,
  times: { validFrom?: number; expiresAt: number } = { expiresAt: T0 + DAY },
): PolicyDraft {
  return {
    scope: { merchant: 'acme', location: null, event: null, devices: null, ...scope },
    currency: 'EUR',
    ...times,
    offline: {
      maxOfflineMs: 3_600_000,
      device,
      tenders: { card: { floorLimit, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
}

async function issue(h: Harness, d: PolicyDraft): Promise<SignedPolicy> {
  const res = await h.request<SignedPolicy>('POST', '/v1/admin/policies', { admin: true, payload: d });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

async function exposure(h: Harness, query = ''): Promise<ExposureAnswer> {
  const res = await h.request<ExposureAnswer>('GET', `/v1/admin/exposure${query}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Enrolls a device one millisecond after the last (devices are listed by enrollment time) and places it. */
async function device(h: Harness, label: string, placement: [string, string | null, string | null] | null) {
  h.clock.advance(1);
  const d = await h.enrollDevice(label);
  if (placement) {
    const [merchant, location, event] = placement;
    const res = await h.request('POST', `/v1/admin/devices/${d.id}/placement`, {
      admin: true,
      payload: { merchant, location, event },
    });
    assert.equal(res.status, 200);
  }
  return d;
}

/** Sends a shift with card sales of the amounts given, each with its decision (and one cash sale). */
async function sell(h: Harness, d: TestDevice, sales: [number, Decision][]): Promise<void> {
  const open = d.openShift();
  const ops = [
    open,
    ...sales.map(([amount, decision]) => d.cardSale(open.id, amount, decision)),
    d.sale(open.id, 1_000),
  ];
  const res = await h.send(d.batch(ops));
  assert.equal(res.status, 200);
  assert.ok(res.body.results.every((r) => r.status === 'accepted'));
}

const group = (location: string | null, event: string | null, merchant: string | null = 'acme') => ({
  currency: 'EUR',
  merchant,
  location,
  event,
});

describe('GET /v1/admin/exposure', () => {
  it('a small fleet: the bound per placement, uncovered and unplaced devices, and what is held unsettled', async () => {
    const h = await createHarness();
    try {
      const north = [
        await device(h, 'n1', ['acme', 'north', 'final-2026']),
        await device(h, 'n2', ['acme', 'north', 'final-2026']),
        await device(h, 'n3', ['acme', 'north', 'final-2026']),
      ] as [TestDevice, TestDevice, TestDevice];
      const south = await device(h, 's1', ['acme', 'south', 'final-2026']);
      const east = await device(h, 'e1', ['acme', 'east', null]);
      const globex = await device(h, 'g1', ['globex', 'north', 'final-2026']);
      const loose = await device(h, 'u1', null);

      const empty = await exposure(h);
      assert.deepEqual([empty.bound, empty.actual, empty.unplaced], [[], [], [loose.id]]);
      assert.equal(empty.uncovered.length, 6);

      // Every device of the event: cap min(20 000, 10 × 5 000) = 20 000 and 10 payments.
      await issue(h, draft({ event: 'final-2026' }, { maxAmount: 20_000, maxCount: 10 }, 5_000));
      h.clock.advance(1_000);
      // North, issued later (newer): cap min(8 000, 4 × 3 000) = 8 000 and 4.
      await issue(h, draft({ location: 'north', event: 'final-2026' }, { maxAmount: 8_000, maxCount: 4 }, 3_000));
      // East, ahead of time: from tomorrow, cap min(5 000, 5 × 1 000) = 5 000 and 5.
      await issue(
        h,
        draft({ location: 'east' }, { maxAmount: 5_000, maxCount: 5 }, 1_000, {
          validFrom: T0 + DAY,
          expiresAt: T0 + 2 * DAY,
        }),
      );

      await sell(h, north[0], [
        [4_000, LOCAL],
        [3_000, LOCAL],
        [9_000, ONLINE],
      ]);
      await sell(h, north[1], [[2_500, LOCAL]]);
      await sell(h, south, [
        [1_500, LOCAL],
        [600, DECLINED],
      ]);
      await sell(h, loose, [[700, LOCAL]]);

      const now = await exposure(h);
      assert.equal(now.at, h.clock.now());
      assert.deepEqual(now.bound, [
        // In force: north's own policy (newer). Worst: the event policy's larger caps, still possibly unsettled.
        {
          ...group('north', 'final-2026'),
          devices: 3,
          maxAmount: 24_000,
          maxCount: 12,
          worstAmount: 60_000,
          worstCount: 30,
        },
        {
          ...group('south', 'final-2026'),
          devices: 1,
          maxAmount: 20_000,
          maxCount: 10,
          worstAmount: 20_000,
          worstCount: 10,
        },
      ]);
      assert.deepEqual(now.uncovered, [east.id, globex.id]);
      assert.deepEqual(now.unplaced, [loose.id]);
      assert.deepEqual(now.actual, [
        { ...group(null, null, null), amount: 700, count: 1 },
        { ...group('north', 'final-2026'), amount: 9_500, count: 3 },
        { ...group('south', 'final-2026'), amount: 1_500, count: 1 },
      ]);

      // Tomorrow, when east's policy starts and the event's have expired.
      const tomorrow = await exposure(h, `?at=${T0 + DAY}`);
      assert.equal(tomorrow.at, T0 + DAY);
      assert.deepEqual(tomorrow.bound, [
        { ...group('east', null), devices: 1, maxAmount: 5_000, maxCount: 5, worstAmount: 5_000, worstCount: 5 },
        { ...group('north', 'final-2026'), devices: 0, maxAmount: 0, maxCount: 0, worstAmount: 60_000, worstCount: 30 },
        { ...group('south', 'final-2026'), devices: 0, maxAmount: 0, maxCount: 0, worstAmount: 20_000, worstCount: 10 },
      ]);
      assert.deepEqual(tomorrow.uncovered, [...north.map((d) => d.id), south.id, globex.id]);
      assert.deepEqual(tomorrow.actual, now.actual, 'nothing settles by itself');
    } finally {
      await h.close();
    }
  });

  it('refuses a bad `at` naming query.at', async () => {
    const h = await createHarness();
    try {
      for (const at of ['soon', '1.5', '-1', '1']) {
        const res = await h.request('GET', `/v1/admin/exposure?at=${at}`, { admin: true });
        assert.equal(res.status, 400);
        assert.deepEqual([res.error.code, res.error.field], ['invalid_request', 'query.at']);
      }
    } finally {
      await h.close();
    }
  });
});
