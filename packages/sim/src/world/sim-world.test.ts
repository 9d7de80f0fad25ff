/**
 * The simulated world's machinery: drifting device clocks, per-zone
 * partitions and flapping links, a retransmitting and reordering network,
 * answers that go nowhere once a terminal died, power cuts at journal crash
 * points with recovery from disk, server crashes mid-batch with a restart on
 * the same file, restores that inject a fork — and exact replay by seed.
 * Every world here must end with the invariant checker finding nothing.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import { HoldfastService, SqliteStorage } from '@holdfast/server';
import { TransportError } from '@holdfast/terminal';
import { PartitionSchedule } from '../partition-schedule.js';
import { type NetEvent, SimNetwork } from '../sim-network.js';
import { TINY_START, type TinyPlanOptions, tinyPlan } from '../testing/tiny-plan.js';
import { VirtualClock } from '../virtual-clock.js';
import { DriftingClock } from './drifting-clock.js';
import { checkInvariants } from './invariants.js';
import { SimWorld } from './sim-world.js';

const MINUTE = 60_000;

/** Runs a tiny world to the end, checks it, and hands it to `inspect` before closing. */
async function world(
  options: TinyPlanOptions,
  inspect: (w: SimWorld) => void | Promise<void>,
  seed = 1,
  onNetEvent?: (e: NetEvent) => void,
): Promise<void> {
  const w = new SimWorld({ scenario: 'test', seed, plan: tinyPlan(options), ...(onNetEvent ? { onNetEvent } : {}) });
  try {
    await w.run();
    assert.notEqual(w.drainedAt, null, 'the world drained');
    assert.deepEqual(
      checkInvariants(w).map((v) => `${v.rule}: ${v.message}`),
      [],
    );
    await inspect(w);
  } finally {
    await w.close();
  }
}

describe('DriftingClock', () => {
  it('drifts in parts per million, jumps from its instant on, and keeps timers in true time', async () => {
    const base = new VirtualClock(TINY_START);
    const clock = new DriftingClock(base, {
      driftPpm: 100,
      jumps: [
        { at: TINY_START + 2 * MINUTE, byMs: 7_200_000 },
        { at: TINY_START + MINUTE, byMs: -30_000 },
      ],
    });
    assert.equal(clock.now(), TINY_START);
    assert.equal(clock.offsetAt(TINY_START + 10_000_000), 1_000 - 30_000 + 7_200_000, '100 ppm of 10,000 s is 1 s');
    assert.equal(clock.offsetAt(TINY_START + MINUTE - 1), 6, 'before the first jump: drift only');
    assert.equal(clock.offsetAt(TINY_START + MINUTE), 6 - 30_000, 'the backward jump applies at its instant');
    let firedAt = 0;
    clock.setTimer(3 * MINUTE, () => {
      firedAt = base.now();
    });
    await base.runUntil(TINY_START + 3 * MINUTE, async () => {});
    assert.equal(firedAt, TINY_START + 3 * MINUTE, 'a timer counts true milliseconds');
    assert.equal(clock.now(), TINY_START + 3 * MINUTE + 18 + 7_170_000);
  });
});

describe('PartitionSchedule', () => {
  it('merges overlapping windows per zone, and * cuts off every zone', () => {
    const s = new PartitionSchedule();
    s.add('north', 100, 200);
    s.add('north', 150, 300);
    s.add('north', 500, 600);
    s.add('*', 1_000, 1_100);
    for (const [zone, at, up] of [
      ['north', 99, true],
      ['north', 100, false],
      ['north', 299, false],
      ['north', 300, true],
      ['north', 550, false],
      ['south', 550, true],
      ['south', 1_050, false],
      ['north', 1_100, true],
    ] as const) {
      assert.equal(s.isUp(zone, at), up, `${zone} at ${at}`);
    }
    assert.equal(s.lastEnd, 1_100);
  });

  it('flaps: alternating outages and up-times inside the span, drawn from the random', () => {
    const s = new PartitionSchedule();
    const windows = s.flap('co', 0, 3_600_000, new SeededRandom(3), {
      downMs: [5_000, 60_000],
      upMs: [30_000, 300_000],
    });
    assert.ok(windows.length > 5, `${windows.length} outages in an hour`);
    for (const [i, w] of windows.entries()) {
      assert.ok(w.to - w.from <= 60_000 && w.to > w.from);
      const next = windows[i + 1];
      if (next) assert.ok(next.from - w.to >= 30_000, 'up for at least the minimum between outages');
      assert.equal(s.isUp('co', w.from), false);
      assert.equal(s.isUp('co', w.to), true);
    }
    const again = new PartitionSchedule().flap('co', 0, 3_600_000, new SeededRandom(3), {
      downMs: [5_000, 60_000],
      upMs: [30_000, 300_000],
    });
    assert.deepEqual(again, windows, 'the same random, the same flaps');
  });
});

