import assert from 'node:assert/strict';
import type { KeyObject } from 'node:crypto';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.js';
import { ValidationError } from './errors.js';
import { GENESIS_HASH } from './hash.js';
import { MAX_AMOUNT } from './money.js';
import { canonicalOpText, decisionSchema, hashOp, NO_DECISION, opSchema, sealOp } from './op.js';
import {
  comparePolicies,
  MAX_POLICY_LIFETIME_MS,
  type PolicyKeys,
  PolicyVerificationError,
  parsePolicyRef,
  policyDraftSchema,
  policyMessage,
  policyRef,
  type RiskPolicy,
  riskPolicySchema,
  type SignedPolicy,
  signPolicy,
  verifyPolicy,
} from './risk-policy.js';
import { batchHeadMessage } from './signed-messages.js';
import { generateDeviceKeys, importPrivateKey, importPublicKey, signMessage } from './signing.js';
import { uuidv7 } from './uuidv7.js';

const T0 = 1_790_000_000_000;
const DAY = 86_400_000;
const bytes = (n: number) => new Uint8Array(10).fill(n);
const DEVICE_A = uuidv7(T0, bytes(1));
const DEVICE_B = uuidv7(T0, bytes(2));

/** A valid policy; `edit` changes it in place before it is returned. */
function makePolicy(edit?: (p: RiskPolicy) => void): RiskPolicy {
  const p: RiskPolicy = {
    v: 1,
    id: uuidv7(T0, bytes(9)),
    version: 3,
    issuedAt: T0,
    validFrom: T0 - 60_000,
    expiresAt: T0 + DAY,
    scope: { merchant: 'acme', location: 'stadium-north', event: 'final-2026', devices: [DEVICE_A, DEVICE_B] },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 4 * 3_600_000,
      device: { maxAmount: 500_000, maxCount: 200 },
      tenders: {
        card: {
          floorLimit: 5_000,
          instrument: { maxAmount: 10_000, maxCount: 5, velocity: { count: 3, windowMs: 600_000 } },
        },
        wristband: { floorLimit: 2_000, instrument: { maxAmount: 6_000, maxCount: 10, velocity: null } },
      },
    },
    online: { kinds: ['ticket.issued'], refundAbove: 2_000, loyaltyRedemptionAbove: null },
  };
  edit?.(p);
  return p;
}

/** Sets (or, for undefined, deletes) the member at a path such as `offline.tenders.card.floorLimit` or `a[1]`. */
function setAt(root: unknown, path: string, value: unknown): void {
  const steps = path.split(/\.|(?=\[)/).map((step) => (step.startsWith('[') ? Number(step.slice(1, -1)) : step));
  let node = root as Record<string | number, unknown>;
  for (const step of steps.slice(0, -1)) node = node[step] as Record<string | number, unknown>;
  const last = steps.at(-1) as string | number;
  if (value === undefined) delete node[last];
  else node[last] = value;
}

function expectInvalid(run: () => unknown, field: string, rule: string): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    assert.equal(e.field, field);
    assert.equal(e.rule, rule);
    return true;
  });
}

const server = generateDeviceKeys();
const other = generateDeviceKeys();
const serverPrivate = importPrivateKey(server.privateKey);
const KEYS: PolicyKeys = new Map<string, KeyObject | string>([
  ['srv-2026', server.publicKey],
  ['srv-old', importPublicKey(other.publicKey)],
]);

function expectRefused(signed: unknown, code: string, field?: string): PolicyVerificationError {
  let caught: unknown;
  try {
    verifyPolicy(signed, KEYS);
  } catch (error) {
    caught = error;
  }
  assert.ok(caught instanceof PolicyVerificationError, `expected a PolicyVerificationError, got ${String(caught)}`);
  assert.equal(caught.code, code);
  if (field !== undefined) assert.equal(caught.field, field);
  return caught;
}

