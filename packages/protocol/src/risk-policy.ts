/**
 * The risk policy: the server's signed, versioned, expiring statement of
 * what a terminal may approve without asking it (docs/risk-policy.md).
 *
 * A terminal approves a card or wristband payment offline only inside a
 * policy it holds: a per-transaction floor limit per tender type, caps on
 * what the device has approved offline and not yet been told is settled
 * (amount and count), caps and a velocity limit per card or wristband, and
 * lists of what always needs the server. Because every device's unsettled
 * offline amount is capped by its policy, a venue's worst case is a sum the
 * operator can read before the gates open (domain `exposureBound`).
 *
 * The policy is signed by a server key, over the canonical JSON of
 * `{ ctx: "holdfast.policy.v1", policy }`: any carrier may deliver it, and
 * re-serializing it (other key order, whitespace) does not break the
 * signature. This module holds the format, the signature and the reference
 * an op's decision stores; evaluating a request against a policy is a
 * domain rule (`evaluateOffline` in @holdfast/domain).
 */
import type { KeyObject } from 'node:crypto';
import { ValidationError } from './errors.js';
import { CURRENCY_PATTERN, MAX_AMOUNT } from './money.js';
import { epochMs, KIND_PATTERN, uuid } from './op.js';
import * as s from './schema.js';
import { importPrivateKey, importPublicKey, signMessage, verifyMessage } from './signing.js';
import { UUID_PATTERN } from './uuidv7.js';
import { refString, signatureString } from './wire-strings.js';

/** Format version of the policy document, exactly 1. */
export const RISK_POLICY_FORMAT = 1;

/** Tender types a policy can allow offline. Cash needs no authorization and is not listed. */
export const OFFLINE_TENDERS = ['card', 'wristband'] as const;
export type OfflineTender = (typeof OFFLINE_TENDERS)[number];

/** Longest a policy may be valid (`expiresAt − validFrom`) and longest `maxOfflineMs`: 90 days. */
export const MAX_POLICY_LIFETIME_MS = 90 * 86_400_000;
/** Largest count limit a policy may state (device or instrument). */
export const MAX_OFFLINE_COUNT = 1_000_000;
/** Most devices a scope may list by id. */
export const MAX_SCOPE_DEVICES = 10_000;
/** Most op kinds `online.kinds` may list. */
export const MAX_ONLINE_KINDS = 64;

/** Velocity: at most `count` approvals of one instrument within any `windowMs`. */
export interface VelocityLimit {
  count: number;
  windowMs: number;
}

/** Caps on one card (by token) or one wristband (by id), as seen by one device. */
export interface InstrumentLimits {
  /** Most the device may hold approved offline and unsettled for this instrument, minor units. */
  maxAmount: number;
  /** Most such approvals. */
  maxCount: number;
  /** Rate limit on this instrument's unsettled approvals, or null for none. */
  velocity: VelocityLimit | null;
}

/** What one tender type may do offline. A tender type without an entry is never approved offline. */
export interface TenderLimits {
  /** Per-transaction cap: an amount at or below it may be approved offline, minor units. */
  floorLimit: number;
  instrument: InstrumentLimits;
}

/** Which devices a policy is for. `null` widens: every location, every event, every device. */
export interface PolicyScope {
  merchant: string;
  location: string | null;
  event: string | null;
  /** Device ids (UUIDv7), or null for every device of the merchant/location/event. */
  devices: string[] | null;
}

