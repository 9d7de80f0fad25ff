/**
 * The storm at a tiny size against a real `holdfast server` child process:
 * every op drained and applied exactly once (the server's own count), the
 * report consistent with itself, and a deadline that ends the run instead of
 * hanging. No timing is asserted.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { benchStorm } from './storm-bench.js';

describe('benchStorm', () => {
  it('drains T×Q ops plus live sales, each accepted exactly once', async () => {
    const r = await benchStorm({
      terminals: 3,
      opsPerTerminal: 20,
      batchSize: 8,
      liveTerminals: 2,
      liveIntervalMs: 50,
      deadlineMs: 60_000,
    });
    assert.equal(r.ops, 60);
    assert.equal(r.drained, true);
    assert.equal(r.remainingOps, 0);
    assert.equal(r.sockets, 3, 'never more sockets than terminals');
    // The server's count, not the client's: every backlog op and every live op (shift + sales) once.
    const liveOps = r.liveTerminals + r.idleSale.n + r.liveSale.n;
    assert.equal(r.server.expectedAccepted, 60 + liveOps);
    assert.equal(r.server.opsAccepted, r.server.expectedAccepted);
    assert.equal(r.liveUnconfirmed, 0);
    assert.ok(r.idleSale.n > 0, 'live sales before the storm');
    // 3 batches per terminal (8 + 8 + 4), at least; more only if a request went unanswered.
    assert.ok(r.responses.ok >= 9, `ok ${r.responses.ok}`);
    assert.equal(r.responses.other5xx, 0);
    // Lanes as the SDK picks them: fresh live sales ask for the live lane, the outage's backlog does not.
    assert.ok(r.server.admitted, 'the server reports its admissions');
    assert.ok(r.server.admitted.live >= r.liveTerminals, `live ${r.server.admitted.live}`);
    assert.ok(r.server.admitted.backlog >= 9, `backlog ${r.server.admitted.backlog}`);
    assert.equal(r.health.n, 200);
    assert.ok(r.health.p50 > 0 && r.health.p50 <= r.health.p99);
    assert.ok(Math.abs(r.ratioP99 - r.liveSale.p99 / r.health.p99) < 1e-9 || r.liveSale.n === 0);
    if (process.platform === 'linux') {
      assert.ok(r.serverRssStartMiB !== null && r.serverRssStartMiB > 0);
      assert.ok(r.serverRssPeakMiB !== null && r.serverRssPeakMiB >= r.serverRssStartMiB);
    }
  });

  it('stops at the deadline and reports what was left, instead of hanging', async () => {
    const r = await benchStorm({ terminals: 3, opsPerTerminal: 20, batchSize: 8, liveTerminals: 1, deadlineMs: 1 });
    assert.equal(r.drained, false);
    assert.ok(r.remainingOps > 0 && r.remainingOps <= r.ops, `remaining ${r.remainingOps}`);
    assert.ok(r.server.opsAccepted >= r.ops - r.remainingOps, 'what the client saw answered, the server holds');
  });
});
