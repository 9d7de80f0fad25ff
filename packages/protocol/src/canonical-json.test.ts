import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import canonicalize from 'canonicalize';
import fc from 'fast-check';
import { CanonicalJsonError, canonicalJson } from './canonical-json.js';

/** The double whose IEEE-754 binary64 bits are `hex` (big-endian), as RFC 8785 Appendix B lists them. */
function fromBits(hex: string): number {
  return Buffer.from(hex, 'hex').readDoubleBE(0);
}

/** RFC 8785 Appendix B: IEEE-754 bits → canonical text. */
const NUMBER_VECTORS: ReadonlyArray<readonly [bits: string, text: string]> = [
  ['0000000000000000', '0'],
  ['8000000000000000', '0'],
  ['0000000000000001', '5e-324'],
  ['8000000000000001', '-5e-324'],
  ['7fefffffffffffff', '1.7976931348623157e+308'],
  ['ffefffffffffffff', '-1.7976931348623157e+308'],
  ['4340000000000000', '9007199254740992'],
  ['c340000000000000', '-9007199254740992'],
  ['4430000000000000', '295147905179352830000'],
  ['44b52d02c7e14af5', '9.999999999999997e+22'],
  ['44b52d02c7e14af6', '1e+23'],
  ['44b52d02c7e14af7', '1.0000000000000001e+23'],
  ['444b1ae4d6e2ef4e', '999999999999999700000'],
  ['444b1ae4d6e2ef4f', '999999999999999900000'],
  ['444b1ae4d6e2ef50', '1e+21'],
  ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
  ['3eb0c6f7a0b5ed8d', '0.000001'],
  ['41b3de4355555553', '333333333.3333332'],
  ['41b3de4355555554', '333333333.33333325'],
  ['41b3de4355555555', '333333333.3333333'],
  ['41b3de4355555556', '333333333.3333334'],
  ['41b3de4355555557', '333333333.33333343'],
  ['becbf647612f3696', '-0.0000033333333333333333'],
  ['43143ff3c1cb0959', '1424953923781206.2'],
];

/** Plain JSON data as JSON.parse would return it: plain prototypes, and -0 read back as 0. */
function asParsed(value: unknown): unknown {
  if (typeof value === 'number') return Object.is(value, -0) ? 0 : value;
  if (Array.isArray(value)) return value.map(asParsed);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, asParsed(v)]));
  }
  return value;
}

describe('canonicalJson numbers (RFC 8785 Appendix B)', () => {
  it('reads the fixture bits as intended (sanity check of fromBits)', () => {
    assert.ok(Object.is(fromBits('8000000000000000'), -0));
    assert.equal(fromBits('7fefffffffffffff'), Number.MAX_VALUE);
    assert.equal(fromBits('0000000000000001'), Number.MIN_VALUE);
    assert.equal(fromBits('4340000000000000'), 2 ** 53);
    assert.equal(fromBits('4430000000000000'), 2 ** 68);
  });

  for (const [bits, text] of NUMBER_VECTORS) {
    it(`${bits} → ${text}`, () => {
      const n = fromBits(bits);
      assert.equal(canonicalJson(n), text);
      assert.equal(canonicalJson([n]), `[${text}]`);
      assert.equal(canonicalJson({ n }), `{"n":${text}}`);
    });
  }

  for (const [bits, name] of [
    ['7fffffffffffffff', 'NaN'],
    ['7ff0000000000000', 'Infinity'],
    ['fff0000000000000', '-Infinity'],
  ] as const) {
    it(`${bits} (${name}) throws CanonicalJsonError, also nested`, () => {
      const n = fromBits(bits);
      assert.ok(!Number.isFinite(n));
      assert.throws(() => canonicalJson(n), CanonicalJsonError);
      assert.throws(
        () => canonicalJson({ a: [1, n] }),
        (e: unknown) => {
          assert.ok(e instanceof CanonicalJsonError);
          assert.match(e.message, /^a\[1\]: /);
          return true;
        },
      );
    });
  }
});

