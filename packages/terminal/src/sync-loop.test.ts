import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, test } from 'node:test';
import { backoffDelayMs, DEFAULT_BACKOFF_SECONDS, SeededRandom } from '@holdfast/domain';
import {
  batchHeadMessage,
  enrollmentMessage,
  GENESIS_HASH,
  generateDeviceKeys,
  importPrivateKey,
  NO_DECISION,
  type Op,
  PROTOCOL_VERSION,
  sealOp,
  signMessage,
} from '@holdfast/protocol';
import { LIVE_MAX_OPS, LIVE_WINDOW_MS, laneOf } from './exchange.js';
import type { SyncEvent } from './sync-events.js';
import { MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from './sync-loop.js';
import { cashSale, createHarness, type Harness, openTill, tempDir } from './testing/harness.js';

/** Advances the clock to the next timer and lets the loop run; returns the time advanced. */
async function toNextTimer(h: Harness): Promise<number> {
  const due = h.clock.nextTimerAt();
  assert.notEqual(due, null, 'a timer is armed');
  const step = (due as number) - h.clock.now();
  await h.clock.tick(step);
  return step;
}

/** [0, d0, d0 + d1, …]: when each attempt starts, given the delays before each retry. */
function cumulative(delays: number[]): number[] {
  const out = [0];
  for (const d of delays) out.push((out.at(-1) ?? 0) + d);
  return out;
}

function batchesSent(h: Harness) {
  return h.net.log.filter((r) => r.route === 'sendBatch');
}

describe('SyncLoop delivery', () => {
  test('records are delivered and confirmed in seq order, in batches', async () => {
    const h = await createHarness({ autoSync: false, batchSize: 2 });
    try {
      const confirmed: number[] = [];
      h.terminal.on('confirmed', (op) => confirmed.push(op.seq));
      openTill(h.terminal);
      for (let i = 0; i < 4; i++) h.terminal.recordSale(cashSale(i + 1));
      const report = await h.terminal.syncNow();
      assert.equal(report.outcome, 'idle');
      assert.equal(report.attempts, 3);
      assert.deepEqual(confirmed, [1, 2, 3, 4, 5]);
      assert.deepEqual(
        batchesSent(h).map((b) => [b.firstSeq, b.lastSeq]),
        [
          [1, 2],
          [3, 4],
          [5, 5],
        ],
      );
      const status = h.terminal.status();
      assert.equal(status.pending, 0);
      assert.equal(status.confirmed, 5);
      assert.equal(status.oldestPendingAt, null);
      assert.equal(h.server.storedOps(h.terminal.deviceId as string).length, 5);
    } finally {
      await h.cleanup();
    }
  });

  test('with autoSync a record is sent at once', async () => {
    const h = await createHarness();
    try {
      const op = h.terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      await h.clock.tick();
      assert.equal(h.terminal.opState(op.id), 'confirmed');
      assert.equal(h.terminal.syncState, 'idle');
    } finally {
      await h.cleanup();
    }
  });

  test('backoff delays follow the schedule with full jitter', async () => {
    const seed = 42;
    // Probes draw from the same random and add timers; this test pins the schedule alone.
    const h = await createHarness({ seed, probeIntervalMs: 0 });
    try {
      h.net.down = true;
      openTill(h.terminal);
      // The first retry is immediate (schedule step 0 s), inside this tick.
      await h.clock.tick();
      assert.equal(batchesSent(h).length, 2);
      const delays: number[] = [0];
      for (let i = 1; i < 12; i++) delays.push(await toNextTimer(h));
      // The loop draws one jitter per failure from its random; replay the same draws.
      const replay = new SeededRandom(seed).fork('jitter');
      const expected = Array.from({ length: 12 }, (_, i) => backoffDelayMs(i + 1, replay, DEFAULT_BACKOFF_SECONDS));
      assert.deepEqual(delays, expected);
      assert.deepEqual(
        batchesSent(h).map((b) => b.at - (batchesSent(h)[0]?.at ?? 0)),
        cumulative(expected),
        'each attempt starts when its timer fires',
      );
      delays.forEach((d, i) => {
        const base = (DEFAULT_BACKOFF_SECONDS[Math.min(i, DEFAULT_BACKOFF_SECONDS.length - 1)] as number) * 1000;
        assert.ok(d >= 0 && d <= base, `delay ${i + 1} (${d}) within [0, ${base}]`);
      });
      assert.ok(
        delays.slice(1).some((d, i) => d !== (DEFAULT_BACKOFF_SECONDS[i + 1] as number) * 1000),
        'jittered',
      );
      assert.equal(batchesSent(h).length, 13);
      assert.equal(h.net.maxInFlight, 1);
      const status = h.terminal.status();
      assert.equal(status.consecutiveFailures, 13);
      assert.equal(status.nextAttemptAt, h.clock.nextTimerAt());
      assert.equal(status.connectivity, 'offline');
      assert.equal(status.pending, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('a timeout leaves ops pending and the resend carries the same ids and bytes', async () => {
    const h = await createHarness({ requestTimeoutMs: 10_000, backoffSeconds: [5] });
    try {
      h.net.next({ type: 'drop-request' });
      const shift = openTill(h.terminal);
      const sale = h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(h.terminal.opState(shift), 'pending');
      assert.equal(h.terminal.opState(sale.id), 'pending');
      const entry = h.terminal.getOp(shift);
      assert.equal(entry?.attempts, 1);
      assert.match(entry?.lastError ?? '', /network/);
      assert.equal(h.terminal.getOp(sale.id)?.attempts, 0, 'recorded while backing off: waits for the retry');
      // The next batch arrives late: after the terminal gave up waiting.
      h.net.next({ type: 'delay', ms: 30_000 });
      await toNextTimer(h);
      await h.clock.tick(10_000);
      assert.equal(h.terminal.opState(sale.id), 'pending', 'a timeout is not a failure');
      await toNextTimer(h);
      assert.equal(h.terminal.opState(sale.id), 'confirmed');
      // Every copy of an op that was sent is the same bytes as the first copy.
      const firstCopy = new Map<string, string>();
      for (const batch of h.net.batches) {
        for (const op of batch.ops) {
          const bytes = JSON.stringify(op);
          assert.equal(bytes, firstCopy.get(op.id) ?? bytes, `op ${op.seq} resent unchanged`);
          firstCopy.set(op.id, bytes);
        }
      }
      assert.equal(h.net.batches.filter((b) => b.ops.some((op) => op.id === shift)).length, 3);
      // The late copy lands after the resend was accepted: a duplicate, applied once.
      await h.clock.tick(30_000);
      assert.equal(h.server.timesApplied(sale.id), 1);
      assert.equal(h.server.timesApplied(shift), 1);
    } finally {
      await h.cleanup();
    }
  });

  test('a response lost after the server committed: resend, duplicate, confirmed, applied once', async () => {
    const h = await createHarness({ backoffSeconds: [5] });
    try {
      h.net.next({ type: 'drop-response' });
      const op = h.terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 500 });
      await h.clock.tick();
      assert.equal(h.server.timesApplied(op.id), 1, 'the server applied it');
      assert.equal(h.terminal.opState(op.id), 'pending', 'the terminal does not know yet');
      await toNextTimer(h);
      assert.equal(h.terminal.opState(op.id), 'confirmed');
      const result = h.terminal.getOp(op.id)?.result as { status: string; original: { status: string } };
      assert.equal(result.status, 'duplicate');
      assert.equal(result.original.status, 'accepted');
      assert.equal(h.server.timesApplied(op.id), 1);
    } finally {
      await h.cleanup();
    }
  });

  test('a revoked device dead-letters every pending op and stops', async () => {
    const h = await createHarness({ batchSize: 2, backoffSeconds: [60] });
    try {
      h.net.down = true;
      openTill(h.terminal);
      for (let i = 0; i < 4; i++) h.terminal.recordSale(cashSale());
      await h.clock.tick();
      h.server.revoke(h.terminal.deviceId as string, 'till reported stolen');
      h.net.heal();
      await h.clock.tick(1000);
      const dead: string[] = [];
      h.terminal.on('dead-letter', (d) => dead.push(`${d.seq}:${d.reason}`));
      const report = await h.terminal.syncNow();
      assert.equal(report.outcome, 'revoked');
      assert.deepEqual(dead, [
        '1:device_revoked',
        '2:device_revoked',
        '3:device_revoked',
        '4:device_revoked',
        '5:device_revoked',
      ]);
      const status = h.terminal.status();
      assert.equal(status.revoked, true);
      assert.equal(status.pending, 0);
      assert.equal(status.deadLetters, 5);
      assert.equal(h.terminal.deadLetters()[0]?.message, 'till reported stolen');
      assert.equal(h.terminal.syncState, 'stopped');
      const requests = h.net.log.length;
      await h.clock.tick(3_600_000);
      assert.equal(h.net.log.length, requests, 'nothing more is sent');
      await h.reopen();
      assert.equal(h.terminal.revoked, true);
      await h.clock.tick(3_600_000);
      assert.equal(h.net.log.length, requests, 'not even after a restart');
    } finally {
      await h.cleanup();
    }
  });

  test('a fork (a cloned journal) is dead-lettered with its reason', async () => {
    const h = await createHarness();
    try {
      openTill(h.terminal);
      await h.clock.tick();
      await h.terminal.close();
      const cloneDir = tempDir();
      fs.cpSync(h.dir, cloneDir, { recursive: true });
      const clone = h.openAt(cloneDir);
      const original = await h.reopen();
      const mine = original.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(original.opState(mine.id), 'confirmed');

      const theirs = clone.recordSale(cashSale(2));
      await h.clock.tick();
      assert.equal(clone.opState(theirs.id), 'needs_attention');
      assert.deepEqual(
        clone.deadLetters().map((d) => [d.seq, d.reason]),
        [[2, 'fork']],
      );
      // The clone's chain now diverges for good: its next op links to its own seq 2.
      const later = clone.recordSale(cashSale(3));
      await h.clock.tick();
      assert.equal(clone.opState(later.id), 'needs_attention');
      assert.equal(clone.deadLetters()[1]?.reason, 'fork');
      assert.equal(h.server.timesApplied(theirs.id), 0);
      assert.equal(h.server.storedOps(original.deviceId as string).length, 2);
      await clone.close();
    } finally {
      await h.cleanup();
    }
  });

  test('a conflict (the id stored with another payload) is dead-lettered; the chain after it is blocked without spinning', async () => {
    const h = await createHarness({ backoffSeconds: [60] });
    try {
      h.net.down = true;
      const op = h.terminal.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 0 });
      await h.clock.tick();
      await plantImpostor(h, op.id);
      h.net.heal();
      await h.clock.tick(1000);
      await h.terminal.syncNow();
      assert.equal(h.terminal.opState(op.id), 'needs_attention');
      const [letter] = h.terminal.deadLetters();
      assert.equal(letter?.reason, 'conflict');
      assert.equal((letter?.result as { status?: string } | undefined)?.status, 'conflict');

      // A conflict is not stored, so the server still waits for seq 1: the chain is blocked.
      const later = h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(h.terminal.opState(later.id), 'pending');
      const status = h.terminal.status();
      assert.equal(status.blocked?.seq, 1);
      assert.match(status.blocked?.reason ?? '', /conflict/);
      assert.equal(status.nextAttemptAt, h.clock.now() + 60_000, 'retries at the longest step');
      const before = h.net.log.length;
      await h.clock.tick(59_999);
      assert.equal(h.net.log.length, before, 'no spinning');
      await h.clock.tick(1);
      assert.equal(h.net.log.length, before + 1);
      assert.equal(h.terminal.status().blocked?.seq, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('a non-retryable request error dead-letters the batch; a 503 only delays it', async () => {
    const h = await createHarness({ backoffSeconds: [5] });
    try {
      openTill(h.terminal);
      await h.clock.tick();
      h.net.next({ type: 'status', status: 503 });
      const sale = h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(h.terminal.opState(sale.id), 'pending');
      await toNextTimer(h);
      assert.equal(h.terminal.opState(sale.id), 'confirmed');

      h.net.next({ type: 'status', status: 400, code: 'invalid_request' });
      const bad = h.terminal.recordSale(cashSale(2));
      await h.clock.tick();
      assert.equal(h.terminal.opState(bad.id), 'needs_attention');
      assert.equal(h.terminal.deadLetters()[0]?.reason, 'invalid_request');
      assert.equal(h.terminal.status().connectivity, 'online', 'the server answered');
    } finally {
      await h.cleanup();
    }
  });
});

/** Makes the server hold `id` with another payload, sent by another device. */
async function plantImpostor(h: Harness, id: string): Promise<void> {
  const keys = generateDeviceKeys();
  const token = h.server.createToken();
  const key = importPrivateKey(keys.privateKey);
  const enrolled = await h.server.enroll({
    token,
    publicKey: keys.publicKey,
    sig: signMessage(enrollmentMessage(token, keys.publicKey), key),
  });
  assert.ok(enrolled.ok);
  const device = enrolled.body.deviceId;
  const impostor = sealOp({
    v: PROTOCOL_VERSION,
    id,
    device,
    seq: 1,
    prev: GENESIS_HASH,
    kind: 'shift.opened',
    body: { clerk: 'mallory', currency: 'EUR', openingFloat: 0 },
    at: h.clock.now(),
    decision: NO_DECISION,
  });
  const planted = await h.server.sendBatch({
    device,
    ops: [impostor],
    sig: signMessage(batchHeadMessage(device, 1, impostor.hash), key),
    sentAt: h.clock.now(),
    latestSeq: 1,
  });
  assert.ok(planted.ok);
}

describe('SyncLoop recovery', () => {
  test('seq_gap from a server restored from backup: confirmed ops are re-sent', async () => {
    const h = await createHarness();
    try {
      const ids = [openTill(h.terminal)];
      for (let i = 0; i < 4; i++) ids.push(h.terminal.recordSale(cashSale()).id);
      await h.clock.tick();
      assert.equal(h.terminal.status().confirmed, 5);
      const device = h.terminal.deviceId as string;
      h.server.restoreTo(device, 2);
      const events: SyncEvent[] = [];
      h.terminal.on('sync', (e) => events.push(e));
      ids.push(h.terminal.recordSale(cashSale()).id);
      await h.clock.tick();
      assert.deepEqual(
        events.map((e) => [e.firstSeq, e.lastSeq, e.requeued, e.confirmed]),
        [
          [6, 6, 3, 0],
          [3, 6, 0, 4],
        ],
      );
      assert.deepEqual(
        h.server.storedOps(device).map((op) => op.id),
        ids,
      );
      for (const id of ids) assert.equal(h.terminal.opState(id), 'confirmed');
      assert.match(h.terminal.syncAttempts(2)[1]?.error ?? '', /server lacks seqs 3\.\.5/);
    } finally {
      await h.cleanup();
    }
  });

  test('restarted with nothing pending, a terminal asks whether the server still holds its chain and re-sends what a restore lost', async () => {
    const h = await createHarness();
    try {
      const ids = [openTill(h.terminal)];
      for (let i = 0; i < 4; i++) ids.push(h.terminal.recordSale(cashSale()).id);
      await h.clock.tick();
      assert.equal(h.terminal.status().confirmed, 5);
      const device = h.terminal.deviceId as string;
      h.server.restoreTo(device, 2);
      const terminal = await h.reopen();
      const events: SyncEvent[] = [];
      terminal.on('sync', (e) => events.push(e));
      assert.equal(terminal.status().pending, 0);
      terminal.start();
      await h.clock.tick();
      assert.deepEqual(
        events.map((e) => [e.kind, e.requeued, e.confirmed]),
        [
          ['query', 3, 0],
          ['batch', 0, 3],
        ],
      );
      assert.deepEqual(
        h.server.storedOps(device).map((op) => op.id),
        ids,
      );
      for (const id of ids) assert.equal(terminal.opState(id), 'confirmed');
    } finally {
      await h.cleanup();
    }
  });

  test('an op recorded while the head check is in flight is still sent when that check gets no answer', async () => {
    const h = await createHarness({ requestTimeoutMs: 1_000, backoffSeconds: [5], idlePingMs: 3_000 });
    try {
      openTill(h.terminal);
      await h.clock.tick();
      assert.equal(h.terminal.status().confirmed, 1);
      // The restarted till asks the server for its head; that answer is lost.
      h.net.next({ type: 'drop-response' }, 'queryOps');
      const terminal = await h.reopen();
      terminal.start();
      // The check is in flight: the clerk sells meanwhile.
      const sale = terminal.recordSale(cashSale());
      await h.clock.tick(1_000);
      assert.equal(terminal.opState(sale.id), 'pending', 'the check timed out; the sale is still to be sent');
      assert.equal(terminal.syncState, 'backoff', 'a pending op after a failed check is retried, not left idle');
      await toNextTimer(h);
      assert.equal(terminal.opState(sale.id), 'confirmed');
      assert.equal(terminal.syncState, 'idle');
    } finally {
      await h.cleanup();
    }
  });

  test('a long backoff is probed with health checks and cut short once the server answers', async () => {
    const h = await createHarness({ backoffSeconds: [600], probeIntervalMs: 20_000 });
    try {
      h.net.down = true;
      const op = openTill(h.terminal);
      await h.clock.tick();
      const due = h.terminal.status().nextAttemptAt as number;
      assert.ok(due - h.clock.now() > 60_000, 'the schedule asked for a long wait');
      const batches = batchesSent(h).length;
      // While the server stays down, only pings go out (one per 10..20 s), never batches.
      await h.clock.tick(60_000);
      assert.equal(batchesSent(h).length, batches, 'no batch while the server is down');
      const pings = h.net.log.filter((r) => r.route === 'ping').length;
      assert.ok(pings >= 3 && pings <= 6, `pinged ${pings} times in 60 s`);
      // The server comes back: the next probe sees it and the batch follows within a probe interval and a half.
      h.net.heal();
      const healedAt = h.clock.now();
      while (h.terminal.opState(op) !== 'confirmed' && h.clock.now() < due) await toNextTimer(h);
      assert.equal(h.terminal.opState(op), 'confirmed');
      assert.ok(h.clock.now() - healedAt <= 30_000, `confirmed ${h.clock.now() - healedAt} ms after the heal`);
    } finally {
      await h.cleanup();
    }
  });

  test('429 with Retry-After is honoured', async () => {
    const h = await createHarness();
    try {
      h.net.next({ type: 'status', status: 429, retryAfterMs: 45_000 });
      const op = openTill(h.terminal);
      await h.clock.tick();
      const status = h.terminal.status();
      assert.equal(status.connectivity, 'degraded');
      assert.ok((status.nextAttemptAt ?? 0) >= h.clock.now() + 45_000);
      const sent = batchesSent(h).length;
      await h.clock.tick(44_999);
      assert.equal(batchesSent(h).length, sent, 'nothing sent before Retry-After');
      await h.clock.tick((status.nextAttemptAt as number) - h.clock.now());
      assert.equal(batchesSent(h).length, sent + 1);
      assert.equal(h.terminal.opState(op), 'confirmed');
      assert.equal(h.terminal.status().connectivity, 'online');
    } finally {
      await h.cleanup();
    }
  });

  test('syncNow spam creates no ops, joins the request in flight and never floods', async () => {
    const h = await createHarness({ manualRetryMinIntervalMs: 1000, backoffSeconds: [60] });
    try {
      h.net.down = true;
      openTill(h.terminal);
      await h.clock.tick();
      assert.equal(batchesSent(h).length, 1);
      // 50 presses every 100 ms for 2 s.
      for (let round = 0; round < 20; round++) {
        const reports = await Promise.all(Array.from({ length: 50 }, () => h.terminal.syncNow()));
        assert.ok(reports.every((r) => r.outcome !== 'idle'));
        await h.clock.tick(100);
      }
      assert.equal(h.terminal.status().latestSeq, 1, 'no ops created');
      assert.ok(batchesSent(h).length <= 3, `at most one request per second (${batchesSent(h).length})`);
      assert.equal(h.net.maxInFlight, 1);

      // While a request is in flight, every press gets that request's promise.
      h.net.heal();
      h.net.next({ type: 'delay', ms: 2000 });
      await h.clock.tick(1000);
      const first = h.terminal.syncNow();
      const again = h.terminal.syncNow();
      assert.equal(first, again);
      await h.clock.tick(2000);
      assert.equal((await first).outcome, 'idle');
      assert.equal(h.net.maxInFlight, 1);
    } finally {
      await h.cleanup();
    }
  });

  test('requery learns that an op landed without resending it', async () => {
    const h = await createHarness({ backoffSeconds: [0, 300] });
    try {
      h.net.next({ type: 'drop-response' });
      h.net.next({ type: 'drop-request' });
      const op = openTill(h.terminal);
      await h.clock.tick();
      assert.equal(h.terminal.opState(op), 'pending');
      const batches = h.server.requests.batches;
      const statuses = await h.terminal.requery();
      assert.deepEqual(
        statuses.map((s) => [s.id, s.found]),
        [[op, true]],
      );
      assert.equal(h.terminal.opState(op), 'confirmed');
      assert.equal(h.server.requests.batches, batches, 'nothing was resent');
      const unknown = '01940000-0000-7000-8000-0000000000aa';
      assert.deepEqual(await h.terminal.requery([unknown]), [{ id: unknown, found: false }]);
    } finally {
      await h.cleanup();
    }
  });

  test('idle pings keep connectivity fresh', async () => {
    const h = await createHarness({ idlePingMs: 30_000 });
    try {
      await h.clock.tick(30_000);
      assert.equal(h.server.requests.pings, 1);
      h.net.down = true;
      await h.clock.tick(90_000);
      assert.equal(h.terminal.status().connectivity, 'offline');
      h.net.heal();
      await h.clock.tick(30_000);
      assert.equal(h.terminal.status().connectivity, 'online');
      assert.equal(h.net.maxInFlight, 1);
    } finally {
      await h.cleanup();
    }
  });
});

describe('Terminal status', () => {
  test('connectivity goes online → degraded → offline → online, with pending counts and age', async () => {
    // Jitter pinned near the top of each step: delays are 9 990 ms.
    const h = await createHarness({
      backoffSeconds: [10],
      random: { float: () => 0.999, bytes: (n) => new Uint8Array(n) },
    });
    try {
      const seen: string[] = [];
      h.terminal.on('status', (s) => {
        if (seen.at(-1) !== s.connectivity) seen.push(s.connectivity);
      });
      assert.equal(h.terminal.status().connectivity, 'online');
      h.net.down = true;
      const t0 = h.clock.now();
      openTill(h.terminal);
      await h.clock.tick();
      assert.equal(h.terminal.status().connectivity, 'degraded');
      assert.equal(h.terminal.status().nextAttemptAt, t0 + 9990);
      await h.clock.tick(5_000);
      h.terminal.recordSale(cashSale());
      await toNextTimer(h);
      assert.equal(h.terminal.status().consecutiveFailures, 2);
      assert.equal(h.terminal.status().connectivity, 'degraded');
      await toNextTimer(h);
      let status = h.terminal.status();
      assert.equal(status.connectivity, 'offline');
      assert.equal(status.pending, 2);
      assert.equal(status.oldestPendingAt, t0);
      assert.equal(status.oldestPendingAgeMs, 2 * 9990);
      assert.equal(status.lastAttemptAt, t0 + 2 * 9990);
      assert.match(status.lastError ?? '', /network is down/);
      h.net.heal();
      await toNextTimer(h);
      status = h.terminal.status();
      assert.equal(status.connectivity, 'online');
      assert.equal(status.pending, 0);
      assert.equal(status.confirmed, 2);
      assert.equal(status.lastError, null);
      assert.equal(status.oldestPendingAgeMs, null);
      assert.equal(status.lastSuccessAt, h.clock.now());
      assert.deepEqual(seen, ['online', 'degraded', 'offline', 'online']);

      h.net.next({ type: 'delay', ms: 4000 });
      h.terminal.recordSale(cashSale());
      await h.clock.tick(4000);
      assert.equal(h.terminal.status().connectivity, 'degraded', 'a slow exchange');
      h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(h.terminal.status().connectivity, 'online');
    } finally {
      await h.cleanup();
    }
  });

  test('before its first exchange a terminal knows nothing of its link (unknown), at every start; one failed exchange and it is offline', async () => {
    const h = await createHarness({ enroll: false });
    try {
      assert.equal(h.terminal.status().connectivity, 'unknown');
      assert.equal(h.terminal.status().deviceId, null);
      h.net.down = true;
      await assert.rejects(h.terminal.enroll(h.server.createToken('till-1'), 'till'));
      assert.equal(h.terminal.status().connectivity, 'offline');
      h.net.heal();
      await h.terminal.enroll(h.server.createToken('till-1'), 'till');
      assert.equal(h.terminal.status().connectivity, 'online');
      const again = await h.reopen();
      assert.equal(again.status().connectivity, 'unknown', 'a restart has not talked to the server yet');
    } finally {
      await h.cleanup();
    }
  });
});

describe('SyncLoop under backpressure', () => {
  test('just-recorded ops with nothing behind them go in the live lane; a backlog does not', async () => {
    const h = await createHarness({ batchSize: 3 });
    try {
      openTill(h.terminal);
      await h.clock.tick();
      assert.deepEqual(
        batchesSent(h).map((b) => b.lane),
        ['live'],
        'a fresh op, alone in the queue, is live',
      );
      // An outage: ops pile up and age.
      h.net.down = true;
      for (let i = 0; i < 7; i++) {
        h.terminal.recordSale(cashSale());
        await h.clock.tick(70_000);
      }
      h.net.heal();
      const before = batchesSent(h).length;
      while (h.terminal.status().pending > 0) await toNextTimer(h);
      const drained = batchesSent(h)
        .slice(before)
        .filter((b) => b.fault === null)
        .map((b) => b.lane);
      assert.ok(drained.length >= 3, `the backlog went in ${drained.length} batches`);
      assert.ok(
        drained.every((lane) => lane === 'backlog'),
        `old or queued-behind ops are backlog: ${drained}`,
      );
      h.terminal.recordSale(cashSale());
      await h.clock.tick();
      assert.equal(batchesSent(h).at(-1)?.lane, 'live', 'once drained, a new sale is live again');
    } finally {
      await h.cleanup();
    }
  });

  test('a 503 with a retry time is followed to the millisecond, not stretched by a growing backoff', async () => {
    const h = await createHarness({ backoffSeconds: [0, 30, 60, 120] });
    try {
      for (let i = 0; i < 4; i++) h.net.next({ type: 'status', status: 503, retryAfterMs: 1_250 });
      const op = openTill(h.terminal);
      await h.clock.tick();
      const starts = [h.clock.now()];
      while (h.terminal.opState(op) !== 'confirmed') {
        await toNextTimer(h);
        starts.push(h.clock.now());
      }
      const sends = batchesSent(h).map((b) => b.at);
      assert.equal(sends.length, 5, 'four refusals, then accepted');
      for (let i = 1; i < sends.length; i++) {
        assert.equal((sends[i] as number) - (sends[i - 1] as number), 1_250, `retry ${i} came when the server said`);
      }
    } finally {
      await h.cleanup();
    }
  });

  test('a retry time below the floor or above the ceiling is clamped', async () => {
    const h = await createHarness();
    try {
      h.net.next({ type: 'status', status: 503, retryAfterMs: 1 });
      h.net.next({ type: 'status', status: 429, retryAfterMs: 7 * 24 * 3600_000 });
      openTill(h.terminal);
      await h.clock.tick();
      assert.equal((h.terminal.status().nextAttemptAt as number) - h.clock.now(), MIN_RETRY_AFTER_MS);
      await toNextTimer(h);
      const wait = (h.terminal.status().nextAttemptAt as number) - h.clock.now();
      assert.ok(wait <= MAX_RETRY_AFTER_MS, `waits at most the ceiling, not a week (${wait} ms)`);
    } finally {
      await h.cleanup();
    }
  });
});

describe('laneOf', () => {
  const ops = (n: number, at: number, firstSeq = 1) =>
    Array.from({ length: n }, (_, i) => ({ seq: firstSeq + i, at }) as unknown as Op);

  test('live at the window edge and the size limit; backlog one past each, or with ops queued behind', () => {
    const now = 1_000_000;
    assert.equal(laneOf(ops(1, now - LIVE_WINDOW_MS), 1, now), 'live');
    assert.equal(laneOf(ops(1, now - LIVE_WINDOW_MS - 1), 1, now), 'backlog');
    assert.equal(laneOf(ops(LIVE_MAX_OPS, now), LIVE_MAX_OPS, now), 'live');
    assert.equal(laneOf(ops(LIVE_MAX_OPS + 1, now), LIVE_MAX_OPS + 1, now), 'backlog');
    assert.equal(laneOf(ops(3, now), 4, now), 'backlog', 'seq 4 waits behind this batch');
    assert.equal(laneOf([], 0, now), 'backlog');
  });
});