describe('riskPolicySchema', () => {
  it('parses a valid policy to an equal value', () => {
    const p = makePolicy();
    assert.deepEqual(riskPolicySchema.parse(structuredClone(p)), p);
  });

  it('accepts the edges: no offline tenders, every device, zero limits, no online kinds', () => {
    const p = makePolicy((p) => {
      p.offline.tenders = {};
      p.scope = { merchant: 'acme', location: null, event: null, devices: null };
      p.offline.device = { maxAmount: 0, maxCount: 0 };
      p.offline.maxOfflineMs = 0;
      p.online = { kinds: [], refundAbove: 0, loyaltyRedemptionAbove: 0 };
    });
    assert.deepEqual(riskPolicySchema.parse(p), p);
  });

  it('accepts a lifetime of exactly 90 days and expiry 1 ms after issue and validity', () => {
    assert.ok(riskPolicySchema.parse(makePolicy((p) => (p.expiresAt = p.validFrom + MAX_POLICY_LIFETIME_MS))));
    assert.ok(
      riskPolicySchema.parse(
        makePolicy((p) => {
          p.validFrom = T0;
          p.expiresAt = T0 + 1;
        }),
      ),
    );
  });

  const cases: [path: string, value: unknown, rule: string, field?: string][] = [
    ['v', 2, 'exactly 1'],
    ['id', '123e4567-e89b-42d3-a456-426614174000', 'UUIDv7 or UUIDv8 in lowercase hex'],
    ['version', 0, 'integer >= 1'],
    ['version', 1.5, 'integer >= 1'],
    ['issuedAt', '2026-01-01', 'integer 946684800000..7258118400000'],
    ['validFrom', undefined, 'required'],
    ['expiresAt', T0, 'after issuedAt'],
    ['expiresAt', T0 - 60_000, 'after issuedAt'],
    ['validFrom', T0 + DAY, 'after validFrom', 'expiresAt'],
    ['validFrom', T0 + DAY - MAX_POLICY_LIFETIME_MS - 1, 'at most 90 days after validFrom', 'expiresAt'],
    ['scope.merchant', '', 'string of 1..64 characters'],
    ['scope.merchant', 'acme corp', 'id of 1..64 letters, digits and _.:-'],
    ['scope.location', 5, 'string of 1..64 characters'],
    ['scope.event', undefined, 'required'],
    ['scope.devices', [], 'array of 1..10000 items'],
    ['scope.devices[1]', 'device-2', 'string of 36..36 characters'],
    ['scope.devices[1]', DEVICE_A, 'each device listed once'],
    ['scope.owner', 'x', 'no such field (unknown fields are rejected)'],
    ['currency', 'eur', 'ISO 4217 code (3 upper-case letters)'],
    ['offline.maxOfflineMs', -1, `integer 0..${MAX_POLICY_LIFETIME_MS}`],
    ['offline.maxOfflineMs', MAX_POLICY_LIFETIME_MS + 1, `integer 0..${MAX_POLICY_LIFETIME_MS}`],
    ['offline.device.maxAmount', MAX_AMOUNT + 1, `integer 0..${MAX_AMOUNT}`],
    ['offline.device.maxCount', 2.5, 'integer 0..1000000'],
    ['offline.device', undefined, 'required'],
    ['offline.tenders.card.floorLimit', -1, `integer 0..${MAX_AMOUNT}`],
    ['offline.tenders.card.instrument', undefined, 'required'],
    ['offline.tenders.card.instrument.maxCount', null, 'integer 0..1000000'],
    ['offline.tenders.card.instrument.velocity.count', 0, 'integer 1..1000000'],
    ['offline.tenders.card.instrument.velocity.windowMs', 0, `integer 1..${MAX_POLICY_LIFETIME_MS}`],
    ['offline.tenders.wristband.instrument.velocity', undefined, 'required'],
    ['offline.tenders.cash', { floorLimit: 1 }, 'no such field (unknown fields are rejected)'],
    ['online.kinds[0]', 'Ticket.placed', 'op kind such as "sale.recorded"'],
    ['online.kinds[1]', 'ticket.issued', 'each kind listed once'],
    ['online.refundAbove', -5, `integer 0..${MAX_AMOUNT}`],
    ['online.loyaltyRedemptionAbove', undefined, 'required'],
    ['signature', 'x', 'no such field (unknown fields are rejected)'],
  ];
  for (const [path, value, rule, field] of cases) {
    it(`refuses ${path} = ${JSON.stringify(value) ?? 'absent'}, naming ${field ?? path}`, () => {
      const p = structuredClone(makePolicy()) as unknown;
      setAt(p, path, value);
      expectInvalid(() => riskPolicySchema.parse(p), field ?? path, rule);
    });
  }

  it('names the path from where it is parsed', () => {
    const p = structuredClone(makePolicy()) as unknown;
    setAt(p, 'offline.tenders.card.floorLimit', 'lots');
    expectInvalid(
      () => riskPolicySchema.parse(p, 'feed.policy'),
      'feed.policy.offline.tenders.card.floorLimit',
      `integer 0..${MAX_AMOUNT}`,
    );
  });
});

