import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import { canonicalJson } from './canonical-json.js';
import { ValidationError } from './errors.js';
import { HASH_PATTERN } from './hash.js';
import { GENESIS_HASH, hashOp, NO_DECISION, type Op, opSchema, sealOp, type UnsealedOp } from './op.js';
import { uuidv7 } from './uuidv7.js';

const T0 = 1_700_000_000_000;
const bytes = (fill: number) => new Uint8Array(10).fill(fill);
const DEVICE = uuidv7(T0 - 86_400_000, bytes(1));
const SHIFT = uuidv7(T0 - 3_600_000, bytes(2));

function saleBody() {
  return {
    shift: SHIFT,
    currency: 'EUR',
    lines: [
      { sku: 'COFFEE', name: 'Coffee', qty: 2, unitPrice: 250 },
      { sku: 'CAKE', name: 'Cake', qty: 1, unitPrice: 400, discount: 50 },
    ],
    total: 850,
    tenders: [{ type: 'cash', amount: 850, tendered: 1000 }],
  };
}

function unsealedOp(overrides: Partial<UnsealedOp> = {}): UnsealedOp {
  return {
    v: 1,
    id: uuidv7(T0, bytes(3)),
    device: DEVICE,
    seq: 1,
    prev: GENESIS_HASH,
    kind: 'sale.recorded',
    body: saleBody(),
    at: T0,
    decision: { ...NO_DECISION },
    ...overrides,
  };
}

/** A copy with every object's members inserted in reverse order. */
function reverseKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reverseKeys);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value)
        .reverse()
        .map(([k, v]) => [k, reverseKeys(v)]),
    );
  }
  return value;
}

function expectInvalid(run: () => unknown, field: string, rule?: string): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (rule !== undefined) assert.equal(e.rule, rule);
    return true;
  });
}

describe('hashOp and sealOp', () => {
  it('does not depend on the member order of the op or its body', () => {
    const op = unsealedOp();
    const reordered = reverseKeys(op) as UnsealedOp;
    assert.notDeepEqual(Object.keys(reordered), Object.keys(op));
    assert.equal(hashOp(reordered), hashOp(op));
  });

  it('changes when any field changes, including deep body fields', () => {
    const base = unsealedOp();
    const mutations: Record<string, (op: Record<string, unknown>) => void> = {
      v: (op) => {
        op.v = 2;
      },
      id: (op) => {
        op.id = uuidv7(T0, bytes(4));
      },
      device: (op) => {
        op.device = uuidv7(T0, bytes(5));
      },
      seq: (op) => {
        op.seq = 2;
      },
      prev: (op) => {
        op.prev = `${'0'.repeat(63)}1`;
      },
      kind: (op) => {
        op.kind = 'sale.voided';
      },
      'body.lines[1].qty': (op) => {
        const body = op.body as ReturnType<typeof saleBody>;
        body.lines[1] = { sku: 'CAKE', name: 'Cake', qty: 2, unitPrice: 400, discount: 50 };
      },
      'body.tenders[0].tendered': (op) => {
        (op.body as ReturnType<typeof saleBody>).tenders = [{ type: 'cash', amount: 850, tendered: 900 }];
      },
      'body (an extra member)': (op) => {
        (op.body as Record<string, unknown>).note = '';
      },
      at: (op) => {
        op.at = T0 + 1;
      },
      'decision.mode': (op) => {
        op.decision = { ...NO_DECISION, mode: 'local' };
      },
      'decision.outcome': (op) => {
        op.decision = { ...NO_DECISION, outcome: 'declined' };
      },
      'decision.policy': (op) => {
        op.decision = { ...NO_DECISION, policy: 'p1' };
      },
    };
    const seen = new Map<string, string>([[hashOp(base), '(base)']]);
    for (const [field, mutate] of Object.entries(mutations)) {
      const op = structuredClone(base) as unknown as Record<string, unknown>;
      mutate(op);
      const h = hashOp(op as unknown as UnsealedOp);
      assert.ok(!seen.has(h), `changing ${field} gives the same hash as ${seen.get(h)}`);
      seen.set(h, field);
    }
    assert.equal(seen.size, Object.keys(mutations).length + 1);
  });

  it('sealOp adds the hash of every other field and leaves the input alone', () => {
    const op = unsealedOp();
    const snapshot = structuredClone(op);
    const sealed = sealOp(op);
    assert.match(sealed.hash, HASH_PATTERN);
    assert.equal(sealed.hash, hashOp(op));
    const { hash: _hash, ...rest } = sealed;
    assert.deepEqual(rest, op);
    assert.deepEqual(op, snapshot);
    assert.equal(Object.hasOwn(op, 'hash'), false);
  });

  it('hashOp ignores an existing hash field', () => {
    const sealed = sealOp(unsealedOp());
    assert.equal(hashOp(sealed), sealed.hash);
    assert.equal(hashOp({ ...sealed, hash: 'f'.repeat(64) }), sealed.hash);
  });

  it('a fixture hashes to SHA-256 of its canonical JSON, computed independently', () => {
    const id = uuidv7(T0, bytes(9));
    const op = unsealedOp({
      id,
      kind: 'shift.opened',
      body: { openingFloat: 10_000, currency: 'EUR', clerk: 'Zoë' },
      at: T0 + 5,
    });
    const expectedText =
      `{"at":${T0 + 5},"body":{"clerk":"Zoë","currency":"EUR","openingFloat":10000},` +
      `"decision":{"mode":"none","outcome":"approved","policy":null},"device":"${DEVICE}",` +
      `"id":"${id}","kind":"shift.opened","prev":"${GENESIS_HASH}","seq":1,"v":1}`;
    assert.equal(canonicalJson(op), expectedText);
    assert.equal(canonicalize(op), expectedText);
    const expectedHash = createHash('sha256').update(Buffer.from(expectedText, 'utf8')).digest('hex');
    assert.equal(hashOp(op), expectedHash);
    assert.equal(sealOp(op).hash, expectedHash);
  });

  it('chains: the next op’s prev is the previous op’s hash, so a change upstream breaks the link', () => {
    const first = sealOp(unsealedOp());
    const second = sealOp(unsealedOp({ id: uuidv7(T0 + 1, bytes(7)), seq: 2, prev: first.hash, at: T0 + 1 }));
    const tampered = sealOp({ ...unsealedOp(), at: T0 + 2 });
    assert.equal(second.prev, first.hash);
    assert.notEqual(second.prev, tampered.hash);
  });

  it('GENESIS_HASH is 64 zeros', () => {
    assert.equal(GENESIS_HASH, '0'.repeat(64));
  });

  it('NO_DECISION is frozen', () => {
    assert.ok(Object.isFrozen(NO_DECISION));
    assert.deepEqual(NO_DECISION, { mode: 'none', outcome: 'approved', policy: null });
  });
});

