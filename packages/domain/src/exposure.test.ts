import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type RiskPolicy, uuidv7, ValidationError } from '@holdfast/protocol';
import fc from 'fast-check';
import { deviceCap, type ExposureGroup, exposureBound, policyInForce } from './exposure.js';
import {
  type DevicePlacement,
  EMPTY_EXPOSURE,
  evaluateOffline,
  type OfflineExposure,
  recordApproval,
  releaseSettled,
} from './risk.js';

const T0 = 1_790_000_000_000;
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const bytes = (n: number) => new Uint8Array(10).fill(n);
const device = (n: number, location: string | null = 'north', event: string | null = 'final'): DevicePlacement => ({
  id: uuidv7(T0, bytes(n)),
  merchant: 'acme',
  location,
  event,
});
const D1 = device(1);
const D2 = device(2);
const D3 = device(3, 'south');

let nextId = 100;
/** A policy in force from T0 − 1h to T0 + 1 day for every device of acme/north/final: 1000.00 EUR and 40 approvals per device. */
function makePolicy(edit?: (p: RiskPolicy) => void): RiskPolicy {
  const p: RiskPolicy = {
    v: 1,
    id: uuidv7(T0, bytes(nextId++ % 256)),
    version: 1,
    issuedAt: T0 - HOUR,
    validFrom: T0 - HOUR,
    expiresAt: T0 + DAY,
    scope: { merchant: 'acme', location: 'north', event: 'final', devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: DAY,
      device: { maxAmount: 100_000, maxCount: 40 },
      tenders: {
        card: { floorLimit: 5_000, instrument: { maxAmount: 20_000, maxCount: 10, velocity: null } },
        wristband: { floorLimit: 2_000, instrument: { maxAmount: 10_000, maxCount: 10, velocity: null } },
      },
    },
    online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
  };
  edit?.(p);
  return p;
}

function group(partial: Partial<ExposureGroup>): ExposureGroup {
  return {
    currency: 'EUR',
    merchant: 'acme',
    location: 'north',
    event: 'final',
    devices: 0,
    maxAmount: 0,
    maxCount: 0,
    worstAmount: 0,
    worstCount: 0,
    ...partial,
  };
}

describe('deviceCap', () => {
  it('is the device caps when the floor limits do not bind', () => {
    assert.deepEqual(deviceCap(makePolicy()), { amount: 100_000, count: 40 });
  });

  it('is at most maxCount × the largest floor limit, and the count at most the amount', () => {
    const few = makePolicy((p) => (p.offline.device = { maxAmount: 100_000, maxCount: 3 }));
    assert.deepEqual(deviceCap(few), { amount: 15_000, count: 3 });
    const tiny = makePolicy((p) => (p.offline.device = { maxAmount: 5, maxCount: 40 }));
    assert.deepEqual(deviceCap(tiny), { amount: 5, count: 5 });
  });

  it('is zero when nothing can be approved offline', () => {
    assert.deepEqual(deviceCap(makePolicy((p) => (p.offline.tenders = {}))), { amount: 0, count: 0 });
    assert.deepEqual(deviceCap(makePolicy((p) => (p.offline.device.maxCount = 0))), { amount: 0, count: 0 });
    assert.deepEqual(deviceCap(makePolicy((p) => (p.offline.device.maxAmount = 0))), { amount: 0, count: 0 });
    const zeroFloors = makePolicy((p) => {
      if (p.offline.tenders.card) p.offline.tenders.card.floorLimit = 0;
      if (p.offline.tenders.wristband) p.offline.tenders.wristband.floorLimit = 0;
    });
    assert.deepEqual(deviceCap(zeroFloors), { amount: 0, count: 0 });
  });
});

