import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type Decision,
  NO_DECISION,
  onlineRequestHash,
  type SaleBody,
  type TicketIssuedBody,
} from '@holdfast/protocol';
import { type AuthorizationFact, claimsOnline, onlineProblem, ticketRequestOf } from './online-verification.js';

const DEVICE = 'dev-a';
const ONLINE: Decision = { mode: 'online', outcome: 'approved', policy: null };
const card = { type: 'card' as const, amount: 1_000, token: 'tok_abcdefgh', brand: 'visa' as const, last4: '4242' };
const sale = (tenders: SaleBody['tenders']): SaleBody => ({
  shift: 's',
  currency: 'EUR',
  lines: [{ sku: 'X', name: 'x', qty: 1, unitPrice: 1_000 }],
  total: 1_000,
  tenders,
});
const cardFact = (overrides: Partial<AuthorizationFact> = {}): AuthorizationFact => ({
  opId: 'op',
  device: DEVICE,
  kind: 'card',
  status: 'approved',
  requestHash: onlineRequestHash({
    kind: 'card',
    amount: 1_000,
    currency: 'EUR',
    token: card.token,
    brand: 'visa',
    last4: '4242',
  }),
  authorizationId: 'auth-1',
  ...overrides,
});
const ticket: TicketIssuedBody = {
  shift: 's',
  currency: 'EUR',
  stake: 500,
  selections: [{ event: 'e', market: 'm', selection: 'h', odds: 200 }],
  potentialPayout: 1_000,
  authorization: 'auth-1',
};
const ticketFact: AuthorizationFact = {
  opId: 'op',
  device: DEVICE,
  kind: 'ticket',
  status: 'approved',
  requestHash: onlineRequestHash(ticketRequestOf(ticket)),
  authorizationId: 'auth-1',
};
const op = (kind: string, decision: Decision = ONLINE) => ({ id: 'op', kind, decision });

describe('onlineProblem', () => {
  it('accepts an op matching its approved authorization', () => {
    assert.equal(onlineProblem(op('sale.recorded'), sale([card]), DEVICE, cardFact()), null);
    assert.equal(onlineProblem(op('ticket.issued'), ticket, DEVICE, ticketFact), null);
  });

  it('an op that claims no online approval needs none, but a ticket always does', () => {
    assert.equal(claimsOnline(op('sale.recorded', NO_DECISION)), false);
    assert.equal(onlineProblem(op('sale.recorded', NO_DECISION), sale([card]), DEVICE, undefined), null);
    assert.match(
      onlineProblem(op('ticket.issued', NO_DECISION), ticket, DEVICE, ticketFact) ?? '',
      /needs an online approval/,
    );
  });

  it('names every mismatch: missing, other device, not approved, other kind, other card, other ticket, two cards', () => {
    const s = sale([card]);
    const cases: [string | null, RegExp][] = [
      [onlineProblem(op('sale.recorded'), s, DEVICE, undefined), /never authorized/],
      [onlineProblem(op('sale.recorded'), s, DEVICE, cardFact({ device: 'dev-b' })), /another device/],
      [onlineProblem(op('sale.recorded'), s, DEVICE, cardFact({ status: 'pending' })), /pending/],
      [onlineProblem(op('sale.recorded'), s, DEVICE, { ...ticketFact }), /ticket, not a card/],
      [
        onlineProblem(op('sale.recorded'), sale([{ ...card, token: 'tok_other_01' }]), DEVICE, cardFact()),
        /does not match/,
      ],
      [
        onlineProblem(
          op('sale.recorded'),
          sale([
            { ...card, amount: 500 },
            { ...card, amount: 500 },
          ]),
          DEVICE,
          cardFact(),
        ),
        /exactly one card/,
      ],
      [
        onlineProblem(op('ticket.issued'), { ...ticket, stake: 501, potentialPayout: 1_002 }, DEVICE, ticketFact),
        /does not match/,
      ],
      [
        onlineProblem(op('ticket.issued'), { ...ticket, authorization: 'auth-2' }, DEVICE, ticketFact),
        /authorization auth-2/,
      ],
      [onlineProblem(op('cash.moved'), s, DEVICE, cardFact()), /never authorized online/],
    ];
    for (const [problem, pattern] of cases) assert.match(problem ?? '(none)', pattern);
  });
});
