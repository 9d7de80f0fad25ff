/**
 * Protocol test vectors (docs/test-vectors/, format in its README.md): what
 * any terminal implementation, in any language, must compute byte for byte.
 * `generateTestVectors` makes them from this package's own code with a
 * fixed key; test-vectors.test.ts checks the files against it, and the
 * browser build is checked against the same files (packages/terminal-web).
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { batchMessage } from './batch-message.js';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH } from './hash.js';
import { canonicalOpText, hashOp, NO_DECISION, PROTOCOL_VERSION, sealOp, type UnsealedOp } from './op.js';
import { policyMessage, type RiskPolicy, signPolicy } from './risk-policy.js';
import { signMessage } from './signing.js';
import { makeStaffVerifier, rosterMessage, signRoster } from './staff.js';

export const TEST_VECTORS_FORMAT = 1;

/** The fixed Ed25519 seed of the vectors' device key: never a real key. */
export const VECTOR_SEED_HEX = '9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60';

/** The PKCS#8 DER prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows. */
const PKCS8_ED25519_PREFIX = '302e020100300506032b657004220420';

/** JSON texts and the canonical form RFC 8785 gives each (RFC 8785 §3.2.2, appendix B, and the protocol's strictness). */
const CANONICAL_INPUTS: { name: string; input: string }[] = [
  {
    name: 'members sorted by UTF-16 code units',
    input: '{"b":1,"a":2,"\\u20ac":3,"\\ud83d\\ude00":4,"\\ufb33":5,"1":6}',
  },
  {
    name: 'RFC 8785 §3.2.2 sample',
    input:
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
  },
  { name: 'zero and negative zero', input: '[0,-0,0.0,-0.0]' },
  {
    name: 'integers at the edge of exact doubles',
    input: '[9007199254740991,-9007199254740991,9007199254740992,18446744073709551616]',
  },
  { name: 'exponent boundaries (1e21 and 1e-7)', input: '[1e20,1e21,123456789012345678901,1e-6,1e-7,0.0000001234]' },
  {
    name: 'shortest round-trip doubles',
    input: '[0.1,0.2,0.30000000000000004,5e-324,1.7976931348623157e308,2.2250738585072014e-308]',
  },
  {
    name: 'control characters and escapes',
    input: '"\\u0000\\u0001\\u0008\\u0009\\u000a\\u000c\\u000d\\u001f\\u007f\\""',
  },
  { name: 'non-ASCII kept as UTF-8, not escaped', input: '"Zo\\u00eb \\u20ac \\ud834\\udd1e \\u65e5\\u672c"' },
  { name: 'nesting and whitespace', input: ' { "z" : [ { "b" : [ ] , "a" : { } } ] , "y" : "" } ' },
];

/** JSON texts that have no canonical form: a conforming implementation refuses them. */
const CANONICAL_REFUSED: { name: string; input: string }[] = [
  { name: 'lone high surrogate', input: '"\\ud800"' },
  { name: 'lone low surrogate in a member name', input: '{"\\udc00":1}' },
];

/** A small chain of ops (seq 1..3) of the vectors' device. */
function chainInputs(device: string): Omit<UnsealedOp, 'seq' | 'prev'>[] {
  const base = { v: PROTOCOL_VERSION, device, decision: NO_DECISION } as const;
  return [
    {
      ...base,
      id: '01936b2e-1c00-7000-8000-000000000001',
      kind: 'shift.opened',
      at: 1_735_689_600_000,
      body: { clerk: 'Zoë', currency: 'EUR', openingFloat: 10_000 },
    },
    {
      ...base,
      id: '01936b2e-1c00-7000-8000-000000000002',
      kind: 'sale.recorded',
      at: 1_735_689_660_000,
      body: { lines: [{ sku: 'COFFEE', qty: 2, unitPrice: 250 }], total: 500, note: 'tab \t "quoted" €' },
    },
    {
      ...base,
      id: '01936b2e-1c00-7000-8000-000000000003',
      kind: 'shift.closed',
      at: 1_735_693_200_000,
      body: { counted: 10_500 },
    },
  ];
}

/** A roster of the vectors' location, its verifiers made with fixed salts (never real PINs), and PINs to check against it. */
function staffPinVectors(privateKeyPkcs8: string) {
  const salt = (byte: number) => Buffer.alloc(16, byte);
  const roster = {
    v: 1 as const,
    location: 'north',
    version: 3,
    issuedAt: 1_735_689_000_000,
    staff: [
      { id: 'ana', name: 'Ana', role: 'clerk' as const, pin: makeStaffVerifier('4821', salt(0xa1)), badge: null },
      { id: 'zoe', name: 'Zoë', role: 'manager' as const, pin: makeStaffVerifier('café9', salt(0x5e)), badge: null },
      { id: 'ben', name: 'Ben', role: 'supervisor' as const, pin: null, badge: null },
    ],
  };
  return {
    format: TEST_VECTORS_FORMAT,
    keyId: 'k1',
    signed: signRoster(roster, privateKeyPkcs8, 'k1'),
    messageCanonical: canonicalJson(rosterMessage(roster)),
    checks: [
      { staff: 'ana', pin: '4821', valid: true },
      { staff: 'ana', pin: '4822', valid: false },
      { staff: 'ana', pin: '48210', valid: false },
      { staff: 'ana', pin: '', valid: false },
      // NFC: the same PIN typed decomposed (e + combining acute) verifies.
      { staff: 'zoe', pin: 'café9', valid: true },
      { staff: 'zoe', pin: 'cafe\u03019', valid: true },
      { staff: 'zoe', pin: 'cafe9', valid: false },
    ],
  };
}

