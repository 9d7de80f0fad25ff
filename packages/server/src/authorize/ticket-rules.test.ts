import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TicketAuthorization } from '@holdfast/protocol';
import fc from 'fast-check';
import type { BettingConfig } from './betting-config.js';
import { decideTicket, selectionKey, ticketSelections } from './ticket-rules.js';

const LIMITS = {
  currency: 'MXN',
  minStake: 1_000,
  maxStake: 50_000,
  maxPayout: 200_000,
  selectionLiabilityCap: 500_000,
};
const config = (
  overrides: Partial<typeof LIMITS> = {},
  suspended: BettingConfig['suspended'] = { events: [], markets: [] },
) => ({ limits: [{ ...LIMITS, ...overrides }], suspended }) satisfies BettingConfig;
const sel = (event: string, odds = 200, market = 'match_result', selection = 'home') => ({
  event,
  market,
  selection,
  odds,
});
const ticket = (stake: number, selections = [sel('e1')]): TicketAuthorization => ({
  kind: 'ticket',
  stake,
  currency: 'MXN',
  selections,
});
const reason = (d: ReturnType<typeof decideTicket>) => (d.status === 'declined' ? d.reason : 'approved');
const NONE = new Map<string, number>();
const keyOf = (event: string, selection = 'home', market = 'match_result') =>
  selectionKey({ currency: 'MXN', event, market, selection });

describe('decideTicket', () => {
  it('needs a configuration and limits for the currency', () => {
    assert.equal(reason(decideTicket(ticket(2_000), null, NONE)), 'betting_not_configured');
    assert.equal(reason(decideTicket({ ...ticket(2_000), currency: 'EUR' }, config(), NONE)), 'currency_not_offered');
  });

  it('stake: at minStake and maxStake approved, one under or over declined', () => {
    assert.equal(reason(decideTicket(ticket(999), config(), NONE)), 'stake_below_min');
    assert.equal(reason(decideTicket(ticket(1_000), config(), NONE)), 'approved');
    assert.equal(reason(decideTicket(ticket(50_000), config(), NONE)), 'approved');
    assert.equal(reason(decideTicket(ticket(50_001), config(), NONE)), 'stake_above_max');
  });

  it('potential payout: at maxPayout approved, one over declined', () => {
    // 40 000 at 5.00 pays exactly 200 000.
    assert.equal(reason(decideTicket(ticket(40_000, [sel('e1', 500)]), config(), NONE)), 'approved');
    assert.equal(
      reason(decideTicket(ticket(40_000, [sel('e1', 500)]), config({ maxPayout: 199_999 }), NONE)),
      'payout_above_max',
    );
  });

  it('liability: held + payout at the cap approved, one over declined, on every selection of an accumulator', () => {
    const t = ticket(10_000, [sel('e1', 200), sel('e2', 150)]); // pays 30 000
    const cap = { selectionLiabilityCap: 100_000 };
    assert.equal(reason(decideTicket(t, config(cap), new Map([[keyOf('e2'), 70_000]]))), 'approved');
    assert.equal(reason(decideTicket(t, config(cap), new Map([[keyOf('e2'), 69_999]]))), 'approved');
    const over = decideTicket(t, config(cap), new Map([[keyOf('e2'), 70_001]]));
    assert.equal(reason(over), 'liability_cap');
    assert.match(over.status === 'declined' ? over.message : '', /e2/);
    // Another selection of the same market has its own liability.
    assert.equal(reason(decideTicket(t, config(cap), new Map([[keyOf('e2', 'away'), 100_000]]))), 'approved');
  });

  it('suspensions: an event, or one market of an event, declines every ticket that includes it', () => {
    const t = ticket(2_000, [sel('e1'), sel('e2', 200, 'total_goals', 'over')]);
    assert.equal(reason(decideTicket(t, config({}, { events: ['e2'], markets: [] }), NONE)), 'event_suspended');
    const market = { events: [], markets: [{ event: 'e2', market: 'total_goals' }] };
    assert.equal(reason(decideTicket(t, config({}, market), NONE)), 'market_suspended');
    const otherMarket = { events: [], markets: [{ event: 'e2', market: 'match_result' }] };
    assert.equal(reason(decideTicket(t, config({}, otherMarket), NONE)), 'approved');
  });

  it('an approval lists every selection once, in selectionKey order (the lock order)', () => {
    const t = ticket(2_000, [sel('zz'), sel('aa'), sel('mm')]);
    const d = decideTicket(t, config(), NONE);
    assert.ok(d.status === 'approved');
    assert.deepEqual(
      d.selections.map((s) => s.event),
      ['aa', 'mm', 'zz'],
    );
    assert.deepEqual(ticketSelections(t), d.selections);
  });

  it('property: approving tickets one by one never lets a selection pass its cap', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            stake: fc.integer({ min: 1_000, max: 50_000 }),
            odds: fc.integer({ min: 101, max: 400 }),
            e: fc.constantFrom('a', 'b', 'c'),
          }),
          {
            maxLength: 60,
          },
        ),
        (tickets) => {
          const held = new Map<string, number>();
          const cfg = config({ selectionLiabilityCap: 300_000 });
          for (const x of tickets) {
            const d = decideTicket(ticket(x.stake, [sel(x.e, x.odds)]), cfg, held);
            if (d.status !== 'approved') continue;
            for (const s of d.selections)
              held.set(selectionKey(s), (held.get(selectionKey(s)) ?? 0) + d.potentialPayout);
          }
          for (const v of held.values()) assert.ok(v <= 300_000);
        },
      ),
    );
  });
});
