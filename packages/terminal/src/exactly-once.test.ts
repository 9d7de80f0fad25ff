/**
 * Property: whatever the network does — requests dropped, answers lost after
 * the server committed, requests delivered twice or late, old batches
 * replayed, a busy server —
 * and however often the terminal restarts, once the network heals and the
 * outbox drains, every recorded op was applied exactly once, in seq order,
 * and is confirmed on the terminal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { TransportError } from './errors.js';
import { cashSale, createHarness, type Harness } from './testing/harness.js';

type Action =
  | { type: 'record'; count: number }
  | { type: 'close-shift' }
  | { type: 'sync' }
  | { type: 'tick'; ms: number }
  | { type: 'fault'; fault: 'drop-request' | 'drop-response' | 'duplicate' | 'bad-response' }
  | { type: 'slow'; ms: number }
  | { type: 'busy'; status: 429 | 503 }
  | { type: 'link'; down: boolean }
  | { type: 'replay'; index: number }
  | { type: 'reopen' }
  | { type: 'requery' };

const action: fc.Arbitrary<Action> = fc.oneof(
  { weight: 5, arbitrary: fc.record({ type: fc.constant('record' as const), count: fc.integer({ min: 1, max: 4 }) }) },
  { weight: 1, arbitrary: fc.constant({ type: 'close-shift' as const }) },
  { weight: 3, arbitrary: fc.constant({ type: 'sync' as const }) },
  { weight: 3, arbitrary: fc.record({ type: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5000 }) }) },
  {
    weight: 4,
    arbitrary: fc.record({
      type: fc.constant('fault' as const),
      fault: fc.constantFrom(
        'drop-request' as const,
        'drop-response' as const,
        'duplicate' as const,
        'bad-response' as const,
      ),
    }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('slow' as const), ms: fc.integer({ min: 0, max: 20_000 }) }) },
  {
    weight: 1,
    arbitrary: fc.record({ type: fc.constant('busy' as const), status: fc.constantFrom(429 as const, 503 as const) }),
  },
  { weight: 1, arbitrary: fc.record({ type: fc.constant('link' as const), down: fc.boolean() }) },
  { weight: 2, arbitrary: fc.record({ type: fc.constant('replay' as const), index: fc.nat() }) },
  { weight: 1, arbitrary: fc.constant({ type: 'reopen' as const }) },
  { weight: 1, arbitrary: fc.constant({ type: 'requery' as const }) },
);

async function perform(h: Harness, a: Action, recorded: string[]): Promise<void> {
  const t = h.terminal;
  switch (a.type) {
    case 'record':
      for (let i = 0; i < a.count; i++) {
        const op = t.currentShift()
          ? t.recordSale(cashSale(i + 1))
          : t.openShift({ clerk: 'ana', currency: 'EUR', openingFloat: 1000 });
        recorded.push(op.id);
      }
      return;
    case 'close-shift':
      if (t.currentShift()) recorded.push(t.closeShift({ countedCash: 1000 }).id);
      return;
    case 'sync':
      await h.clock.drive(t.syncNow());
      return;
    case 'tick':
      await h.clock.tick(a.ms);
      return;
    case 'fault':
      h.net.next({ type: a.fault });
      return;
    case 'slow':
      // Past the 10 s request timeout the terminal gives up and the batch lands later, out of order.
      h.net.next({ type: 'delay', ms: a.ms });
      return;
    case 'busy':
      h.net.next({ type: 'status', status: a.status, retryAfterMs: 2000 });
      return;
    case 'link':
      h.net.down = a.down;
      return;
    case 'replay':
      if (h.net.batches.length > 0) await h.net.replay(a.index % h.net.batches.length);
      return;
    case 'reopen':
      await h.clock.drive(h.reopen());
      return;
    case 'requery':
      await h.clock.drive(
        t.requery().catch((error: unknown) => {
          if (!(error instanceof TransportError)) throw error;
          return [];
        }),
      );
      return;
  }
}

test('every recorded op is applied exactly once and confirmed, whatever the network and restarts did', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(action, { minLength: 1, maxLength: 30 }), fc.integer(), async (actions, seed) => {
      const h = await createHarness({ seed, batchSize: 3, backoffSeconds: [0, 1, 2, 4] });
      try {
        const recorded: string[] = [];
        for (const a of actions) await perform(h, a, recorded);

        h.net.heal();
        for (let i = 0; i < 50 && h.terminal.status().pending > 0; i++) {
          await h.clock.tick(5000);
          await h.clock.drive(h.terminal.syncNow());
        }
        await h.clock.tick(30_000); // let late deliveries land: they must change nothing
        const device = h.terminal.deviceId as string;
        const status = h.terminal.status();
        assert.equal(status.pending, 0, 'drained');
        assert.equal(status.deadLetters, 0, 'nothing needs attention');
        assert.equal(status.latestSeq, recorded.length, 'no op lost or invented on the terminal');
        for (const id of recorded) {
          assert.equal(h.terminal.opState(id), 'confirmed');
          assert.equal(h.server.timesApplied(id), 1, `op ${id} applied once`);
        }
        assert.deepEqual(
          h.server.storedOps(device).map((op) => op.id),
          recorded,
          'the server holds exactly the recorded ops, in seq order',
        );
        assert.ok(h.net.maxInFlight <= 1, 'one request in flight at a time');
      } finally {
        await h.cleanup();
      }
    }),
    { numRuns: 60 },
  );
});
