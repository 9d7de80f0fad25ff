/**
 * A simulated network between terminals and an in-process server.
 *
 * It implements the terminal's Transport, so the real Terminal SDK runs
 * unchanged against the real HoldfastService. Every message is serialized
 * to JSON and parsed again, as on the wire. Faults, all drawn from the
 * seeded Random at virtual times:
 *   - partitions: a zone cannot reach the server between two instants
 *     (indexed per zone; `flap` adds alternating outages);
 *   - request loss: the request never arrives (the client times out);
 *   - response loss: the server COMMITTED, but the answer never arrives —
 *     the network that lies;
 *   - latency: uniform in a range, each way, plus occasional spikes;
 *   - duplicated delivery: a retransmitting proxy delivers a batch again
 *     later (that copy's answer goes nowhere);
 *   - reordering: a batch is held back and arrives late, after newer ones;
 *   - online decisions (`authorize`, POST /v1/authorize) suffer the same
 *     faults: a lost approval is an unknown outcome the terminal retries;
 *   - a server that is down (the `server` getter returns null): connections
 *     are refused at once; a server that crashes while handling a request
 *     (SimulatedServerCrash) resets the connection, whatever it committed.
 * Optionally the server has a capacity: requests queue behind each other
 * (FIFO), so a thundering herd shows up as queueing delay and timeouts.
 * Server errors are mapped exactly as the HTTP layer maps them.
 *
 * Answers addressed to a client that died (its `alive()` turned false) are
 * dropped, and its timeouts never fire: a dead process hears nothing.
 */
import { chance, type Random } from '@holdfast/domain';
import { ERROR_CODES } from '@holdfast/protocol';
import { type HoldfastService, toWireError } from '@holdfast/server';
import { SimulatedServerCrash } from '@holdfast/server/testing';
import { type Transport, TransportError, type TransportResult } from '@holdfast/terminal';
import { LoadMeter } from './load-meter.js';
import type {
  Endpoint,
  FaultRates,
  FaultStats,
  NetEvent,
  NetworkStats,
  Route,
  ServerCapacity,
  ServerLoad,
} from './network-types.js';
import { type FlapOptions, type Partition, PartitionSchedule } from './partition-schedule.js';
import type { VirtualClock } from './virtual-clock.js';

export type {
  Endpoint,
  FaultRates,
  FaultStats,
  NetEvent,
  NetworkStats,
  Route,
  ServerCapacity,
  ServerLoad,
} from './network-types.js';
export type { Partition } from './partition-schedule.js';

export interface SimNetworkOptions {
  clock: VirtualClock;
  random: Random;
  /** A fixed server … */
  service?: HoldfastService;
  /** … or the server now, null while it is down (restarting after a crash). */
  server?: () => HoldfastService | null;
  /** One-way latency range in ms. */
  latencyMs?: readonly [number, number];
  /** Fault rates in force at a virtual time. */
  faults?: (now: number) => FaultRates;
  capacity?: ServerCapacity;
  onEvent?: (event: NetEvent) => void;
}

const NO_FAULTS: FaultRates = { requestLoss: 0, responseLoss: 0 };

export class SimNetwork {
  readonly stats: NetworkStats = {
    requests: 0,
    delivered: 0,
    requestsLost: 0,
    responsesLost: 0,
    partitioned: 0,
    timeouts: 0,
    serverErrors: 0,
  };
  readonly faultStats: FaultStats = {
    refused: 0,
    serverCrashes: 0,
    spikes: 0,
    duplicated: 0,
    reordered: 0,
    lateAnswers: 0,
    deadClient: 0,
  };
  /** How hard the server was hit (peaks per virtual second, in flight, queueing). */
  get load(): ServerLoad {
    return this.#meter.load;
  }
  /** Unexpected server failures (bugs), kept for the run's report. */
  readonly internalErrors: unknown[] = [];
  readonly partitions = new PartitionSchedule();
  readonly #clock: VirtualClock;
  readonly #random: Random;
  readonly #server: () => HoldfastService | null;
  readonly #latency: readonly [number, number];
  readonly #faults: (now: number) => FaultRates;
  readonly #meter: LoadMeter;
  readonly #onEvent: ((event: NetEvent) => void) | null;
  readonly #inflight = new Set<Promise<void>>();
  #nextRequest = 0;
  #open = 0;
  #lateCopies = 0;

