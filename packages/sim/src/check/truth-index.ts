/**
 * Lookups over a Truth that several rules share (ops by id, a device's
 * label, what the run saw of a terminal), built once per Truth.
 */
import type { JournalTruth, LaneObservations, ServerOpRow, Truth } from './truth.js';

export interface TruthIndex {
  opsById: ReadonlyMap<string, ServerOpRow>;
  /** The terminal's label for a device id (the id itself when no journal names it). */
  labelOf(deviceId: string): string;
  /** What the run saw of a terminal (undefined for a run read only from disk). */
  observed(label: string): LaneObservations | undefined;
  /** Terminals restored from an old image (an injected fault): their forks are expected. */
  injected(journal: JournalTruth): boolean;
  /** Device ids of the injected terminals. */
  injectedDevices: ReadonlySet<string>;
  /** Every op some terminal recorded: in a journal, seen by the app, or taken away by a restore. */
  recordedIds: ReadonlySet<string>;
}

const cache = new WeakMap<Truth, TruthIndex>();

export function indexTruth(truth: Truth): TruthIndex {
  const known = cache.get(truth);
  if (known) return known;
  const opsById = new Map(truth.server.ops.map((o) => [o.id, o]));
  const labels = new Map<string, string>();
  for (const j of truth.journals) if (j.deviceId) labels.set(j.deviceId, j.label);
  const lanes = new Map((truth.run?.lanes ?? []).map((l) => [l.label, l]));
  const injected = (j: JournalTruth) => lanes.get(j.label)?.injected ?? false;
  const recordedIds = new Set<string>();
  for (const j of truth.journals) for (const e of j.entries) recordedIds.add(e.id);
  for (const l of lanes.values()) {
    for (const id of l.discarded) recordedIds.add(id);
    for (const i of l.intents) recordedIds.add(i.id);
  }
  const index: TruthIndex = {
    opsById,
    labelOf: (deviceId) => labels.get(deviceId) ?? deviceId,
    observed: (label) => lanes.get(label),
    injected,
    injectedDevices: new Set(truth.journals.filter((j) => injected(j) && j.deviceId).map((j) => j.deviceId as string)),
    recordedIds,
  };
  cache.set(truth, index);
  return index;
}
