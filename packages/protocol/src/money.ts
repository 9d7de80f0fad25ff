/**
 * Money: integer minor units plus an ISO 4217 currency code.
 *
 * Amounts are never floating point. The bound keeps every sum Holdfast
 * computes (a sale's lines, a shift's takings) well inside the range where
 * JavaScript numbers are exact integers.
 */

/** Largest amount a single money field may carry: 10^12 minor units (10 billion in a 2-decimal currency). */
export const MAX_AMOUNT = 1_000_000_000_000;

/** ISO 4217 alphabetic code: three upper-case letters. */
export const CURRENCY_PATTERN = /^[A-Z]{3}$/;

export interface Money {
  amount: number;
  currency: string;
}

/** Currencies whose minor unit is not 1/100 of the major unit. Others default to 2 decimals. */
const MINOR_UNIT_EXCEPTIONS: Readonly<Record<string, number>> = {
  BHD: 3,
  CLP: 0,
  COP: 2,
  IQD: 3,
  ISK: 0,
  JOD: 3,
  JPY: 0,
  KRW: 0,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  PYG: 0,
  TND: 3,
  UGX: 0,
  VND: 0,
  XAF: 0,
  XOF: 0,
};

/** Number of decimal places of a currency's minor unit. */
export function minorUnits(currency: string): number {
  return Object.hasOwn(MINOR_UNIT_EXCEPTIONS, currency) ? (MINOR_UNIT_EXCEPTIONS[currency] as number) : 2;
}

/**
 * `1234` EUR → `"12.34"`: the exact decimal spelling of an amount, for
 * machines (CSV, accounting exports, the formatter below). No grouping, no
 * symbol, `-` for negatives; never floating point.
 */
export function decimalAmount(amount: number, currency: string): string {
  if (!Number.isSafeInteger(amount))
    throw new RangeError(`decimalAmount: ${amount} is not an integer number of minor units`);
  const digits = minorUnits(currency);
  const sign = amount < 0 ? '-' : '';
  const abs = Math.abs(amount).toString();
  if (digits === 0) return `${sign}${abs}`;
  const padded = abs.padStart(digits + 1, '0');
  return `${sign}${padded.slice(0, -digits)}.${padded.slice(-digits)}`;
}

/**
 * What a person typed as money (`25`, `25.5`, `25.50`, `1,234.50`, `1 234,50`)
 * → minor units of `currency`, exactly (never through floating point); the
 * last `.` or `,` followed by at most the currency's decimals is the decimal
 * point, other separators group thousands. Throws RangeError saying what is
 * wrong (too many decimals, not a number, negative, above MAX_AMOUNT).
 */
export function parseMoneyInput(text: string, currency: string): number {
  const digits = minorUnits(currency);
  const raw = text.trim().replace(/[\s\u00a0\u202f']/g, '');
  if (raw.startsWith('-')) throw new RangeError('an amount cannot be negative');
  if (!/^[0-9.,]+$/.test(raw) || !/[0-9]/.test(raw)) throw new RangeError(`"${text.slice(0, 40)}" is not an amount`);
  const cut = Math.max(raw.lastIndexOf('.'), raw.lastIndexOf(','));
  let whole = raw;
  let fraction = '';
  if (cut >= 0) {
    const after = raw.slice(cut + 1);
    // "1,234" in a 2-decimal currency is a thousands group, not 1.234: three digits after the last separator.
    const isGroup = after.length === 3 && digits !== 3 && /^[0-9]+$/.test(raw.slice(0, cut).replace(/[.,]/g, ''));
    if (!isGroup) {
      whole = raw.slice(0, cut);
      fraction = after;
    }
  }
  if (/[.,]/.test(fraction)) throw new RangeError(`"${text.slice(0, 40)}" is not an amount`);
  if (fraction.length > digits) {
    throw new RangeError(
      `${currency} has ${digits} decimal${digits === 1 ? '' : 's'}: "${text.slice(0, 40)}" has more`,
    );
  }
  const units = `${whole.replace(/[.,]/g, '') || '0'}${fraction.padEnd(digits, '0')}`.replace(/^0+(?=\d)/, '');
  const amount = Number(units);
  if (!Number.isSafeInteger(amount) || amount > MAX_AMOUNT) throw new RangeError(`"${text.slice(0, 40)}" is too large`);
  return amount;
}

/** The locale money is shown in when the caller names none. */
export const DEFAULT_LOCALE = 'en';

const formatters = new Map<string, Intl.NumberFormat>();

function moneyFormat(locale: string, currency: string): Intl.NumberFormat {
  const key = `${locale}|${currency}`;
  let format = formatters.get(key);
  if (!format) {
    const digits = minorUnits(currency);
    let canonical = DEFAULT_LOCALE;
    try {
      canonical = Intl.getCanonicalLocales(locale)[0] ?? DEFAULT_LOCALE;
    } catch {
      // Not a BCP 47 tag: people still get their money shown, in the default locale.
    }
    format = new Intl.NumberFormat(canonical, {
      style: 'currency',
      currency,
      minimumFractionDigits: digits,
      maximumFractionDigits: digits,
    });
    // Bounded: one entry per locale and currency a process actually shows.
    if (formatters.size < 1024) formatters.set(key, format);
  }
  return format;
}

/**
 * The one formatter for money shown to people: `1234` EUR in `en` →
 * `"€12.34"`, in `es` → `"12,34 €"`, `500` MXN in `es-MX` → `"$5.00"`.
 * Exact for every safe integer: Intl formats the decimal string, never a
 * float. An unknown or malformed locale falls back to {@link DEFAULT_LOCALE}.
 */
export function formatMoney(amount: number, currency: string, locale: string = DEFAULT_LOCALE): string {
  if (!Number.isSafeInteger(amount))
    throw new RangeError(`formatMoney: ${amount} is not an integer number of minor units`);
  if (!CURRENCY_PATTERN.test(currency)) return `${decimalAmount(amount, currency)} ${currency}`;
  // Intl.NumberFormat v3 takes a decimal string and formats it exactly; the
  // cast is for TypeScript's lib, which still types the argument as number.
  return moneyFormat(locale, currency).format(decimalAmount(amount, currency) as unknown as number);
}

/** Adds integer amounts, throwing if the result leaves the exact-integer range. */
export function addAmounts(a: number, b: number): number {
  if (!Number.isSafeInteger(a) || !Number.isSafeInteger(b))
    throw new RangeError(`amounts must be integers: ${a}, ${b}`);
  const sum = a + b;
  if (!Number.isSafeInteger(sum)) throw new RangeError(`amount overflow: ${a} + ${b}`);
  return sum;
}
