import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_SPOKEN_LOCALE, formatInstant, isLocaleTag, MESSAGE_LANGUAGES, negotiateLocale } from './locale.js';

describe('negotiateLocale', () => {
  const cases: ReadonlyArray<readonly [string | undefined | null, string, string]> = [
    [undefined, 'en', 'en'],
    [null, 'en', 'en'],
    ['', 'en', 'en'],
    ['es', 'es', 'es'],
    ['es-MX', 'es', 'es-MX'],
    ['pt-br', 'pt', 'pt-BR'],
    ['es-MX,es;q=0.9,en;q=0.5', 'es', 'es-MX'],
    // Quality decides, not order.
    ['en;q=0.2, pt-BR;q=0.8', 'pt', 'pt-BR'],
    // Languages Holdfast does not speak are skipped.
    ['fr-FR,de;q=0.9,pt;q=0.1', 'pt', 'pt'],
    ['fr-FR,de;q=0.9', 'en', 'en'],
    // q=0 means "not this one".
    ['es;q=0,pt;q=0.5', 'pt', 'pt'],
    // Malformed entries are skipped, not fatal.
    ['!!,es', 'es', 'es'],
    ['*', 'en', 'en'],
    ['es;q=2', 'es', 'es'],
  ];
  for (const [header, language, format] of cases) {
    it(`${JSON.stringify(header)} → ${language} words, ${format} formatting`, () => {
      assert.deepEqual(negotiateLocale(header), { language, format });
    });
  }

  it('ignores a header too long to be a browser’s', () => {
    assert.equal(negotiateLocale(`es,${'x'.repeat(600)}`), DEFAULT_SPOKEN_LOCALE);
  });

  it('always answers a language it speaks, whatever the header (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 80 }), (header) => {
        const locale = negotiateLocale(header);
        assert.ok((MESSAGE_LANGUAGES as readonly string[]).includes(locale.language));
        assert.ok(isLocaleTag(locale.format));
      }),
      { numRuns: 500 },
    );
  });
});

describe('isLocaleTag', () => {
  it('accepts tags and refuses lists, junk and very long values', () => {
    assert.ok(isLocaleTag('es'));
    assert.ok(isLocaleTag('pt-BR'));
    assert.ok(!isLocaleTag('es,pt'));
    assert.ok(!isLocaleTag('not a tag'));
    assert.ok(!isLocaleTag(`en-${'a'.repeat(40)}`));
  });
});

describe('formatInstant', () => {
  const at = Date.UTC(2026, 11, 6, 21, 5);
  it('says the time in the locale’s words, in UTC', () => {
    assert.equal(formatInstant(at, { language: 'en', format: 'en' }), 'Dec 6, 2026, 9:05 PM UTC');
    assert.match(formatInstant(at, { language: 'es', format: 'es' }), /^6 dic 2026, 21:05 UTC$/);
    assert.match(formatInstant(at, { language: 'pt', format: 'pt-BR' }), /^6 de dez\. de 2026, 21:05 UTC$/);
  });
});