  constructor(options: SimNetworkOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    const fixed = options.service ?? null;
    this.#server = options.server ?? (() => fixed);
    this.#latency = options.latencyMs ?? [20, 120];
    this.#faults = options.faults ?? (() => NO_FAULTS);
    this.#meter = new LoadMeter(options.capacity ?? null);
    this.#onEvent = options.onEvent ?? null;
  }

  partition(zone: string, from: number, to: number): void {
    this.partitions.add(zone, from, to);
  }

  /** A flapping link in `zone` from `from` to `to` (see PartitionSchedule.flap). */
  flap(zone: string, from: number, to: number, random: Random, options: FlapOptions): Partition[] {
    return this.partitions.flap(zone, from, to, random, options);
  }

  isUp(zone: string, at: number = this.#clock.now()): boolean {
    return this.partitions.isUp(zone, at);
  }

  /** True while a request is unanswered or a late copy is still on its way. */
  get busy(): boolean {
    return this.#open > 0 || this.#lateCopies > 0;
  }

  /** Resolves when the server work started by the last event has finished and its callbacks ran. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** A Transport for a terminal in `zone`. */
  transport(zone: string, endpoint: Endpoint = { client: zone }): Transport {
    return {
      enroll: (req, timeoutMs) => this.#call(zone, endpoint, 'enroll', timeoutMs, req, (s, body) => s.enroll(body)),
      sendBatch: (batch, timeoutMs) =>
        this.#call(zone, endpoint, 'batch', timeoutMs, batch, (s, body) => s.ingest(body)),
      queryOps: (query, timeoutMs) =>
        this.#call(zone, endpoint, 'query', timeoutMs, query, (s, body) => s.queryOps(body)),
      fetchPolicy: (req, timeoutMs) =>
        this.#call(zone, endpoint, 'policy', timeoutMs, req, (s, body) => s.fetchPolicy(body)),
      fetchFeed: (req, timeoutMs) => this.#call(zone, endpoint, 'feed', timeoutMs, req, (s, body) => s.fetchFeed(body)),
      ping: (timeoutMs) =>
        this.#call(zone, endpoint, 'ping', timeoutMs, {}, async (s) => ({ status: 'ok', time: s.now() })),
      // Online decisions (tickets, payouts, card sales): the same faults, and an answer lost after commit is "unknown".
      authorize: (req, timeoutMs) =>
        this.#call(zone, endpoint, 'authorize', timeoutMs, req, (s, body) => s.authorize(body)),
      // Loyalty questions (a one-time code's confirmation): the same faults; a lost answer is "unknown".
      loyalty: (req, timeoutMs) =>
        this.#call(zone, endpoint, 'loyalty', timeoutMs, req, (s, body) => s.loyaltyAsk(body)),
    };
  }

  #between(range: readonly [number, number]): number {
    const [min, max] = range;
    return min + Math.floor(this.#random.float() * (max - min + 1));
  }

  /** One leg's latency: the base range, plus a spike now and then. */
  #legMs(rates: FaultRates): number {
    const base = this.#between(this.#latency);
    if (!rates.latencySpike || !chance(this.#random, rates.latencySpike)) return base;
    this.faultStats.spikes++;
    return base + this.#between(rates.spikeMs ?? [2_000, 15_000]);
  }

  /** Starts the load figures afresh (e.g. when trading starts, after back-office enrollment). */
  resetLoad(): void {
    this.#meter.reset(this.#open);
  }

  #emit(event: NetEvent): void {
    this.#onEvent?.(event);
  }

