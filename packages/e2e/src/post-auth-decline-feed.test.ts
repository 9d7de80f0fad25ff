/**
 * A post-authorization decline end to end over real HTTP: the real server
 * with its forwarder, the processor simulator as a separate HTTP service,
 * and a terminal on HttpTransport. The terminal approves a card sale
 * offline under the policy (placed by its enrollment token, not by an
 * option), syncs; the forwarder sends it to the processor, which declines
 * it (the card is on its blocked list); the terminal's feed then shows the
 * decline, the op needs attention, and its offline exposure is released.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PostAuthDecline, Terminal } from '@holdfast/terminal';
import { cardPolicyDraft, E2eWorld } from './e2e-fixture.js';

const BLOCKED = 'tok_blocked_0001';
const GOOD = 'tok_good_00000001';

describe('post-authorization decline through the device feed, over real HTTP', () => {
  it('forwarded, declined by the processor, shown on the terminal with its exposure released', async () => {
    const w = await E2eWorld.start('feed-decline', {
      processor: { seed: 11, synchronous: 'OFF', cards: { [BLOCKED]: { blocked: true } } },
      forwarding: { intervalMs: 20 },
    });
    let terminal: Terminal | null = null;
    try {
      await w.admin('POST', '/v1/admin/policies', cardPolicyDraft());
      const token = await w.enrollmentToken({ merchant: 'acme', location: 'north', event: null });

      terminal = w.openTerminal('till', {
        autoSync: false,
        idlePingMs: 0,
        offlineCardPolicy: 'enforce',
      });
      const declines: PostAuthDecline[] = [];
      terminal.on('postAuthDecline', (d) => declines.push(d));
      await terminal.enroll(token);
      assert.deepEqual(terminal.placement(), { merchant: 'acme', location: 'north', event: null }, 'from the token');
      await terminal.refreshPolicy();

      terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      const card = (amount: number, cardToken: string, last4: string) => ({
        lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: amount }],
        tenders: [{ type: 'card' as const, amount, token: cardToken, brand: 'visa' as const, last4 }],
      });
      const good = terminal.recordSale(card(1_500, GOOD, '4242'));
      const bad = terminal.recordSale(card(4_500, BLOCKED, '0002'));
      assert.equal(terminal.offlineExposure().amount, 6_000);
      await terminal.syncNow();
      // The journal's state, not opState: an enforcing till polls its feed after each sync, so by now the
      // processor may already have declined the payment and the clerk's view moved on to needs_attention.
      assert.equal(terminal.getOp(bad.id)?.state, 'confirmed', 'the server took the sale');

      // The forwarder settles both in the background; the terminal learns it from its feed.
      const deadline = Date.now() + 15_000;
      while (terminal.offlineExposure().count > 0) {
        assert.ok(
          Date.now() < deadline,
          `feed released the exposure within 15 s (${terminal.offlineExposure().count} held)`,
        );
        await new Promise((r) => setTimeout(r, 50));
        await terminal.pollFeed();
      }
      assert.equal(terminal.offlineExposure().amount, 0);
      assert.deepEqual(
        terminal.postAuthDeclines().map((d) => [d.opId, d.amount, d.currency, d.brand, d.last4, d.declineCode]),
        [[bad.id, 4_500, 'EUR', 'visa', '0002', 'card_blocked']],
      );
      assert.deepEqual(declines, terminal.postAuthDeclines(), 'emitted once');
      assert.equal(terminal.opState(bad.id), 'needs_attention');
      assert.equal(terminal.opState(good.id), 'confirmed');
      const exceptions = (await w.admin('GET', '/v1/admin/exceptions')) as { items: { type: string; opId: string }[] };
      assert.ok(exceptions.items.some((x) => x.type === 'post_auth_decline' && x.opId === bad.id));
    } finally {
      await w.close();
    }
  });
});
