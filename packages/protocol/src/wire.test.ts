import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ValidationError } from './errors.js';
import { GENESIS_HASH, NO_DECISION, type Op, sealOp } from './op.js';
import { parseBody } from './op-kinds.js';
import { batchHeadMessage, enrollmentMessage, policyRequestMessage, queryMessage } from './signed-messages.js';
import { generateDeviceKeys, importPrivateKey, importPublicKey, signMessage, verifyMessage } from './signing.js';
import { uuidv7 } from './uuidv7.js';
import {
  BATCH_MAX_OPS,
  batchSchema,
  createTokenRequestSchema,
  enrollRequestSchema,
  opQuerySchema,
  placementSchema,
  policyRequestSchema,
  QUERY_MAX_IDS,
  revokeRequestSchema,
} from './wire.js';

const T0 = 1_700_000_000_000;
const keys = generateDeviceKeys();
const privateKey = importPrivateKey(keys.privateKey);
const DEVICE = uuidv7(T0 - 1_000, new Uint8Array(10).fill(0xd0));
const SHIFT = uuidv7(T0 - 500, new Uint8Array(10).fill(0x5f));
const TOKEN = Buffer.alloc(32, 0xab).toString('base64url');
const NOT_A_FIELD = 'no such field (unknown fields are rejected)';

function expectInvalid(run: () => unknown, field: string, rule?: string): ValidationError {
  let caught: unknown;
  try {
    run();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof ValidationError, `expected a ValidationError, got ${String(caught)}`);
  assert.equal(caught.field, field);
  if (rule !== undefined) assert.equal(caught.rule, rule);
  return caught;
}

/** A chain of `n` sealed ops for DEVICE: a shift opening, then cash sales. */
function chain(n: number): Op[] {
  const ops: Op[] = [];
  let prev = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq++) {
    const body =
      seq === 1
        ? { clerk: 'ana', currency: 'EUR', openingFloat: 5_000 }
        : {
            shift: SHIFT,
            currency: 'EUR',
            lines: [{ sku: 'TEA', name: 'Tea', qty: 1, unitPrice: 300 }],
            total: 300,
            tenders: [{ type: 'cash', amount: 300, tendered: 500 }],
          };
    const op = sealOp({
      v: 1,
      id: uuidv7(T0 + seq, new Uint8Array(10).fill(seq % 256)),
      device: DEVICE,
      seq,
      prev,
      kind: seq === 1 ? 'shift.opened' : 'sale.recorded',
      body: body as Record<string, unknown>,
      at: T0 + seq,
      decision: { ...NO_DECISION },
    });
    ops.push(op);
    prev = op.hash;
  }
  return ops;
}