describe('exposureBound', () => {
  it('sums the caps of the devices of one placement', () => {
    const report = exposureBound([makePolicy()], [D1, D2], T0);
    assert.deepEqual(report, {
      groups: [group({ devices: 2, maxAmount: 200_000, maxCount: 80, worstAmount: 200_000, worstCount: 80 })],
      uncovered: [],
    });
  });

  it('groups by currency and placement, sorted, and lists devices no policy covers', () => {
    const south = makePolicy((p) => {
      p.scope.location = 'south';
      p.currency = 'CHF';
      p.offline.device.maxAmount = 30_000;
    });
    const outsider = device(9, 'west');
    const report = exposureBound([makePolicy(), south], [D1, D3, outsider, D2], T0);
    assert.deepEqual(report.groups, [
      group({
        currency: 'CHF',
        location: 'south',
        devices: 1,
        maxAmount: 30_000,
        maxCount: 40,
        worstAmount: 30_000,
        worstCount: 40,
      }),
      group({ devices: 2, maxAmount: 200_000, maxCount: 80, worstAmount: 200_000, worstCount: 80 }),
    ]);
    assert.deepEqual(report.uncovered, [outsider.id]);
  });

  it('counts only policies in force at `now` (validFrom ≤ now < expiresAt)', () => {
    const p = makePolicy();
    assert.equal(policyInForce(p, p.validFrom - 1), false);
    assert.equal(policyInForce(p, p.validFrom), true);
    assert.equal(policyInForce(p, p.expiresAt - 1), true);
    assert.equal(policyInForce(p, p.expiresAt), false);
    assert.deepEqual(exposureBound([p], [D1], p.validFrom - 1), { groups: [], uncovered: [D1.id] });
    assert.equal(exposureBound([p], [D1], p.validFrom).groups[0]?.maxAmount, 100_000);
    const expired = exposureBound([p], [D1], p.expiresAt);
    assert.deepEqual(expired.uncovered, [D1.id]);
    assert.deepEqual(expired.groups, [group({ devices: 0, worstAmount: 100_000, worstCount: 40 })]);
  });

  it('reads a policy issued ahead for the event: the bound before the gates open', () => {
    const gates = T0 + 2 * DAY;
    const event = makePolicy((p) => {
      p.issuedAt = T0;
      p.validFrom = gates;
      p.expiresAt = gates + DAY;
      p.offline.device.maxAmount = 40_000;
    });
    assert.equal(exposureBound([event], [D1, D2], T0).groups.length, 0);
    assert.equal(exposureBound([event], [D1, D2], gates).groups[0]?.maxAmount, 80_000);
  });

  it('takes the newest policy in force for the steady bound, and the largest for the worst case', () => {
    const old = makePolicy();
    const lowered = makePolicy((p) => {
      p.version = 2;
      p.issuedAt = T0;
      p.validFrom = T0;
      p.offline.device = { maxAmount: 20_000, maxCount: 10 };
    });
    const report = exposureBound([lowered, old], [D1], T0);
    assert.deepEqual(report.groups, [
      group({ devices: 1, maxAmount: 20_000, maxCount: 10, worstAmount: 100_000, worstCount: 40 }),
    ]);
    const raised = makePolicy((p) => {
      p.version = 3;
      p.issuedAt = T0 + 1;
      p.validFrom = T0;
      p.offline.device = { maxAmount: 300_000, maxCount: 60 };
    });
    const after = exposureBound([old, lowered, raised], [D1], T0 + 1);
    assert.equal(after.groups[0]?.maxAmount, 300_000);
    assert.equal(after.groups[0]?.worstAmount, 300_000);
  });

  it('after a cap is lowered, a device keeps its old approvals: above the new cap, within the worst case', () => {
    const old = makePolicy();
    const lowered = makePolicy((p) => {
      p.version = 2;
      p.issuedAt = T0;
      p.validFrom = T0;
      p.offline.device = { maxAmount: 10_000, maxCount: 10 };
    });
    let exposure = EMPTY_EXPOSURE;
    const context = { now: T0 - 1, lastServerContactAt: T0 - 1, device: D1, policyValid: true };
    for (let n = 0; n < 8; n++) {
      const request = {
        kind: 'sale.recorded',
        tender: 'card' as const,
        amount: 5_000,
        currency: 'EUR',
        instrument: `c${n}`,
      };
      assert.equal(evaluateOffline(old, exposure, request, context).outcome, 'approve');
      exposure = recordApproval(exposure, request, context.now, `op-${n}`);
    }
    const now = T0;
    const [g] = exposureBound([old, lowered], [D1], now).groups;
    assert.equal(exposure.amount, 40_000);
    assert.ok(g && exposure.amount > g.maxAmount && exposure.amount <= g.worstAmount);
    const next = { kind: 'sale.recorded', tender: 'card' as const, amount: 1, currency: 'EUR', instrument: 'c9' };
    const blocked = evaluateOffline(lowered, exposure, next, { ...context, now });
    assert.equal(blocked.rule, 'device_amount', 'no new approval until settlements bring it under the new cap');
    const settled = releaseSettled(exposure, ['op-0', 'op-1', 'op-2', 'op-3', 'op-4', 'op-5', 'op-6']);
    assert.equal(evaluateOffline(lowered, settled, next, { ...context, now }).rule, 'within_limits');
  });

  it('gives nothing for a policy that lets no tender go offline, and no worst case from it', () => {
    const cashOnly = makePolicy((p) => (p.offline.tenders = {}));
    assert.deepEqual(exposureBound([cashOnly], [D1], T0).groups, [group({ devices: 1 })]);
  });

  it('respects a scope that lists devices', () => {
    const listed = makePolicy((p) => (p.scope.devices = [D2.id]));
    const report = exposureBound([listed], [D1, D2], T0);
    assert.equal(report.groups[0]?.devices, 1);
    assert.deepEqual(report.uncovered, [D1.id]);
  });

  it('refuses a device listed twice', () => {
    assert.throws(
      () => exposureBound([makePolicy()], [D1, D2, D1], T0),
      (e: unknown) => e instanceof ValidationError && e.field === 'devices[2].id',
    );
  });
});

