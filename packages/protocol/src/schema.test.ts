import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { ValidationError } from './errors.js';
import * as s from './schema.js';

function expectInvalid(run: () => unknown, field: string, rule?: string, got?: string): void {
  assert.throws(run, (e: unknown) => {
    assert.ok(e instanceof ValidationError, `expected a ValidationError, got ${String(e)}`);
    assert.equal(e.field, field);
    if (rule !== undefined) assert.equal(e.rule, rule);
    if (got !== undefined) assert.equal(e.got, got);
    return true;
  });
}

describe('schema.int', () => {
  it('accepts the bounds and rejects one past each', () => {
    const schema = s.int({ min: 1, max: 10 });
    assert.equal(schema.parse(1), 1);
    assert.equal(schema.parse(10), 10);
    expectInvalid(() => schema.parse(0), '(root)', 'integer 1..10', '0');
    expectInvalid(() => schema.parse(11, 'n'), 'n', 'integer 1..10', '11');
  });

  it('rejects non-integers and non-numbers', () => {
    const schema = s.int({ min: 0, max: 10 });
    for (const bad of [1.5, Number.NaN, Number.POSITIVE_INFINITY, '5', null, true, [5], { n: 5 }]) {
      expectInvalid(() => schema.parse(bad, 'n'), 'n', 'integer 0..10');
    }
  });

  it('states one-sided and default rules', () => {
    expectInvalid(() => s.int({ min: 0 }).parse(-1), '(root)', 'integer >= 0');
    expectInvalid(() => s.int({ max: 5 }).parse(6), '(root)', 'integer <= 5');
    assert.equal(s.int().parse(Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER);
    assert.equal(s.int().parse(Number.MIN_SAFE_INTEGER), Number.MIN_SAFE_INTEGER);
    expectInvalid(() => s.int().parse(2 ** 53), '(root)', 'safe integer');
    expectInvalid(() => s.int().parse(-(2 ** 53)), '(root)', 'safe integer');
  });

  it('accepts exactly the integers within the bounds (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: -1000, max: 1000 }),
        fc.double(),
        (a, b, v) => {
          const [min, max] = a <= b ? [a, b] : [b, a];
          const schema = s.int({ min, max });
          const ok = Number.isInteger(v) && v >= min && v <= max;
          if (ok) assert.equal(schema.parse(v), v);
          else expectInvalid(() => schema.parse(v), '(root)', `integer ${min}..${max}`);
          assert.equal(schema.parse(min), min);
          assert.equal(schema.parse(max), max);
          expectInvalid(() => schema.parse(min - 1), '(root)');
          expectInvalid(() => schema.parse(max + 1), '(root)');
        },
      ),
    );
  });
});

describe('schema.string', () => {
  it('accepts lengths at the bounds and rejects one past each', () => {
    const schema = s.string({ minLength: 2, maxLength: 4 });
    assert.equal(schema.parse('ab'), 'ab');
    assert.equal(schema.parse('abcd'), 'abcd');
    expectInvalid(() => schema.parse('a', 'name'), 'name', 'string of 2..4 characters', '"a"');
    expectInvalid(() => schema.parse('abcde', 'name'), 'name', 'string of 2..4 characters', '"abcde"');
    expectInvalid(() => schema.parse(''), '(root)', 'string of 2..4 characters');
    expectInvalid(() => schema.parse(12), '(root)', 'string of 2..4 characters', '12');
  });

  it('counts UTF-16 code units', () => {
    const schema = s.string({ maxLength: 1 });
    assert.equal(schema.parse('é'), 'é');
    expectInvalid(() => schema.parse('😀'), '(root)', 'string of 0..1 characters');
    assert.equal(s.string({ maxLength: 2 }).parse('😀'), '😀');
  });

  it('checks a pattern, naming it by its patternRule or its source', () => {
    const named = s.string({ maxLength: 10, pattern: /^[a-z]+$/, patternRule: 'lowercase letters' });
    assert.equal(named.parse('abc'), 'abc');
    expectInvalid(() => named.parse('aBc', 'x'), 'x', 'lowercase letters');
    const unnamed = s.string({ maxLength: 10, pattern: /^[a-z]+$/ });
    expectInvalid(() => unnamed.parse('a1'), '(root)', 'string matching ^[a-z]+$');
  });

  it('rejects lone surrogates but accepts surrogate pairs', () => {
    const schema = s.string({ maxLength: 10 });
    assert.equal(schema.parse('a😀'), 'a😀');
    for (const bad of ['\ud800', 'a\udc00', '\ude00\ud83d', 'x\ud83dy']) {
      expectInvalid(() => schema.parse(bad, 'note'), 'note', 'well-formed Unicode (no lone surrogates)');
    }
  });

  it('describes long values by their length only', () => {
    expectInvalid(() => s.string({ maxLength: 40 }).parse('x'.repeat(41)), '(root)', undefined, 'string(41)');
    expectInvalid(() => s.string({ maxLength: 3 }).parse('x'.repeat(40)), '(root)', undefined, `"${'x'.repeat(40)}"`);
  });
});

