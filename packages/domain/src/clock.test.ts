import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { setTimeout as delay } from 'node:timers/promises';
import { sleep, systemClock } from './clock.js';
import { ManualClock } from './testing/manual-clock.js';

/**
 * systemClock's timers are unref'd so they never keep a process alive; a test awaiting only
 * such a timer could see the event loop drain first. This keeps the loop alive meanwhile.
 */
async function withLoopAlive<T>(run: () => Promise<T>): Promise<T> {
  const keepAlive = setInterval(() => {}, 1_000);
  try {
    return await run();
  } finally {
    clearInterval(keepAlive);
  }
}

describe('systemClock', () => {
  it('now() reads Date.now()', () => {
    const before = Date.now();
    const now = systemClock.now();
    assert.ok(now >= before && now <= Date.now());
  });

  it('setTimer fires after about the given time, in order of due time', async () => {
    await withLoopAlive(async () => {
      const log: string[] = [];
      const start = performance.now();
      const fired = new Promise<number>((resolve) => {
        systemClock.setTimer(30, () => {
          log.push('30ms');
          resolve(performance.now() - start);
        });
      });
      systemClock.setTimer(5, () => log.push('5ms'));
      const elapsed = await fired;
      assert.ok(elapsed >= 25, `fired after ${elapsed} ms`);
      assert.deepEqual(log, ['5ms', '30ms']);
    });
  });

  it('a negative delay fires as soon as possible', async () => {
    await withLoopAlive(async () => {
      await new Promise<void>((resolve) => systemClock.setTimer(-10, resolve));
    });
  });

  it('cancel() prevents the timer from firing', async () => {
    await withLoopAlive(async () => {
      let fired = false;
      const handle = systemClock.setTimer(5, () => {
        fired = true;
      });
      handle.cancel();
      await delay(30);
      assert.equal(fired, false);
      handle.cancel(); // cancelling twice is harmless
    });
  });

  it('is frozen', () => {
    assert.ok(Object.isFrozen(systemClock));
  });
});

describe('sleep', () => {
  it('resolves only when the clock’s timer fires', async () => {
    const clock = new ManualClock(0);
    let done = false;
    const slept = sleep(clock, 1_000).then(() => {
      done = true;
    });
    clock.advance(999);
    await delay(0);
    assert.equal(done, false);
    clock.advance(1);
    await slept;
    assert.equal(done, true);
  });

  it('works with systemClock', async () => {
    await withLoopAlive(async () => {
      const start = performance.now();
      await sleep(systemClock, 10);
      assert.ok(performance.now() - start >= 8);
    });
  });
});