  #call<T>(
    zone: string,
    endpoint: Endpoint,
    route: Route,
    timeoutMs: number,
    request: unknown,
    handle: (service: HoldfastService, body: unknown) => Promise<T>,
  ): Promise<TransportResult<T>> {
    const clock = this.#clock;
    const stats = this.stats;
    const id = ++this.#nextRequest;
    const client = endpoint.client;
    const alive = endpoint.alive ?? (() => true);
    const note = (type: NetEvent['type'], extra: Partial<NetEvent> = {}) => {
      if (this.#onEvent) this.#emit({ type, at: clock.now(), request: id, client, zone, route, ...extra });
    };
    stats.requests++;
    this.#open++;
    this.#meter.inFlight(this.#open);
    const wire = JSON.stringify(request);
    const ops = route === 'batch' ? ((request as { ops?: unknown[] }).ops?.length ?? 0) : 0;
    note('sent', { body: request });
    return new Promise<TransportResult<T>>((resolve, reject) => {
      let done = false;
      const close = () => {
        done = true;
        this.#open--;
        timeout.cancel();
      };
      /** Ends the call with an answer or an error, unless it ended already or the client died. */
      const end = (fn: () => void): boolean => {
        if (done) return false;
        if (!alive()) {
          this.faultStats.deadClient++;
          note('dead-client');
          close();
          return false;
        }
        close();
        fn();
        return true;
      };
      const timeout = clock.setTimer(timeoutMs, () => {
        if (done) return;
        if (!alive()) {
          this.faultStats.deadClient++;
          close();
          return;
        }
        close();
        stats.timeouts++;
        note('timeout');
        reject(new TransportError('timeout', `no response within ${timeoutMs} ms`));
      });
      const failSoon = (code: 'network', message: string, rates: FaultRates) => {
        clock.setTimer(this.#legMs(rates), () => end(() => reject(new TransportError(code, message))));
      };

      const deliver = (copy: boolean) => {
        const rates = this.#faults(clock.now());
        const service = this.#server();
        if (!service) {
          this.faultStats.refused++;
          note('refused', { copy });
          if (!copy) failSoon('network', 'connection refused: the server is down', rates);
          return;
        }
        stats.delivered++;
        if (copy) this.faultStats.duplicated++;
        const queueMs = this.#meter.admit(clock.now(), ops);
        note('delivered', { copy });
        const work = (async () => {
          let result: TransportResult<T>;
          try {
            result = { ok: true, status: 200, body: await handle(service, JSON.parse(wire)) };
          } catch (error) {
            if (error instanceof SimulatedServerCrash) {
              this.faultStats.serverCrashes++;
              note('server-crash', { copy, point: error.point });
              if (!copy) failSoon('network', 'connection reset: the server died', rates);
              return;
            }
            const wireError = toWireError(error);
            const status = ERROR_CODES[wireError.code].status;
            if (status >= 500) {
              stats.serverErrors++;
              this.internalErrors.push(error);
            }
            result = { ok: false, status, error: wireError };
          }
          note('answered', { copy, body: result });
          if (copy) return;
          const answer = JSON.stringify(result);
          clock.setTimer(queueMs + this.#legMs(this.#faults(clock.now())), () => {
            if (done) {
              this.faultStats.lateAnswers++;
              note('late-answer');
              return;
            }
            if (!this.isUp(zone)) {
              stats.partitioned++;
              note('response-partitioned');
              return;
            }
            if (chance(this.#random, this.#faults(clock.now()).responseLoss)) {
              stats.responsesLost++;
              note('response-lost');
              return;
            }
            if (end(() => resolve(JSON.parse(answer) as TransportResult<T>))) note('response-delivered');
          });
        })();
        this.#inflight.add(work);
        void work.finally(() => this.#inflight.delete(work));
      };

      const sendRates = this.#faults(clock.now());
      clock.setTimer(this.#legMs(sendRates), () => {
        if (!this.isUp(zone)) {
          stats.partitioned++;
          note('partitioned');
          return;
        }
        const rates = this.#faults(clock.now());
        if (chance(this.#random, rates.requestLoss)) {
          stats.requestsLost++;
          note('request-lost');
          return;
        }
        if (route === 'batch' && rates.reorder && chance(this.#random, rates.reorder)) {
          this.faultStats.reordered++;
          note('held');
          this.#late(rates, () => deliver(false));
          return;
        }
        deliver(false);
        if (route === 'batch' && rates.duplicate && chance(this.#random, rates.duplicate)) {
          this.#late(rates, () => deliver(true));
        }
      });
    });
  }

  /** Runs `fn` after a late-delivery delay, counting it as still on the wire meanwhile. */
  #late(rates: FaultRates, fn: () => void): void {
    this.#lateCopies++;
    this.#clock.setTimer(this.#between(rates.lateMs ?? [1_000, 120_000]), () => {
      this.#lateCopies--;
      fn();
    });
  }
}