describe('schema.oneOf, literal, boolean, nullable', () => {
  it('oneOf takes only the listed strings', () => {
    const schema = s.oneOf(['cash', 'card'] as const);
    assert.equal(schema.parse('cash'), 'cash');
    assert.equal(schema.parse('card'), 'card');
    for (const bad of ['Cash', 'toString', '', 1, null]) {
      expectInvalid(() => schema.parse(bad, 't'), 't', 'one of "cash", "card"');
    }
  });

  it('literal takes only its value, with no type coercion', () => {
    assert.equal(s.literal(1).parse(1), 1);
    expectInvalid(() => s.literal(1).parse('1'), '(root)', 'exactly 1', '"1"');
    expectInvalid(() => s.literal(1).parse(true), '(root)', 'exactly 1');
    assert.equal(s.literal('a').parse('a'), 'a');
    expectInvalid(() => s.literal('a').parse('b'), '(root)', 'exactly "a"');
    assert.equal(s.literal(false).parse(false), false);
    expectInvalid(() => s.literal(false).parse(0), '(root)', 'exactly false');
  });

  it('boolean takes only true and false', () => {
    assert.equal(s.boolean().parse(true), true);
    assert.equal(s.boolean().parse(false), false);
    for (const bad of [0, 1, 'true', null]) expectInvalid(() => s.boolean().parse(bad), '(root)', 'boolean');
  });

  it('nullable takes null or the inner schema, reporting the inner rule', () => {
    const schema = s.nullable(s.int({ min: 0, max: 3 }));
    assert.equal(schema.parse(null), null);
    assert.equal(schema.parse(3), 3);
    expectInvalid(() => schema.parse(4, 'x'), 'x', 'integer 0..3');
    expectInvalid(() => schema.parse(undefined, 'x'), 'x', 'integer 0..3');
  });
});

describe('schema.array', () => {
  const schema = s.array(s.int({ min: 0 }), { minItems: 1, maxItems: 3 });

  it('accepts item counts at the bounds and rejects one past each', () => {
    assert.deepEqual(schema.parse([0]), [0]);
    assert.deepEqual(schema.parse([0, 1, 2]), [0, 1, 2]);
    expectInvalid(() => schema.parse([], 'xs'), 'xs', 'array of 1..3 items', 'array(0)');
    expectInvalid(() => schema.parse([0, 1, 2, 3], 'xs'), 'xs', 'array of 1..3 items', 'array(4)');
    expectInvalid(() => schema.parse({ 0: 1, length: 1 }, 'xs'), 'xs', 'array of 1..3 items');
  });

  it('names the index of a bad item', () => {
    expectInvalid(() => schema.parse([0, -1], 'xs'), 'xs[1]', 'integer >= 0');
    expectInvalid(() => schema.parse([0, 1, 'x']), '[2]', 'integer >= 0');
  });

  it('returns a new array', () => {
    const input = [1, 2];
    const out = schema.parse(input);
    assert.notEqual(out, input);
    assert.deepEqual(out, input);
  });
});