describe('policyRef', () => {
  it('is `<id>@<version>` and parses back', () => {
    const p = makePolicy();
    assert.equal(policyRef(p), `${p.id}@3`);
    assert.deepEqual(parsePolicyRef(policyRef(p)), { id: p.id, version: 3 });
  });

  it('fits decision.policy (64 characters) even at the largest version', () => {
    const p = makePolicy((p) => (p.version = Number.MAX_SAFE_INTEGER));
    const ref = policyRef(p);
    assert.equal(ref.length, 53);
    assert.doesNotThrow(() => decisionSchema.parse({ mode: 'local', outcome: 'approved', policy: ref }));
    assert.deepEqual(parsePolicyRef(ref), { id: p.id, version: Number.MAX_SAFE_INTEGER });
  });

  it('parsePolicyRef refuses anything else', () => {
    const id = makePolicy().id;
    for (const bad of [
      '',
      id,
      `${id}@`,
      `${id}@0`,
      `${id}@01`,
      `${id}@1.5`,
      `${id}@99999999999999999`,
      `x@1`,
      `${id.toUpperCase()}@1`,
    ]) {
      assert.equal(parsePolicyRef(bad), null, bad);
    }
  });
});

describe('comparePolicies', () => {
  it('orders by issuedAt, then version, then id', () => {
    const base = makePolicy();
    const later = makePolicy((p) => (p.issuedAt = T0 + 1));
    const higher = makePolicy((p) => (p.version = 4));
    const otherId = makePolicy((p) => (p.id = uuidv7(T0, bytes(10))));
    assert.ok(comparePolicies(later, higher) > 0, 'issuedAt decides before version');
    assert.ok(comparePolicies(higher, base) > 0);
    assert.ok(comparePolicies(base, higher) < 0);
    assert.ok(comparePolicies(otherId, base) > 0);
    assert.equal(comparePolicies(base, makePolicy()), 0);
  });
});