describe('SimNetwork faults', () => {
  it('a retransmitting proxy delivers batches twice: the copies are answered duplicate and go nowhere', async () => {
    await world({ faults: { rates: { requestLoss: 0, responseLoss: 0, duplicate: 1, lateMs: [500, 3_000] } } }, (w) => {
      const f = w.network.faultStats;
      assert.ok(f.duplicated > 10, `${f.duplicated} copies delivered`);
      assert.ok(w.server.counters.duplicate >= f.duplicated, 'every copy was answered as duplicates');
      assert.equal(w.server.counters.conflict + w.server.counters.fork, 0);
    });
  });

  it('reordering: a held-back batch arrives after newer batches of the same terminal', async () => {
    const delivered: { lane: string; at: number; request: number }[] = [];
    const held = new Set<number>();
    const firstSeq = new Map<number, number>();
    await world(
      { faults: { rates: { requestLoss: 0, responseLoss: 0, reorder: 0.3, lateMs: [70_000, 150_000] } } },
      (w) => {
        assert.ok(w.network.faultStats.reordered > 0);
        assert.ok(w.network.faultStats.lateAnswers > 0, 'the sender had given up and resent: answers came too late');
        const overtaken = [...held].some((r) => {
          const late = delivered.find((d) => d.request === r);
          return delivered.some(
            (d) =>
              late &&
              d.lane === late.lane &&
              d.at < late.at &&
              (firstSeq.get(d.request) ?? 0) > (firstSeq.get(r) ?? Number.POSITIVE_INFINITY),
          );
        });
        assert.ok(overtaken, 'some held batch was overtaken by a batch with higher seqs');
      },
      1,
      (e) => {
        if (e.route !== 'batch') return;
        if (e.type === 'sent') firstSeq.set(e.request, (e.body as { ops: { seq: number }[] }).ops[0]?.seq ?? 0);
        if (e.type === 'held') held.add(e.request);
        if (e.type === 'delivered') delivered.push({ lane: e.client, at: e.at, request: e.request });
      },
    );
  });

  it('a dead client hears nothing: its answer is dropped and its timeout never fires', async () => {
    const clock = new VirtualClock(TINY_START);
    const storage = new SqliteStorage({ path: ':memory:' });
    await storage.migrate();
    const service = new HoldfastService({ storage, clock, random: new SeededRandom(1) });
    let down = false;
    const network = new SimNetwork({
      clock,
      random: new SeededRandom(2),
      server: () => (down ? null : service),
      latencyMs: [50, 50],
    });
    let alive = true;
    let settled = false;
    const transport = network.transport('north', { client: 'till', alive: () => alive });
    void transport.ping(1_000).finally(() => {
      settled = true;
    });
    await clock.runUntil(TINY_START + 60, () => network.settle());
    alive = false;
    await clock.runUntil(TINY_START + 5_000, () => network.settle());
    assert.equal(settled, false, 'nothing ever reaches a dead process');
    assert.equal(network.faultStats.deadClient, 1);
    assert.equal(network.stats.timeouts, 0);
    assert.equal(network.busy, false);

    down = true;
    const refused = network
      .transport('north')
      .ping(1_000)
      .then(
        () => null,
        (error: unknown) => error,
      );
    await clock.runUntil(TINY_START + 5_200, () => network.settle());
    const error = await refused;
    assert.ok(error instanceof TransportError && error.code === 'network', `refused: ${String(error)}`);
    assert.equal(network.faultStats.refused, 1, 'a down server refuses at once: no timeout');
    await storage.close();
  });
});

