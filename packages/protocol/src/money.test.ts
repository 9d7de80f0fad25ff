import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  addAmounts,
  CURRENCY_PATTERN,
  decimalAmount,
  formatMoney,
  MAX_AMOUNT,
  minorUnits,
  parseMoneyInput,
} from './money.js';

describe('minorUnits', () => {
  it('knows 0- and 3-decimal currencies and defaults to 2', () => {
    assert.equal(minorUnits('EUR'), 2);
    assert.equal(minorUnits('USD'), 2);
    assert.equal(minorUnits('JPY'), 0);
    assert.equal(minorUnits('KRW'), 0);
    assert.equal(minorUnits('KWD'), 3);
    assert.equal(minorUnits('BHD'), 3);
    assert.equal(minorUnits('XYZ'), 2);
  });

  it('defaults to 2 for names inherited from Object.prototype too', () => {
    // BUG (see the test report): the exceptions table is a plain object literal, so
    // minorUnits('toString') returns Object.prototype.toString, a function, not a number.
    for (const name of ['toString', 'constructor', 'valueOf', 'hasOwnProperty']) {
      assert.equal(minorUnits(name), 2, name);
    }
  });
});

describe('decimalAmount', () => {
  const cases: ReadonlyArray<readonly [number, string, string]> = [
    [1234, 'EUR', '12.34'],
    [5, 'EUR', '0.05'],
    [50, 'EUR', '0.50'],
    [100, 'EUR', '1.00'],
    [0, 'EUR', '0.00'],
    [-5, 'EUR', '-0.05'],
    [-1234, 'EUR', '-12.34'],
    [MAX_AMOUNT, 'EUR', '10000000000.00'],
    [1234, 'JPY', '1234'],
    [0, 'JPY', '0'],
    [-5, 'JPY', '-5'],
    [1234, 'KWD', '1.234'],
    [5, 'KWD', '0.005'],
    [1000, 'KWD', '1.000'],
    [-5, 'KWD', '-0.005'],
    [-12345, 'KWD', '-12.345'],
  ];
  for (const [amount, currency, expected] of cases) {
    it(`${amount} ${currency} → ${expected}`, () => {
      assert.equal(decimalAmount(amount, currency), expected);
    });
  }

  it('refuses a non-integer amount', () => {
    assert.throws(() => decimalAmount(1.5, 'EUR'), RangeError);
  });

  it('is exact for any safe integer: removing the point gives back the amount (property)', () => {
    fc.assert(
      fc.property(fc.maxSafeInteger(), fc.constantFrom('EUR', 'JPY', 'KWD'), (amount, currency) => {
        const number = decimalAmount(amount, currency);
        const digits = minorUnits(currency);
        const point = number.indexOf('.');
        assert.equal(point === -1 ? 0 : number.length - point - 1, digits);
        assert.equal(BigInt(number.replace('.', '')), BigInt(amount));
      }),
      { numRuns: 500 },
    );
  });
});

