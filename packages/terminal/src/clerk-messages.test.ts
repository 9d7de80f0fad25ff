import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { type LoyaltyErrorCode, MESSAGE_LANGUAGES } from '@holdfast/domain';
import {
  CLERK_CODES,
  CLERK_MESSAGES,
  type ClerkCode,
  clerkMessage,
  onlineOutcomeMessage,
  type ZReportState,
  zReportMessage,
} from './clerk-messages.js';
import {
  CorrectionRefusedError,
  DeviceRevokedError,
  NeedsOnlineError,
  type TopUpReversalRefusedError,
  TransportError,
  type TransportErrorCode,
  type WristbandRefusedError,
} from './errors.js';
import { type LoyaltyOnlineCode, LoyaltyOnlineError } from './loyalty-online.js';
import { StaffError, type StaffErrorCode } from './staff.js';

// Every refusal code the terminal can throw has a sentence: this fails to compile when one is added without one.
type Thrown =
  | StaffErrorCode
  | CorrectionRefusedError['code']
  | WristbandRefusedError['code']
  | TransportErrorCode
  | LoyaltyErrorCode
  | LoyaltyOnlineCode
  | TopUpReversalRefusedError['code'];
const everyThrownCodeHasWords: [Exclude<Thrown, ClerkCode>] extends [never] ? true : false = true;

describe('clerk messages', () => {
  it('every code has words in English, Spanish and Portuguese, and the translations are not English', () => {
    assert.ok(everyThrownCodeHasWords);
    for (const code of CLERK_CODES) {
      for (const language of MESSAGE_LANGUAGES) {
        const text = clerkMessage({ code }, language);
        assert.ok(text.length > 3 && !text.includes('undefined'), `${language} ${code}: "${text}"`);
        assert.ok(Object.hasOwn(CLERK_MESSAGES[language], code), `${language} ${code}`);
      }
      if (code !== 'approval_not_needed') {
        assert.notEqual(clerkMessage({ code }, 'es'), clerkMessage({ code }, 'en'), code);
        assert.notEqual(clerkMessage({ code }, 'pt'), clerkMessage({ code }, 'en'), code);
      }
    }
  });

  it('speaks from the real errors, with their figures, in the negotiated language', () => {
    assert.equal(
      clerkMessage(new StaffError('wrong_pin', 'wrong PIN', { attemptsLeft: 2 }), 'es-MX'),
      'PIN incorrecto. Quedan 2 intentos.',
    );
    assert.equal(
      clerkMessage(new StaffError('locked_out', 'locked', { retryAfterMs: 290_000 }), 'pt-BR'),
      'PIN incorreto demais. Tente de novo em 5 min.',
    );
    assert.match(clerkMessage(new CorrectionRefusedError('refund_over_sale', 'over'), 'en'), /More than was paid/);
    assert.match(clerkMessage(new TransportError('timeout', 'no answer'), 'es'), /no la vuelva a marcar/);
    assert.equal(
      clerkMessage(new LoyaltyOnlineError('loyalty_code_wrong', 'wrong code; 1 attempt(s) left', 1), 'pt-BR'),
      'Código incorreto. Restam 1 tentativas.',
    );
    assert.match(clerkMessage(new NeedsOnlineError('floor_limit', 'over 50', null), 'pt'), /precisa do servidor/);
    assert.match(
      clerkMessage(new DeviceRevokedError('dev-1', 'device_revoked', 'stolen'), 'en'),
      /switched off by the operator/,
    );
  });

  it('an unknown code or a thrown non-error gets a plain sentence naming the code, never a stack', () => {
    assert.equal(clerkMessage({ code: 'brand_new_code' }, 'en'), 'Refused (brand_new_code).');
    assert.equal(clerkMessage(new Error('boom'), 'es'), 'Rechazado (unknown).');
    assert.equal(clerkMessage('a string', 'fr'), 'Refused (unknown).');
  });

  it('online answers: a decline by its reason, a timeout as kept and pending, an approval as nothing to say', () => {
    const opId = '01a1fdfa-4600-70fa-8a75-c555bb782756';
    assert.equal(
      onlineOutcomeMessage({ state: 'declined', opId, reason: 'ticket_paid', message: 'paid at shop 2' }, 'es'),
      'Este boleto ya se pagó.',
    );
    assert.match(
      onlineOutcomeMessage({ state: 'pending_confirmation', opId, lastError: 'timeout' }, 'en') ?? '',
      /kept and will be sent/,
    );
    assert.equal(
      onlineOutcomeMessage({ state: 'declined', opId, reason: 'do_not_honor', message: '' }, 'en'),
      'Refused (do_not_honor).',
    );
    assert.equal(onlineOutcomeMessage({ state: 'approved', opId, receipt: {} as never }, 'en'), null);
  });

  it("the server's word on a Z report, in each language, distinct for each state", () => {
    const states: ZReportState[] = ['confirmed', 'differs', 'open', 'unknown'];
    for (const language of MESSAGE_LANGUAGES) {
      const words = states.map((state) => zReportMessage(state, language));
      assert.equal(new Set(words).size, states.length, language);
      if (language !== 'en')
        for (const state of states) assert.notEqual(zReportMessage(state, language), zReportMessage(state, 'en'));
    }
    assert.equal(zReportMessage('confirmed', 'es-MX'), 'Informe Z confirmado por el servidor.');
    assert.equal(
      zReportMessage('differs', 'pt-BR'),
      'O relatório Z do servidor difere do deste caixa. Chame o seu gerente.',
    );
  });
});
