/**
 * A payout approved online that the till's drawer no longer covers
 * (docs/betting.md §9): the clerk asked for the payout while the server
 * was out of reach, dropped cash to the safe while it waited, and the
 * server's approval came after. The payout is a fact the server approved:
 * the till applies its cash-out to its own shift whatever its drawer rule
 * says (as the server does, raising insufficient_cash), so an honest close
 * shows no variance on the till or on the server. Real HTTP, a real server.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import type { BetSelection } from '@holdfast/protocol';
import { FaultyTransport } from '@holdfast/terminal/testing';
import { E2eWorld } from './e2e-fixture.js';

const HOME: BetSelection[] = [{ event: 'br-2026-fla-pal', market: 'match_result', selection: 'home', odds: 300 }];

describe('a payout approved after the drawer was dropped', () => {
  let w: E2eWorld;
  before(async () => {
    w = await E2eWorld.start('payout-beyond-drawer');
    await w.admin('PUT', '/v1/admin/betting', {
      limits: [
        {
          currency: 'MXN',
          minStake: 100,
          maxStake: 100_000,
          maxPayout: 1_000_000,
          selectionLiabilityCap: 1_000_000,
        },
      ],
      suspended: { events: [], markets: [] },
      voidWindowMinutes: 10,
    });
  });
  after(() => w.close());

  it('the till counts the payout out of its drawer: an honest close has no variance on the till or the server', async () => {
    const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
    const terminal = w.openTerminal('till-a', { transport, autoSync: false, idlePingMs: 0, requestTimeoutMs: 5_000 });
    await terminal.enroll(await w.enrollmentToken());
    const shift = terminal.openShift({ clerk: 'ana', currency: 'MXN', openingFloat: 10_000 }).id;
    const sold = await terminal.sellTicket({ stake: 5_000, selections: HOME }); // pays 15 000
    assert.equal(sold.state, 'approved', JSON.stringify(sold));
    await terminal.syncNow();
    await w.admin('POST', '/v1/admin/events/br-2026-fla-pal/results', {
      results: [{ market: 'match_result', selection: 'home', result: 'won' }],
    });

    // The winner asks to be paid; the server is out of reach: nothing is paid yet.
    transport.down = true;
    const waiting = await terminal.payTicket({ ticket: sold.opId, amount: 15_000 });
    assert.equal(waiting.state, 'pending_confirmation', JSON.stringify(waiting));
    // While it waits, the clerk drops 12 000 to the safe: the drawer should hold 3 000.
    terminal.recordCashMovement({ direction: 'out', reason: 'safe_drop', amount: 12_000 });
    transport.down = false;
    const [answer] = await terminal.retryPendingAuthorizations();
    assert.equal(answer?.state, 'approved', JSON.stringify(answer));
    // The supervisor brings 20 000 from the safe and the winner is paid 15 000 from it.
    terminal.recordCashMovement({ direction: 'in', reason: 'float_in', amount: 20_000 });
    const expected = 10_000 + 5_000 - 12_000 - 15_000 + 20_000;
    assert.equal(terminal.currentShift()?.cashOut, 12_000 + 15_000, 'the approved payout left the till drawer');
    const close = terminal.closeShift({ countedCash: expected });
    const z = terminal.receipt(close.id);
    assert.ok(z.type === 'z_report');
    assert.deepEqual([z.expectedCash, z.variance], [expected, 0], "the till's Z report");
    await terminal.syncNow();

    const check = await w.admin<{ server: { expectedCash: number; variance: number | null } | null }>(
      'GET',
      `/v1/admin/shifts/${shift}/z-report`,
    );
    assert.deepEqual([check.server?.expectedCash, check.server?.variance], [expected, 0], "the server's Z report");
    const page = await w.admin<{ items: { type: string; message: string }[] }>('GET', '/v1/admin/exceptions?limit=100');
    assert.deepEqual(
      page.items.map((x) => x.type),
      ['shift_rule'],
      'the server flags the payout the drawer did not cover (insufficient_cash), and no variance',
    );
    assert.match(page.items[0]?.message ?? '', /drawer held/);
    await terminal.close();
  });
});
