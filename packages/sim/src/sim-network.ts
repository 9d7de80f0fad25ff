/**
 * A simulated network between terminals and an in-process server.
 *
 * It implements the terminal's Transport, so the real Terminal SDK runs
 * unchanged against the real HoldfastService. Every message is serialized
 * to JSON and parsed again, as on the wire. Faults, all drawn from the
 * seeded Random at virtual times:
 *   - partitions: a zone cannot reach the server between two instants;
 *   - request loss: the request never arrives (the client times out);
 *   - response loss: the server COMMITTED, but the answer never arrives —
 *     the network that lies;
 *   - latency: uniform in a range, each way.
 * Server errors are mapped exactly as the HTTP layer maps them.
 */
import { chance, type Random } from '@holdfast/domain';
import { ERROR_CODES } from '@holdfast/protocol';
import { type HoldfastService, toWireError } from '@holdfast/server';
import { type Transport, TransportError, type TransportResult } from '@holdfast/terminal';
import type { VirtualClock } from './virtual-clock.js';

export interface Partition {
  zone: string;
  from: number;
  to: number;
}

export interface FaultRates {
  /** Probability that a request is lost before reaching the server. */
  requestLoss: number;
  /** Probability that a response is lost after the server committed. */
  responseLoss: number;
}

export interface NetworkStats {
  requests: number;
  delivered: number;
  requestsLost: number;
  responsesLost: number;
  partitioned: number;
  timeouts: number;
  serverErrors: number;
}

export interface SimNetworkOptions {
  clock: VirtualClock;
  random: Random;
  service: HoldfastService;
  /** One-way latency range in ms. */
  latencyMs?: readonly [number, number];
  /** Fault rates in force at a virtual time. */
  faults?: (now: number) => FaultRates;
}

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
  /** Unexpected server failures (bugs), kept for the run's report. */
  readonly internalErrors: unknown[] = [];
  readonly #clock: VirtualClock;
  readonly #random: Random;
  readonly #service: HoldfastService;
  readonly #latency: readonly [number, number];
  readonly #faults: (now: number) => FaultRates;
  readonly #partitions: Partition[] = [];
  readonly #inflight = new Set<Promise<void>>();

  constructor(options: SimNetworkOptions) {
    this.#clock = options.clock;
    this.#random = options.random;
    this.#service = options.service;
    this.#latency = options.latencyMs ?? [20, 120];
    this.#faults = options.faults ?? (() => ({ requestLoss: 0, responseLoss: 0 }));
  }

  partition(zone: string, from: number, to: number): void {
    this.#partitions.push({ zone, from, to });
  }

  isUp(zone: string, at: number = this.#clock.now()): boolean {
    return !this.#partitions.some((p) => p.zone === zone && at >= p.from && at < p.to);
  }

  /** Resolves when the server work started by the last event has finished and its callbacks ran. */
  async settle(): Promise<void> {
    while (this.#inflight.size > 0) await Promise.all(this.#inflight);
    await new Promise<void>((resolve) => setImmediate(resolve));
  }

  /** A Transport for a terminal in `zone`. */
  transport(zone: string): Transport {
    const service = this.#service;
    return {
      enroll: (req, timeoutMs) => this.#call(zone, timeoutMs, req, (body) => service.enroll(body)),
      sendBatch: (batch, timeoutMs) => this.#call(zone, timeoutMs, batch, (body) => service.ingest(body)),
      queryOps: (query, timeoutMs) => this.#call(zone, timeoutMs, query, (body) => service.queryOps(body)),
      ping: (timeoutMs) => this.#call(zone, timeoutMs, {}, async () => ({ status: 'ok', time: service.clock.now() })),
    };
  }

  #latencyMs(): number {
    const [min, max] = this.#latency;
    return min + Math.floor(this.#random.float() * (max - min + 1));
  }

  #call<T>(
    zone: string,
    timeoutMs: number,
    request: unknown,
    handle: (body: unknown) => Promise<T>,
  ): Promise<TransportResult<T>> {
    const clock = this.#clock;
    const stats = this.stats;
    stats.requests++;
    const wire = JSON.stringify(request);
    return new Promise<TransportResult<T>>((resolve, reject) => {
      let done = false;
      const timeout = clock.setTimer(timeoutMs, () => {
        if (done) return;
        done = true;
        stats.timeouts++;
        reject(new TransportError('timeout', `no response within ${timeoutMs} ms`));
      });
      clock.setTimer(this.#latencyMs(), () => {
        if (!this.isUp(zone)) {
          stats.partitioned++;
          return;
        }
        if (chance(this.#random, this.#faults(clock.now()).requestLoss)) {
          stats.requestsLost++;
          return;
        }
        stats.delivered++;
        const work = (async () => {
          let result: TransportResult<T>;
          try {
            result = { ok: true, status: 200, body: await handle(JSON.parse(wire)) };
          } catch (error) {
            const wireError = toWireError(error);
            const status = ERROR_CODES[wireError.code].status;
            if (status >= 500) {
              stats.serverErrors++;
              this.internalErrors.push(error);
            }
            result = { ok: false, status, error: wireError };
          }
          const answer = JSON.stringify(result);
          clock.setTimer(this.#latencyMs(), () => {
            if (done) return;
            if (!this.isUp(zone)) {
              stats.partitioned++;
              return;
            }
            if (chance(this.#random, this.#faults(clock.now()).responseLoss)) {
              stats.responsesLost++;
              return;
            }
            done = true;
            timeout.cancel();
            resolve(JSON.parse(answer) as TransportResult<T>);
          });
        })();
        this.#inflight.add(work);
        void work.finally(() => this.#inflight.delete(work));
      });
    });
  }
}