describe('schema.object', () => {
  const schema = s.object({
    a: s.int({ min: 0, max: 9 }),
    b: s.optional(s.string({ maxLength: 3 })),
  });

  it('parses required and optional fields; an absent optional field stays absent', () => {
    assert.deepEqual(schema.parse({ a: 1, b: 'x' }), { a: 1, b: 'x' });
    const out = schema.parse({ a: 1 });
    assert.deepEqual(out, { a: 1 });
    assert.equal(Object.hasOwn(out, 'b'), false);
  });

  it('reports a missing required field on its path', () => {
    expectInvalid(() => schema.parse({ b: 'x' }, 'outer'), 'outer.a', 'required', 'missing');
    expectInvalid(() => schema.parse({}), 'a', 'required', 'missing');
  });

  it('checks present optional fields', () => {
    expectInvalid(() => schema.parse({ a: 1, b: 'long' }), 'b', 'string of 0..3 characters');
    expectInvalid(() => schema.parse({ a: 1, b: null }), 'b', 'string of 0..3 characters');
  });

  it('rejects unknown fields by name, own and enumerable ones only', () => {
    expectInvalid(
      () => schema.parse({ a: 1, c: 2 }, 'x'),
      'x.c',
      'no such field (unknown fields are rejected)',
      'present',
    );
    expectInvalid(() => schema.parse(JSON.parse('{"a":1,"__proto__":null}')), '__proto__');
    const inherited = Object.assign(Object.create({ c: 2 }), { a: 1 });
    assert.deepEqual(schema.parse(inherited), { a: 1 });
  });

  it('rejects non-objects', () => {
    for (const bad of [null, [], 'x', 1, true]) expectInvalid(() => schema.parse(bad, 'o'), 'o', 'object');
  });

  it('returns a new object holding only the declared fields', () => {
    const input = { a: 1 };
    const out = schema.parse(input);
    assert.notEqual(out, input);
  });

  it('names the full path of a deeply nested problem', () => {
    const line = s.object({ sku: s.string({ minLength: 1, maxLength: 8 }), qty: s.int({ min: 1, max: 100 }) });
    const batch = s.object({
      ops: s.array(s.object({ body: s.object({ lines: s.array(line, { maxItems: 5 }) }) }), { maxItems: 5 }),
    });
    const op = (qty: number) => ({ body: { lines: [{ sku: 'A', qty }] } });
    assert.doesNotThrow(() => batch.parse({ ops: [op(1), op(1), op(100)] }));
    expectInvalid(() => batch.parse({ ops: [op(1), op(1), op(0)] }), 'ops[2].body.lines[0].qty', 'integer 1..100', '0');
    expectInvalid(() => batch.parse({ ops: [op(1), op(101)] }), 'ops[1].body.lines[0].qty', 'integer 1..100');
    expectInvalid(
      () => batch.parse({ ops: [{ body: { lines: [{ sku: 'A', qty: 1, price: 3 }] } }] }),
      'ops[0].body.lines[0].price',
      'no such field (unknown fields are rejected)',
    );
    expectInvalid(
      () => batch.parse({ ops: [{ body: { lines: [{ qty: 1 }] } }] }),
      'ops[0].body.lines[0].sku',
      'required',
    );
  });
});

