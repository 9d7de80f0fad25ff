import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MESSAGE_LANGUAGES, negotiateLocale } from '@holdfast/domain';
import { EXCEPTION_TYPES } from '../model/exception.js';
import { describeException } from './exception-text.js';

const variance = {
  type: 'cash_variance' as const,
  message: 'drawer short by €5.00 at close',
  detail: { shift: 's', expected: 10_000, counted: 9_500, variance: -500, currency: 'EUR' },
};

const decline = {
  type: 'post_auth_decline' as const,
  message: 'recorded message',
  detail: { amount: 2_500, currency: 'MXN', brand: 'visa', last4: '4242', declineCode: 'insufficient_funds' },
};

describe('describeException', () => {
  it('says a drawer variance with money in whole units, in each language', () => {
    assert.equal(
      describeException(variance, negotiateLocale('en')).text,
      'Drawer short by €5.00 at close: expected €100.00, counted €95.00',
    );
    assert.equal(
      describeException(variance, negotiateLocale('es')).text,
      'Faltante de 5,00\u00a0€ en caja al cierre: se esperaban 100,00\u00a0€, se contaron 95,00\u00a0€',
    );
    assert.equal(
      describeException(variance, negotiateLocale('pt-BR')).text,
      'Falta de €\u00a05,00 no caixa no fechamento: esperado €\u00a0100,00, contado €\u00a095,00',
    );
    assert.equal(describeException(variance, negotiateLocale('es')).title, 'Diferencia de caja');
  });

  it('formats money by the caller’s region: MXN in es-MX is $25.00', () => {
    const text = describeException(decline, negotiateLocale('es-MX')).text;
    assert.match(text, /^El procesador rechazó el pago visa \*\*\*\*4242 de \$25\.00 /);
  });

  it('falls back to the recorded message when the detail lacks the figures', () => {
    const bare = { ...variance, detail: { variance: -500 } };
    assert.equal(describeException(bare, negotiateLocale('pt')).text, variance.message);
    const noCurrency = { ...decline, detail: { ...decline.detail, currency: undefined } };
    assert.equal(describeException(noCurrency, negotiateLocale('es')).text, 'recorded message');
  });

  it('falls back to the type’s name and the message for a type it does not know', () => {
    const later = { type: 'warehouse_fire', message: 'sold 3 of 2', detail: {} };
    // A type raised by a newer version: the cast stands in for a row written by it.
    const text = describeException(later as unknown as typeof variance, negotiateLocale('es'));
    assert.deepEqual(text, { language: 'es', title: 'warehouse_fire', text: 'sold 3 of 2' });
  });

  it('has a title for every exception type in every language, none shared across types', () => {
    for (const language of MESSAGE_LANGUAGES) {
      const titles = EXCEPTION_TYPES.map(
        (type) => describeException({ type, message: '', detail: {} }, { language, format: language }).title,
      );
      for (const [i, title] of titles.entries()) assert.notEqual(title, EXCEPTION_TYPES[i], `${language} ${title}`);
      assert.equal(new Set(titles).size, titles.length, language);
    }
  });
});
