/**
 * The card processor in the simulated world: the processor-sim's real
 * ProcessorService on its own SQLite file, on the virtual clock and the
 * run's seed, reached in process by the server's real Forwarder through
 * `InProcessProcessor`, an adapter that goes through the same service calls
 * the HTTP handler makes and maps their outcomes exactly as the HTTP client
 * (`ProcessorClient`) would see them:
 *
 *   answer                        → the authorization (JSON round trip, as on the wire)
 *   committed, answer never sent  → ProcessorOutcomeUnknownError (hang: after the
 *     (timeoutAfterCommitRate)       caller's timeout; destroy: at once)
 *   slower than the timeout       → ProcessorOutcomeUnknownError timeout (the
 *                                   request still commits later)
 *   outage / bad request          → ProcessorRefusedError (status and code of the wire)
 *   internal error                → ProcessorOutcomeUnknownError server_error
 *
 * Faults are the processor's own seeded knobs (lost answers after commit,
 * latency) plus outage windows from the plan. Same seed, same answers.
 */
import type { Clock } from '@holdfast/domain';
import {
  type Authorization,
  type AuthorizationRequestBody,
  type AuthorizeAnswer,
  PROCESSOR_ERROR_CODES,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-client';
import {
  type AuthorizeResult,
  type CardProfile,
  ProcessorService,
  ProcessorStorage,
  toProcessorWireError,
} from '@holdfast/processor-sim';
import type { ProcessorLike } from '@holdfast/server';
import type { VirtualClock } from '../virtual-clock.js';

export interface SimProcessorOptions {
  path: string;
  clock: VirtualClock;
  /** The processor's seed (uint32). */
  seed: number;
  cards: Record<string, CardProfile>;
  /** Latency of each authorization, uniform [min, max] ms. */
  latencyMs: readonly [number, number];
  /** Share of new authorizations committed whose answer never arrives. */
  lostAnswerRate: number;
  /** Windows in which every request is refused 503 processor_unavailable. */
  outages: readonly { from: number; to: number }[];
}

/** What the processor saw, for the report. */
export interface ProcessorFigures {
  authorizeCalls: number;
  created: number;
  replayed: number;
  lostAnswers: number;
  refused: number;
  lookups: number;
  timeouts: number;
}

export class SimProcessor {
  readonly path: string;
  readonly service: ProcessorService;
  readonly storage: ProcessorStorage;
  readonly figures: ProcessorFigures = {
    authorizeCalls: 0,
    created: 0,
    replayed: 0,
    lostAnswers: 0,
    refused: 0,
    lookups: 0,
    timeouts: 0,
  };
  readonly #clock: VirtualClock;

  constructor(options: SimProcessorOptions) {
    this.path = options.path;
    this.#clock = options.clock;
    // synchronous=OFF like the rest of the world: the processor process does not crash in the simulation.
    this.storage = new ProcessorStorage({ path: options.path, synchronous: 'OFF' });
    this.service = new ProcessorService({
      storage: this.storage,
      seed: options.seed >>> 0,
      clock: options.clock,
      knobs: {
        latencyMs: [options.latencyMs[0], options.latencyMs[1]],
        timeoutAfterCommitRate: options.lostAnswerRate,
        timeoutMode: 'hang',
        hangMs: 30_000,
      },
      cards: options.cards,
    });
    for (const o of options.outages) {
      options.clock.setTimer(o.from - options.clock.now(), () => this.service.configure({ outageUntil: o.to }));
    }
  }

  /** A client for one server process. */
  client(): ProcessorLike {
    return new InProcessProcessor(this, this.#clock);
  }

  close(): void {
    this.storage.close();
  }
}

/** The forwarder's view of the processor, in process; see the file comment for the mapping. */
export class InProcessProcessor implements ProcessorLike {
  readonly #p: SimProcessor;
  readonly #clock: Clock;

  constructor(processor: SimProcessor, clock: Clock) {
    this.#p = processor;
    this.#clock = clock;
  }

  async authorize(
    idempotencyKey: string,
    request: AuthorizationRequestBody,
    timeoutMs = 10_000,
  ): Promise<AuthorizeAnswer> {
    const figures = this.#p.figures;
    figures.authorizeCalls++;
    const body: unknown = JSON.parse(JSON.stringify(request));
    const answer = this.#p.service.authorize(idempotencyKey, body).then(
      (result) => ({ result }),
      (error: unknown) => ({ error }),
    );
    const outcome = await this.#within(answer, timeoutMs);
    if (outcome === null) {
      figures.timeouts++;
      throw new ProcessorOutcomeUnknownError('timeout', `POST /v1/authorizations: no answer within ${timeoutMs} ms`);
    }
    if ('error' in outcome) {
      const error = mapError(outcome.error, 'POST /v1/authorizations');
      if (error instanceof ProcessorRefusedError) figures.refused++;
      throw error;
    }
    const result: AuthorizeResult = outcome.result;
    figures[result.outcome]++;
    if (result.afterCommit !== 'answer') {
      figures.lostAnswers++;
      // The HTTP handler holds the connection (hang) or drops it (destroy); the caller never hears.
      if (result.afterCommit === 'hang') await this.#sleep(Math.min(timeoutMs, this.#p.service.knobs.hangMs));
      throw new ProcessorOutcomeUnknownError(
        result.afterCommit === 'hang' ? 'timeout' : 'network',
        'POST /v1/authorizations: the answer was lost after the processor committed',
      );
    }
    return { authorization: JSON.parse(result.json) as Authorization, replayed: result.outcome === 'replayed' };
  }

  async findByKey(idempotencyKey: string): Promise<Authorization | null> {
    this.#p.figures.lookups++;
    try {
      const stored = this.#p.service.findByKey(idempotencyKey);
      return stored ? (JSON.parse(stored.json) as Authorization) : null;
    } catch (error) {
      throw mapError(error, 'GET /v1/authorizations');
    }
  }

  /** The settled value of `work`, or null if `timeoutMs` of virtual time passes first. */
  async #within<T>(work: Promise<T>, timeoutMs: number): Promise<T | null> {
    let timer: { cancel(): void } | null = null;
    const timeout = new Promise<null>((resolve) => {
      timer = this.#clock.setTimer(timeoutMs, () => resolve(null));
    });
    try {
      return await Promise.race([work, timeout]);
    } finally {
      (timer as { cancel(): void } | null)?.cancel();
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimer(ms, resolve));
  }
}

/** An error of the service as the HTTP client would surface it. */
function mapError(error: unknown, what: string): Error {
  const wire = toProcessorWireError(error);
  const status = PROCESSOR_ERROR_CODES[wire.code].status;
  if (status >= 500 && wire.code !== 'processor_unavailable') {
    return new ProcessorOutcomeUnknownError(
      'server_error',
      `${what}: HTTP ${status} is not an answer the processor stands by`,
    );
  }
  return new ProcessorRefusedError(status, wire.code, wire.message, wire.retryable, wire.field);
}
