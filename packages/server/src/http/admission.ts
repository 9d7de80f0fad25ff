/**
 * Admission control for ingest: backpressure and priority.
 *
 * When a thousand terminals come back from an outage at once, each with a
 * backlog, the server must neither fall over nor make the tills that are
 * selling right now wait behind the backlog. Three mechanisms:
 *
 * 1. Lanes. A terminal marks a batch `holdfast-lane: live` when it carries
 *    ops just recorded (see docs/protocol.md). Only small bodies may use the
 *    live lane, so a terminal that lies gains little. Everything else is
 *    backlog.
 *
 * 2. Bounded admission, taken once the body has arrived (a client that
 *    dribbles its body never holds a slot; the server's request timeout cuts
 *    it, see edge.ts). Each lane admits at most `maxLive` / `maxBacklog`
 *    requests at once (waiting or being ingested); the next one is answered
 *    `503 overloaded` with a retry time, before its body is read when the
 *    lane is already full as its headers arrive. Each refused backlog batch books the next free slot of
 *    the server's future capacity (one mean ingest time apart), so a storm
 *    comes back as a steady stream at the rate the server can take, not in
 *    step. Bodies being read are bounded by the connection cap (edge.ts).
 *    The backlog lane is also bounded by time: it admits no more batches
 *    than the server ingests in `maxBacklogWaitMs` (by its mean ingest
 *    time), so an admitted batch is answered well within a terminal's
 *    request timeout. A deeper queue only turns into requests that time out
 *    while queued, are sent again, and are applied twice over (duplicates).
 *
 * 3. A priority scheduler. Backlog batches run `concurrency` at a time (live
 *    ones running count against it); a live batch starts as soon as it is
 *    admitted, beside whatever runs. Storage orders what runs at once: the
 *    SQLite storage thread commits small batches ahead of a large group
 *    (group-commit.ts), PostgreSQL in separate transactions. Before, a live
 *    sale waited for a running backlog batch to finish — on the storage
 *    thread, a whole group commit — and then for its own. Between two jobs
 *    the scheduler yields to the event loop so that I/O that arrived
 *    meanwhile is read before the next backlog batch starts.
 *
 * Per device, at most `perDeviceInFlight` batches at once and a token bucket
 * of `perDeviceRate` batches a second (burst `perDeviceBurst`); beyond that,
 * `429 rate_limited` with the time until a token is free. A device is charged
 * only once its batch's signature verified (nobody can spend another
 * device's budget by naming it); at most `maxTrackedDevices` devices are
 * remembered, idle ones forgotten first.
 *
 * The only 5xx this module produces is the deliberate 503.
 */
import type { Clock, Random } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';

export type Lane = 'live' | 'backlog';

export const LANE_HEADER = 'holdfast-lane';

export interface AdmissionOptions {
  /** Backlog batches admitted at once (reading, queued or running). */
  maxBacklog: number;
  /**
   * Backlog batches admitted at once are fewer when the server is slow: at
   * most as many as it ingests in this many ms (mean ingest time, times the
   * concurrency), and never fewer than concurrency + 1.
   */
  maxBacklogWaitMs: number;
  /** Live batches admitted at once. */
  maxLive: number;
  /** Largest body (bytes, by content-length) that may use the live lane. */
  liveMaxBytes: number;
  /** Backlog batches ingested at once (live ones start at once, beside them): 1 suits SQLite in process (one writer); more suits the storage thread and PostgreSQL. */
  concurrency: number;
  /** Batches of one device admitted at once. */
  perDeviceInFlight: number;
  /** Sustained batches a second per device; 0 turns the bucket off. */
  perDeviceRate: number;
  perDeviceBurst: number;
  /** Devices whose limits are remembered at most (idle ones beyond it are forgotten, least recent first). */
  maxTrackedDevices: number;
  /** Bounds of the retry time the server asks for, ms (the Retry-After header carries it rounded up to seconds). */
  minRetryAfterMs: number;
  maxRetryAfterMs: number;
}

export const DEFAULT_ADMISSION: AdmissionOptions = {
  // 16, not 32: once the storage thread drained a storm at 12,000 – 16,000
  // ops/s, the time bound no longer held the lane under 32, and 32 admitted
  // batches of 500 (bodies, parsed ops, canonical texts) took the server's
  // RSS to 482 – 522 MiB; with 16 it was 403 – 427 MiB and the drain as fast
  // (docs/performance.md, round six). The storage thread still has 8 batches
  // queued behind the 8 it is given (THREADED_CONCURRENCY).
  maxBacklog: 16,
  maxBacklogWaitMs: 2_000,
  maxLive: 256,
  liveMaxBytes: 64 * 1024,
  concurrency: 1,
  perDeviceInFlight: 2,
  perDeviceRate: 50,
  perDeviceBurst: 100,
  maxTrackedDevices: 10_000,
  minRetryAfterMs: 500,
  maxRetryAfterMs: 60_000,
};

