/**
 * Device-key rotation end to end over real HTTP (issue 15, key lifecycle):
 * a till rotates its key with `rotateKey()` while ops are pending; a batch
 * signed with the old key and delivered after the rotation is accepted; a
 * lost answer or a crash between the local commit of the new key and the
 * server's answer is completed later (on a retry or on reopening) without
 * stranding the device; a revoked device cannot rotate.
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import type { RotateKeyRequest } from '@holdfast/protocol';
import { KeyRotationError, type Terminal, TransportError } from '@holdfast/terminal';
import { FaultyTransport } from '@holdfast/terminal/testing';
import { E2eWorld } from './e2e-fixture.js';

const worlds: E2eWorld[] = [];
after(async () => {
  for (const w of worlds.splice(0)) await w.close();
});

async function world() {
  const w = await E2eWorld.start('key-rotation');
  worlds.push(w);
  const open = (name: string, transport: FaultyTransport) =>
    w.openTerminal(name, { transport, autoSync: false, idlePingMs: 0, manualRetryMinIntervalMs: 0 });
  const till = async (name: string) => {
    const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
    const terminal = open(name, transport);
    await terminal.enroll(await w.enrollmentToken({ label: name }));
    terminal.openShift({ clerk: name, currency: 'EUR', openingFloat: 0 });
    return { terminal, transport };
  };
  const serverKey = async (t: Terminal) =>
    (await w.admin<{ publicKey: string }>('GET', `/v1/admin/devices/${t.deviceId}`)).publicKey;
  return { w, till, open, serverKey };
}

const sell = (t: Terminal, price = 350) =>
  t.recordSale({
    lines: [{ sku: 'BEER', name: 'Beer', qty: 1, unitPrice: price }],
    tenders: [{ type: 'cash', amount: price, tendered: price }],
  });

describe('device-key rotation over real HTTP', () => {
  it('rotates with ops pending; a batch signed with the old key before the rotation is still accepted', async () => {
    const { till, serverKey } = await world();
    const { terminal, transport } = await till('bar-1');
    const oldKey = await serverKey(terminal);
    sell(terminal);
    // The batch (signed with the old key) is lost on the way: the ops stay pending.
    transport.next({ type: 'drop-request' });
    await terminal.syncNow();
    assert.equal(terminal.status().pending, 2);
    const lost = transport.batches.length - 1;

    const { publicKey } = await terminal.rotateKey();
    assert.notEqual(publicKey, oldKey);
    assert.equal(await serverKey(terminal), publicKey);
    assert.equal(terminal.keyRotationPending, false);

    // The old-key batch arrives late (a re-sent packet): accepted, every op.
    const late = await transport.replay(lost);
    assert.equal(late.ok, true, JSON.stringify(late));
    if (late.ok) {
      assert.deepEqual(
        (late.body as { results: { status: string }[] }).results.map((r) => r.status),
        ['accepted', 'accepted'],
      );
    }
    // The till re-sends its pending ops signed with the new key, and records and delivers more.
    sell(terminal, 500);
    const report = await terminal.syncNow();
    assert.deepEqual([terminal.status().pending, terminal.status().confirmed], [0, 3], JSON.stringify(report));
  });

  it('a lost answer leaves the rotation pending; the till keeps syncing and the retry completes it', async () => {
    const { till, serverKey } = await world();
    const { terminal, transport } = await till('bar-2');
    transport.next({ type: 'drop-response' }, 'rotateKey');
    await assert.rejects(terminal.rotateKey(), TransportError);
    assert.equal(terminal.keyRotationPending, true);
    const applied = await serverKey(terminal);
    // The server already switched; the till still signs with the old key, inside its grace period.
    sell(terminal);
    await terminal.syncNow();
    assert.equal(terminal.status().pending, 0);
    const { publicKey } = await terminal.rotateKey();
    assert.equal(publicKey, applied, 'the retry completes the same rotation, not a new one');
    assert.equal(terminal.keyRotationPending, false);
    sell(terminal);
    await terminal.syncNow();
    assert.equal(terminal.status().pending, 0);
  });

  it('a till that lost the answer and outlived the grace period is not stranded: nothing dead-lettered', async () => {
    const { w, till, serverKey } = await world();
    w.server.service.deviceKeyGraceMs = 0; // the previous key retires at the rotation itself
    const { terminal, transport } = await till('bar-4');
    sell(terminal);
    transport.next({ type: 'drop-response' }, 'rotateKey');
    await assert.rejects(terminal.rotateKey(), TransportError);
    const applied = await serverKey(terminal);
    // Signed with the old key: refused unknown_device. With a rotation pending that means "finish it", not "revoked".
    const report = await terminal.syncNow();
    assert.equal(terminal.revoked, false, JSON.stringify(report));
    assert.equal(terminal.status().pending, 2);
    const { publicKey } = await terminal.rotateKey(); // joins or repeats the resumed rotation, signed with the new key
    assert.equal(publicKey, applied);
    const after = await terminal.syncNow();
    assert.deepEqual([terminal.status().pending, terminal.status().confirmed], [0, 2], JSON.stringify(after));
  });

  for (const fault of ['drop-request', 'drop-response'] as const) {
    it(`a crash between the local commit and the answer (${fault}) is completed on reopening`, async () => {
      const { till, open, serverKey } = await world();
      const { terminal, transport } = await till(`till-${fault}`);
      const before = await serverKey(terminal);
      transport.next({ type: fault }, 'rotateKey');
      await assert.rejects(terminal.rotateKey(), TransportError);
      sell(terminal);
      terminal.kill();
      const fresh = new FaultyTransport(transport, { clock: systemClock });
      const reopened = open(`till-${fault}`, fresh);
      assert.equal(reopened.keyRotationPending, true);
      reopened.start(); // resumes the rotation
      const { publicKey } = await reopened.rotateKey(); // the same one, in flight
      assert.notEqual(publicKey, before);
      assert.equal(await serverKey(reopened), publicKey);
      assert.equal(fresh.log.filter((e) => e.route === 'rotateKey').length, 1);
      reopened.stop();
      await reopened.syncNow();
      assert.equal(reopened.status().pending, 0);
    });
  }

  it('an answer the server did not sign (anyone on the path) switches nothing; the rotation stays pending', async () => {
    const { till, serverKey } = await world();
    const { terminal, transport } = await till('bar-3');
    const before = await serverKey(terminal);
    const real = transport.rotateKey.bind(transport);
    // A man in the middle swallows the request and answers "rotated" himself.
    transport.rotateKey = async (req: RotateKeyRequest) => ({
      ok: true as const,
      status: 200,
      body: { device: req.device, publicKey: req.publicKey, validFrom: 1, previousKeyRetiresAt: 2, serverTime: 1 },
    });
    await assert.rejects(
      terminal.rotateKey(),
      (e: unknown) => e instanceof TransportError && /not signed/.test(e.message),
    );
    assert.equal(terminal.keyRotationPending, true);
    assert.equal(await serverKey(terminal), before);
    // The old key still works, and the genuine server completes the rotation.
    sell(terminal);
    await terminal.syncNow();
    assert.equal(terminal.status().pending, 0);
    transport.rotateKey = real;
    const { publicKey } = await terminal.rotateKey();
    assert.equal(await serverKey(terminal), publicKey);
  });

  it('a revoked device cannot rotate; the pending key is forgotten', async () => {
    const { w, till, serverKey } = await world();
    const { terminal } = await till('stolen');
    const before = await serverKey(terminal);
    await w.admin('POST', `/v1/admin/devices/${terminal.deviceId}/revoke`, { reason: 'stolen' });
    const error = await terminal.rotateKey().then(
      () => null,
      (e: unknown) => e,
    );
    assert.ok(error instanceof KeyRotationError, String(error));
    assert.equal(error.serverCode, 'device_revoked');
    assert.equal(terminal.keyRotationPending, false);
    assert.equal(await serverKey(terminal), before);
  });
});