describe('schema.taggedUnion', () => {
  const shape = s.taggedUnion('type', {
    circle: s.object({ type: s.literal('circle'), r: s.int({ min: 1 }) }),
    square: s.object({ type: s.literal('square'), side: s.int({ min: 1 }) }),
  });
  const shapes = s.object({ items: s.array(shape, { maxItems: 5 }) });

  it('parses each variant by its tag', () => {
    assert.deepEqual(shape.parse({ type: 'circle', r: 2 }), { type: 'circle', r: 2 });
    assert.deepEqual(shape.parse({ type: 'square', side: 3 }), { type: 'square', side: 3 });
  });

  it('reports an unknown, missing or non-string tag on the tag field', () => {
    const rule = 'one of "circle", "square"';
    expectInvalid(
      () => shapes.parse({ items: [{ type: 'circle', r: 1 }, { type: 'hexagon' }] }),
      'items[1].type',
      rule,
    );
    expectInvalid(() => shapes.parse({ items: [{ r: 1 }] }), 'items[0].type', rule);
    expectInvalid(() => shapes.parse({ items: [{ type: 7 }] }), 'items[0].type', rule);
    expectInvalid(() => shape.parse({ type: 'toString' }), 'type', rule);
    expectInvalid(() => shape.parse({ type: '__proto__' }), 'type', rule);
  });

  it('reports problems inside a variant on their own paths', () => {
    expectInvalid(() => shapes.parse({ items: [{ type: 'square', side: 0 }] }), 'items[0].side', 'integer >= 1');
    expectInvalid(
      () => shapes.parse({ items: [{ type: 'square', r: 1 }] }),
      'items[0].r',
      'no such field (unknown fields are rejected)',
    );
  });

  it('rejects non-objects', () => {
    expectInvalid(() => shape.parse('circle', 'x'), 'x', 'object');
    expectInvalid(() => shape.parse(null), '(root)', 'object');
  });
});

describe('schema.refine', () => {
  const range = s.refine(s.object({ lo: s.int(), hi: s.int() }), (v) => (v.lo <= v.hi ? null : ['hi', 'at least lo']));
  const whole = s.refine(s.int(), (v) => (v % 2 === 0 ? null : ['', 'even']));

  it('passes values the check accepts', () => {
    assert.deepEqual(range.parse({ lo: 1, hi: 1 }), { lo: 1, hi: 1 });
  });

  it('reports the check’s field below the path, or the path itself', () => {
    expectInvalid(() => range.parse({ lo: 2, hi: 1 }, 'r'), 'r.hi', 'at least lo', 'violated');
    expectInvalid(() => range.parse({ lo: 2, hi: 1 }), 'hi', 'at least lo');
    expectInvalid(() => whole.parse(3, 'n'), 'n', 'even');
    expectInvalid(() => whole.parse(3), '(root)', 'even');
  });

  it('checks the inner schema first', () => {
    expectInvalid(() => range.parse({ lo: 'a', hi: 1 }), 'lo', 'safe integer');
  });
});

describe('schema.anyObject', () => {
  it('takes any object up to maxKeys members', () => {
    const schema = s.anyObject(2);
    assert.deepEqual(schema.parse({ a: 1, b: { c: 2 } }), { a: 1, b: { c: 2 } });
    expectInvalid(() => schema.parse({ a: 1, b: 2, c: 3 }, 'body'), 'body', 'object with at most 2 fields');
    for (const bad of [null, [], 'x']) expectInvalid(() => schema.parse(bad, 'body'), 'body', 'object');
  });
});

describe('ValidationError from schemas', () => {
  it('has a message naming field, rule and value', () => {
    assert.throws(
      () => s.int({ min: 1 }).parse(0, 'ops[0].seq'),
      (e: unknown) => e instanceof ValidationError && e.message === 'ops[0].seq: expected integer >= 1, got 0',
    );
  });
});

