/**
 * Which language people are spoken to in, and which locale their money and
 * dates are shown in.
 *
 * Holdfast speaks English, Spanish and Portuguese. A caller names what it
 * wants the way browsers do (an HTTP `Accept-Language` value, or one tag);
 * {@link negotiateLocale} picks the best language Holdfast speaks and keeps
 * the caller's own tag for formatting, so `es-MX` gets Spanish words and
 * Mexican number formatting.
 */

export const MESSAGE_LANGUAGES = ['en', 'es', 'pt'] as const;
export type MessageLanguage = (typeof MESSAGE_LANGUAGES)[number];

export interface SpokenLocale {
  /** The language of the words. */
  language: MessageLanguage;
  /** A canonical BCP 47 tag for money and dates (passed to formatMoney and Intl). */
  format: string;
}

export const DEFAULT_SPOKEN_LOCALE: SpokenLocale = Object.freeze({ language: 'en', format: 'en' });

/** A header longer than this is not a browser's: the default is used. */
const MAX_ACCEPT_LANGUAGE = 512;

function canonical(tag: string): string | null {
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

/** True for one well-formed BCP 47 tag (`es`, `pt-BR`), at most 35 characters. */
export function isLocaleTag(value: string): boolean {
  return value.length <= 35 && !value.includes(',') && canonical(value) !== null;
}

function languageOf(tag: string): MessageLanguage | null {
  const primary = tag.split('-')[0]?.toLowerCase();
  return (MESSAGE_LANGUAGES as readonly string[]).includes(primary ?? '') ? (primary as MessageLanguage) : null;
}

/**
 * The best spoken locale for an `Accept-Language` value (`"es-MX,es;q=0.9,en;q=0.5"`)
 * or a single tag (`"pt-BR"`). Entries are tried by quality, highest first
 * (ties in the order given); malformed entries and languages Holdfast does not
 * speak are skipped; with nothing usable the answer is English.
 */
export function negotiateLocale(value: string | null | undefined): SpokenLocale {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_ACCEPT_LANGUAGE) {
    return DEFAULT_SPOKEN_LOCALE;
  }
  const entries: { tag: string; q: number; index: number }[] = [];
  value.split(',').forEach((part, index) => {
    const [rawTag, ...params] = part.trim().split(';');
    const tag = rawTag?.trim() ?? '';
    if (tag === '' || tag === '*') return;
    let q = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*(0(?:\.\d{0,3})?|1(?:\.0{0,3})?)\s*$/.exec(param);
      if (match?.[1] !== undefined) q = Number(match[1]);
    }
    if (q > 0) entries.push({ tag, q, index });
  });
  entries.sort((a, b) => b.q - a.q || a.index - b.index);
  for (const { tag } of entries) {
    const format = canonical(tag);
    const language = format === null ? null : languageOf(format);
    if (format !== null && language !== null) return { language, format };
  }
  return DEFAULT_SPOKEN_LOCALE;
}

/** Words in each language Holdfast speaks. */
export type Phrasebook<T> = { readonly [L in MessageLanguage]: T };

/** A date and time for people, in the locale's words, always in UTC and saying so. */
export function formatInstant(epochMs: number, locale: SpokenLocale): string {
  const text = new Intl.DateTimeFormat(locale.format, {
    dateStyle: 'medium',
    timeStyle: 'short',
    timeZone: 'UTC',
  }).format(new Date(epochMs));
  return `${text} UTC`;
}
