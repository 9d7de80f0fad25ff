/**
 * The risk policy end to end over real HTTP: the operator issues a policy,
 * a placed terminal enrolls (pinning the policy keys), fetches and verifies
 * the policy, approves a card sale offline under it, and once the network
 * is back the server's exposure report holds that sale.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import { policyRef } from '@holdfast/protocol';
import type { ExposureAnswer } from '@holdfast/server';
import { NeedsOnlineError, type Terminal } from '@holdfast/terminal';
import { FaultyTransport } from '@holdfast/terminal/testing';
import { cardPolicyDraft, E2eWorld } from './e2e-fixture.js';

describe('offline card policy over real HTTP', () => {
  it('enroll, refresh the policy, approve a card sale offline, sync: the server counts it in actual exposure', async () => {
    const w = await E2eWorld.start('card-policy');
    let terminal: Terminal | null = null;
    try {
      const issued = (await w.admin('POST', '/v1/admin/policies', cardPolicyDraft())) as unknown as {
        policy: { id: string; version: number };
      };
      // The token places the device (merchant acme, location north), as the operator would.
      const token = await w.enrollmentToken({ merchant: 'acme', location: 'north', event: null });

      const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
      terminal = w.openTerminal('till', {
        transport,
        autoSync: false,
        idlePingMs: 0,
        offlineCardPolicy: 'enforce',
        placement: { merchant: 'acme', location: 'north', event: null },
      });
      await terminal.enroll(token);
      const held = await terminal.refreshPolicy();
      assert.equal(held && policyRef(held.policy), policyRef(issued.policy));

      transport.down = true;
      const shift = terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      const sale = terminal.recordSale({
        lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: 4_500 }],
        tenders: [{ type: 'card', amount: 4_500, token: 'tok_12345678', brand: 'visa', last4: '4242' }],
      });
      assert.throws(
        () =>
          terminal?.recordSale({
            lines: [{ sku: 'TV', name: 'TV', qty: 1, unitPrice: 9_000 }],
            tenders: [{ type: 'card', amount: 9_000, token: 'tok_12345678', brand: 'visa', last4: '4242' }],
          }),
        (e: unknown) => e instanceof NeedsOnlineError && e.rule === 'floor_limit',
      );
      assert.equal(terminal.getOp(sale.id)?.op.decision.mode, 'local');

      transport.down = false;
      await terminal.syncNow();
      assert.equal(terminal.opState(shift.id), 'confirmed');
      assert.equal(terminal.opState(sale.id), 'confirmed');

      const exposure = (await w.admin('GET', '/v1/admin/exposure')) as unknown as ExposureAnswer;
      const north = exposure.actual.find((a) => a.merchant === 'acme' && a.location === 'north');
      assert.deepEqual(
        north && { currency: north.currency, amount: north.amount, count: north.count },
        { currency: 'EUR', amount: 4_500, count: 1 },
        JSON.stringify(exposure.actual),
      );
    } finally {
      await w.close();
    }
  });
});