export function vectorKeys(): { seedHex: string; privateKeyPkcs8: string; publicKey: string } {
  const der = Buffer.from(PKCS8_ED25519_PREFIX + VECTOR_SEED_HEX, 'hex');
  const key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  const jwk = createPublicKey(key).export({ format: 'jwk' });
  return { seedHex: VECTOR_SEED_HEX, privateKeyPkcs8: der.toString('base64url'), publicKey: String(jwk.x) };
}

/** The key id the vectors' policy is signed under. */
const VECTOR_POLICY_KEY_ID = 'vector-policy-key';

/** A risk policy with every optional part filled (docs/risk-policy.md §1), fixed times. */
function vectorPolicy(): RiskPolicy {
  return {
    v: 1,
    id: '01936b2e-0000-7000-8000-0000000000a1',
    version: 3,
    issuedAt: 1_735_689_000_000,
    validFrom: 1_735_689_000_000,
    expiresAt: 1_735_775_400_000,
    scope: { merchant: 'acme', location: 'north', event: null, devices: null },
    currency: 'EUR',
    offline: {
      maxOfflineMs: 14_400_000,
      device: { maxAmount: 50_000, maxCount: 40 },
      tenders: {
        card: {
          floorLimit: 5_000,
          instrument: { maxAmount: 10_000, maxCount: 5, velocity: { count: 3, windowMs: 600_000 } },
        },
        wristband: { floorLimit: 2_000, instrument: { maxAmount: 6_000, maxCount: 20, velocity: null } },
      },
    },
    online: { kinds: ['ticket.issued'], refundAbove: 0, loyaltyRedemptionAbove: null },
    loyalty: { pointsPerUnit: 1, perMinor: 100, offlineCap: 500 },
    stock: { blockWhenOut: false },
  };
}

/** The signed policy, and changes to it a verifier must refuse, with protocol verifyPolicy's code. */
function policyVectors(privateKeyPkcs8: string, publicKey: string) {
  const signed = signPolicy(vectorPolicy(), privateKeyPkcs8, VECTOR_POLICY_KEY_ID);
  const card = signed.policy.offline.tenders.card;
  return {
    format: TEST_VECTORS_FORMAT,
    keys: { [VECTOR_POLICY_KEY_ID]: publicKey },
    signed,
    message: policyMessage(signed.policy),
    messageCanonical: canonicalJson(policyMessage(signed.policy)),
    refused: [
      {
        name: 'card floor limit raised after signing',
        code: 'bad_signature',
        signed: {
          ...signed,
          policy: {
            ...signed.policy,
            offline: {
              ...signed.policy.offline,
              tenders: { ...signed.policy.offline.tenders, card: { ...card, floorLimit: 500_000 } },
            },
          },
        },
      },
      {
        name: 'expiry moved after signing',
        code: 'bad_signature',
        signed: { ...signed, policy: { ...signed.policy, expiresAt: signed.policy.expiresAt + 1 } },
      },
      { name: 'key id not among the keys', code: 'unknown_key', signed: { ...signed, keyId: 'another-key' } },
      {
        name: 'currency not an ISO 4217 code',
        code: 'invalid_policy',
        signed: { ...signed, policy: { ...signed.policy, currency: 'eur' } },
      },
    ],
  };
}

export function generateTestVectors() {
  const keys = vectorKeys();
  const device = '01936b2e-0000-7000-8000-00000000d001';
  const ops = [];
  let prev = GENESIS_HASH;
  let seq = 0;
  for (const input of chainInputs(device)) {
    const unsealed = { ...input, seq: ++seq, prev } as UnsealedOp;
    const op = sealOp(unsealed);
    ops.push({ unsealed, canonical: canonicalOpText(unsealed), hash: op.hash });
    prev = op.hash;
  }
  const sealed = ops.map((o) => ({ ...o.unsealed, hash: o.hash }));
  const batch = { device, ops: sealed, sentAt: 1_735_693_260_000, latestSeq: 3 };
  const message = batchMessage(batch);
  const key = createPrivateKey({ key: Buffer.from(keys.privateKeyPkcs8, 'base64url'), format: 'der', type: 'pkcs8' });
  return {
    canonicalJson: {
      format: TEST_VECTORS_FORMAT,
      cases: CANONICAL_INPUTS.map(({ name, input }) => ({ name, input, output: canonicalJson(JSON.parse(input)) })),
      refused: CANONICAL_REFUSED,
    },
    chain: {
      format: TEST_VECTORS_FORMAT,
      genesis: GENESIS_HASH,
      device,
      ops,
    },
    batch: {
      format: TEST_VECTORS_FORMAT,
      key: keys,
      request: { ...batch, sig: signMessage(message, key) },
      message,
      messageCanonical: canonicalJson(message),
    },
    policy: policyVectors(keys.privateKeyPkcs8, keys.publicKey),
    staffPin: staffPinVectors(keys.privateKeyPkcs8),
  };
}

/** hashOp, for a checker that has the unsealed op only. */
export { hashOp };