export interface RiskPolicy {
  v: typeof RISK_POLICY_FORMAT;
  /** UUIDv7 of this policy document. */
  id: string;
  /** Grows by at least 1 with each policy the server issues for the same scope. */
  version: number;
  /** When the server signed it (server clock, ms). Orders policies: the newest is in force. */
  issuedAt: number;
  /** First device-clock instant at which the policy permits offline approvals (ms). */
  validFrom: number;
  /** Device-clock instant from which it permits nothing (ms); after `validFrom` and `issuedAt`. */
  expiresAt: number;
  scope: PolicyScope;
  /** ISO 4217 code. Every limit is in its minor units; a payment in another currency is never approved offline. */
  currency: string;
  offline: {
    /** After this long without a successful server contact, no offline approvals (ms). */
    maxOfflineMs: number;
    /** Caps on everything the device holds approved offline and unsettled. */
    device: { maxAmount: number; maxCount: number };
    tenders: { card?: TenderLimits; wristband?: TenderLimits };
  };
  online: {
    /** Op kinds that always need the server, whatever the tender (e.g. `ticket.issued`). */
    kinds: string[];
    /** Refunds above this amount need the server (0: every refund); null: no refund threshold. */
    refundAbove: number | null;
    /** Loyalty redemptions above this amount need the server (0: every one); null: no threshold. */
    loyaltyRedemptionAbove: number | null;
  };
  /** The loyalty rule of the devices it covers (docs/loyalty.md); absent: no loyalty at these tills. */
  loyalty?: LoyaltyRule;
  /** How tills treat stock they believe is out (docs/catalog-and-stock.md); absent: warn, never block. */
  stock?: StockRule;
}

/** What a till does when a sale would take an item's believed stock below zero. */
export interface StockRule {
  /** True: refuse to record the sale (`out_of_stock`); false: warn the clerk and record it. */
  blockWhenOut: boolean;
}

/** How tills earn and redeem loyalty points offline (domain/loyalty.ts applies it). */
export interface LoyaltyRule {
  /** Points earned per `perMinor` minor units of a sale's total, rounded down to whole steps. */
  pointsPerUnit: number;
  /** The step of the sale's total that earns `pointsPerUnit` (minor units, ≥ 1). */
  perMinor: number;
  /** The most points one sale may redeem offline, at the shop's risk; more needs the server. */
  offlineCap: number;
}

/** A policy with the server's signature over `policyMessage(policy)`. */
export interface SignedPolicy {
  policy: RiskPolicy;
  /** Which server key signed it; the verifier looks the public key up by this id. */
  keyId: string;
  /** Ed25519 signature, base64url (86 characters). */
  sig: string;
}

/** Merchant, location, event and key ids (REF_PATTERN, in wire-strings.ts with the other wire strings). */
const ref = refString;
const amount = () => s.int({ min: 0, max: MAX_AMOUNT });
const count = () => s.int({ min: 0, max: MAX_OFFLINE_COUNT });
const currency = () =>
  s.string({
    minLength: 3,
    maxLength: 3,
    pattern: CURRENCY_PATTERN,
    patternRule: 'ISO 4217 code (3 upper-case letters)',
  });
const kind = () =>
  s.string({ minLength: 3, maxLength: 63, pattern: KIND_PATTERN, patternRule: 'op kind such as "sale.recorded"' });

/** The index of the first value seen twice in `values`, or -1. */
function firstRepeat(values: readonly string[]): number {
  const seen = new Set<string>();
  for (let i = 0; i < values.length; i++) {
    const value = values[i] as string;
    if (seen.has(value)) return i;
    seen.add(value);
  }
  return -1;
}

export const velocityLimitSchema: s.Schema<VelocityLimit> = s.object({
  count: s.int({ min: 1, max: MAX_OFFLINE_COUNT }),
  windowMs: s.int({ min: 1, max: MAX_POLICY_LIFETIME_MS }),
});

export const instrumentLimitsSchema: s.Schema<InstrumentLimits> = s.object({
  maxAmount: amount(),
  maxCount: count(),
  velocity: s.nullable(velocityLimitSchema),
});

export const tenderLimitsSchema: s.Schema<TenderLimits> = s.object({
  floorLimit: amount(),
  instrument: instrumentLimitsSchema,
});

export const policyScopeSchema: s.Schema<PolicyScope> = s.refine(
  s.object({
    merchant: ref(),
    location: s.nullable(ref()),
    event: s.nullable(ref()),
    devices: s.nullable(s.array(uuid(), { minItems: 1, maxItems: MAX_SCOPE_DEVICES })),
  }),
  (scope) => {
    const i = scope.devices ? firstRepeat(scope.devices) : -1;
    return i >= 0 ? [`devices[${i}]`, 'each device listed once'] : null;
  },
);