describe('property: the bound holds across policy changes', () => {
  const capsArb = fc.record({
    maxAmount: fc.integer({ min: 0, max: 300 }),
    maxCount: fc.integer({ min: 0, max: 12 }),
    floor: fc.integer({ min: 0, max: 80 }),
  });
  const stepArb = fc.oneof(
    {
      weight: 6,
      arbitrary: fc.record({
        type: fc.constant('pay' as const),
        device: fc.integer({ min: 0, max: 2 }),
        amount: fc.integer({ min: 1, max: 90 }),
        card: fc.integer({ min: 0, max: 5 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        type: fc.constant('settle' as const),
        device: fc.integer({ min: 0, max: 2 }),
        pick: fc.nat(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ type: fc.constant('issue' as const), caps: capsArb }) },
  );

  it('no device holds more than the worst case, and the fleet no more than the sum', () => {
    const devices = [D1, D2, device(4)];
    fc.assert(
      fc.property(capsArb, fc.array(stepArb, { maxLength: 60 }), (first, steps) => {
        const policyOf = (caps: { maxAmount: number; maxCount: number; floor: number }, version: number, at: number) =>
          makePolicy((p) => {
            p.version = version;
            p.issuedAt = at;
            p.validFrom = at;
            p.offline.device = { maxAmount: caps.maxAmount, maxCount: caps.maxCount };
            p.offline.tenders = {
              card: { floorLimit: caps.floor, instrument: { maxAmount: 10_000, maxCount: 100, velocity: null } },
            };
          });
        const policies = [policyOf(first, 1, T0)];
        const exposures: OfflineExposure[] = devices.map(() => EMPTY_EXPOSURE);
        let now = T0;
        steps.forEach((step, i) => {
          now += 1;
          if (step.type === 'issue') {
            policies.push(policyOf(step.caps, policies.length + 1, now));
          } else if (step.type === 'settle') {
            const exposure = exposures[step.device] as OfflineExposure;
            const ids = [...exposure.approvals.keys()];
            if (ids.length > 0)
              exposures[step.device] = releaseSettled(exposure, [ids[step.pick % ids.length] as string]);
          } else {
            // A device holds the newest policy it received; it may not have received the newest issued.
            const held = policies[Math.max(0, policies.length - 1 - (step.card % 2))] as RiskPolicy;
            const request = {
              kind: 'sale.recorded',
              tender: 'card' as const,
              amount: step.amount,
              currency: 'EUR',
              instrument: `c${step.card}`,
            };
            const d = devices[step.device] as DevicePlacement;
            const exposure = exposures[step.device] as OfflineExposure;
            const decision = evaluateOffline(held, exposure, request, {
              now,
              lastServerContactAt: now,
              device: d,
              policyValid: true,
            });
            if (decision.outcome === 'approve')
              exposures[step.device] = recordApproval(exposure, request, now, `op-${i}`);
          }
          const report = exposureBound(policies, devices, now);
          const g = report.groups[0];
          const total = exposures.reduce((n, e) => n + e.amount, 0);
          const count = exposures.reduce((n, e) => n + e.count, 0);
          assert.ok(total <= (g?.worstAmount ?? 0), `fleet holds ${total}, worst case ${g?.worstAmount}`);
          assert.ok(count <= (g?.worstCount ?? 0), `fleet holds ${count} approvals, worst case ${g?.worstCount}`);
          const single = exposureBound(policies, [D1], now).groups[0];
          for (const e of exposures) assert.ok(e.amount <= (single?.worstAmount ?? 0));
        });
        // Once every approval has settled and devices hold only the newest policy, the steady bound holds again.
        const newest = policies.at(-1) as RiskPolicy;
        const fresh = devices
          .map(() => EMPTY_EXPOSURE)
          .map((e, k) => {
            let exposure = e;
            for (let n = 0; n < 50; n++) {
              const request = {
                kind: 'sale.recorded',
                tender: 'card' as const,
                amount: 1 + (n % 7),
                currency: 'EUR',
                instrument: `c${n % 3}`,
              };
              const d = devices[k] as DevicePlacement;
              const decision = evaluateOffline(newest, exposure, request, {
                now,
                lastServerContactAt: now,
                device: d,
                policyValid: true,
              });
              if (decision.outcome === 'approve') exposure = recordApproval(exposure, request, now, `fresh-${n}`);
            }
            return exposure;
          });
        const steady = exposureBound([newest], devices, now).groups[0];
        assert.ok(fresh.reduce((n, e) => n + e.amount, 0) <= (steady?.maxAmount ?? 0));
      }),
      { numRuns: 200 },
    );
  });
});
