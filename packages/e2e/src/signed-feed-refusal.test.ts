/**
 * Signed feed, policy and refusal answers over real HTTP (docs/protocol.md
 * §2, "Signed answers"): a real server process's answers pass through a
 * till's HttpTransport and someone on the path who may rewrite them. A
 * forged feed page, policy answer or `device_revoked` changes nothing on
 * the till; the server's own answers, `device_revoked` included, still act.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Terminal, Transport } from '@holdfast/terminal';
import { E2eWorld } from './e2e-fixture.js';

describe('signed feed, policy and refusals over real HTTP', () => {
  let w: E2eWorld;
  before(async () => {
    w = await E2eWorld.start('signed-feed-refusal');
  });
  after(async () => {
    await w?.close();
  });

  /** A till whose transport someone on the path controls: `forge` says what to rewrite now. */
  async function tillOnThePath(name: string) {
    const base = w.httpTransport();
    const forge = { feed: false, policy: false, revoked: false };
    const onThePath: Transport = {
      enroll: (req, ms) => base.enroll(req, ms),
      sendBatch: async (batch, ms) => {
        const res = await base.sendBatch(batch, ms);
        if (!forge.revoked) return res;
        return {
          ok: false as const,
          status: 403,
          error: { code: 'device_revoked' as const, message: 'forged', retryable: false },
        };
      },
      queryOps: (query, ms) => base.queryOps(query, ms),
      fetchPolicy: async (req, ms) => {
        const res = await base.fetchPolicy(req, ms);
        if (!forge.policy || !res.ok) return res;
        return { ...res, body: { ...res.body, serverTime: res.body.serverTime + 3_600_000 } };
      },
      fetchFeed: async (req, ms) => {
        const res = await base.fetchFeed(req, ms);
        if (!forge.feed || !res.ok) return res;
        const block = {
          pos: res.body.next + 1,
          type: 'wristband.blocked',
          opId: 'forged',
          device: req.device,
          at: res.body.serverTime,
          data: { wristband: '04A1B2C3D4E5F6', reason: 'forged', exceptionId: 'forged' },
        };
        return { ...res, body: { ...res.body, items: [...res.body.items, block], next: block.pos } };
      },
      ping: (ms) => base.ping(ms),
    };
    const terminal: Terminal = w.openTerminal(name, {
      transport: onThePath,
      autoSync: false,
      idlePingMs: 0,
      manualRetryMinIntervalMs: 0,
    });
    await terminal.enroll(await w.enrollmentToken({ merchant: 'acme' }));
    terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
    return { terminal, forge };
  }

  it('a forged feed page or policy answer is refused whole; the real ones apply', async () => {
    const { terminal, forge } = await tillOnThePath('till-feed');
    forge.feed = true;
    forge.policy = true;
    const cursor = terminal.feedCursor();
    await assert.rejects(terminal.pollFeed(), /unverifiable feed answer/);
    assert.deepEqual([terminal.feedCursor(), terminal.blockedWristbands()], [cursor, []]);
    await assert.rejects(terminal.refreshPolicy(), /unverifiable policy answer/);
    forge.feed = false;
    forge.policy = false;
    await terminal.pollFeed();
    await terminal.refreshPolicy();
    assert.deepEqual(terminal.blockedWristbands(), []);
    await terminal.close();
  });

  it('a forged device_revoked stops nothing; the server’s own, signed, stops the till', async () => {
    const { terminal, forge } = await tillOnThePath('till-revoke');
    forge.revoked = true;
    await terminal.syncNow();
    assert.deepEqual([terminal.revoked, terminal.status().pending, terminal.status().deadLetters], [false, 1, 0]);
    assert.match(terminal.status().lastError ?? '', /unverifiable refusal device_revoked/);
    forge.revoked = false;
    await w.admin('POST', `/v1/admin/devices/${terminal.deviceId}/revoke`, { reason: 'stolen' });
    // The shift op is still pending: the next sync sends it again, and the server refuses it, signed.
    await terminal.syncNow();
    assert.equal(terminal.revoked, true, terminal.status().lastError ?? '');
    await terminal.close();
  });
});
