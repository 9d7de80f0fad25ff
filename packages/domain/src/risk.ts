/**
 * Offline authorization: whether a terminal may approve a payment without
 * the server, as a pure function of the risk policy, what the device has
 * already approved offline, the request and the time.
 *
 * `evaluateOffline` reads no clock and keeps no state, so the server can
 * re-run it on an arriving op with the same inputs (the policy version the
 * op names, the exposure rebuilt from the device's earlier ops, the op's
 * `at`) and tell a terminal that broke its policy from one that did not.
 * The order of the checks is part of the contract (docs/risk-policy.md):
 *
 *    invalid_request ─▶ online_only_kind ─▶ refund_above ─▶ loyalty_redemption_above
 *      ─▶ cash ─▶ no_policy ─▶ policy_invalid ─▶ policy_scope ─▶ policy_not_yet_valid
 *      ─▶ policy_expired ─▶ max_offline_duration ─▶ currency ─▶ tender_not_allowed
 *      ─▶ floor_limit ─▶ device_amount ─▶ device_count ─▶ instrument_amount
 *      ─▶ instrument_count ─▶ instrument_velocity ─▶ within_limits (approve)
 *
 * The first check that fires decides. Nothing here guesses: without a
 * policy that is trusted, covers the device and is in force, a card or
 * wristband payment needs the server.
 */
import {
  formatMoney,
  MAX_AMOUNT,
  type OfflineTender,
  policyRef,
  type RiskPolicy,
  type SignedPolicy,
  ValidationError,
} from '@holdfast/protocol';

/** Every rule an evaluation can end on, in evaluation order. */
export const RISK_RULES = [
  'invalid_request',
  'online_only_kind',
  'refund_above',
  'loyalty_redemption_above',
  'cash',
  'no_policy',
  'policy_invalid',
  'policy_scope',
  'policy_not_yet_valid',
  'policy_expired',
  'max_offline_duration',
  'currency',
  'tender_not_allowed',
  'floor_limit',
  'device_amount',
  'device_count',
  'instrument_amount',
  'instrument_count',
  'instrument_velocity',
  'within_limits',
] as const;
export type RiskRule = (typeof RISK_RULES)[number];

/**
 * `approve`: the terminal may approve now. `needs_online`: only the server
 * may approve; offline, the terminal declines. `decline`: the request
 * itself is malformed and nobody should approve it.
 */
export type OfflineOutcome = 'approve' | 'needs_online' | 'decline';

/** Where a device belongs, as its policy's scope names it. */
export interface DevicePlacement {
  id: string;
  merchant: string;
  location: string | null;
  event: string | null;
}

export type RequestTender = 'cash' | OfflineTender;

/** A payment (or other money op) the terminal is about to record. */
export interface OfflineRequest {
  /** Op kind, e.g. `sale.recorded`. */
  kind: string;
  tender: RequestTender;
  /** Positive, minor units of `currency`. */
  amount: number;
  currency: string;
  /** Card token or wristband id; required for card and wristband, ignored for cash. */
  instrument: string | null;
  isRefund?: boolean;
  isLoyaltyRedemption?: boolean;
}

export interface OfflineContext {
  /** The device clock now; the op records the same reading as `at`. */
  now: number;
  /** Device clock at the last successful server response, or null if there never was one. */
  lastServerContactAt: number | null;
  device: DevicePlacement;
  /** True only if the policy's signature was verified (protocol `verifyPolicy`). */
  policyValid: boolean;
}

export interface OfflineDecision {
  outcome: OfflineOutcome;
  rule: RiskRule;
  /** For the clerk and the log, with the figures that decided. */
  message: string;
  /** policyRef of the policy consulted, or null when there was none. */
  policy: string | null;
}

/** One payment this device approved offline and has not been told is settled. */
export interface OfflineApproval {
  /** Id of the op that recorded it: the key a settlement notice releases it by. */
  id: string;
  tender: OfflineTender;
  instrument: string;
  amount: number;
  currency: string;
  /** Device clock at approval. */
  at: number;
}

/** One instrument's share of an exposure. `uses` are approval times, ascending (for velocity). */
export interface InstrumentExposure {
  readonly amount: number;
  readonly count: number;
  readonly uses: readonly number[];
}

/**
 * What one device has approved offline and not yet been told is settled.
 * `amount`, `count` and `byInstrument` are derived from `approvals`, so
 * they always agree with it; build one with `exposureOf`.
 */