describe('signPolicy / verifyPolicy', () => {
  const signed = signPolicy(makePolicy(), serverPrivate, 'srv-2026');

  it('round-trips and returns the parsed signed policy', () => {
    assert.equal(signed.keyId, 'srv-2026');
    assert.deepEqual(verifyPolicy(structuredClone(signed), KEYS), signed);
  });

  it('signs deterministically, with a KeyObject or the PKCS#8 string', () => {
    assert.equal(signPolicy(makePolicy(), server.privateKey, 'srv-2026').sig, signed.sig);
  });

  it('still verifies after any re-serialization: the signature is over canonical JSON', () => {
    const reordered = (value: unknown): unknown =>
      Array.isArray(value)
        ? value.map(reordered)
        : value !== null && typeof value === 'object'
          ? Object.fromEntries(
              Object.entries(value)
                .reverse()
                .map(([k, v]) => [k, reordered(v)]),
            )
          : value;
    const text = JSON.stringify(reordered(signed), null, 3);
    assert.notEqual(text, JSON.stringify(signed));
    assert.deepEqual(verifyPolicy(JSON.parse(text), KEYS), signed);
  });

  const tampers: [string, (p: RiskPolicy) => void][] = [
    ['device cap raised by 1', (p) => (p.offline.device.maxAmount += 1)],
    [
      'floor limit raised by 1',
      (p) => {
        if (p.offline.tenders.card) p.offline.tenders.card.floorLimit += 1;
      },
    ],
    ['expiry extended by 1 ms', (p) => (p.expiresAt += 1)],
    ['scope widened to every device', (p) => (p.scope.devices = null)],
    ['online kind dropped', (p) => (p.online.kinds = [])],
    ['refund threshold removed', (p) => (p.online.refundAbove = null)],
    ['version bumped', (p) => (p.version += 1)],
  ];
  for (const [what, tamper] of tampers) {
    it(`refuses a tampered policy (${what}) as bad_signature`, () => {
      const copy = structuredClone(signed);
      tamper(copy.policy);
      expectRefused(copy, 'bad_signature');
    });
  }

  it('refuses a policy signed with another key (wrong key for the keyId)', () => {
    const forged = signPolicy(makePolicy(), importPrivateKey(other.privateKey), 'srv-2026');
    expectRefused(forged, 'bad_signature');
    // and the genuine signature relabelled with the other key's id
    expectRefused({ ...signed, keyId: 'srv-old' }, 'bad_signature');
  });

  it('refuses an unknown keyId, and a key the verifier cannot use', () => {
    const e = expectRefused({ ...signed, keyId: 'srv-1999' }, 'unknown_key');
    assert.match(e.message, /srv-1999/);
    assert.throws(
      () => verifyPolicy(signed, new Map([['srv-2026', 'not-a-key']])),
      (e: unknown) => e instanceof PolicyVerificationError && e.code === 'unknown_key',
    );
  });

  it('refuses a signature made for another purpose or without the policy context', () => {
    const bare = signMessage({ ctx: 'x', ...makePolicy() } as unknown as { ctx: string }, serverPrivate);
    expectRefused({ ...signed, sig: bare }, 'bad_signature');
    const batch = signMessage(batchHeadMessage(DEVICE_A, 1, GENESIS_HASH), serverPrivate);
    expectRefused({ ...signed, sig: batch }, 'bad_signature');
    assert.equal(policyMessage(signed.policy).ctx, 'holdfast.policy.v1');
  });

  it('refuses a signed policy whose fields do not parse, naming the field', () => {
    const copy = structuredClone(signed) as unknown;
    setAt(copy, 'policy.offline.device.maxAmount', -1);
    const e = expectRefused(copy, 'invalid_policy', 'policy.offline.device.maxAmount');
    assert.equal(e.rule, `integer 0..${MAX_AMOUNT}`);
    expectRefused({ ...signed, sig: 'abc' }, 'invalid_policy', 'sig');
    expectRefused({ policy: signed.policy, sig: signed.sig }, 'invalid_policy', 'keyId');
    expectRefused({ ...signed, extra: 1 }, 'invalid_policy', 'extra');
    expectRefused(null, 'invalid_policy', '(root)');
  });

  it('refuses to sign a policy that does not parse', () => {
    const bad = makePolicy((p) => (p.offline.device.maxCount = -1));
    expectInvalid(
      () => signPolicy(bad, serverPrivate, 'srv-2026'),
      'policy.offline.device.maxCount',
      'integer 0..1000000',
    );
    expectInvalid(
      () => signPolicy(makePolicy(), serverPrivate, 'key id'),
      'keyId',
      'id of 1..64 letters, digits and _.:-',
    );
  });

  it('does not let the verified result alias the input', () => {
    const input = structuredClone(signed) as SignedPolicy;
    const out = verifyPolicy(input, KEYS);
    input.policy.offline.device.maxAmount = 1;
    assert.equal(out.policy.offline.device.maxAmount, 500_000);
  });
});