describe('canonicalJson RFC 8785 §3.2 examples', () => {
  it('§3.2.2: canonicalizes the sample input (numbers, string escapes, literals, member order)', () => {
    const input = String.raw`{
      "numbers": [333333333.33333329, 1E30, 4.50, 2e-3, 0.000000000000000000000000001],
      "string": "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/",
      "literals": [null, true, false]
    }`;
    const expected = String.raw`{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\u000f\nA'B\"\\\\\"/"}`;
    // The parsed string is: € $ U+000F LF A ' B " \ \ " /
    const parsed = JSON.parse(input) as { string: string };
    assert.deepEqual(
      [...parsed.string].map((c) => c.codePointAt(0)),
      [0x20ac, 0x24, 0x0f, 0x0a, 0x41, 0x27, 0x42, 0x22, 0x5c, 0x5c, 0x22, 0x2f],
    );
    const out = canonicalJson(parsed);
    assert.equal(out, expected);
    // §3.2.4: the UTF-8 bytes the RFC lists for this output.
    const rfcBytes =
      '7b226c69746572616c73223a5b6e756c6c2c747275652c66616c73655d2c226e756d62657273223a' +
      '5b3333333333333333332e333333333333332c31652b33302c342e352c302e3030322c31652d32375d' +
      '2c22737472696e67223a22e282ac245c75303030665c6e4127425c225c5c5c5c5c222f227d';
    assert.equal(Buffer.from(out, 'utf8').toString('hex'), rfcBytes);
  });

  it('§3.2.3: sorts member names by UTF-16 code units', () => {
    const members: ReadonlyArray<readonly [string, string]> = [
      ['\u20ac', 'Euro Sign'],
      ['\r', 'Carriage Return'],
      ['\ufb33', 'Hebrew Letter Dalet With Dagesh'],
      ['1', 'One'],
      ['\ud83d\ude00', 'Emoji: Grinning Face'],
      ['\u0080', 'Control'],
      ['\u00f6', 'Latin Small Letter O With Diaeresis'],
    ];
    const order = ['\r', '1', '\u0080', '\u00f6', '\u20ac', '\ud83d\ude00', '\ufb33'];
    const byName = new Map(members);
    const expected = `{${order.map((k) => `${JSON.stringify(k)}:${JSON.stringify(byName.get(k))}`).join(',')}}`;
    assert.equal(canonicalJson(Object.fromEntries(members)), expected);
    // The same regardless of insertion order.
    assert.equal(canonicalJson(Object.fromEntries([...members].reverse())), expected);
    // U+1F600 (surrogates D83D DE00) sorts before U+FB33 by code units, though after it by code points.
    assert.ok(expected.indexOf('\ud83d\ude00') < expected.indexOf('\ufb33'));
  });
});

describe('canonicalJson other values', () => {
  it('serializes literals, empty containers and nesting without whitespace', () => {
    assert.equal(canonicalJson(null), 'null');
    assert.equal(canonicalJson(true), 'true');
    assert.equal(canonicalJson(false), 'false');
    assert.equal(canonicalJson([]), '[]');
    assert.equal(canonicalJson({}), '{}');
    assert.equal(canonicalJson({ b: [1, { d: null, c: 'x' }], a: {} }), '{"a":{},"b":[1,{"c":"x","d":null}]}');
  });

  it('escapes control characters like JSON.stringify (lower-case \\u00xx, short forms)', () => {
    assert.equal(canonicalJson('\b\t\n\f\r'), String.raw`"\b\t\n\f\r"`);
    assert.equal(canonicalJson('\u0000\u001f\u007f'), `"\\u0000\\u001f\u007f"`);
    assert.equal(canonicalJson('"\\/'), String.raw`"\"\\/"`);
  });

  it('accepts objects with a null prototype', () => {
    const o = Object.create(null) as Record<string, unknown>;
    o.b = 1;
    o.a = 2;
    assert.equal(canonicalJson(o), '{"a":2,"b":1}');
  });

  it('omits members whose value is undefined, like JSON.stringify', () => {
    assert.equal(canonicalJson({ a: 1, b: undefined }), '{"a":1}');
    assert.equal(canonicalJson({ a: undefined, b: 1 }), '{"b":1}');
    assert.equal(canonicalJson({ a: undefined }), '{}');
    assert.equal(canonicalJson({ x: { a: undefined, b: 2, c: undefined } }), JSON.stringify({ x: { b: 2 } }));
  });
});

