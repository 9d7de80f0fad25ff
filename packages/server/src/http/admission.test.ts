/**
 * Admission control as a unit: lanes, bounded admission with booked retry
 * slots, per-device limits, and the live-before-backlog scheduler.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { ManualClock } from '@holdfast/domain/testing';
import { ProtocolError } from '@holdfast/protocol';
import { T0 } from '../testing/harness.js';
import { AbandonedError, Admission, type AdmissionOptions, admissionOptions } from './admission.js';

function make(overrides: Partial<AdmissionOptions> = {}, elapsed?: () => number) {
  const clock = new ManualClock(T0);
  const admission = new Admission(admissionOptions(overrides), clock, new SeededRandom(1), elapsed);
  return { clock, admission };
}

function refusal(run: () => unknown): ProtocolError {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof ProtocolError, `expected a ProtocolError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

/** A job that finishes when told to, recording when it started. */
function gate(log: string[], name: string) {
  let open!: () => void;
  const done = new Promise<void>((resolve) => {
    open = resolve;
  });
  return {
    work: async () => {
      log.push(name);
      await done;
      return name;
    },
    open: () => open(),
  };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('Admission: lanes', () => {
  const { admission } = make({ liveMaxBytes: 1000 });

  it('gives the live lane only to a request that asks for it with a small, declared body', () => {
    assert.equal(admission.laneOf('live', 1000), 'live');
    assert.equal(admission.laneOf(['live'], 10), 'live');
    assert.equal(admission.laneOf('live', 1001), 'backlog', 'one byte over the live limit');
    assert.equal(admission.laneOf('live', null), 'backlog', 'no content-length (chunked)');
    assert.equal(admission.laneOf(undefined, 10), 'backlog');
    assert.equal(admission.laneOf('LIVE', 10), 'backlog');
    assert.equal(admission.laneOf('backlog', 10), 'backlog');
  });
});

describe('Admission: bounded admission', () => {
  it('admits up to the limit of each lane, refuses the next with 503 overloaded, and admits again after a release', () => {
    const { admission } = make({ maxBacklog: 2, maxLive: 1 });
    admission.admit('backlog');
    admission.admit('backlog');
    const refused = refusal(() => admission.admit('backlog'));
    assert.equal(refused.code, 'overloaded');
    assert.ok((refused.retryAfterMs ?? 0) > 0);
    admission.admit('live');
    assert.equal(refusal(() => admission.admit('live')).code, 'overloaded', 'the live lane has its own limit');
    admission.release('backlog');
    admission.admit('backlog');
    const load = admission.snapshot();
    assert.deepEqual(load.admitted, { live: 1, backlog: 2 });
    assert.equal(load.totals.overloaded, 2);
    assert.deepEqual(load.totals.admitted, { live: 1, backlog: 3 });
  });

  it('books refused backlog batches into distinct, increasing slots within the bounds', () => {
    const { admission } = make({ maxBacklog: 1, minRetryAfterMs: 500, maxRetryAfterMs: 3000 });
    admission.admit('backlog');
    const waits = Array.from({ length: 400 }, () => refusal(() => admission.admit('backlog')).retryAfterMs as number);
    assert.ok(
      waits.every((w) => w >= 500 && w <= 3000 + 50),
      'every wait is within the bounds (plus one slot of jitter)',
    );
    // Slots are one mean ingest time apart (20 ms before any measurement), so waits grow until the cap.
    assert.ok((waits[10] as number) > (waits[0] as number));
    assert.ok((waits[100] as number) - (waits[0] as number) >= 1500, 'a hundred refusals span ~2 s of capacity');
    assert.ok((waits[399] as number) >= 3000, 'far bookings are capped at the maximum');
  });

  it('asks a refused live batch to come back soon, not behind the backlog', () => {
    const { admission } = make({ maxLive: 1, maxBacklog: 1, minRetryAfterMs: 700 });
    admission.admit('backlog');
    for (let i = 0; i < 50; i++) refusal(() => admission.admit('backlog'));
    admission.admit('live');
    assert.equal(refusal(() => admission.admit('live')).retryAfterMs, 700);
  });
});

describe('Admission: per-device limits', () => {
  it('allows perDeviceInFlight batches of one device at once and refuses the next with 429', () => {
    const { admission } = make({ perDeviceInFlight: 2, perDeviceRate: 0 });
    admission.enterDevice('a');
    admission.enterDevice('a');
    const refused = refusal(() => admission.enterDevice('a'));
    assert.equal(refused.code, 'rate_limited');
    assert.match(refused.message, /2 batches in progress/);
    admission.enterDevice('b');
    admission.leaveDevice('a');
    admission.enterDevice('a');
    assert.equal(admission.snapshot().totals.rateLimited, 1);
  });

  it('refills the token bucket at perDeviceRate: the burst, then one batch per 1/rate seconds', () => {
    const { clock, admission } = make({ perDeviceInFlight: 100, perDeviceRate: 4, perDeviceBurst: 3 });
    for (let i = 0; i < 3; i++) admission.enterDevice('a');
    const refused = refusal(() => admission.enterDevice('a'));
    assert.equal(refused.code, 'rate_limited');
    assert.equal(refused.retryAfterMs, 500, '250 ms to the next token, raised to the 500 ms minimum');
    clock.advance(249);
    refusal(() => admission.enterDevice('a'));
    clock.advance(1);
    admission.enterDevice('a');
    clock.advance(10_000);
    for (let i = 0; i < 3; i++) admission.enterDevice('a');
    refusal(() => admission.enterDevice('a'));
  });

  it('validates its options, naming the bad one', () => {
    assert.throws(() => admissionOptions({ maxBacklog: 0 }), /admission\.maxBacklog must be an integer >= 1/);
    assert.throws(() => admissionOptions({ concurrency: 1.5 }), /admission\.concurrency/);
    assert.throws(() => admissionOptions({ perDeviceRate: -1 }), /admission\.perDeviceRate/);
    assert.throws(
      () => admissionOptions({ minRetryAfterMs: 5000, maxRetryAfterMs: 1000 }),
      /maxRetryAfterMs must be >= minRetryAfterMs/,
    );
  });
});

describe('Admission: the backlog bounded by time', () => {
  /** An admission whose jobs "take" the ms they are given, on a counter instead of the real clock. */
  function timed(overrides: Partial<AdmissionOptions>) {
    let now = 0;
    const { admission } = make(overrides, () => now);
    const runFor = (lane: 'live' | 'backlog', ms: number) =>
      admission.run(lane, async () => {
        now += ms;
      });
    return { admission, runFor };
  }

  it('admits fewer backlog batches while ingest is slow: as many as fit in maxBacklogWaitMs', async () => {
    const { admission, runFor } = timed({ maxBacklog: 32, maxBacklogWaitMs: 1000, concurrency: 1 });
    assert.equal(admission.snapshot().backlogLimit, 32, 'fast (the 20 ms start): the configured maximum');
    for (let i = 0; i < 40; i++) await runFor('backlog', 250);
    const limit = admission.snapshot().backlogLimit;
    assert.equal(limit, 4, 'about 250 ms a batch: 4 fit in 1000 ms');
    for (let i = 0; i < limit; i++) admission.admit('backlog');
    assert.equal(admission.wouldRefuse('backlog'), true);
    const refused = refusal(() => admission.admit('backlog'));
    assert.equal(refused.code, 'overloaded');
    assert.ok((refused.retryAfterMs as number) >= 4 * 200, 'told to come back after the 4 admitted are done');
    assert.equal(admission.wouldRefuse('live'), false, 'the live lane is not bounded by the backlog');
  });

  it('keeps at least concurrency + 1 admitted, and grows back when ingest is fast again', async () => {
    const { admission, runFor } = timed({ maxBacklog: 32, maxBacklogWaitMs: 1000, concurrency: 2 });
    for (let i = 0; i < 40; i++) await runFor('backlog', 60_000);
    assert.equal(admission.snapshot().backlogLimit, 3);
    for (let i = 0; i < 120; i++) await runFor('backlog', 10);
    assert.equal(admission.snapshot().backlogLimit, 32);
  });

  it('measures the backlog by backlog batches only: fast live sales do not widen it', async () => {
    const { admission, runFor } = timed({ maxBacklog: 32, maxBacklogWaitMs: 1000, concurrency: 1 });
    for (let i = 0; i < 40; i++) await runFor('backlog', 250);
    for (let i = 0; i < 40; i++) await runFor('live', 1);
    assert.equal(admission.snapshot().backlogLimit, 4);
  });

  it('validates maxBacklogWaitMs', () => {
    assert.throws(() => admissionOptions({ maxBacklogWaitMs: 0 }), /admission.maxBacklogWaitMs/);
  });
});

describe('Admission: scheduler', () => {
  it('runs backlog one at a time on concurrency 1, and a live batch at once, beside it', async () => {
    const { admission } = make({ concurrency: 1 });
    const log: string[] = [];
    const b1 = gate(log, 'b1');
    const b2 = gate(log, 'b2');
    const b3 = gate(log, 'b3');
    const l1 = gate(log, 'l1');
    const l2 = gate(log, 'l2');
    const results = [admission.run('backlog', b1.work), admission.run('backlog', b2.work)];
    await tick();
    assert.deepEqual(log, ['b1'], 'one backlog batch at a time');
    results.push(admission.run('backlog', b3.work), admission.run('live', l1.work));
    await tick();
    assert.deepEqual(log, ['b1', 'l1'], 'the live batch did not wait for the running one');
    assert.deepEqual(admission.snapshot().queued, { live: 0, backlog: 2 });
    assert.equal(admission.snapshot().running, 2);
    b1.open();
    await tick();
    await tick();
    assert.deepEqual(log, ['b1', 'l1'], 'the running live batch holds the one slot: backlog waits for it');
    results.push(admission.run('live', l2.work));
    await tick();
    assert.deepEqual(log, ['b1', 'l1', 'l2'], 'nor does a second live batch');
    l1.open();
    l2.open();
    await tick();
    await tick();
    assert.deepEqual(log, ['b1', 'l1', 'l2', 'b2']);
    b2.open();
    b3.open();
    assert.deepEqual(await Promise.all(results), ['b1', 'b2', 'b3', 'l1', 'l2']);
    assert.deepEqual(log, ['b1', 'l1', 'l2', 'b2', 'b3']);
    assert.equal(admission.snapshot().running, 0);
  });

  it('runs up to `concurrency` jobs at once and passes errors to their caller only', async () => {
    const { admission } = make({ concurrency: 2 });
    const log: string[] = [];
    const a = gate(log, 'a');
    const b = gate(log, 'b');
    const c = gate(log, 'c');
    const pa = admission.run('backlog', a.work);
    const pb = admission.run('backlog', b.work);
    const pc = admission.run('backlog', c.work);
    // A live batch runs at once, beside the two: its error reaches its caller, nobody else's.
    const failing = assert.rejects(
      admission.run('live', async () => {
        throw new Error('boom');
      }),
      /boom/,
    );
    await tick();
    assert.deepEqual(log, ['a', 'b']);
    await failing;
    a.open();
    b.open();
    c.open();
    assert.deepEqual(await Promise.all([pa, pb, pc]), ['a', 'b', 'c']);
    assert.equal(admission.snapshot().running, 0);
  });
});

describe('Admission: abandoned work', () => {
  it('skips a queued batch whose client hung up before its turn, and counts it', async () => {
    const { admission } = make({ concurrency: 1 });
    const log: string[] = [];
    const first = gate(log, 'first');
    const gone = gate(log, 'gone');
    const kept = gate(log, 'kept');
    let hungUp = false;
    const p1 = admission.run('backlog', first.work);
    const p2 = admission.run('backlog', gone.work, () => hungUp);
    const p3 = admission.run('backlog', kept.work, () => false);
    await tick();
    hungUp = true;
    first.open();
    kept.open();
    await assert.rejects(p2, (e: unknown) => e instanceof AbandonedError);
    assert.deepEqual(await Promise.all([p1, p3]), ['first', 'kept']);
    assert.deepEqual(log, ['first', 'kept'], 'the abandoned batch never ran');
    assert.equal(admission.snapshot().totals.abandoned, 1);
  });
});

describe('Admission: bounded per-device state', () => {
  it('remembers at most maxTrackedDevices devices, forgetting idle ones least recently used first', () => {
    const { admission } = make({ maxTrackedDevices: 10 });
    admission.enterDevice('busy'); // stays in flight: never forgotten
    for (let i = 0; i < 100; i++) {
      admission.enterDevice(`d${i}`);
      admission.leaveDevice(`d${i}`);
      assert.ok(admission.trackedDevices <= 10, `at most 10 remembered (${admission.trackedDevices})`);
    }
    assert.equal(admission.trackedDevices, 10);
    // The busy device was kept: its second batch still counts against it.
    admission.enterDevice('busy');
    const refused = refusal(() => admission.enterDevice('busy'));
    assert.equal(refused.code, 'rate_limited');
  });
});

describe('Admission: preparing batches', () => {
  it("prepares a live batch at once and backlog batches one per event-loop turn, each resolving to its work's value", async () => {
    const { admission } = make({});
    const log: string[] = [];
    const backlog = ['b1', 'b2', 'b3'].map((name) =>
      admission.prepare('backlog', async () => {
        log.push(name);
        return name;
      }),
    );
    const live = admission.prepare('live', async () => {
      log.push('live');
      return 'live';
    });
    assert.deepEqual(log, ['live'], 'the live batch did not wait for a turn; no backlog batch ran yet');
    await tick();
    assert.deepEqual(log, ['live', 'b1'], 'one backlog batch a turn');
    await tick();
    assert.deepEqual(log, ['live', 'b1', 'b2']);
    const failing = admission.prepare('backlog', async () => {
      throw new Error('bad signature');
    });
    assert.deepEqual(await Promise.all([...backlog, live]), ['b1', 'b2', 'b3', 'live']);
    await assert.rejects(failing, /bad signature/);
  });

  it('rejects, and goes on with the next turn, when a backlog batch throws before it returns a promise', async () => {
    const { admission } = make({});
    const thrown = admission.prepare('backlog', () => {
      throw new Error('thrown at once');
    });
    const next = admission.prepare('backlog', async () => 'next');
    await assert.rejects(thrown, /thrown at once/);
    assert.equal(await next, 'next');
  });

  it('parses a backlog body at its turn, counting it against its lane until then, and never admitting it', async () => {
    const { admission } = make({ maxBacklog: 2, concurrency: 1 });
    const log: string[] = [];
    const first = admission.parse('backlog', () => {
      log.push('first');
      return { ops: 1 };
    });
    const second = admission.parse('backlog', () => {
      log.push('second');
      throw new Error('malformed');
    });
    assert.deepEqual(log, [], 'nothing parsed before its turn');
    assert.equal(admission.wouldRefuse('backlog'), true, 'two bodies waiting fill a lane of two');
    assert.equal(refusal(() => admission.admit('backlog')).code, 'overloaded');
    assert.deepEqual(await first, { ops: 1 });
    await assert.rejects(second, /malformed/);
    assert.deepEqual(log, ['first', 'second']);
    assert.equal(admission.wouldRefuse('backlog'), false, 'parsed or failed, the bodies no longer count');
    assert.deepEqual(admission.snapshot().totals.admitted, { live: 0, backlog: 0 }, 'parsing admits nothing');
    assert.equal(admission.snapshot().totals.overloaded, 1);
    const live = admission.parse('live', () => 'at once');
    assert.equal(admission.wouldRefuse('live'), false);
    assert.equal(await live, 'at once');
  });
});