/** A batch as it arrives on the wire: JSON text parsed back. */
function batch(ops: Op[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const last = ops[ops.length - 1];
  const sig = last ? signMessage(batchHeadMessage(DEVICE, last.seq, last.hash), privateKey) : 'A'.repeat(86);
  return JSON.parse(
    JSON.stringify({ device: DEVICE, ops, sig, sentAt: T0 + 10_000, latestSeq: ops.length || 1, ...overrides }),
  );
}

describe('batchSchema', () => {
  const ops = chain(3);

  it('parses a valid signed batch whose signature verifies', () => {
    const parsed = batchSchema.parse(batch(ops));
    assert.equal(parsed.ops.length, 3);
    assert.deepEqual(parsed.ops, JSON.parse(JSON.stringify(ops)));
    const last = parsed.ops[2];
    assert.ok(last);
    assert.equal(
      verifyMessage(batchHeadMessage(parsed.device, last.seq, last.hash), parsed.sig, importPublicKey(keys.publicKey)),
      true,
    );
  });

  it(`takes 1..${BATCH_MAX_OPS} ops`, () => {
    const most = chain(BATCH_MAX_OPS);
    assert.equal(batchSchema.parse(batch(most.slice(0, 1))).ops.length, 1);
    assert.equal(batchSchema.parse(batch(most)).ops.length, BATCH_MAX_OPS);
    const rule = `array of 1..${BATCH_MAX_OPS} items`;
    expectInvalid(() => batchSchema.parse(batch([])), 'ops', rule);
    const tooMany = [...most, ...chain(1)];
    assert.equal(tooMany.length, BATCH_MAX_OPS + 1);
    expectInvalid(() => batchSchema.parse(batch(tooMany)), 'ops', rule);
  });

  it('names the op and field of a bad op', () => {
    const bad = batch(ops);
    const list = bad.ops as Record<string, unknown>[];
    list[2] = { ...list[2], seq: 0 };
    expectInvalid(() => batchSchema.parse(bad), 'ops[2].seq', 'integer >= 1');
    list[2] = { ...list[2], seq: 3, color: 'red' };
    expectInvalid(() => batchSchema.parse(bad), 'ops[2].color', NOT_A_FIELD);
    list[1] = { ...list[1], decision: { mode: 'x', outcome: 'approved', policy: null } };
    expectInvalid(() => batchSchema.parse(bad), 'ops[1].decision.mode');
  });

  it('a body problem found later is reported under the op’s path', () => {
    const parsed = batchSchema.parse(batch(ops));
    const op = parsed.ops[2];
    assert.ok(op);
    const body = structuredClone(op.body) as { lines: { qty: number }[] };
    (body.lines[0] as { qty: number }).qty = 0;
    const error = expectInvalid(() => parseBody('sale.recorded', body), 'body.lines[0].qty', 'integer 1..10000');
    assert.equal(error.within('ops[2]').field, 'ops[2].body.lines[0].qty');
  });

  it('checks device, sig, sentAt and latestSeq', () => {
    expectInvalid(() => batchSchema.parse(batch(ops, { device: 'nope' })), 'device');
    expectInvalid(
      () => batchSchema.parse(batch(ops, { device: DEVICE.toUpperCase() })),
      'device',
      'UUIDv7 or UUIDv8 in lowercase hex',
    );
    const sig = batch(ops).sig as string;
    expectInvalid(() => batchSchema.parse(batch(ops, { sig: sig.slice(1) })), 'sig', 'string of 86..86 characters');
    expectInvalid(() => batchSchema.parse(batch(ops, { sig: `${sig}A` })), 'sig', 'string of 86..86 characters');
    expectInvalid(
      () => batchSchema.parse(batch(ops, { sig: `+${sig.slice(1)}` })),
      'sig',
      'Ed25519 signature, base64url (86 characters)',
    );
    expectInvalid(() => batchSchema.parse(batch(ops, { sentAt: 946_684_799_999 })), 'sentAt');
    expectInvalid(() => batchSchema.parse(batch(ops, { sentAt: String(T0) })), 'sentAt');
    assert.equal(batchSchema.parse(batch(ops, { latestSeq: 1 })).latestSeq, 1);
    expectInvalid(() => batchSchema.parse(batch(ops, { latestSeq: 0 })), 'latestSeq', 'integer >= 1');
  });

  it('requires every field and rejects unknown ones', () => {
    for (const field of ['device', 'ops', 'sig', 'sentAt', 'latestSeq']) {
      const b = batch(ops);
      delete b[field];
      expectInvalid(() => batchSchema.parse(b), field, 'required');
    }
    expectInvalid(() => batchSchema.parse(batch(ops, { extra: true })), 'extra', NOT_A_FIELD);
  });
});

describe('enrollRequestSchema', () => {
  const request = (overrides: Record<string, unknown> = {}) => ({
    token: TOKEN,
    publicKey: keys.publicKey,
    sig: signMessage(enrollmentMessage(TOKEN, keys.publicKey), privateKey),
    ...overrides,
  });

  it('parses a valid request, with or without a label', () => {
    const parsed = enrollRequestSchema.parse(request());
    assert.equal(Object.hasOwn(parsed, 'label'), false);
    assert.equal(
      verifyMessage(enrollmentMessage(parsed.token, parsed.publicKey), parsed.sig, importPublicKey(parsed.publicKey)),
      true,
    );
    assert.equal(enrollRequestSchema.parse(request({ label: 'Till 1' })).label, 'Till 1');
  });

  it('token: 43 base64url characters', () => {
    expectInvalid(
      () => enrollRequestSchema.parse(request({ token: TOKEN.slice(1) })),
      'token',
      'string of 43..43 characters',
    );
    expectInvalid(
      () => enrollRequestSchema.parse(request({ token: `${TOKEN}A` })),
      'token',
      'string of 43..43 characters',
    );
    expectInvalid(
      () => enrollRequestSchema.parse(request({ token: `${TOKEN.slice(1)}=` })),
      'token',
      'enrollment token (43 base64url characters)',
    );
  });

  it('publicKey: raw Ed25519 key, 43 base64url characters', () => {
    expectInvalid(() => enrollRequestSchema.parse(request({ publicKey: keys.publicKey.slice(2) })), 'publicKey');
    expectInvalid(
      () => enrollRequestSchema.parse(request({ publicKey: `/${keys.publicKey.slice(1)}` })),
      'publicKey',
      'raw Ed25519 public key, base64url (43 characters)',
    );
  });

  it('sig: 86 base64url characters; label 1..64 characters', () => {
    expectInvalid(() => enrollRequestSchema.parse(request({ sig: 'x' })), 'sig', 'string of 86..86 characters');
    assert.equal(enrollRequestSchema.parse(request({ label: 'l'.repeat(64) })).label?.length, 64);
    expectInvalid(() => enrollRequestSchema.parse(request({ label: '' })), 'label', 'string of 1..64 characters');
    expectInvalid(
      () => enrollRequestSchema.parse(request({ label: 'l'.repeat(65) })),
      'label',
      'string of 1..64 characters',
    );
    expectInvalid(() => enrollRequestSchema.parse(request({ label: null })), 'label');
  });

  it('requires token, publicKey and sig; rejects unknown fields', () => {
    for (const field of ['token', 'publicKey', 'sig']) {
      const r: Record<string, unknown> = request();
      delete r[field];
      expectInvalid(() => enrollRequestSchema.parse(r), field, 'required');
    }
    expectInvalid(() => enrollRequestSchema.parse(request({ deviceId: DEVICE })), 'deviceId', NOT_A_FIELD);
  });
});

describe('opQuerySchema', () => {
  const ids = chain(3).map((op) => op.id);
  const query = (overrides: Record<string, unknown> = {}) => ({
    device: DEVICE,
    ids,
    at: T0,
    sig: signMessage(queryMessage(DEVICE, ids, T0), privateKey),
    ...overrides,
  });

  it('parses a valid signed query', () => {
    const parsed = opQuerySchema.parse(query());
    assert.deepEqual(parsed.ids, ids);
    assert.equal(
      verifyMessage(queryMessage(parsed.device, parsed.ids, parsed.at), parsed.sig, importPublicKey(keys.publicKey)),
      true,
    );
  });

  it(`ids: 1..${QUERY_MAX_IDS} UUIDv7s, a bad one named by index`, () => {
    const many = Array.from({ length: QUERY_MAX_IDS + 1 }, (_, i) => uuidv7(T0 + i, new Uint8Array(10)));
    assert.equal(opQuerySchema.parse(query({ ids: many.slice(0, QUERY_MAX_IDS) })).ids.length, QUERY_MAX_IDS);
    const rule = `array of 1..${QUERY_MAX_IDS} items`;
    expectInvalid(() => opQuerySchema.parse(query({ ids: [] })), 'ids', rule);
    expectInvalid(() => opQuerySchema.parse(query({ ids: many })), 'ids', rule);
    expectInvalid(() => opQuerySchema.parse(query({ ids: [...ids, 'x'] })), 'ids[3]');
  });

  it('checks device, at and sig; rejects unknown fields', () => {
    expectInvalid(() => opQuerySchema.parse(query({ device: 1 })), 'device');
    expectInvalid(
      () => opQuerySchema.parse(query({ at: 7_258_118_400_001 })),
      'at',
      'integer 946684800000..7258118400000',
    );
    expectInvalid(() => opQuerySchema.parse(query({ sig: '' })), 'sig');
    expectInvalid(() => opQuerySchema.parse(query({ seq: 1 })), 'seq', NOT_A_FIELD);
  });
});

describe('createTokenRequestSchema and revokeRequestSchema', () => {
  it('createToken: everything optional; ttlSeconds 60..30 days', () => {
    assert.deepEqual(createTokenRequestSchema.parse({}), {});
    assert.equal(createTokenRequestSchema.parse({ ttlSeconds: 60 }).ttlSeconds, 60);
    assert.equal(createTokenRequestSchema.parse({ ttlSeconds: 2_592_000 }).ttlSeconds, 2_592_000);
    expectInvalid(() => createTokenRequestSchema.parse({ ttlSeconds: 59 }), 'ttlSeconds', 'integer 60..2592000');
    expectInvalid(() => createTokenRequestSchema.parse({ ttlSeconds: 2_592_001 }), 'ttlSeconds', 'integer 60..2592000');
    expectInvalid(() => createTokenRequestSchema.parse({ ttlSeconds: 3600.5 }), 'ttlSeconds');
    expectInvalid(() => createTokenRequestSchema.parse({ label: '' }), 'label', 'string of 1..64 characters');
    expectInvalid(() => createTokenRequestSchema.parse({ uses: 2 }), 'uses', NOT_A_FIELD);
    expectInvalid(() => createTokenRequestSchema.parse(null), '(root)', 'object');
  });

  it('createToken: an optional placement; location or event only with a merchant', () => {
    assert.deepEqual(createTokenRequestSchema.parse({ merchant: 'acme', location: 'north-1', event: null }), {
      merchant: 'acme',
      location: 'north-1',
      event: null,
    });
    assert.deepEqual(createTokenRequestSchema.parse({ merchant: 'acme' }), { merchant: 'acme' });
    const ref = 'id of 1..64 letters, digits and _.:-';
    expectInvalid(() => createTokenRequestSchema.parse({ merchant: '' }), 'merchant', 'string of 1..64 characters');
    expectInvalid(() => createTokenRequestSchema.parse({ merchant: 'a b' }), 'merchant', ref);
    expectInvalid(() => createTokenRequestSchema.parse({ merchant: 'm'.repeat(65) }), 'merchant');
    expectInvalid(() => createTokenRequestSchema.parse({ merchant: 'acme', location: 'x/y' }), 'location', ref);
    expectInvalid(() => createTokenRequestSchema.parse({ merchant: 'acme', event: 7 }), 'event');
    const alone = 'required when location or event is given';
    expectInvalid(() => createTokenRequestSchema.parse({ location: 'north-1' }), 'merchant', alone);
    expectInvalid(() => createTokenRequestSchema.parse({ event: 'final' }), 'merchant', alone);
    assert.deepEqual(createTokenRequestSchema.parse({ location: null }), { location: null });
  });

  it('revoke: a reason of 1..500 characters', () => {
    assert.equal(revokeRequestSchema.parse({ reason: 'r'.repeat(500) }).reason.length, 500);
    expectInvalid(() => revokeRequestSchema.parse({ reason: '' }), 'reason', 'string of 1..500 characters');
    expectInvalid(
      () => revokeRequestSchema.parse({ reason: 'r'.repeat(501) }),
      'reason',
      'string of 1..500 characters',
    );
    expectInvalid(() => revokeRequestSchema.parse({}), 'reason', 'required');
  });
});

describe('placementSchema', () => {
  it('takes a merchant and an explicit location and event (null for none)', () => {
    const placement = { merchant: 'acme.bars:2', location: 'north_1', event: null };
    assert.deepEqual(placementSchema.parse(placement), placement);
    expectInvalid(() => placementSchema.parse({ merchant: 'acme', event: null }), 'location', 'required');
    expectInvalid(() => placementSchema.parse({ merchant: 'acme', location: null }), 'event', 'required');
    expectInvalid(() => placementSchema.parse({ location: null, event: null }), 'merchant', 'required');
    expectInvalid(() => placementSchema.parse({ merchant: null, location: null, event: null }), 'merchant');
    expectInvalid(() => placementSchema.parse({ ...placement, event: 'é' }), 'event');
    expectInvalid(() => placementSchema.parse({ ...placement, devices: [] }), 'devices', NOT_A_FIELD);
  });
});

describe('policyRequestSchema', () => {
  const request = (overrides: Record<string, unknown> = {}) => ({
    device: DEVICE,
    at: T0,
    sig: signMessage(policyRequestMessage(DEVICE, T0), privateKey),
    ...overrides,
  });

  it('parses a signed request whose signature verifies, and only for this purpose', () => {
    const parsed = policyRequestSchema.parse(request());
    const publicKey = importPublicKey(keys.publicKey);
    assert.equal(verifyMessage(policyRequestMessage(parsed.device, parsed.at), parsed.sig, publicKey), true);
    assert.equal(verifyMessage(policyRequestMessage(parsed.device, parsed.at + 1), parsed.sig, publicKey), false);
    assert.equal(verifyMessage(queryMessage(parsed.device, [], parsed.at), parsed.sig, publicKey), false);
  });

  it('checks device, at and sig; rejects unknown fields', () => {
    expectInvalid(() => policyRequestSchema.parse(request({ device: 'd' })), 'device');
    expectInvalid(() => policyRequestSchema.parse(request({ at: 1 })), 'at', 'integer 946684800000..7258118400000');
    expectInvalid(() => policyRequestSchema.parse(request({ sig: 'x' })), 'sig');
    expectInvalid(() => policyRequestSchema.parse(request({ ids: [] })), 'ids', NOT_A_FIELD);
    const { sig: _sig, ...unsigned } = request();
    expectInvalid(() => policyRequestSchema.parse(unsigned), 'sig', 'required');
  });
});