describe('canonicalJson rejects non-JSON values with CanonicalJsonError', () => {
  class Point {
    x = 1;
  }
  const cases: ReadonlyArray<readonly [string, unknown]> = [
    ['undefined at the root', undefined],
    ['undefined in an array', [1, undefined]],
    ['a function', () => 1],
    ['a function member', { f: () => 1 }],
    ['a symbol', Symbol('s')],
    ['a symbol member', { s: Symbol('s') }],
    ['a BigInt', 10n],
    ['a BigInt in an array', [10n]],
    ['a Date', new Date(0)],
    ['a Map', new Map([['a', 1]])],
    ['a Set', new Set([1])],
    ['a class instance', new Point()],
    ['a boxed number', Object(1)],
    ['a typed array', new Uint8Array(2)],
    ['a nested Date', { at: [new Date(0)] }],
    ['a lone high surrogate', '\ud800'],
    ['a lone low surrogate', 'a\udc00b'],
    ['reversed surrogates', '\ude00\ud83d'],
    ['a lone surrogate in a nested string', { a: ['ok', 'x\ud83d'] }],
    ['a lone surrogate in a member name', { '\ud800': 1 }],
    ['a lone surrogate in a nested member name', { a: { 'k\udfff': 1 } }],
  ];
  for (const [name, value] of cases) {
    it(name, () => {
      assert.throws(() => canonicalJson(value), CanonicalJsonError);
    });
  }

  it('names the path of the offending value', () => {
    assert.throws(() => canonicalJson({ a: { b: [0, 1n] } }), /^CanonicalJsonError: a\.b\[1\]: bigint is not JSON$/);
    assert.throws(() => canonicalJson(Symbol('s')), /\(root\): symbol is not JSON/);
  });

  it('does not recurse forever on a cycle', () => {
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    assert.throws(() => canonicalJson(cyclic));
  });
});

// ---- properties against an independent implementation ----------------------------------

const finiteDouble = fc.double({ noNaN: true, noDefaultInfinity: true });

/** JSON values with arbitrary (well-formed) Unicode in strings and member names, and any finite double. */
const unicodeJson = fc.letrec<{ value: unknown; array: unknown[]; object: Record<string, unknown> }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.oneof(
      fc.constant(null),
      fc.boolean(),
      finiteDouble,
      fc.integer(),
      fc.string({ unit: 'grapheme' }),
      fc.string({ unit: 'binary' }),
    ),
    tie('array'),
    tie('object'),
  ),
  array: fc.array(tie('value'), { maxLength: 6 }),
  object: fc.dictionary(fc.oneof(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'binary' })), tie('value'), {
    maxKeys: 6,
  }),
})).value;

function checkAgainstReference(value: unknown): void {
  const out = canonicalJson(value);
  assert.equal(out, canonicalize(value));
  const parsed: unknown = JSON.parse(out);
  assert.deepStrictEqual(parsed, asParsed(value));
  assert.equal(canonicalJson(parsed), out);
}

describe('canonicalJson properties', () => {
  it('matches the canonicalize package, round-trips through JSON.parse, and is idempotent (fc.jsonValue)', () => {
    fc.assert(fc.property(fc.jsonValue(), checkAgainstReference), { numRuns: 1000 });
  });

  it('the same with Unicode member names and strings and any finite double', () => {
    fc.assert(fc.property(unicodeJson, checkAgainstReference), { numRuns: 1000 });
  });

  it('the same for any finite double alone', () => {
    fc.assert(
      fc.property(finiteDouble, (n) => {
        const out = canonicalJson(n);
        assert.equal(out, canonicalize(n));
        assert.equal(Number(out), n === 0 ? 0 : n);
      }),
      { numRuns: 2000 },
    );
  });

  it('does not depend on member insertion order', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ unit: 'grapheme' }), fc.jsonValue(), { maxKeys: 10 }), (o) => {
        const reversed = Object.fromEntries(Object.entries(o).reverse());
        assert.equal(canonicalJson(reversed), canonicalJson(o));
      }),
      { numRuns: 500 },
    );
  });

  it('sorts member names like the reference on both sides of the insertion-sort size (0 – 40 members)', () => {
    const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
    // Surrogate pairs and code units above them, where UTF-16 order differs from code point order.
    const name = fc.string({
      unit: fc.oneof(char(0x20, 0x7e), char(0xe000, 0xffff), fc.constant('\u{1F600}')),
      maxLength: 4,
    });
    fc.assert(
      fc.property(fc.dictionary(name, fc.integer(), { minKeys: 0, maxKeys: 40 }), (o) => {
        assert.equal(canonicalJson(o), canonicalize(o));
      }),
      { numRuns: 500 },
    );
  });

  it('throws exactly when the reference does: lone surrogates in strings or member names', () => {
    const char = (min: number, max: number) => fc.integer({ min, max }).map((c) => String.fromCharCode(c));
    // Half of the code units are surrogates, so well-formed pairs and lone halves both occur often.
    const codeUnits = fc.string({ unit: fc.oneof(char(0, 0xffff), char(0xd800, 0xdfff)), maxLength: 8 });
    fc.assert(
      fc.property(codeUnits, codeUnits, (str, key) => {
        for (const value of [str, { [key]: 1 }, [{ a: str }], { [key]: str }]) {
          let reference: string | undefined;
          try {
            reference = canonicalize(value);
          } catch {
            assert.throws(() => canonicalJson(value), CanonicalJsonError);
            continue;
          }
          assert.equal(canonicalJson(value), reference);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