export const offlineLimitsSchema: s.Schema<RiskPolicy['offline']> = s.object({
  maxOfflineMs: s.int({ min: 0, max: MAX_POLICY_LIFETIME_MS }),
  device: s.object({ maxAmount: amount(), maxCount: count() }),
  tenders: s.object({ card: s.optional(tenderLimitsSchema), wristband: s.optional(tenderLimitsSchema) }),
});

export const onlineRulesSchema: s.Schema<RiskPolicy['online']> = s.refine(
  s.object({
    kinds: s.array(kind(), { maxItems: MAX_ONLINE_KINDS }),
    refundAbove: s.nullable(amount()),
    loyaltyRedemptionAbove: s.nullable(amount()),
  }),
  (online) => {
    const i = firstRepeat(online.kinds);
    return i >= 0 ? [`kinds[${i}]`, 'each kind listed once'] : null;
  },
);

export const loyaltyRuleSchema: s.Schema<LoyaltyRule> = s.object({
  pointsPerUnit: s.int({ min: 0, max: 1_000_000 }),
  perMinor: s.int({ min: 1, max: MAX_AMOUNT }),
  offlineCap: s.int({ min: 0, max: 1_000_000_000 }),
});

export const stockRuleSchema: s.Schema<StockRule> = s.object({ blockWhenOut: s.boolean() });

export const riskPolicySchema: s.Schema<RiskPolicy> = s.refine(
  s.object({
    v: s.literal(RISK_POLICY_FORMAT),
    id: uuid(),
    version: s.int({ min: 1 }),
    issuedAt: epochMs(),
    validFrom: epochMs(),
    expiresAt: epochMs(),
    scope: policyScopeSchema,
    currency: currency(),
    offline: offlineLimitsSchema,
    online: onlineRulesSchema,
    loyalty: s.optional(loyaltyRuleSchema),
    stock: s.optional(stockRuleSchema),
  }),
  (p) => {
    if (p.expiresAt <= p.issuedAt) return ['expiresAt', 'after issuedAt'];
    if (p.expiresAt <= p.validFrom) return ['expiresAt', 'after validFrom'];
    if (p.expiresAt - p.validFrom > MAX_POLICY_LIFETIME_MS) {
      return ['expiresAt', `at most ${MAX_POLICY_LIFETIME_MS / 86_400_000} days after validFrom`];
    }
    return null;
  },
);

export const policyKeyIdSchema = () => ref();

/**
 * What an operator asks the server to issue: a policy without the fields
 * the server assigns (`v`, `id`, `version`, `issuedAt`; `validFrom` is
 * optional). Rules across fields (`expiresAt` after `issuedAt` and
 * `validFrom`, at most 90 days) are checked once the server has filled
 * them in, on the whole policy.
 */
export const policyDraftSchema = s.object({
  scope: policyScopeSchema,
  currency: currency(),
  validFrom: s.optional(epochMs()),
  expiresAt: epochMs(),
  offline: offlineLimitsSchema,
  online: onlineRulesSchema,
  loyalty: s.optional(loyaltyRuleSchema),
  stock: s.optional(stockRuleSchema),
});
export type PolicyDraft = s.Infer<typeof policyDraftSchema>;

export const signedPolicySchema: s.Schema<SignedPolicy> = s.object({
  policy: riskPolicySchema,
  keyId: policyKeyIdSchema(),
  sig: signatureString(),
});

/** The signature context of a policy: a policy signature is valid for nothing else. */
export const POLICY_SIGNATURE_CONTEXT = 'holdfast.policy.v1';

/** What a policy signature covers. */
export function policyMessage(policy: RiskPolicy) {
  return { ctx: POLICY_SIGNATURE_CONTEXT, policy } as const;
}

/**
 * The reference an op's `decision.policy` stores: `<id>@<version>`, at most
 * 53 characters (the decision allows 64).
 */
export function policyRef(policy: Pick<RiskPolicy, 'id' | 'version'>): string {
  return `${policy.id}@${policy.version}`;
}