describe('opSchema', () => {
  const valid = (): Record<string, unknown> => JSON.parse(JSON.stringify(sealOp(unsealedOp())));
  const withField = (field: string, value: unknown) => ({ ...valid(), [field]: value });
  const withDecision = (decision: Record<string, unknown>) => withField('decision', { ...NO_DECISION, ...decision });
  const withoutField = (field: string) => {
    const op = valid();
    delete op[field];
    return op;
  };

  it('parses a valid sealed op into an equal value', () => {
    const op = valid();
    const parsed: Op = opSchema.parse(op);
    assert.deepEqual(parsed, op);
  });

  it('accepts an unknown kind (bodies are checked per op, later)', () => {
    assert.equal(opSchema.parse(withField('kind', 'loyalty.points_added')).kind, 'loyalty.points_added');
  });

  it('v must be exactly 1', () => {
    expectInvalid(() => opSchema.parse(withField('v', 2)), 'v', 'exactly 1');
    expectInvalid(() => opSchema.parse(withField('v', '1')), 'v', 'exactly 1');
  });

  for (const field of ['id', 'device'] as const) {
    it(`${field} must be a lowercase UUIDv7`, () => {
      const good = uuidv7(T0, bytes(0xab));
      assert.equal(opSchema.parse(withField(field, good))[field], good);
      expectInvalid(
        () => opSchema.parse(withField(field, good.toUpperCase())),
        field,
        'UUIDv7 or UUIDv8 in lowercase hex',
      );
      const v4 = `${good.slice(0, 14)}4${good.slice(15)}`;
      expectInvalid(() => opSchema.parse(withField(field, v4)), field, 'UUIDv7 or UUIDv8 in lowercase hex');
      expectInvalid(() => opSchema.parse(withField(field, good.slice(1))), field, 'string of 36..36 characters');
      expectInvalid(() => opSchema.parse(withField(field, `${good}0`)), field, 'string of 36..36 characters');
      expectInvalid(() => opSchema.parse(withField(field, 7)), field);
    });
  }

  it('seq is an integer >= 1', () => {
    assert.equal(opSchema.parse(withField('seq', 1)).seq, 1);
    assert.equal(opSchema.parse(withField('seq', Number.MAX_SAFE_INTEGER)).seq, Number.MAX_SAFE_INTEGER);
    for (const bad of [0, -1, 1.5, Number.MAX_SAFE_INTEGER + 1, '1', null]) {
      expectInvalid(() => opSchema.parse(withField('seq', bad)), 'seq', 'integer >= 1');
    }
  });

  for (const field of ['prev', 'hash'] as const) {
    it(`${field} is 64 lowercase hex digits`, () => {
      expectInvalid(() => opSchema.parse(withField(field, '0'.repeat(63))), field, 'string of 64..64 characters');
      expectInvalid(() => opSchema.parse(withField(field, '0'.repeat(65))), field, 'string of 64..64 characters');
      expectInvalid(() => opSchema.parse(withField(field, 'A'.repeat(64))), field, '64 lowercase hex digits');
      expectInvalid(() => opSchema.parse(withField(field, 'g'.repeat(64))), field, '64 lowercase hex digits');
    });
  }

  it('kind is "domain.event" in lowercase letters and underscores, 3..63 characters', () => {
    const longest = `a${'b'.repeat(30)}.c${'d'.repeat(30)}`;
    assert.equal(longest.length, 63);
    assert.equal(opSchema.parse(withField('kind', longest)).kind, longest);
    assert.equal(opSchema.parse(withField('kind', 'a.b')).kind, 'a.b');
    const rule = 'op kind such as "sale.recorded"';
    expectInvalid(() => opSchema.parse(withField('kind', 'ab')), 'kind', 'string of 3..63 characters');
    expectInvalid(() => opSchema.parse(withField('kind', `${longest}d`)), 'kind', 'string of 3..63 characters');
    expectInvalid(() => opSchema.parse(withField('kind', `a${'b'.repeat(31)}.c`)), 'kind', rule);
    for (const bad of ['sale', 'Sale.recorded', 'sale.recorded.x', '_sale.recorded', 'sale.9', 'sale-x.y', 'sale.']) {
      expectInvalid(() => opSchema.parse(withField('kind', bad)), 'kind', rule);
    }
  });

  it('body is an object of at most 64 members (its own schema comes later)', () => {
    const members = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, i]));
    assert.equal(Object.keys(opSchema.parse(withField('body', members(64))).body).length, 64);
    assert.deepEqual(opSchema.parse(withField('body', {})).body, {});
    expectInvalid(() => opSchema.parse(withField('body', members(65))), 'body', 'object with at most 64 fields');
    expectInvalid(() => opSchema.parse(withField('body', [])), 'body', 'object');
    expectInvalid(() => opSchema.parse(withField('body', null)), 'body', 'object');
    expectInvalid(() => opSchema.parse(withField('body', 'x')), 'body', 'object');
  });

  it('at is epoch milliseconds from 2000 to 2200 inclusive', () => {
    const rule = 'integer 946684800000..7258118400000';
    assert.equal(opSchema.parse(withField('at', 946_684_800_000)).at, 946_684_800_000);
    assert.equal(opSchema.parse(withField('at', 7_258_118_400_000)).at, 7_258_118_400_000);
    expectInvalid(() => opSchema.parse(withField('at', 946_684_799_999)), 'at', rule);
    expectInvalid(() => opSchema.parse(withField('at', 7_258_118_400_001)), 'at', rule);
    expectInvalid(() => opSchema.parse(withField('at', T0 + 0.5)), 'at', rule);
  });

  it('decision: mode, outcome, and a nullable policy of 1..64 characters', () => {
    for (const mode of ['none', 'local', 'online']) {
      for (const outcome of ['approved', 'declined']) {
        assert.equal(opSchema.parse(withDecision({ mode, outcome })).decision.mode, mode);
      }
    }
    assert.equal(opSchema.parse(withDecision({ policy: 'p'.repeat(64) })).decision.policy, 'p'.repeat(64));
    expectInvalid(
      () => opSchema.parse(withDecision({ mode: 'remote' })),
      'decision.mode',
      'one of "none", "local", "online"',
    );
    expectInvalid(
      () => opSchema.parse(withDecision({ outcome: 'ok' })),
      'decision.outcome',
      'one of "approved", "declined"',
    );
    expectInvalid(() => opSchema.parse(withDecision({ policy: '' })), 'decision.policy', 'string of 1..64 characters');
    expectInvalid(
      () => opSchema.parse(withDecision({ policy: 'p'.repeat(65) })),
      'decision.policy',
      'string of 1..64 characters',
    );
    expectInvalid(
      () => opSchema.parse(withField('decision', { mode: 'none', outcome: 'approved' })),
      'decision.policy',
      'required',
    );
    expectInvalid(
      () => opSchema.parse(withDecision({ reason: 'x' })),
      'decision.reason',
      'no such field (unknown fields are rejected)',
    );
  });

  it('every field is required', () => {
    for (const field of ['v', 'id', 'device', 'seq', 'prev', 'kind', 'body', 'at', 'decision', 'hash']) {
      expectInvalid(() => opSchema.parse(withoutField(field)), field, 'required');
    }
  });

  it('rejects unknown fields, including __proto__ from JSON.parse', () => {
    expectInvalid(() => opSchema.parse(withField('extra', 1)), 'extra', 'no such field (unknown fields are rejected)');
    const text = JSON.stringify(valid()).replace(/^\{/, '{"__proto__":{"x":1},');
    expectInvalid(() => opSchema.parse(JSON.parse(text)), '__proto__', 'no such field (unknown fields are rejected)');
  });

  it('describes itself as a JSON-serializable strict JSON Schema object', () => {
    const d = opSchema.describe();
    assert.equal(d.type, 'object');
    assert.equal(d.additionalProperties, false);
    assert.deepEqual(d.required, ['v', 'id', 'device', 'seq', 'prev', 'kind', 'body', 'at', 'decision', 'hash']);
    assert.doesNotThrow(() => canonicalJson(d));
  });
});