describe('decision.rule (optional)', () => {
  const op = sealOp({
    v: 1,
    id: uuidv7(T0, bytes(3)),
    device: DEVICE_A,
    seq: 1,
    prev: GENESIS_HASH,
    kind: 'shift.opened',
    body: { clerk: 'ana', currency: 'EUR', openingFloat: 0 },
    at: T0,
    decision: NO_DECISION,
  });

  it('keeps NO_DECISION valid and ops without a rule hashing as before', () => {
    assert.deepEqual(decisionSchema.parse(NO_DECISION), NO_DECISION);
    const parsed = opSchema.parse(JSON.parse(JSON.stringify(op)));
    assert.equal('rule' in parsed.decision, false);
    assert.equal(hashOp(parsed), op.hash);
    assert.doesNotMatch(canonicalOpText(op), /rule/);
    assert.equal(
      canonicalJson(op.decision),
      '{"mode":"none","outcome":"approved","policy":null}',
      'the decision text every existing hash covers',
    );
  });

  it('accepts a snake_case rule and covers it by the hash', () => {
    const ref = policyRef(makePolicy());
    const decision = { mode: 'local', outcome: 'declined', policy: ref, rule: 'floor_limit' } as const;
    assert.deepEqual(decisionSchema.parse(decision), decision);
    const declined = sealOp({ ...op, decision });
    assert.notEqual(declined.hash, sealOp({ ...op, decision: { ...decision, rule: 'device_amount' } }).hash);
  });

  it('refuses a malformed rule, naming decision.rule', () => {
    for (const rule of ['', 'Floor', 'floor-limit', 'x'.repeat(41), 7]) {
      expectInvalid(
        () => opSchema.parse({ ...op, decision: { ...NO_DECISION, rule } }),
        'decision.rule',
        typeof rule === 'string' && rule.length > 0 && rule.length <= 40
          ? 'rule name in snake_case'
          : 'string of 1..40 characters',
      );
    }
  });
});

describe('policyDraftSchema', () => {
  /** A draft: a policy without the fields the server assigns. */
  const draft = (): Record<string, unknown> => {
    const { v: _v, id: _id, version: _version, issuedAt: _issuedAt, ...rest } = makePolicy();
    return JSON.parse(JSON.stringify(rest)) as Record<string, unknown>;
  };

  it('takes a policy without v, id, version and issuedAt; validFrom optional', () => {
    assert.deepEqual(policyDraftSchema.parse(draft()), draft());
    const { validFrom: _validFrom, ...noValidFrom } = draft();
    assert.equal(policyDraftSchema.parse(noValidFrom).validFrom, undefined);
  });

  it('refuses the fields the server assigns, and breaks of the policy rules, naming the field', () => {
    const NOT_A_FIELD = 'no such field (unknown fields are rejected)';
    for (const field of ['v', 'id', 'version', 'issuedAt']) {
      expectInvalid(() => policyDraftSchema.parse({ ...draft(), [field]: 1 }), field, NOT_A_FIELD);
    }
    const broken = (path: string, value: unknown) => {
      const d = draft();
      setAt(d, path, value);
      return () => policyDraftSchema.parse(d);
    };
    expectInvalid(broken('expiresAt', undefined), 'expiresAt', 'required');
    expectInvalid(broken('scope.merchant', 'a b'), 'scope.merchant', 'id of 1..64 letters, digits and _.:-');
    expectInvalid(broken('scope.devices', [DEVICE_A, DEVICE_A]), 'scope.devices[1]', 'each device listed once');
    expectInvalid(broken('currency', 'eur'), 'currency', 'ISO 4217 code (3 upper-case letters)');
    expectInvalid(broken('offline.device.maxCount', -1), 'offline.device.maxCount', 'integer 0..1000000');
    expectInvalid(
      broken('online.kinds', ['ticket.issued', 'ticket.issued']),
      'online.kinds[1]',
      'each kind listed once',
    );
  });
});
