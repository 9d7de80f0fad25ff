/**
 * The risk policy end to end over real HTTP: the operator issues a policy,
 * a placed terminal enrolls (pinning the policy keys), fetches and verifies
 * the policy, approves a card sale offline under it, and once the network
 * is back the server's exposure report holds that sale.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import { type PolicyDraft, policyRef } from '@holdfast/protocol';
import { type ExposureAnswer, startServer } from '@holdfast/server';
import { HttpTransport, NeedsOnlineError, Terminal } from '@holdfast/terminal';
import { FaultyTransport } from '@holdfast/terminal/testing';

const OPERATOR = 'offline-card-policy-operator-token-0123456789';

describe('offline card policy over real HTTP', () => {
  it('enroll, refresh the policy, approve a card sale offline, sync: the server counts it in actual exposure', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'holdfast-card-policy-'));
    const server = await startServer({ dataDir: join(dir, 'server'), port: 0, logger: false, operatorToken: OPERATOR });
    let terminal: Terminal | null = null;
    try {
      const admin = async (method: 'GET' | 'POST', path: string, body?: unknown) => {
        const res = await fetch(`${server.url}${path}`, {
          method,
          headers: {
            authorization: `Bearer ${OPERATOR}`,
            ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          },
          ...(body === undefined ? {} : { body: JSON.stringify(body) }),
        });
        const json = (await res.json()) as Record<string, unknown>;
        assert.equal(res.status, 200, JSON.stringify(json));
        return json;
      };
      const draft: PolicyDraft = {
        scope: { merchant: 'acme', location: 'north', event: null, devices: null },
        currency: 'EUR',
        expiresAt: Date.now() + 86_400_000,
        offline: {
          maxOfflineMs: 3_600_000,
          device: { maxAmount: 10_000, maxCount: 10 },
          tenders: { card: { floorLimit: 5_000, instrument: { maxAmount: 10_000, maxCount: 5, velocity: null } } },
        },
        online: { kinds: [], refundAbove: null, loyaltyRedemptionAbove: null },
      };
      const issued = (await admin('POST', '/v1/admin/policies', draft)) as unknown as {
        policy: { id: string; version: number };
      };
      // The token places the device (merchant acme, location north), as the operator would.
      const { token } = (await admin('POST', '/v1/admin/enrollment-tokens', {
        merchant: 'acme',
        location: 'north',
        event: null,
      })) as { token: string };

      const transport = new FaultyTransport(new HttpTransport(server.url), { clock: systemClock });
      terminal = Terminal.open({
        dataDir: join(dir, 'till'),
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

      const exposure = (await admin('GET', '/v1/admin/exposure')) as unknown as ExposureAnswer;
      const north = exposure.actual.find((a) => a.merchant === 'acme' && a.location === 'north');
      assert.deepEqual(
        north && { currency: north.currency, amount: north.amount, count: north.count },
        { currency: 'EUR', amount: 4_500, count: 1 },
        JSON.stringify(exposure.actual),
      );
    } finally {
      await terminal?.close();
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