describe('formatMoney', () => {
  // What people read: the locale's symbol, grouping and decimal mark; the currency's minor unit.
  const cases: ReadonlyArray<readonly [number, string, string | undefined, string]> = [
    [1234, 'EUR', undefined, '€12.34'],
    [500, 'EUR', 'en', '€5.00'],
    [500, 'EUR', 'es', '5,00\u00a0€'],
    [123456789, 'EUR', 'pt', '€\u00a01.234.567,89'],
    [10000, 'MXN', 'es-MX', '$100.00'],
    [-500, 'BRL', 'pt-BR', '-R$\u00a05,00'],
    [1234, 'JPY', 'en', '¥1,234'],
    [1234, 'KWD', 'en', 'KWD\u00a01.234'],
    [MAX_AMOUNT, 'EUR', 'en', '€10,000,000,000.00'],
  ];
  for (const [amount, currency, locale, expected] of cases) {
    it(`${amount} ${currency} in ${locale ?? 'the default locale'} → ${expected}`, () => {
      assert.equal(formatMoney(amount, currency, locale), expected);
    });
  }

  it('shows whole units, not minor units (5.00, never 500)', () => {
    assert.match(formatMoney(500, 'EUR'), /5\.00/);
    assert.doesNotMatch(formatMoney(500, 'EUR'), /500/);
  });

  it('falls back to the default locale for a malformed tag', () => {
    assert.equal(formatMoney(1234, 'EUR', 'not a locale!'), '€12.34');
  });

  it('does not throw for a malformed currency code', () => {
    assert.equal(formatMoney(1234, 'toString'), '12.34 toString');
  });

  it('refuses a non-integer amount', () => {
    assert.throws(() => formatMoney(12.5, 'EUR'), RangeError);
  });

  it('is exact for any safe integer in every locale it speaks (property)', () => {
    fc.assert(
      fc.property(
        fc.maxSafeInteger(),
        fc.constantFrom('EUR', 'JPY', 'KWD', 'MXN'),
        fc.constantFrom('en', 'es', 'pt-BR', 'es-MX'),
        (amount, currency, locale) => {
          const digitsOnly = formatMoney(amount, currency, locale).replace(/[^0-9]/g, '');
          assert.equal(BigInt(digitsOnly), BigInt(Math.abs(amount)));
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('addAmounts', () => {
  it('adds integers', () => {
    assert.equal(addAmounts(1, 2), 3);
    assert.equal(addAmounts(MAX_AMOUNT, MAX_AMOUNT), 2 * MAX_AMOUNT);
    assert.equal(addAmounts(Number.MAX_SAFE_INTEGER - 1, 1), Number.MAX_SAFE_INTEGER);
    assert.equal(addAmounts(-5, 3), -2);
  });

  it('throws RangeError when the sum leaves the exact-integer range', () => {
    assert.throws(() => addAmounts(Number.MAX_SAFE_INTEGER, 1), RangeError);
    assert.throws(() => addAmounts(Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER), RangeError);
    assert.throws(() => addAmounts(Number.MIN_SAFE_INTEGER, -1), RangeError);
  });
});

describe('money constants', () => {
  it('MAX_AMOUNT is 10^12 and sums of many stay exact', () => {
    assert.equal(MAX_AMOUNT, 10 ** 12);
    assert.ok(Number.isSafeInteger(MAX_AMOUNT * 9000));
  });

  it('CURRENCY_PATTERN takes three upper-case ASCII letters', () => {
    for (const ok of ['EUR', 'JPY', 'XXX']) assert.match(ok, CURRENCY_PATTERN);
    for (const bad of ['eur', 'EU', 'EURO', 'E1R', 'ÉUR', ' EUR', 'EUR\n']) assert.doesNotMatch(bad, CURRENCY_PATTERN);
  });
});

describe('parseMoneyInput', () => {
  const cases: [string, string, number][] = [
    ['25', 'EUR', 2_500],
    ['25.5', 'EUR', 2_550],
    ['25.50', 'EUR', 2_550],
    ['25,50', 'EUR', 2_550],
    [' 1,234.50 ', 'USD', 123_450],
    ['1.234,50', 'EUR', 123_450],
    ['1 234,50', 'EUR', 123_450],
    ['1,234', 'USD', 123_400],
    ['0.01', 'EUR', 1],
    ['1500', 'JPY', 1_500],
    ['1.234', 'KWD', 1_234],
    ['.5', 'EUR', 50],
  ];
  for (const [text, currency, expected] of cases) {
    it(`"${text}" ${currency} → ${expected}`, () => assert.equal(parseMoneyInput(text, currency), expected));
  }

  it('refuses what is not an amount, naming why', () => {
    assert.equal(parseMoneyInput('25.505', 'EUR'), 2_550_500, 'three digits after the last separator group thousands');
    assert.throws(() => parseMoneyInput('25.5055', 'EUR'), /EUR has 2 decimals/);
    assert.throws(() => parseMoneyInput('12.5', 'JPY'), /JPY has 0 decimals/);
    assert.throws(() => parseMoneyInput('-5', 'EUR'), /negative/);
    assert.throws(() => parseMoneyInput('ten', 'EUR'), /not an amount/);
    assert.throws(() => parseMoneyInput('', 'EUR'), /not an amount/);
    assert.throws(() => parseMoneyInput('1e5', 'EUR'), /not an amount/);
    assert.throws(() => parseMoneyInput('99999999999999', 'EUR'), /too large/);
  });

  it('reads back what decimalAmount writes, for any amount (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: MAX_AMOUNT }), fc.constantFrom('EUR', 'JPY', 'KWD', 'MXN'), (n, c) => {
        assert.equal(parseMoneyInput(decimalAmount(n, c), c), n);
      }),
    );
  });
});