/** Checks options given by an operator; throws an Error naming the bad one. */
export function admissionOptions(overrides: Partial<AdmissionOptions> = {}): AdmissionOptions {
  const o = { ...DEFAULT_ADMISSION, ...overrides };
  const positive: (keyof AdmissionOptions)[] = [
    'maxBacklog',
    'maxBacklogWaitMs',
    'maxLive',
    'liveMaxBytes',
    'concurrency',
    'perDeviceInFlight',
    'perDeviceBurst',
    'maxTrackedDevices',
    'minRetryAfterMs',
    'maxRetryAfterMs',
  ];
  for (const key of positive) {
    if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new Error(`admission.${key} must be an integer >= 1`);
  }
  if (!Number.isFinite(o.perDeviceRate) || o.perDeviceRate < 0) {
    throw new Error('admission.perDeviceRate must be a number >= 0');
  }
  if (o.maxRetryAfterMs < o.minRetryAfterMs) {
    throw new Error('admission.maxRetryAfterMs must be >= minRetryAfterMs');
  }
  return o;
}

/** What the operator sees of the load (GET /v1/admin/load). */
export interface LoadSnapshot {
  admitted: Record<Lane, number>;
  queued: Record<Lane, number>;
  running: number;
  /** Mean time of one batch's ingest (exponentially weighted), ms. */
  ingestMs: number;
  /** Backlog batches admitted at once now: maxBacklog, or fewer by maxBacklogWaitMs while ingest is slow. */
  backlogLimit: number;
  totals: {
    admitted: Record<Lane, number>;
    overloaded: number;
    rateLimited: number;
    /** Batches skipped because their client hung up before their turn. */
    abandoned: number;
  };
}

/** The client went away before its batch's turn: nothing was applied, and nobody is listening. */
export class AbandonedError extends Error {
  override readonly name = 'AbandonedError';
  constructor() {
    super('the client closed the connection before its batch was applied');
  }
}

interface Job {
  lane: Lane;
  run: () => Promise<unknown>;
  abandoned: (() => boolean) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * The admission controller and priority scheduler. Transport-agnostic: the
 * HTTP layer calls `admit` once the body has arrived (and `wouldRefuse` as
 * the headers arrive, to refuse early), `enterDevice` once the batch's
 * signature verified, `run` for the work and `release` when the answer is sent.
 */
export class Admission {
  readonly options: AdmissionOptions;
  readonly #clock: Clock;
  readonly #random: Random;
  /** Where ingest times are measured from (ms): performance.now, or a test's own. */
  readonly #elapsed: () => number;
  readonly #admitted: Record<Lane, number> = { live: 0, backlog: 0 };
  /** Bodies waiting for their turn to be parsed (see parse): they hold their lane's place, not yet a slot. */
  readonly #parsing: Record<Lane, number> = { live: 0, backlog: 0 };
  readonly #queues: Record<Lane, Job[]> = { live: [], backlog: [] };
  #running = 0;
  #ingestMs = 20;
  /** The same mean for backlog batches alone: live ones are small and would hide what a backlog batch costs. */
  #backlogMs = 20;
  #pumpScheduled = false;
  /** Backlog batches waiting to be prepared, one per event-loop turn (see prepare). */
  readonly #preparing: (() => void)[] = [];
  #prepareScheduled = false;
  /** The next free slot of future capacity, on the server clock (ms). */
  #nextSlot = 0;
  readonly #devices = new Map<string, { inFlight: number; tokens: number; at: number }>();
  readonly #totals = { admitted: { live: 0, backlog: 0 }, overloaded: 0, rateLimited: 0, abandoned: 0 };

  constructor(
    options: AdmissionOptions,
    clock: Clock,
    random: Random,
    elapsed: () => number = () => performance.now(),
  ) {
    this.options = options;
    this.#clock = clock;
    this.#random = random;
    this.#elapsed = elapsed;
  }

  /** The lane a request asked for, if it may have it. */
  laneOf(header: string | string[] | undefined, contentLength: number | null): Lane {
    const wanted = Array.isArray(header) ? header[0] : header;
    if (wanted !== 'live') return 'backlog';
    return contentLength !== null && contentLength <= this.options.liveMaxBytes ? 'live' : 'backlog';
  }

  /** Whether `admit(lane)` would refuse now (the lane is full). */
  wouldRefuse(lane: Lane): boolean {
    return this.#inLane(lane) >= this.#limit(lane);
  }

