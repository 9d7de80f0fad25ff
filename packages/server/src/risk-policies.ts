/**
 * Risk policies on the server: what a draft becomes once the server assigns
 * its fields, which policy a device gets, and the exposure answer. Pure;
 * the service (holdfast-service.ts) reads and writes storage around them.
 *
 * A device gets the newest policy in force that covers it, by the same
 * rules every party uses (`policyCovers`, `policyInForce`,
 * `comparePolicies`), so the server, the terminal and the exposure bound
 * agree on which policy a device holds.
 */
import { type DevicePlacement, type ExposureGroup, policyCovers, policyInForce } from '@holdfast/domain';
import {
  comparePolicies,
  importPrivateKey,
  type PolicyDraft,
  type PolicyKeySet,
  ProtocolError,
  RISK_POLICY_FORMAT,
  type RiskPolicy,
  type SignedPolicy,
  signPolicy,
  ValidationError,
} from '@holdfast/protocol';
import type { ExposureActual } from './model/exposure.js';
import type { PolicyIssueRequest, PolicyIssueSlot, ServerKeyRecord } from './model/policy.js';

/**
 * How long before `issuedAt` a policy starts when the draft gives no
 * `validFrom`: validity is checked on the device clock, and a device whose
 * clock runs a little slow must not see a fresh policy as not yet valid.
 */
export const DEFAULT_VALID_FROM_LEAD_MS = 5 * 60_000;

/** The fields the server assigns to a draft. */
export interface AssignedFields {
  id: string;
  version: number;
  issuedAt: number;
}

/** The policy `draft` becomes with the server's fields; `validFrom` defaults to issuedAt − 5 min. */
export function policyFromDraft(draft: PolicyDraft, assigned: AssignedFields): RiskPolicy {
  return {
    v: RISK_POLICY_FORMAT,
    id: assigned.id,
    version: assigned.version,
    issuedAt: assigned.issuedAt,
    validFrom: draft.validFrom ?? assigned.issuedAt - DEFAULT_VALID_FROM_LEAD_MS,
    expiresAt: draft.expiresAt,
    scope: draft.scope,
    currency: draft.currency,
    offline: draft.offline,
    online: draft.online,
    ...(draft.loyalty ? { loyalty: draft.loyalty } : {}),
    ...(draft.stock ? { stock: draft.stock } : {}),
  };
}

/**
 * The issuedAt of the next policy: the server clock, but always after every
 * policy issued before, so that within a scope a higher version is also
 * newer by `comparePolicies` (which orders by issuedAt first), even when
 * processes' clocks differ or one steps back.
 */
export function nextIssuedAt(now: number, latestIssuedAt: number | null): number {
  return latestIssuedAt === null ? now : Math.max(now, latestIssuedAt + 1);
}

/**
 * The policy a backend stores for `request` in `slot`, signed with `key`
 * (called inside the issuing transaction). The service checked the draft
 * with issuedAt = now; should issuedAt have moved past a later policy's
 * (a clock behind), a rule may break after all: ProtocolError
 * invalid_request naming the draft's field, e.g. `expiresAt`.
 */
export function signIssued(request: PolicyIssueRequest, slot: PolicyIssueSlot, key: ServerKeyRecord): SignedPolicy {
  const issuedAt = nextIssuedAt(request.now, slot.latestIssuedAt);
  const policy = policyFromDraft(request.draft, { id: request.id, version: slot.version, issuedAt });
  try {
    return signPolicy(policy, importPrivateKey(key.privateKey), key.id);
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    const field = error.field.replace(/^policy\./, '');
    throw new ProtocolError('invalid_request', `${field}: expected ${error.rule} (issued at ${issuedAt})`, {
      field,
      rule: error.rule,
    });
  }
}

/**
 * The policy `device` should hold at `now` (server clock): among the
 * policies signed by a key in `keys` that cover it and are in force, the
 * newest by `comparePolicies`; null if there is none.
 */
export function policyForDevice(
  policies: readonly SignedPolicy[],
  device: DevicePlacement,
  now: number,
  keys: PolicyKeySet,
): SignedPolicy | null {
  let best: SignedPolicy | null = null;
  for (const signed of policies) {
    const p = signed.policy;
    if (!Object.hasOwn(keys, signed.keyId) || !policyCovers(p, device) || !policyInForce(p, now)) continue;
    if (best === null || comparePolicies(p, best.policy) > 0) best = signed;
  }
  return best;
}

/** `GET /v1/admin/exposure`: the bound from the policies next to what is really held unsettled. */
export interface ExposureAnswer {
  /** The instant the bound is for (default: now). */
  at: number;
  /** `exposureBound(every policy issued, placed devices, at).groups`. */
  bound: ExposureGroup[];
  /** Placed devices with no policy in force at `at`: they approve nothing offline. */
  uncovered: string[];
  /** Devices never placed: no policy can cover them. */
  unplaced: string[];
  /** Unsettled offline-approved payments per currency and current placement. */
  actual: ExposureActual[];
}