/** The id and version in a policyRef, or null if `ref` is not one. */
export function parsePolicyRef(ref: string): { id: string; version: number } | null {
  const at = ref.lastIndexOf('@');
  const id = ref.slice(0, at);
  const digits = ref.slice(at + 1);
  if (at < 0 || !UUID_PATTERN.test(id) || !/^[1-9][0-9]{0,15}$/.test(digits)) return null;
  const version = Number(digits);
  return Number.isSafeInteger(version) ? { id, version } : null;
}

/**
 * Orders policies by age: positive when `a` is newer than `b`. Newer means
 * a later `issuedAt`, then a higher `version`, then the greater `id`, so
 * every party picks the same "newest" from the same set.
 */
export function comparePolicies(a: RiskPolicy, b: RiskPolicy): number {
  if (a.issuedAt !== b.issuedAt) return a.issuedAt - b.issuedAt;
  if (a.version !== b.version) return a.version - b.version;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/**
 * Signs a policy with a server key (a KeyObject or a PKCS#8 base64url
 * string). The policy is checked against the schema first: a policy no
 * terminal could parse is never signed (throws ValidationError, field under
 * `policy`).
 */
export function signPolicy(policy: RiskPolicy, privateKey: KeyObject | string, keyId: string): SignedPolicy {
  const parsed = riskPolicySchema.parse(policy, 'policy');
  const id = policyKeyIdSchema().parse(keyId, 'keyId');
  const key = typeof privateKey === 'string' ? importPrivateKey(privateKey) : privateKey;
  return { policy: parsed, keyId: id, sig: signMessage(policyMessage(parsed), key) };
}

/** Public keys that may sign policies, by key id: KeyObjects or raw base64url Ed25519 keys. */
export type PolicyKeys = ReadonlyMap<string, KeyObject | string>;

export const POLICY_VERIFICATION_CODES = ['invalid_policy', 'unknown_key', 'bad_signature'] as const;
export type PolicyVerificationCode = (typeof POLICY_VERIFICATION_CODES)[number];

/** A signed policy was refused. For `invalid_policy`, `field` and `rule` say which field broke which rule. */
export class PolicyVerificationError extends Error {
  override readonly name = 'PolicyVerificationError';
  readonly field: string | undefined;
  readonly rule: string | undefined;
  constructor(
    readonly code: PolicyVerificationCode,
    message: string,
    context: { field?: string; rule?: string } = {},
  ) {
    super(message);
    this.field = context.field;
    this.rule = context.rule;
  }
}

/**
 * Checks a signed policy received from anywhere (feed, courier, storage)
 * and returns it parsed. Refuses, with a PolicyVerificationError:
 * `invalid_policy` when a field breaks the format (naming the field),
 * `unknown_key` when `keyId` is not among `keys` (or its key is unusable),
 * `bad_signature` when the signature does not verify over the canonical
 * JSON of the policy. Validity in time and scope is not checked here: that
 * depends on the clock and the device (domain `evaluateOffline`).
 */
export function verifyPolicy(signed: unknown, keys: PolicyKeys): SignedPolicy {
  let parsed: SignedPolicy;
  try {
    parsed = signedPolicySchema.parse(signed);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    throw new PolicyVerificationError('invalid_policy', `risk policy refused: ${error.message}`, {
      field: error.field,
      rule: error.rule,
    });
  }
  const key = keys.get(parsed.keyId);
  if (key === undefined) {
    throw new PolicyVerificationError('unknown_key', `risk policy refused: no policy key with id "${parsed.keyId}"`);
  }
  let publicKey: KeyObject;
  try {
    publicKey = typeof key === 'string' ? importPublicKey(key) : key;
  } catch (error) {
    throw new PolicyVerificationError(
      'unknown_key',
      `risk policy refused: policy key "${parsed.keyId}" is unusable (${(error as Error).message})`,
    );
  }
  let ok = false;
  try {
    ok = verifyMessage(policyMessage(parsed.policy), parsed.sig, publicKey);
  } catch {
    ok = false; // not an Ed25519 key: no signature of ours verifies with it
  }
  if (!ok) {
    throw new PolicyVerificationError(
      'bad_signature',
      `risk policy ${policyRef(parsed.policy)} refused: signature does not verify with key "${parsed.keyId}"`,
    );
  }
  return parsed;
}