  /** Batches admitted to `lane`, and bodies waiting to be parsed for it. */
  #inLane(lane: Lane): number {
    return this.#admitted[lane] + this.#parsing[lane];
  }

  /** Batches `lane` admits at once now (the backlog's bound shrinks while ingest is slow, see maxBacklogWaitMs). */
  #limit(lane: Lane): number {
    const o = this.options;
    if (lane === 'live') return o.maxLive;
    const byTime = Math.floor((o.maxBacklogWaitMs * o.concurrency) / Math.max(1, this.#backlogMs));
    return Math.min(o.maxBacklog, Math.max(o.concurrency + 1, byTime));
  }

  /** Devices whose limits are remembered now (at most maxTrackedDevices). */
  get trackedDevices(): number {
    return this.#devices.size;
  }

  /** Admits a request to `lane`, or throws ProtocolError('overloaded') with a Retry-After. */
  admit(lane: Lane): void {
    if (this.#inLane(lane) >= this.#limit(lane)) {
      this.#totals.overloaded++;
      const retryAfterMs = lane === 'live' ? this.options.minRetryAfterMs : this.#bookSlot();
      throw new ProtocolError(
        'overloaded',
        `the server is at capacity (${this.#inLane(lane)} ${lane} batches in progress); retry in ${retryAfterMs} ms`,
        { retryAfterMs },
      );
    }
    this.#admitted[lane]++;
    this.#totals.admitted[lane]++;
  }

  /** Ends an admission (the answer was sent or the request failed). */
  release(lane: Lane): void {
    if (this.#admitted[lane] > 0) this.#admitted[lane]--;
  }

  /**
   * Counts a batch against its device's limits, or throws
   * ProtocolError('rate_limited'). Call `leaveDevice` when it ends.
   */
  enterDevice(device: string): void {
    const now = this.#clock.now();
    const o = this.options;
    let state = this.#devices.get(device);
    if (state) {
      // Most recently used last: the map's first entries are the ones to forget.
      this.#devices.delete(device);
    } else {
      state = { inFlight: 0, tokens: o.perDeviceBurst, at: now };
      this.#forgetIdle(o.maxTrackedDevices - 1);
    }
    this.#devices.set(device, state);
    if (o.perDeviceRate > 0) {
      state.tokens = Math.min(o.perDeviceBurst, state.tokens + ((now - state.at) / 1000) * o.perDeviceRate);
      state.at = now;
    }
    if (state.inFlight >= o.perDeviceInFlight) {
      this.#totals.rateLimited++;
      const retryAfterMs = o.minRetryAfterMs;
      throw new ProtocolError(
        'rate_limited',
        `device ${device} already has ${state.inFlight} batches in progress (limit ${o.perDeviceInFlight}); send one at a time`,
        { retryAfterMs },
      );
    }
    if (o.perDeviceRate > 0 && state.tokens < 1) {
      this.#totals.rateLimited++;
      const wait = Math.ceil(((1 - state.tokens) / o.perDeviceRate) * 1000);
      const retryAfterMs = Math.min(o.maxRetryAfterMs, Math.max(o.minRetryAfterMs, wait));
      throw new ProtocolError(
        'rate_limited',
        `device ${device} is over ${o.perDeviceRate} batches a second; retry in ${retryAfterMs} ms`,
        { retryAfterMs },
      );
    }
    if (o.perDeviceRate > 0) state.tokens -= 1;
    state.inFlight++;
  }

  leaveDevice(device: string): void {
    const state = this.#devices.get(device);
    if (!state) return;
    state.inFlight = Math.max(0, state.inFlight - 1);
    // Forget idle devices whose bucket is full again, so the map stays as small as the active fleet.
    if (state.inFlight === 0 && this.#devices.size > 1024) {
      const o = this.options;
      const refill = o.perDeviceRate > 0 ? ((this.#clock.now() - state.at) / 1000) * o.perDeviceRate : o.perDeviceBurst;
      if (state.tokens + refill >= o.perDeviceBurst) this.#devices.delete(device);
    }
  }

  /** Forgets idle devices, least recently used first, until at most `keep` remain (busy ones are kept). */
  #forgetIdle(keep: number): void {
    for (const [id, state] of this.#devices) {
      if (this.#devices.size <= keep) return;
      if (state.inFlight === 0) this.#devices.delete(id);
    }
  }

  /**
   * Runs `work` when its turn comes: live before backlog, `concurrency` at a
   * time. If `abandoned()` is true when the turn comes (the client timed out
   * and hung up), the work is skipped and the promise rejects with
   * AbandonedError: applying a batch whose sender has given up only makes it
   * apply a duplicate later, and in a storm that doubles the server's work.
   */
  run<T>(lane: Lane, work: () => Promise<T>, abandoned?: () => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queues[lane].push({ lane, run: work, abandoned, resolve: resolve as (v: unknown) => void, reject });
      this.#pump();
    });
  }

  /**
   * Runs the main thread's work on a batch before its turn (JSON parse,
   * schema checks, hashes, signature: 20–30 ms for 500 ops): a live batch's
   * at once, backlog batches' one per event-loop turn. When a storm's bodies
   * arrive together, their parsing and verification would otherwise run back
   * to back — 16 of them (the default --max-backlog), a quarter of a second
   * and more — before the event loop reads a live request waiting behind.
   * A synchronous throw of `work` rejects like its promise would.
   */
  prepare<T>(lane: Lane, work: () => Promise<T>): Promise<T> {
    if (lane === 'live') return work();
    return new Promise<T>((resolve, reject) => {
      this.#preparing.push(() => {
        try {
          work().then(resolve, reject);
        } catch (error) {
          reject(error);
        }
      });
      this.#schedulePrepare();
    });
  }

