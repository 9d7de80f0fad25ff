/**
 * VirtualClock: timers fire in (time, set order); cancel works; runUntil
 * moves `now` to `until` and awaits `settle` after every timer, so the async
 * work one timer starts is finished before the next timer fires. A
 * property test compares the heap against a naive linear-scan scheduler.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { VirtualClock } from './virtual-clock.js';

const T0 = 1_000_000;
const noSettle = async (): Promise<void> => {};
/** One real macrotask turn. */
const macrotask = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Tracks async work the way SimNetwork does, and settles it. */
function workTracker() {
  const inflight = new Set<Promise<void>>();
  return {
    start(fn: () => Promise<void>): void {
      const work = fn();
      inflight.add(work);
      void work.finally(() => inflight.delete(work));
    },
    async settle(): Promise<void> {
      while (inflight.size > 0) await Promise.all(inflight);
    },
  };
}

describe('VirtualClock', () => {
  it('starts at the given time and only moves when run', async () => {
    const clock = new VirtualClock(T0);
    assert.equal(clock.now(), T0);
    clock.setTimer(50, () => {});
    assert.equal(clock.now(), T0, 'setting a timer does not move time');
    await clock.runUntil(T0 + 10, noSettle);
    assert.equal(clock.now(), T0 + 10);
  });

  it('fires timers in time order, with now() at each timer’s instant', async () => {
    const clock = new VirtualClock(T0);
    const fired: [string, number][] = [];
    for (const [name, ms] of [
      ['c', 30],
      ['a', 10],
      ['e', 50],
      ['b', 20],
      ['d', 40],
    ] as const) {
      clock.setTimer(ms, () => fired.push([name, clock.now() - T0]));
    }
    await clock.runUntil(T0 + 100, noSettle);
    assert.deepEqual(fired, [
      ['a', 10],
      ['b', 20],
      ['c', 30],
      ['d', 40],
      ['e', 50],
    ]);
  });

  it('fires timers due at the same instant in the order they were set', async () => {
    const clock = new VirtualClock(T0);
    const fired: string[] = [];
    // Interleave two instants so that heap reordering would show.
    for (let i = 0; i < 12; i++)
      clock.setTimer(i % 2 === 0 ? 20 : 10, () => fired.push(`${i % 2 === 0 ? 20 : 10}:${i}`));
    await clock.runUntil(T0 + 20, noSettle);
    assert.deepEqual(fired, [
      '10:1',
      '10:3',
      '10:5',
      '10:7',
      '10:9',
      '10:11',
      '20:0',
      '20:2',
      '20:4',
      '20:6',
      '20:8',
      '20:10',
    ]);
  });

  it('treats a negative delay as zero', async () => {
    const clock = new VirtualClock(T0);
    let firedAt: number | null = null;
    clock.setTimer(-500, () => {
      firedAt = clock.now();
    });
    assert.equal(clock.nextAt(), T0);
    await clock.runUntil(T0, noSettle);
    assert.equal(firedAt, T0);
  });

  it('never fires a cancelled timer, wherever it sits in the queue', async () => {
    const clock = new VirtualClock(T0);
    const fired: number[] = [];
    const handles = [10, 20, 30, 40, 50].map((ms) => clock.setTimer(ms, () => fired.push(ms)));
    handles[0]?.cancel(); // the earliest (top of the heap)
    handles[2]?.cancel(); // one in the middle
    handles[4]?.cancel(); // the latest
    handles[2]?.cancel(); // twice is harmless
    await clock.runUntil(T0 + 100, noSettle);
    assert.deepEqual(fired, [20, 40]);
    // Cancelling after it fired changes nothing.
    handles[1]?.cancel();
    assert.deepEqual(fired, [20, 40]);
  });

  it('lets a timer cancel a later one at the same instant', async () => {
    const clock = new VirtualClock(T0);
    const fired: string[] = [];
    let later: { cancel(): void } | null = null;
    clock.setTimer(10, () => {
      fired.push('first');
      later?.cancel();
    });
    later = clock.setTimer(10, () => fired.push('second'));
    await clock.runUntil(T0 + 10, noSettle);
    assert.deepEqual(fired, ['first']);
    assert.equal(clock.pendingTimers, 0);
  });

  it('reports nextAt and pendingTimers, skipping cancelled timers', () => {
    const clock = new VirtualClock(T0);
    assert.equal(clock.nextAt(), null);
    assert.equal(clock.pendingTimers, 0);
    const a = clock.setTimer(30, () => {});
    const b = clock.setTimer(10, () => {});
    clock.setTimer(20, () => {});
    assert.equal(clock.nextAt(), T0 + 10);
    assert.equal(clock.pendingTimers, 3);
    b.cancel();
    assert.equal(clock.pendingTimers, 2, 'a cancelled timer is not pending even before it reaches the top');
    assert.equal(clock.nextAt(), T0 + 20);
    a.cancel();
    assert.equal(clock.pendingTimers, 1);
    assert.equal(clock.nextAt(), T0 + 20);
  });

  describe('runUntil', () => {
    it('moves now to `until` even when no timer is due, and never backwards', async () => {
      const clock = new VirtualClock(T0);
      let fired = false;
      clock.setTimer(1_000, () => {
        fired = true;
      });
      await clock.runUntil(T0 + 999, noSettle);
      assert.equal(clock.now(), T0 + 999);
      assert.equal(fired, false, 'a timer due after `until` does not fire');
      assert.equal(clock.pendingTimers, 1);
      assert.equal(clock.nextAt(), T0 + 1_000);
      await clock.runUntil(T0 + 500, noSettle);
      assert.equal(clock.now(), T0 + 999, 'an earlier `until` does not set the clock back');
      await clock.runUntil(T0 + 1_000, noSettle);
      assert.equal(fired, true, 'a timer due exactly at `until` fires');
      assert.equal(clock.now(), T0 + 1_000);
    });

    it('awaits settle once after each timer, before the next fires, with now() still at that timer', async () => {
      const clock = new VirtualClock(T0);
      const log: string[] = [];
      clock.setTimer(10, () => log.push('fire 10'));
      clock.setTimer(20, () => log.push('fire 20'));
      clock.setTimer(20, () => log.push('fire 20b'));
      await clock.runUntil(T0 + 100, async () => {
        log.push(`settle @${clock.now() - T0}`);
        await macrotask();
      });
      assert.deepEqual(log, ['fire 10', 'settle @10', 'fire 20', 'settle @20', 'fire 20b', 'settle @20']);
      const before = log.length;
      await clock.runUntil(T0 + 200, async () => {
        log.push('settle without a timer');
      });
      assert.equal(log.length, before, 'settle is not called when no timer fires');
    });

    it('makes the effect of an async chain started by a timer visible before the next timer fires', async () => {
      // The chain takes several real macrotask turns, like a server call would.
      const run = async (useSettle: boolean) => {
        const clock = new VirtualClock(T0);
        const work = workTracker();
        let committed = 0;
        const seen: number[] = [];
        clock.setTimer(10, () =>
          work.start(async () => {
            for (let i = 0; i < 5; i++) await macrotask();
            committed++;
          }),
        );
        clock.setTimer(10, () => seen.push(committed)); // same instant, next in line
        clock.setTimer(11, () => seen.push(committed));
        await clock.runUntil(T0 + 20, useSettle ? () => work.settle() : noSettle);
        await work.settle();
        return seen;
      };
      assert.deepEqual(await run(true), [1, 1]);
      // Control: without settle the next timers run before the chain finishes, so the
      // assertion above really depends on runUntil awaiting settle.
      assert.deepEqual(await run(false), [0, 0]);
    });

    it('fires, in the same run, timers that timers (and their async work) set inside the window', async () => {
      const clock = new VirtualClock(T0);
      const work = workTracker();
      const fired: string[] = [];
      clock.setTimer(10, () => {
        fired.push('parent@10');
        clock.setTimer(0, () => fired.push('child+0@10'));
        clock.setTimer(5, () => {
          fired.push('child+5@15');
          clock.setTimer(5, () => fired.push('grandchild@20'));
        });
        clock.setTimer(100, () => fired.push('child+100@110'));
        // Like a server that answers after some async work: the reply timer is set in settle.
        work.start(async () => {
          await macrotask();
          clock.setTimer(7, () => fired.push('reply@17'));
        });
      });
      clock.setTimer(10, () => fired.push('sibling@10'));
      await clock.runUntil(T0 + 50, () => work.settle());
      assert.deepEqual(fired, ['parent@10', 'sibling@10', 'child+0@10', 'child+5@15', 'reply@17', 'grandchild@20']);
      assert.equal(clock.now(), T0 + 50);
      assert.equal(clock.pendingTimers, 1);
      assert.equal(clock.nextAt(), T0 + 110);
      await clock.runUntil(T0 + 110, () => work.settle());
      assert.equal(fired.at(-1), 'child+100@110');
      assert.equal(clock.nextAt(), null);
    });
  });

  it('fires exactly what a naive scheduler would, in the same order (property)', async () => {
    type Spec = { delay: number; cancel: boolean; child: number | null };
    const spec: fc.Arbitrary<Spec> = fc.record({
      delay: fc.integer({ min: -5, max: 60 }),
      cancel: fc.boolean(),
      child: fc.option(fc.integer({ min: 0, max: 40 }), { nil: null }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(spec, { maxLength: 40 }),
        fc.array(fc.integer({ min: 0, max: 40 }), { minLength: 1, maxLength: 4 }),
        async (specs, steps) => {
          // The model: every timer in a list, the next one found by a linear scan.
          type ModelTimer = { at: number; order: number; label: string; childDelay: number | null };
          let modelNow = T0;
          let order = 0;
          const model: ModelTimer[] = [];
          const modelFired: [string, number][] = [];

          const clock = new VirtualClock(T0);
          const fired: [string, number][] = [];
          specs.forEach((s, i) => {
            const label = `t${i}`;
            const handle = clock.setTimer(s.delay, () => {
              fired.push([label, clock.now()]);
              if (s.child !== null) clock.setTimer(s.child, () => fired.push([`${label}.child`, clock.now()]));
            });
            if (s.cancel) handle.cancel();
            else model.push({ at: modelNow + Math.max(0, s.delay), order: order++, label, childDelay: s.child });
            if (s.cancel) order++;
          });

          let until = T0;
          for (const step of steps) {
            until += step;
            await clock.runUntil(until, noSettle);
            for (;;) {
              let best: ModelTimer | undefined;
              for (const t of model) {
                if (t.at <= until && (!best || t.at < best.at || (t.at === best.at && t.order < best.order))) best = t;
              }
              if (!best) break;
              model.splice(model.indexOf(best), 1);
              modelNow = best.at;
              modelFired.push([best.label, best.at]);
              if (best.childDelay !== null) {
                model.push({
                  at: modelNow + best.childDelay,
                  order: order++,
                  label: `${best.label}.child`,
                  childDelay: null,
                });
              }
            }
            modelNow = until;
            assert.deepEqual(fired, modelFired);
            assert.equal(clock.now(), until);
            assert.equal(clock.pendingTimers, model.length);
            assert.equal(clock.nextAt(), model.length === 0 ? null : Math.min(...model.map((t) => t.at)));
          }
        },
      ),
      { numRuns: 300 },
    );
  });
});
