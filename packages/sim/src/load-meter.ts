/**
 * The server's load as the network delivers to it: peaks of requests,
 * batches and ops per virtual second, the most requests in flight, and an
 * optional capacity model — a single FIFO queue in which each request takes
 * perRequestMs + perOpMs × ops — whose waits delay the answers.
 */
import type { ServerCapacity, ServerLoad } from './network-types.js';

export class LoadMeter {
  readonly load: ServerLoad = LoadMeter.#zero(0);
  readonly #capacity: ServerCapacity | null;
  #freeAt = 0;
  #second = { at: -1, requests: 0, batches: 0, ops: 0 };

  constructor(capacity: ServerCapacity | null) {
    this.#capacity = capacity;
  }

  static #zero(inFlight: number): ServerLoad {
    return {
      peakRequestsPerSecond: 0,
      peakBatchesPerSecond: 0,
      peakOpsPerSecond: 0,
      peakBatchesAt: null,
      maxInFlight: inFlight,
      maxQueueDelayMs: 0,
    };
  }

  /** Starts afresh, with `inFlight` requests open now. */
  reset(inFlight: number): void {
    Object.assign(this.load, LoadMeter.#zero(inFlight));
    this.#second = { at: -1, requests: 0, batches: 0, ops: 0 };
  }

  inFlight(open: number): void {
    if (open > this.load.maxInFlight) this.load.maxInFlight = open;
  }

  /** Counts a delivery at `now` carrying `ops` ops; returns how long until its answer leaves the server (ms). */
  admit(now: number, ops: number): number {
    const second = Math.floor(now / 1000) * 1000;
    const s = this.#second;
    if (s.at !== second) {
      s.at = second;
      s.requests = 0;
      s.batches = 0;
      s.ops = 0;
    }
    s.requests++;
    if (ops > 0) s.batches++;
    s.ops += ops;
    const load = this.load;
    load.peakRequestsPerSecond = Math.max(load.peakRequestsPerSecond, s.requests);
    load.peakOpsPerSecond = Math.max(load.peakOpsPerSecond, s.ops);
    if (s.batches > load.peakBatchesPerSecond) {
      load.peakBatchesPerSecond = s.batches;
      load.peakBatchesAt = second;
    }
    const capacity = this.#capacity;
    if (!capacity) return 0;
    const start = Math.max(now, this.#freeAt);
    this.#freeAt = start + capacity.perRequestMs + capacity.perOpMs * ops;
    load.maxQueueDelayMs = Math.max(load.maxQueueDelayMs, Math.ceil(start - now));
    // Whole milliseconds: virtual time (and so every device clock) stays integral, as Date.now() is.
    return Math.ceil(this.#freeAt - now);
  }
}