  /**
   * Parses a batch's body at its turn, as `prepare` runs its verification:
   * at a storm's onset the admitted bodies arrive together, and parsing them
   * back to back as they arrived held a live request for as long. Until it
   * is parsed the body counts against its lane (`wouldRefuse`, `admit`), so
   * bodies beyond the lane's bound are still refused unparsed; a body that
   * does not parse never takes a slot.
   */
  parse<T>(lane: Lane, work: () => T): Promise<T> {
    this.#parsing[lane]++;
    return this.prepare(lane, async () => {
      try {
        return work();
      } finally {
        this.#parsing[lane]--;
      }
    });
  }

  #schedulePrepare(): void {
    if (this.#prepareScheduled || this.#preparing.length === 0) return;
    this.#prepareScheduled = true;
    setImmediate(() => {
      this.#prepareScheduled = false;
      const next = this.#preparing.shift();
      next?.();
      this.#schedulePrepare();
    });
  }

  snapshot(): LoadSnapshot {
    return {
      admitted: { ...this.#admitted },
      queued: { live: this.#queues.live.length, backlog: this.#queues.backlog.length },
      running: this.#running,
      ingestMs: Math.round(this.#ingestMs * 10) / 10,
      backlogLimit: this.#limit('backlog'),
      totals: {
        admitted: { ...this.#totals.admitted },
        overloaded: this.#totals.overloaded,
        rateLimited: this.#totals.rateLimited,
        abandoned: this.#totals.abandoned,
      },
    };
  }

  #pump(): void {
    // Live batches start at once (maxLive bounds how many are admitted); backlog ones take the free slots.
    for (let job = this.#queues.live.shift(); job; job = this.#queues.live.shift()) this.#startUnlessAbandoned(job);
    while (this.#running < this.options.concurrency) {
      const job = this.#queues.backlog.shift();
      if (!job) return;
      this.#startUnlessAbandoned(job);
    }
  }

  #startUnlessAbandoned(job: Job): void {
    if (job.abandoned?.()) {
      this.#totals.abandoned++;
      job.reject(new AbandonedError());
    } else {
      this.#start(job);
    }
  }

  #start(job: Job): void {
    this.#running++;
    const started = this.#elapsed();
    let work: Promise<unknown>;
    try {
      work = job.run();
    } catch (error) {
      work = Promise.reject(error);
    }
    work.then(job.resolve, job.reject).finally(() => {
      this.#running--;
      const took = this.#elapsed() - started;
      this.#ingestMs = this.#ingestMs * 0.9 + took * 0.1;
      if (job.lane === 'backlog') this.#backlogMs = this.#backlogMs * 0.9 + took * 0.1;
      // Let I/O that arrived during this job (a live sale, say) queue before the next job is chosen.
      if (!this.#pumpScheduled) {
        this.#pumpScheduled = true;
        setImmediate(() => {
          this.#pumpScheduled = false;
          this.#pump();
        });
      }
    });
  }

  /**
   * Books the next free slot of future capacity for a refused backlog batch
   * and returns how long until it: refused batches are spaced one mean
   * ingest time apart (divided by the concurrency), with a little jitter,
   * so the fleet returns at the rate the server can take.
   */
  #bookSlot(): number {
    const o = this.options;
    const now = this.#clock.now();
    const slotMs = Math.max(1, this.#backlogMs / o.concurrency);
    // The admitted backlog is served first; then every slot booked before this one.
    const earliest = now + Math.max(o.minRetryAfterMs, this.#admitted.backlog * slotMs);
    const at = Math.min(now + o.maxRetryAfterMs, Math.max(earliest, this.#nextSlot));
    this.#nextSlot = at + slotMs;
    return Math.round(at - now + this.#random.float() * slotMs);
  }
}