export interface OfflineExposure {
  readonly amount: number;
  readonly count: number;
  /** Keyed by `instrumentKey(tender, instrument)`. */
  readonly byInstrument: ReadonlyMap<string, InstrumentExposure>;
  /** Keyed by op id. */
  readonly approvals: ReadonlyMap<string, OfflineApproval>;
}

/** The key of an instrument in `byInstrument`: `card:<token>` or `wristband:<id>`. */
export function instrumentKey(tender: OfflineTender, instrument: string): string {
  return `${tender}:${instrument}`;
}

/** The exposure made of exactly these approvals (a repeated id counts once: the first wins). */
export function exposureOf(approvals: Iterable<OfflineApproval>): OfflineExposure {
  const byId = new Map<string, OfflineApproval>();
  for (const approval of approvals) {
    if (!byId.has(approval.id)) byId.set(approval.id, Object.freeze({ ...approval }));
  }
  let amount = 0;
  const instruments = new Map<string, { amount: number; count: number; uses: number[] }>();
  for (const approval of byId.values()) {
    amount += approval.amount;
    const key = instrumentKey(approval.tender, approval.instrument);
    let entry = instruments.get(key);
    if (!entry) {
      entry = { amount: 0, count: 0, uses: [] };
      instruments.set(key, entry);
    }
    entry.amount += approval.amount;
    entry.count += 1;
    entry.uses.push(approval.at);
  }
  const byInstrument = new Map<string, InstrumentExposure>();
  for (const [key, entry] of instruments) {
    entry.uses.sort((a, b) => a - b);
    byInstrument.set(key, Object.freeze({ amount: entry.amount, count: entry.count, uses: Object.freeze(entry.uses) }));
  }
  return Object.freeze({ amount, count: byId.size, byInstrument, approvals: byId });
}

/** A device that has approved nothing offline (or been told all of it settled). */
export const EMPTY_EXPOSURE: OfflineExposure = exposureOf([]);

/**
 * The exposure after the device approved `request` offline at `now` in the
 * op `id`. Cash adds nothing (it carries no authorization risk). Recording
 * an id already held changes nothing, so replaying a journal is harmless.
 * Throws ValidationError for a request `evaluateOffline` would decline as
 * invalid.
 */
export function recordApproval(
  exposure: OfflineExposure,
  request: OfflineRequest,
  now: number,
  id: string,
): OfflineExposure {
  const problem = requestProblem(request);
  if (problem) throw problem;
  if (typeof id !== 'string' || id.length === 0) throw new ValidationError('id', 'the op id', String(id));
  if (!Number.isSafeInteger(now)) throw new ValidationError('now', 'safe integer (ms)', String(now));
  if (request.tender === 'cash' || exposure.approvals.has(id)) return exposure;
  const approval: OfflineApproval = {
    id,
    tender: request.tender,
    instrument: request.instrument as string,
    amount: request.amount,
    currency: request.currency,
    at: now,
  };
  return exposureOf([...exposure.approvals.values(), approval]);
}

/**
 * The exposure after the server told the device these ops settled. Ids it
 * does not hold are ignored, so a notice delivered twice releases once.
 */
export function releaseSettled(exposure: OfflineExposure, settledIds: Iterable<string>): OfflineExposure {
  const settled = new Set(settledIds);
  let hit = false;
  for (const id of settled) {
    if (exposure.approvals.has(id)) {
      hit = true;
      break;
    }
  }
  if (!hit) return exposure;
  return exposureOf([...exposure.approvals.values()].filter((a) => !settled.has(a.id)));
}

/** Whether `policy`'s scope names this device: its merchant, and its location, event and id where the scope sets them. */
export function policyCovers(policy: RiskPolicy, device: DevicePlacement): boolean {
  const { scope } = policy;
  return (
    scope.merchant === device.merchant &&
    (scope.location === null || scope.location === device.location) &&
    (scope.event === null || scope.event === device.event) &&
    (scope.devices === null || scope.devices.includes(device.id))
  );
}

const CURRENCY = /^[A-Z]{3}$/;

/** The first thing wrong with a request, as a ValidationError naming the field, or null. */
function requestProblem(request: OfflineRequest): ValidationError | null {
  const { amount, tender, instrument } = request;
  if (typeof request.kind !== 'string' || request.kind.length === 0) {
    return new ValidationError('request.kind', 'an op kind', String(request.kind));
  }
  if (tender !== 'cash' && tender !== 'card' && tender !== 'wristband') {
    return new ValidationError('request.tender', 'one of "cash", "card", "wristband"', String(tender));
  }
  if (!Number.isSafeInteger(amount) || amount < 1 || amount > MAX_AMOUNT) {
    return new ValidationError('request.amount', `integer 1..${MAX_AMOUNT}`, String(amount));
  }
  if (typeof request.currency !== 'string' || !CURRENCY.test(request.currency)) {
    return new ValidationError('request.currency', 'ISO 4217 code (3 upper-case letters)', String(request.currency));
  }
  if (tender !== 'cash' && (typeof instrument !== 'string' || instrument.length === 0)) {
    return new ValidationError('request.instrument', `the ${tender} token or id`, String(instrument));
  }
  return null;
}

