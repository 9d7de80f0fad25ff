/**
 * A betting shop end to end over real HTTP (docs/betting.md): two tills of
 * the Terminal SDK sell, the operator posts results, one till pays a
 * winner (confirmed online), the other is refused with the first payout's
 * receipt; a till cut off from the server pays a small winner offline within
 * the limit and refuses a large one; voids need an approver; and the honest
 * shift closes balance with stakes in and payouts out.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import type { BetSelection } from '@holdfast/protocol';
import { checkServerAgainstJournals, formatViolation, type Truth, ticketRules } from '@holdfast/sim';
import { type Terminal, VoidRefusedError } from '@holdfast/terminal';
import { FaultyTransport } from '@holdfast/terminal/testing';
import { E2eWorld } from './e2e-fixture.js';

const sel = (selection: string, odds: number): BetSelection[] => [
  { event: 'mx-2026-ame-gua', market: 'match_result', selection, odds },
];

async function till(w: E2eWorld, name: string, offlinePayoutLimit?: number) {
  const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
  const terminal = w.openTerminal(name, {
    transport,
    autoSync: false,
    idlePingMs: 0,
    requestTimeoutMs: 5_000,
    betting: { ...(offlinePayoutLimit !== undefined ? { offlinePayoutLimit } : {}), voidWindowMinutes: 10 },
  });
  await terminal.enroll(await w.enrollmentToken());
  terminal.openShift({ clerk: 'ana', currency: 'MXN', openingFloat: 50_000 });
  return { terminal, transport };
}

async function exceptions(w: E2eWorld): Promise<{ type: string; message: string }[]> {
  const page = await w.admin<{ items: { type: string; message: string }[] }>('GET', '/v1/admin/exceptions?limit=1000');
  return page.items.map((x) => ({ type: x.type, message: x.message }));
}

async function approvedTicket(t: Terminal, stake: number, selections: BetSelection[]): Promise<string> {
  const sold = await t.sellTicket({ stake, selections });
  assert.equal(sold.state, 'approved', JSON.stringify(sold));
  return sold.opId;
}

describe('a betting shop over real HTTP', () => {
  let w: E2eWorld;
  before(async () => {
    w = await E2eWorld.start('betting');
    await w.admin('PUT', '/v1/admin/betting', {
      limits: [
        {
          currency: 'MXN',
          minStake: 100,
          maxStake: 100_000,
          maxPayout: 1_000_000,
          selectionLiabilityCap: 1_000_000,
          offlinePayoutLimit: 5_000,
        },
      ],
      suspended: { events: [], markets: [] },
      voidWindowMinutes: 10,
    });
  });
  after(() => w.close());

  it('sells, settles, pays once across tills, pays offline only within the limit, voids with approval, balances', async () => {
    const a = await till(w, 'till-a', 5_000);
    const b = await till(w, 'till-b', 5_000);
    const big = await approvedTicket(a.terminal, 10_000, sel('home', 250)); // pays 25 000
    const small = await approvedTicket(a.terminal, 2_000, sel('home', 200)); // pays 4 000
    const large = await approvedTicket(a.terminal, 4_000, sel('home', 300)); // pays 12 000
    const lost = await approvedTicket(a.terminal, 1_000, sel('away', 300));
    const voided = await approvedTicket(a.terminal, 1_500, sel('draw', 300));
    await a.terminal.syncNow();

    assert.throws(() => a.terminal.voidTicket({ ticket: voided, approvedBy: '' }), VoidRefusedError);
    assert.throws(() => a.terminal.voidTicket({ ticket: voided, approvedBy: 'ana' }), VoidRefusedError);
    a.terminal.voidTicket({ ticket: voided, approvedBy: 'sup-rosa' });
    await a.terminal.syncNow();

    const settled = await w.admin<{ settled: Record<string, number> }>(
      'POST',
      '/v1/admin/events/mx-2026-ame-gua/results',
      {
        results: [
          { market: 'match_result', selection: 'home', result: 'won' },
          { market: 'match_result', selection: 'away', result: 'lost' },
          { market: 'match_result', selection: 'draw', result: 'lost' },
        ],
      },
    );
    assert.deepEqual(settled.settled, { won: 3, lost: 1, void: 0, push: 0 }, 'the voided ticket is not settled');

    const paid = await b.terminal.payTicket({ ticket: big, amount: 25_000 });
    assert.equal(paid.state, 'approved', JSON.stringify(paid));
    const twice = await a.terminal.payTicket({ ticket: big, amount: 25_000 });
    assert.ok(twice.state === 'declined', JSON.stringify(twice));
    assert.equal(twice.reason, 'ticket_paid');
    assert.match(twice.message, /paid already: MX\$250\.00 by device/);
    const loser = await b.terminal.payTicket({ ticket: lost, amount: 3_000 });
    assert.deepEqual([loser.state, loser.state === 'declined' && loser.reason], ['declined', 'ticket_lost']);

    // The server is unreachable from till b: a payout within the limit is paid offline, above it is not.
    b.transport.down = true;
    const offline = await b.terminal.payTicket({ ticket: small, amount: 4_000 });
    assert.equal(offline.state, 'paid_offline', JSON.stringify(offline));
    const tooLarge = await b.terminal.payTicket({ ticket: large, amount: 12_000 });
    assert.equal(tooLarge.state, 'pending_confirmation', 'above the limit: wait for the server, pay nothing');
    b.transport.down = false;
    await b.terminal.retryPendingAuthorizations();
    assert.deepEqual(
      b.terminal
        .ops({ limit: 1000 })
        .filter((e) => e.kind === 'ticket.paid')
        .map((e) => e.op.body.amount),
      [25_000, 4_000, 12_000],
    );

    // Honest closes: a took 18 500 in stakes and refunded 1 500; b paid out 41 000 of a 50 000 float.
    a.terminal.closeShift({ countedCash: 50_000 + 18_500 - 1_500 });
    b.terminal.closeShift({ countedCash: 50_000 - 41_000 });
    await a.terminal.syncNow();
    await b.terminal.syncNow();
    assert.deepEqual(await exceptions(w), [], 'no variance, no invalid payout, no double payout');
    const tickets = await w.admin<{ tickets: { ticketId: string; state: string }[] }>('GET', '/v1/admin/tickets');
    const stateOf = new Map(tickets.tickets.map((t) => [t.ticketId, t.state]));
    assert.deepEqual(
      [big, small, large, lost, voided].map((id) => stateOf.get(id)),
      ['paid', 'paid', 'paid', 'lost', 'voided'],
    );
    const betting = await w.admin<{ liabilities: unknown[] }>('GET', '/v1/admin/betting');
    assert.deepEqual(betting.liabilities, [], 'every ticket settled or voided: no liability held');
    await a.terminal.close();
    await b.terminal.close();

    // The simulator's checking kit judges the run clean, ticket rules included ...
    await w.stopServer();
    const { truth, violations } = await checkServerAgainstJournals({
      server: join(w.dir, 'server'),
      journals: [join(w.dir, 'till-a'), join(w.dir, 'till-b')],
    });
    assert.deepEqual(violations.map(formatViolation), []);
    assert.equal(truth.server.tickets.length, 5);
    // ... and each ticket rule catches its violation (tamper tests).
    const rulesOf = (t: Truth) => [...new Set(ticketRules(t).map((v) => v.rule))];
    const server = truth.server;
    const paidTwice = server.ledger.find((e) => e.type === 'ticket.paid');
    assert.ok(paidTwice);
    const tampered: [string, Truth][] = [
      [
        'ticket-paid-once',
        {
          ...truth,
          server: { ...server, ledger: [...server.ledger, { ...paidTwice, opId: server.ops[0]?.id as string }] },
        },
      ],
      [
        'ticket-paid-once',
        {
          ...truth,
          server: {
            ...server,
            ticketPayouts: [
              ...server.ticketPayouts,
              { ...(server.ticketPayouts[0] as (typeof server.ticketPayouts)[number]), opId: 'x' },
            ],
          },
        },
      ],
      [
        'payout-amount',
        {
          ...truth,
          server: {
            ...server,
            tickets: server.tickets.map((t) => (t.ticketId === big ? { ...t, payout: 25_001 } : t)),
          },
        },
      ],
      [
        'liability-held',
        {
          ...truth,
          server: {
            ...server,
            liabilities: [
              {
                currency: 'MXN',
                event: 'mx-2026-ame-gua',
                market: 'match_result',
                selection: 'home',
                liability: 4_000,
                tickets: 1,
              },
            ],
          },
        },
      ],
      [
        'liability-held',
        {
          ...truth,
          server: {
            ...server,
            tickets: server.tickets.map((t) => (t.ticketId === lost ? { ...t, state: 'accepted', payout: null } : t)),
          },
        },
      ],
      [
        'ticket-history',
        {
          ...truth,
          server: {
            ...server,
            ticketEvents: server.ticketEvents.filter((e) => !(e.ticketId === voided && e.state === 'voided')),
          },
        },
      ],
      [
        'void-approved',
        {
          ...truth,
          server: {
            ...server,
            ledger: server.ledger.map((e) =>
              e.type === 'ticket.voided' ? { ...e, data: { ...e.data, approvedBy: null } } : e,
            ),
          },
        },
      ],
    ];
    for (const [rule, t] of tampered)
      assert.ok(rulesOf(t).includes(rule as never), `${rule}: ${JSON.stringify(rulesOf(t))}`);
  });
});