describe('describe() returns JSON Schema', () => {
  it('for each combinator', () => {
    assert.deepEqual(s.int({ min: 1, max: 5 }).describe(), { type: 'integer', minimum: 1, maximum: 5 });
    assert.deepEqual(s.int().describe(), {
      type: 'integer',
      minimum: Number.MIN_SAFE_INTEGER,
      maximum: Number.MAX_SAFE_INTEGER,
    });
    assert.deepEqual(s.string({ maxLength: 3 }).describe(), { type: 'string', minLength: 0, maxLength: 3 });
    assert.deepEqual(s.string({ minLength: 1, maxLength: 3, pattern: /^[a-z]+$/ }).describe(), {
      type: 'string',
      minLength: 1,
      maxLength: 3,
      pattern: '^[a-z]+$',
    });
    assert.deepEqual(s.oneOf(['a', 'b'] as const).describe(), { enum: ['a', 'b'] });
    assert.deepEqual(s.literal(1).describe(), { const: 1 });
    assert.deepEqual(s.boolean().describe(), { type: 'boolean' });
    assert.deepEqual(s.nullable(s.boolean()).describe(), { anyOf: [{ type: 'boolean' }, { type: 'null' }] });
    assert.deepEqual(s.array(s.boolean(), { maxItems: 2 }).describe(), {
      type: 'array',
      items: { type: 'boolean' },
      minItems: 0,
      maxItems: 2,
    });
    assert.deepEqual(s.object({ a: s.boolean(), b: s.optional(s.literal('x')) }).describe(), {
      type: 'object',
      additionalProperties: false,
      required: ['a'],
      properties: { a: { type: 'boolean' }, b: { const: 'x' } },
    });
    const variant = s.object({ type: s.literal('a') });
    assert.deepEqual(s.taggedUnion('type', { a: variant }).describe(), { oneOf: [variant.describe()] });
    assert.deepEqual(s.refine(s.boolean(), () => null).describe(), { type: 'boolean' });
    assert.deepEqual(s.anyObject().describe(), { type: 'object' });
  });
});

describe('error paths through nested schemas', () => {
  const line = s.object({
    qty: s.int({ min: 1 }),
    tags: s.optional(s.array(s.string({ maxLength: 2 }), { maxItems: 2 })),
  });
  const tender = s.taggedUnion('type', {
    cash: s.object({ type: s.literal('cash'), amount: s.int({ min: 0 }) }),
  });
  const body = s.object({ lines: s.array(line, { maxItems: 5 }), tenders: s.array(tender, { maxItems: 2 }) });
  const ops = s.array(s.object({ body }), { maxItems: 5 });

  it('names the full path of a field deep inside arrays and objects, with or without a root path', () => {
    const bad = [{ body: { lines: [], tenders: [] } }, { body: { lines: [{ qty: 1 }, { qty: 0 }], tenders: [] } }];
    expectInvalid(() => ops.parse(bad, 'ops'), 'ops[1].body.lines[1].qty', 'integer >= 1', '0');
    expectInvalid(() => ops.parse(bad), '[1].body.lines[1].qty', 'integer >= 1', '0');
    const tags = [{ body: { lines: [{ qty: 1, tags: ['ok', 'toolong'] }], tenders: [] } }];
    expectInvalid(() => ops.parse(tags, 'ops'), 'ops[0].body.lines[0].tags[1]', 'string of 0..2 characters');
  });

  it('names missing, unknown and tag fields at depth', () => {
    expectInvalid(
      () => ops.parse([{ body: { lines: [{}], tenders: [] } }], 'ops'),
      'ops[0].body.lines[0].qty',
      'required',
    );
    expectInvalid(
      () => ops.parse([{ body: { lines: [{ qty: 1, x: 1 }], tenders: [] } }], 'ops'),
      'ops[0].body.lines[0].x',
      'no such field (unknown fields are rejected)',
    );
    expectInvalid(
      () => ops.parse([{ body: { lines: [], tenders: [{ type: 'card' }] } }], 'ops'),
      'ops[0].body.tenders[0].type',
    );
    expectInvalid(
      () => ops.parse([{ body: { lines: [], tenders: [{ type: 'cash', amount: -1 }] } }], 'ops'),
      'ops[0].body.tenders[0].amount',
      'integer >= 0',
    );
    expectInvalid(() => ops.parse([{ body: 'x' }], 'ops'), 'ops[0].body', 'object');
  });
});