function contextProblem(context: OfflineContext): ValidationError | null {
  if (!Number.isSafeInteger(context.now))
    return new ValidationError('context.now', 'safe integer (ms)', String(context.now));
  const last = context.lastServerContactAt;
  if (last !== null && !Number.isSafeInteger(last)) {
    return new ValidationError('context.lastServerContactAt', 'safe integer (ms) or null', String(last));
  }
  return null;
}

/** `3_600_001` → `"1h 1ms"`: exact, for messages. */
export function formatDuration(ms: number): string {
  if (ms <= 0) return `${ms}ms`;
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ['d', 86_400_000],
    ['h', 3_600_000],
    ['m', 60_000],
    ['s', 1000],
    ['ms', 1],
  ] as const) {
    const n = Math.floor(rest / size);
    rest -= n * size;
    if (n > 0) parts.push(`${n}${unit}`);
  }
  return parts.join(' ');
}

function time(ms: number): string {
  return new Date(ms).toISOString();
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/**
 * Decides whether the terminal may approve `request` offline. Accepts the
 * policy signed or plain; the signature is not checked here
 * (`context.policyValid` says whether it was). Deterministic: the same
 * inputs always give the same decision, message included.
 *
 * Never throws for bad input: a malformed request or context is declined
 * with rule `invalid_request` and the field in the message.
 */
export function evaluateOffline(
  policyOrSigned: RiskPolicy | SignedPolicy | null,
  exposure: OfflineExposure,
  request: OfflineRequest,
  context: OfflineContext,
): OfflineDecision {
  const policy = policyOrSigned === null ? null : 'sig' in policyOrSigned ? policyOrSigned.policy : policyOrSigned;
  const ref = policy === null ? null : policyRef(policy);
  const decide = (outcome: OfflineOutcome, rule: RiskRule, message: string): OfflineDecision =>
    Object.freeze({ outcome, rule, message, policy: ref });
  const online = (rule: RiskRule, message: string) => decide('needs_online', rule, message);

  const problem = requestProblem(request) ?? contextProblem(context);
  if (problem) return decide('decline', 'invalid_request', `invalid request: ${problem.message}`);

  const { now } = context;
  const money = (amount: number) => formatMoney(amount, request.currency);
  const what = `${request.isRefund ? 'refund' : request.isLoyaltyRedemption ? 'loyalty redemption' : 'payment'} of ${money(request.amount)}`;

  // A policy's restrictions outlive its permissions: the online-only rules of
  // a trusted policy for this device apply even outside its validity window.
  const held = policy !== null && context.policyValid && policyCovers(policy, context.device) ? policy : null;
  if (held) {
    if (held.online.kinds.includes(request.kind)) {
      return online('online_only_kind', `${request.kind} always needs the server (policy ${ref})`);
    }
    // Thresholds are in the policy's currency: an amount in another one cannot be compared, so it goes online.
    const over = (limit: number) => request.currency !== held.currency || request.amount > limit;
    const against = (limit: number, name: string) =>
      `${request.currency === held.currency ? 'is above' : 'cannot be compared with'} the offline ${name}` +
      ` limit of ${formatMoney(limit, held.currency)}`;
    const { refundAbove, loyaltyRedemptionAbove } = held.online;
    if (request.isRefund && refundAbove !== null && over(refundAbove)) {
      return online('refund_above', `${what} ${against(refundAbove, 'refund')}`);
    }
    if (request.isLoyaltyRedemption && loyaltyRedemptionAbove !== null && over(loyaltyRedemptionAbove)) {
      return online('loyalty_redemption_above', `${what} ${against(loyaltyRedemptionAbove, 'loyalty redemption')}`);
    }
  }

  // Cash needs no authorization. A cash refund or redemption needs a held
  // policy's thresholds to have been checked above; without one it falls
  // through to no_policy, policy_invalid or policy_scope.
  if (request.tender === 'cash' && (held !== null || (!request.isRefund && !request.isLoyaltyRedemption))) {
    return decide('approve', 'cash', `cash ${what} needs no authorization`);
  }

  if (policy === null) return online('no_policy', `no risk policy on this device: the ${what} needs the server`);
  if (!context.policyValid) {
    return online('policy_invalid', `risk policy ${ref} is not verified: the ${what} needs the server`);
  }
  const { scope } = policy;
  if (!held) {
    const d = context.device;
    return online(
      'policy_scope',
      `risk policy ${ref} (merchant ${scope.merchant}, location ${scope.location ?? 'any'}, event ${scope.event ?? 'any'}` +
        `${scope.devices ? `, ${plural(scope.devices.length, 'listed device')}` : ''}) does not cover device ${d.id}` +
        ` (merchant ${d.merchant}, location ${d.location ?? 'none'}, event ${d.event ?? 'none'})`,
    );
  }
  if (now < policy.validFrom) {
    return online(
      'policy_not_yet_valid',
      `risk policy ${ref} is valid from ${time(policy.validFrom)}; device clock reads ${time(now)}`,
    );
  }
  if (now >= policy.expiresAt) {
    return online(
      'policy_expired',
      `risk policy ${ref} expired at ${time(policy.expiresAt)}; device clock reads ${time(now)}`,
    );
  }

  const { offline } = policy;
  const last = context.lastServerContactAt;
  if (last === null) {
    return online('max_offline_duration', 'no successful server contact recorded: offline approvals need one first');
  }
  if (now - last > offline.maxOfflineMs) {
    return online(
      'max_offline_duration',
      `no server contact for ${formatDuration(now - last)}; offline approvals stop after ${formatDuration(offline.maxOfflineMs)}`,
    );
  }

  if (request.currency !== policy.currency) {
    return online('currency', `${what} is in ${request.currency}; the risk policy is in ${policy.currency}`);
  }
  for (const approval of exposure.approvals.values()) {
    if (approval.currency !== policy.currency) {
      return online(
        'currency',
        `device holds unsettled offline approvals in ${approval.currency}; the risk policy is in ${policy.currency}`,
      );
    }
  }

  const tender = request.tender as OfflineTender; // cash returned above
  const limits = offline.tenders[tender];
  if (limits === undefined)
    return online('tender_not_allowed', `${tender} payments are never approved offline (policy ${ref})`);

  if (request.amount > limits.floorLimit) {
    return online('floor_limit', `${what} is over the ${tender} floor limit of ${money(limits.floorLimit)}`);
  }

  const device = offline.device;
  if (exposure.amount + request.amount > device.maxAmount) {
    return online(
      'device_amount',
      `device holds ${money(exposure.amount)} approved offline and unsettled; ${money(request.amount)} more` +
        ` would pass its cap of ${money(device.maxAmount)}`,
    );
  }
  if (exposure.count + 1 > device.maxCount) {
    return online(
      'device_count',
      `device holds ${plural(exposure.count, 'offline approval')} unsettled; its cap is ${device.maxCount}`,
    );
  }

  const cap = limits.instrument;
  const mine = exposure.byInstrument.get(instrumentKey(tender, request.instrument as string));
  const used = { amount: mine?.amount ?? 0, count: mine?.count ?? 0, uses: mine?.uses ?? [] };
  if (used.amount + request.amount > cap.maxAmount) {
    return online(
      'instrument_amount',
      `this ${tender} has ${money(used.amount)} approved offline and unsettled on this device; ${money(request.amount)}` +
        ` more would pass its cap of ${money(cap.maxAmount)}`,
    );
  }
  if (used.count + 1 > cap.maxCount) {
    return online(
      'instrument_count',
      `this ${tender} has ${plural(used.count, 'offline approval')} unsettled on this device; its cap is ${cap.maxCount}`,
    );
  }
  if (cap.velocity !== null) {
    const { count, windowMs } = cap.velocity;
    // The window is (now − windowMs, now]; a use stamped after `now` (the clock went back) counts too.
    let recent = 0;
    for (const at of used.uses) if (at > now - windowMs) recent++;
    if (recent + 1 > count) {
      return online(
        'instrument_velocity',
        `this ${tender} was approved offline ${plural(recent, 'time')} in the last ${formatDuration(windowMs)};` +
          ` the limit is ${count} per ${formatDuration(windowMs)}`,
      );
    }
  }

  return decide(
    'approve',
    'within_limits',
    `${tender} ${what} approved offline under ${ref}: device at ${money(exposure.amount + request.amount)} of` +
      ` ${money(device.maxAmount)}, ${exposure.count + 1} of ${device.maxCount} approvals`,
  );
}
