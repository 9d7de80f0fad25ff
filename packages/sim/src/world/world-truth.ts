/**
 * A simulated world's Truth, for the checking kit: every lane's journal
 * (through its open terminal, or from disk while it is down), the running
 * server's tables, the processor's records, and what the world saw while it
 * ran (what each app saw recorded, restores, answers on the wire, errors).
 */
import { readJournal, readJournalPages } from '../check/journal-reader.js';
import { readProcessor } from '../check/processor-reader.js';
import { SqliteServerReader } from '../check/sqlite/sqlite-server-reader.js';
import type { JournalTruth, LaneObservations, RunObservations, Truth } from '../check/truth.js';
import type { SimLane } from './sim-lane.js';
import type { SimWorld } from './sim-world.js';

/** Reads the world's truth now (the server must be up). */
export function worldTruth(world: SimWorld): Truth {
  return {
    journals: world.lanes.map(laneJournal),
    server: new SqliteServerReader(world.server.storage).readNow(),
    processor: world.cards ? readProcessor(world.cards.processor.storage) : null,
    run: observations(world),
  };
}

function laneJournal(lane: SimLane): JournalTruth {
  const terminal = lane.terminal;
  if (!terminal) return { ...readJournal(lane.dir, lane.label), deviceId: lane.deviceId };
  return readJournalPages(lane.label, lane.deviceId, {
    ops: (afterSeq, limit) => terminal.ops({ afterSeq, limit }),
    deadLetters: (limit, afterSeq) => terminal.deadLetters(limit, afterSeq),
  });
}

function observations(world: SimWorld): RunObservations {
  const cards = world.cards;
  return {
    start: world.plan.start,
    lanes: world.lanes.map((lane) => laneObservations(world, lane)),
    firstResults: world.history.firstResults,
    changedResults: world.history.changed,
    cards: cards !== null,
    clonedWristbands: world.script.clonedWristbands ?? [],
    cardNames: new Map((cards?.pool.cards ?? []).map((c) => [c.token, `${c.brand} ****${c.last4}`])),
    exposureBreaches: cards?.breaches ?? [],
    errors: world.errors,
    serverErrors: world.network.internalErrors,
    roundErrors: world.server.roundErrors,
    drainedAt: world.drainedAt,
    drainLimitMs: world.plan.drainLimitMs,
    queued: world.queued,
    counts: world.counts,
  };
}

function laneObservations(world: SimWorld, lane: SimLane): LaneObservations {
  const injected = lane.restores.length > 0;
  const delivery = lane.deviceId ? world.history.lastDelivery.get(lane.deviceId) : undefined;
  return {
    label: lane.label,
    injected,
    intents: lane.intents,
    discarded: lane.restores.flatMap((r) => r.discarded.map((d) => d.id)),
    // A record call that died after its commit: the app never saw its op (see SimLane).
    cutRecords: lane.crashes.filter(
      (c) => c.how === 'record:after-commit' || (c.inWristbandCall && c.how !== 'record:before-commit'),
    ).length,
    blocked: injected && Boolean(lane.terminal?.status().blocked),
    ...(delivery
      ? {
          lastDelivery: {
            trueSentAt: delivery.trueSentAt,
            deliveredAt: delivery.deliveredAt,
            deviceOffsetMs: lane.clock.offsetAt(delivery.trueSentAt),
          },
        }
      : {}),
  };
}
