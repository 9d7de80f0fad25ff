import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { MAX_ODDS, MIN_ODDS, potentialPayout } from './bet.js';
import { ValidationError } from './errors.js';
import { MAX_AMOUNT } from './money.js';
import { authorizeMessage, onlineRequestHash, onlineRequestSchema } from './online.js';
import { parseBody } from './op-kinds.js';
import { generateDeviceKeys, importPrivateKey, importPublicKey, signMessage, verifyMessage } from './signing.js';

const SHIFT = '01890000-0000-7000-8000-000000000001';
const OP = '01890000-0000-7000-8000-0000000000aa';
const DEVICE = '01890000-0000-7000-8000-0000000000dd';
const sel = (event: string, odds: number, market = 'match_result', selection = 'home') => ({
  event,
  market,
  selection,
  odds,
});
const ticket = (stake: number, selections = [sel('e1', 250)]) => ({
  kind: 'ticket' as const,
  stake,
  currency: 'MXN',
  selections,
});
const expectInvalid = (fn: () => unknown, field: string, rule?: string) => {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof ValidationError, String(e));
    assert.equal(e.field, field);
    if (rule !== undefined) assert.equal(e.rule, rule);
    return true;
  });
};

describe('potentialPayout', () => {
  it('is stake × Π(odds / 100), rounded down, exactly', () => {
    assert.equal(potentialPayout(1_000, [250]), 2_500);
    assert.equal(potentialPayout(333, [150]), 499); // 499.5 rounds down
    assert.equal(potentialPayout(100, [101, 101]), 102); // 102.01
    assert.equal(potentialPayout(1, [MIN_ODDS]), 1);
  });

  it('never exceeds the float product and is within one minor unit of it (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 1_000_000 }),
        fc.array(fc.integer({ min: MIN_ODDS, max: 1_000 }), { minLength: 1, maxLength: 3 }),
        (stake, odds) => {
          const exact = potentialPayout(stake, odds);
          const approx = odds.reduce((p, o) => (p * o) / 100, stake);
          assert.ok(exact <= approx + 1e-6 && exact > approx - 1 - 1e-6, `${exact} vs ${approx}`);
        },
      ),
    );
  });
});

describe('online requests', () => {
  it('parses a card and a ticket request', () => {
    const card = { kind: 'card', amount: 1_500, currency: 'MXN', token: 'tok_visa_4242', brand: 'visa', last4: '4242' };
    assert.deepEqual(onlineRequestSchema.parse(card), card);
    assert.deepEqual(onlineRequestSchema.parse(ticket(100)), ticket(100));
  });

  it('refuses an unknown kind, bad odds and two selections in one market, naming the field', () => {
    expectInvalid(() => onlineRequestSchema.parse({ kind: 'loan' }, 'request'), 'request.kind');
    expectInvalid(
      () => onlineRequestSchema.parse(ticket(100, [sel('e1', MIN_ODDS - 1)]), 'request'),
      'request.selections[0].odds',
    );
    expectInvalid(
      () => onlineRequestSchema.parse(ticket(100, [sel('e1', MAX_ODDS + 1)]), 'request'),
      'request.selections[0].odds',
    );
    expectInvalid(
      () => onlineRequestSchema.parse(ticket(100, [sel('e1', 200), sel('e1', 300, 'match_result', 'away')]), 'request'),
      'request.selections[1]',
      'one selection per event and market',
    );
  });

  it('refuses a ticket whose potential payout would pass MAX_AMOUNT', () => {
    const stake = Math.floor(MAX_AMOUNT / 10);
    assert.ok(onlineRequestSchema.parse(ticket(stake, [sel('e1', 1_000)])));
    expectInvalid(() => onlineRequestSchema.parse(ticket(stake + 1, [sel('e1', 1_000)]), 'request'), 'request.stake');
  });

  it('the request hash ignores key order and changes with any field', () => {
    const a = ticket(100);
    const reordered = { selections: a.selections, currency: 'MXN', stake: 100, kind: 'ticket' as const };
    assert.equal(onlineRequestHash(a), onlineRequestHash(reordered));
    assert.notEqual(onlineRequestHash(a), onlineRequestHash(ticket(101)));
  });

  it('a signature over the authorize message binds device, op id, time and request', () => {
    const keys = generateDeviceKeys();
    const priv = importPrivateKey(keys.privateKey);
    const pub = importPublicKey(keys.publicKey);
    const sig = signMessage(authorizeMessage(DEVICE, OP, 1_800_000_000_000, ticket(100)), priv);
    assert.equal(verifyMessage(authorizeMessage(DEVICE, OP, 1_800_000_000_000, ticket(100)), sig, pub), true);
    assert.equal(verifyMessage(authorizeMessage(DEVICE, OP, 1_800_000_000_000, ticket(101)), sig, pub), false);
    assert.equal(verifyMessage(authorizeMessage(DEVICE, SHIFT, 1_800_000_000_000, ticket(100)), sig, pub), false);
  });
});

describe('ticket.issued', () => {
  const body = (overrides: Record<string, unknown> = {}) => ({
    shift: SHIFT,
    currency: 'MXN',
    stake: 1_000,
    selections: [sel('e1', 250), sel('e2', 180)],
    potentialPayout: 4_500,
    authorization: 'auth-1',
    ...overrides,
  });

  it('takes the exact potential payout and refuses one off either way', () => {
    assert.equal(parseBody('ticket.issued', body()).potentialPayout, 4_500);
    for (const wrong of [4_499, 4_501]) {
      expectInvalid(() => parseBody('ticket.issued', body({ potentialPayout: wrong })), 'body.potentialPayout');
    }
  });

  it('needs an authorization id and at least one selection', () => {
    expectInvalid(() => parseBody('ticket.issued', body({ authorization: '' })), 'body.authorization');
    expectInvalid(() => parseBody('ticket.issued', body({ selections: [] })), 'body.selections');
  });
});