describe('power cuts and server crashes', () => {
  it('cuts power at journal crash points and at random moments; every till comes back from disk', async () => {
    const at = (m: number) => TINY_START + m * MINUTE;
    await world(
      {
        faults: {
          rates: { requestLoss: 0.05, responseLoss: 0.1 },
          terminalCrashes: [
            { lane: 'till-1', at: at(2), mode: 'record:after-commit', downMs: 30_000 },
            { lane: 'till-2', at: at(2), mode: 'settle:after-commit', downMs: 30_000 },
            { lane: 'till-3', at: at(3), mode: 'attempt-start:before-commit', downMs: 30_000 },
            { lane: 'till-1', at: at(6), mode: 'record:before-commit', downMs: 45_000 },
            { lane: 'till-2', at: at(7), mode: 'kill', downMs: 60_000 },
            { lane: 'till-3', at: at(8), mode: 'attempt-end:after-commit', downMs: 30_000 },
          ],
        },
      },
      (w) => {
        const hows = (label: string) => w.lane(label)?.crashes.map((c) => c.how);
        assert.deepEqual(hows('till-1'), ['record:after-commit', 'record:before-commit']);
        assert.deepEqual(hows('till-2'), ['settle:after-commit', 'kill']);
        assert.deepEqual(hows('till-3'), ['attempt-start:before-commit', 'attempt-end:after-commit']);
        for (const lane of w.lanes) assert.equal(lane.generation, 3, `${lane.label} was opened three times`);
        const till1 = w.lane('till-1');
        assert.ok(till1?.terminal);
        assert.equal(
          till1.terminal.status().latestSeq,
          till1.intents.length + 1,
          'the record cut after its commit is in the journal though the app never saw it',
        );
      },
    );
  });

  it('the server dies before and after a batch commit, refuses while down, restarts on the same file', async () => {
    const at = (m: number) => TINY_START + m * MINUTE;
    await world(
      {
        faults: {
          serverCrashes: [
            { at: at(3), point: 'ingest:after-commit', downMs: 20_000 },
            { at: at(8), point: 'ingest:before-commit', downMs: 40_000 },
          ],
        },
      },
      (w) => {
        assert.deepEqual(
          w.server.crashes.map((c) => c.point),
          ['ingest:after-commit', 'ingest:before-commit'],
        );
        assert.equal(w.network.faultStats.serverCrashes, 2, 'both crashes hit a batch in flight');
        assert.ok(w.network.faultStats.refused > 0, 'requests were refused while it was down');
        assert.ok(w.server.counters.duplicate > 0, 'the batch committed before the crash came back as duplicates');
      },
    );
  });

  it('a till restored from an old disk image forks its chain, and both sides flag it', async () => {
    await world(
      {
        minutes: 20,
        faults: {
          restores: [{ lane: 'till-2', backupAt: TINY_START + 3 * MINUTE, restoreAt: TINY_START + 9 * MINUTE }],
        },
      },
      (w) => {
        const lane = w.lane('till-2');
        const restore = lane?.restores[0];
        assert.ok(lane?.terminal && restore);
        assert.ok(restore.discarded.length > 0, 'ops recorded after the image are gone from the till');
        const forks = w.server.storage.query<{ n: number }>(
          "SELECT COUNT(*) AS n FROM exceptions WHERE type = 'fork' AND device = ?",
          [lane.deviceId],
        )[0]?.n;
        assert.ok((forks ?? 0) > 0, 'the server raised fork alarms');
        const dead = lane.terminal.deadLetters(1000);
        assert.ok(dead.length > 0 && dead.every((d) => d.reason === 'fork'), 'the till dead-lettered its forked ops');
        assert.ok(lane.terminal.status().blocked, 'and its chain waits for an operator');
      },
    );
  });
});

describe('replay', () => {
  const digest = async (seed: number) => {
    let out = '';
    const options: TinyPlanOptions = {
      retryHappy: true,
      faults: {
        rates: { requestLoss: 0.1, responseLoss: 0.2, latencySpike: 0.05, duplicate: 0.05, reorder: 0.05 },
        partitions: [{ zone: 'north', from: TINY_START + 2 * MINUTE, to: TINY_START + 6 * MINUTE }],
        terminalCrashes: [{ lane: 'till-2', at: TINY_START + 4 * MINUTE, mode: 'kill', downMs: 20_000 }],
        serverCrashes: [{ at: TINY_START + 7 * MINUTE, point: 'ingest:after-commit', downMs: 15_000 }],
      },
    };
    await world(
      options,
      (w) => {
        out = JSON.stringify({
          ops: w.server.storage.query('SELECT id, device, seq, hash, result, received_at FROM ops ORDER BY id'),
          ledger: w.server.storage.query('SELECT op_id, amount, applied_at FROM ledger ORDER BY pos'),
          stats: [w.network.stats, w.network.faultStats, w.network.load, w.counters, w.drainedAt],
          crashes: w.lanes.map((l) => l.crashes),
        });
      },
      seed,
    );
    return out;
  };

  it('the same plan and seed give the same run, event for event; another seed another run', async () => {
    const a = await digest(7);
    assert.equal(await digest(7), a);
    assert.notEqual(await digest(8), a);
  });
});
