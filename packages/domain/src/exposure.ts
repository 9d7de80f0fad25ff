/**
 * The exposure bound: the most a fleet of terminals can hold approved
 * offline and not yet settled, known from the policies alone, before the
 * gates open.
 *
 * Why it bounds the real amount (docs/risk-policy.md, "The exposure bound"):
 * `evaluateOffline` approves only if the device's counter after approval
 * stays within its policy's `offline.device` caps, and the counter drops
 * only when the server tells the device a payment settled — after the
 * server knows it did. So a device's counter is never below what it really
 * has unsettled, and never above the cap of the policy it last approved
 * under. Each approval is also at most a floor limit and at least one minor
 * unit, which caps the amount by count × floor and the count by the amount.
 * Summing over devices bounds a venue, whatever the network does.
 */
import { addAmounts, comparePolicies, type RiskPolicy, ValidationError } from '@holdfast/protocol';
import { type DevicePlacement, policyCovers } from './risk.js';

/** The most one device can hold approved offline and unsettled: amount (minor units) and count. */
export interface DeviceCap {
  amount: number;
  count: number;
}

/** The bound for one currency and one placement (merchant, location, event). */
export interface ExposureGroup {
  currency: string;
  merchant: string;
  location: string | null;
  event: string | null;
  /** Devices of this placement whose policy in force is in this currency. */
  devices: number;
  /** Σ over those devices of the cap of their policy in force (the newest): the bound once policies are steady. */
  maxAmount: number;
  maxCount: number;
  /**
   * Σ over the placement's devices of the cap of every policy given that
   * covers them and has started (in force, superseded or expired): the bound
   * while approvals made under an earlier, larger policy are still unsettled.
   * Never below `maxAmount` / `maxCount`.
   */
  worstAmount: number;
  worstCount: number;
}

export interface ExposureReport {
  /** Sorted by currency, merchant, location, event (null first). */
  groups: ExposureGroup[];
  /** Ids of the devices with no policy in force at `now`: they approve nothing offline. */
  uncovered: string[];
}

function capOf(maxAmount: number, maxCount: number, maxFloor: number): DeviceCap {
  if (maxAmount < 1 || maxCount < 1 || maxFloor < 1) return { amount: 0, count: 0 };
  // maxCount × maxFloor may pass 2^53 only when it is far above maxAmount (≤ 10^12), so min stays exact.
  const amount = Math.min(maxAmount, maxCount * maxFloor);
  return { amount, count: Math.min(maxCount, amount) };
}

function maxFloor(policy: RiskPolicy): number {
  let floor = 0;
  for (const tender of Object.values(policy.offline.tenders)) {
    if (tender !== undefined && tender.floorLimit > floor) floor = tender.floorLimit;
  }
  return floor;
}

/**
 * The most one device can hold approved offline and unsettled under
 * `policy` alone: `min(device.maxAmount, device.maxCount × largest floor
 * limit)` and `min(device.maxCount, that amount)`; zero when no tender may
 * go offline.
 */
export function deviceCap(policy: RiskPolicy): DeviceCap {
  return capOf(policy.offline.device.maxAmount, policy.offline.device.maxCount, maxFloor(policy));
}

/**
 * The cap covering approvals made under any of `policies` (one currency):
 * the counter is at most the amount cap of the policy of the device's last
 * approval, the count likewise, and each approval at most the largest floor.
 */
function combinedCap(policies: readonly RiskPolicy[]): DeviceCap {
  let amount = 0;
  let count = 0;
  let floor = 0;
  for (const p of policies) {
    if (deviceCap(p).amount === 0) continue; // nothing was ever approved under it
    amount = Math.max(amount, p.offline.device.maxAmount);
    count = Math.max(count, p.offline.device.maxCount);
    floor = Math.max(floor, maxFloor(p));
  }
  return capOf(amount, count, floor);
}

/** Whether `policy` is in force at `now`: `validFrom ≤ now < expiresAt`. */
export function policyInForce(policy: RiskPolicy, now: number): boolean {
  return policy.validFrom <= now && now < policy.expiresAt;
}

/**
 * The worst-case offline exposure of `devices` at `now`, per currency and
 * placement. Each device counts the newest policy in force that covers it
 * (`comparePolicies`); for `worstAmount` / `worstCount`, pass every policy
 * under which approvals may still be unsettled (e.g. every policy issued
 * for the event), expired ones included. Throws ValidationError if a device
 * is listed twice, RangeError if a sum leaves the exact-integer range.
 */
export function exposureBound(
  policies: readonly RiskPolicy[],
  devices: readonly DevicePlacement[],
  now: number,
): ExposureReport {
  if (!Number.isSafeInteger(now)) throw new ValidationError('now', 'safe integer (ms)', String(now));
  const groups = new Map<string, ExposureGroup>();
  const group = (currency: string, d: DevicePlacement): ExposureGroup => {
    const key = JSON.stringify([currency, d.merchant, d.location, d.event]);
    let g = groups.get(key);
    if (!g) {
      g = {
        currency,
        merchant: d.merchant,
        location: d.location,
        event: d.event,
        devices: 0,
        maxAmount: 0,
        maxCount: 0,
        worstAmount: 0,
        worstCount: 0,
      };
      groups.set(key, g);
    }
    return g;
  };
  const uncovered: string[] = [];
  const seen = new Set<string>();
  devices.forEach((d, i) => {
    if (seen.has(d.id)) throw new ValidationError(`devices[${i}].id`, 'each device listed once', JSON.stringify(d.id));
    seen.add(d.id);
    const started = policies.filter((p) => p.validFrom <= now && policyCovers(p, d));
    let current: RiskPolicy | null = null;
    for (const p of started) {
      if (policyInForce(p, now) && (current === null || comparePolicies(p, current) > 0)) current = p;
    }
    if (current === null) uncovered.push(d.id);
    else {
      const g = group(current.currency, d);
      const cap = deviceCap(current);
      g.devices += 1;
      g.maxAmount = addAmounts(g.maxAmount, cap.amount);
      g.maxCount = addAmounts(g.maxCount, cap.count);
    }
    const currencies = new Set(started.map((p) => p.currency));
    for (const currency of currencies) {
      const cap = combinedCap(started.filter((p) => p.currency === currency));
      if (cap.amount === 0 && current?.currency !== currency) continue;
      const g = group(currency, d);
      g.worstAmount = addAmounts(g.worstAmount, cap.amount);
      g.worstCount = addAmounts(g.worstCount, cap.count);
    }
  });
  const order = (a: string | null, b: string | null) =>
    a === b ? 0 : a === null ? -1 : b === null ? 1 : a < b ? -1 : 1;
  const sorted = [...groups.values()].sort(
    (a, b) =>
      order(a.currency, b.currency) ||
      order(a.merchant, b.merchant) ||
      order(a.location, b.location) ||
      order(a.event, b.event),
  );
  return { groups: sorted, uncovered };
}
