/**
 * The real Terminal SDK against the real server over a real loopback socket:
 * HttpTransport ↔ Fastify, with a server restart and a revocation.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Terminal } from '@holdfast/terminal';
import { E2eWorld } from './e2e-fixture.js';

const sale = (amount: number) => ({
  lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 1, unitPrice: amount }],
  tenders: [{ type: 'cash' as const, amount, tendered: amount }],
});

describe('Terminal SDK ↔ server over HTTP', () => {
  let w: E2eWorld;
  let terminal: Terminal;

  before(async () => {
    w = await E2eWorld.start('it');
    terminal = w.openTerminal('till', {
      idlePingMs: 0,
      requestTimeoutMs: 2_000,
      backoffSeconds: [0.05],
      manualRetryMinIntervalMs: 0,
      probeIntervalMs: 0,
    });
  });

  after(async () => {
    await w?.close();
  });

  it('enrolls, records, syncs and confirms; the server holds every op once', async () => {
    const { token } = await w.admin<{ token: string }>('POST', '/v1/admin/enrollment-tokens', {
      label: 'lane-1',
    });
    const { deviceId } = await terminal.enroll(token, 'lane-1');
    assert.equal(terminal.deviceId, deviceId);
    terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
    const ids = [450, 650, 300].map((amount) => terminal.recordSale(sale(amount)).id);
    await terminal.syncNow();
    for (const id of ids) assert.equal(terminal.opState(id), 'confirmed');
    const status = terminal.status();
    assert.equal(status.pending, 0);
    assert.equal(status.connectivity, 'online');
    const summary = await w.admin<{ sales: { total: number }[]; opsAccepted: number }>('GET', '/v1/admin/summary');
    assert.equal(summary.opsAccepted, 4);
    assert.equal(summary.sales[0]?.total, 1400);
    const device = await w.admin<{ highWater: number; latestSeq: number; behind: number }>(
      'GET',
      `/v1/admin/devices/${deviceId}`,
    );
    assert.deepEqual([device.highWater, device.latestSeq, device.behind], [4, 4, 0]);
  });

  it('re-query by id reports the stored result without resending', async () => {
    const id = terminal.recordSale(sale(200)).id;
    await terminal.syncNow();
    const [state] = await terminal.requery([id]);
    assert.equal(state?.found, true);
    assert.equal(state?.found && state.result.status, 'accepted');
  });

  it('keeps recording while the server is down and delivers once it is back', async () => {
    await w.stopServer();
    const id = terminal.recordSale(sale(999)).id;
    await terminal.syncNow();
    assert.equal(terminal.opState(id), 'pending', 'pending confirmation, not failed');
    assert.ok(terminal.status().consecutiveFailures >= 1);
    await w.startServer();
    await terminal.syncNow();
    assert.equal(terminal.opState(id), 'confirmed');
    const summary = await w.admin<{ opsAccepted: number }>('GET', '/v1/admin/summary');
    assert.equal(summary.opsAccepted, 6);
  });

  it('a revoked device moves its pending ops to dead letters with the server reason', async () => {
    await w.admin('POST', `/v1/admin/devices/${terminal.deviceId}/revoke`, { reason: 'stolen from lane 1' });
    const id = terminal.recordSale(sale(100)).id;
    await terminal.syncNow();
    assert.equal(terminal.revoked, true);
    assert.equal(terminal.opState(id), 'needs_attention');
    const [dead] = terminal.deadLetters();
    assert.equal(dead?.id, id);
    assert.equal(dead?.reason, 'device_revoked');
    const summary = await w.admin<{ opsAccepted: number }>('GET', '/v1/admin/summary');
    assert.equal(summary.opsAccepted, 6, 'nothing applied after revocation');
  });
});
