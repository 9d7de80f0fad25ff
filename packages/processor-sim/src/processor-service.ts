/**
 * ProcessorService: the simulated acquirer's logic, independent of HTTP.
 *
 * An authorization request goes through:
 *
 *   outage? ──yes──▶ processor_unavailable (nothing read, nothing stored)
 *     │ no
 *   validate key and body ──bad──▶ invalid_request (field named)
 *     │
 *   latency (clock)
 *     │
 *   one transaction: key stored? ──same request──▶ replayed (the stored answer)
 *     │ no                        └─other request─▶ idempotency_key_reused
 *   decide, store, charge the card ──▶ created
 *     │
 *   after commit: answer, or (timeoutAfterCommitRate) hang / destroy — the
 *   network that lies: the charge exists, the caller never hears of it.
 *
 * Randomness is seeded. Per-attempt faults (outage, latency, timeout after
 * commit) come from one stream each, in the order requests arrive. The
 * decline decision comes from a generator seeded by (seed, idempotency key),
 * so one payment gets the same decision with the same seed whatever else
 * is happening at the same time.
 */
import { type Clock, randomIntBetween, SeededRandom, sleep, systemClock } from '@holdfast/domain';
import {
  type Authorization,
  type DeclineCode,
  type ProcessorCounters,
  type ProcessorStatsBody,
  type Refund,
  refundRequestSchema,
} from '@holdfast/processor-client';
import { sha256Hex } from '@holdfast/protocol';
import {
  AUTHORIZATION_ID_PATTERN,
  type AuthorizationRequest,
  authorizationId,
  parseAuthorizationRequest,
  parseIdempotencyKey,
  requestDifferences,
  requestHash,
} from './authorization.js';
import { ProcessorError, validated } from './errors.js';
import {
  applyKnobs,
  type CardProfile,
  type CardState,
  type ConfigPatch,
  DEFAULT_KNOBS,
  type ProcessorKnobs,
  parseConfigPatch,
} from './knobs.js';
import type { Decision, Page, ProcessorStorage, StoredAuthorization, StoredRefund } from './storage.js';

export type AfterCommit = 'answer' | 'hang' | 'destroy';

export interface AuthorizeResult {
  /** `created`: decided by this request; `replayed`: the stored answer to an earlier identical request. */
  outcome: 'created' | 'replayed';
  authorization: Authorization;
  /** The authorization as answered, byte for byte the same on every replay. */
  json: string;
  /** What the transport does with the answer: send it, or never let it arrive. */
  afterCommit: AfterCommit;
}

export interface RefundResult {
  outcome: 'created' | 'replayed';
  refund: Refund;
  afterCommit: AfterCommit;
}

/** What `GET /v1/stats` answers: the wire's ProcessorStatsBody. */
export type ProcessorStats = ProcessorStatsBody;

export interface ProcessorServiceOptions {
  storage: ProcessorStorage;
  /** Seed of every random decision (a uint32). */
  seed: number;
  clock?: Clock;
  knobs?: Partial<ProcessorKnobs>;
  /** Card profiles stored unless the card is already known (a restart keeps balances). */
  cards?: Record<string, CardProfile>;
}

export class ProcessorService {
  readonly storage: ProcessorStorage;
  readonly clock: Clock;
  readonly seed: number;
  #knobs: Readonly<ProcessorKnobs>;
  readonly #outageRandom: SeededRandom;
  readonly #latencyRandom: SeededRandom;
  readonly #afterCommitRandom: SeededRandom;
  readonly #counters: ProcessorCounters = { created: 0, replayed: 0, keyReused: 0, outages: 0, timeoutsAfterCommit: 0 };

  constructor(options: ProcessorServiceOptions) {
    if (!Number.isInteger(options.seed) || options.seed < 0 || options.seed > 0xffffffff) {
      throw new RangeError(`seed must be an integer 0..4294967295, got ${options.seed}`);
    }
    this.storage = options.storage;
    this.clock = options.clock ?? systemClock;
    this.seed = options.seed;
    const root = new SeededRandom(options.seed);
    this.#outageRandom = root.fork('outage');
    this.#latencyRandom = root.fork('latency');
    this.#afterCommitRandom = root.fork('after-commit');
    this.#knobs = applyKnobs(DEFAULT_KNOBS, parseConfigPatch(options.knobs ?? {}));
    const cards = options.cards ? (parseConfigPatch({ cards: options.cards }).cards ?? {}) : {};
    for (const [token, profile] of Object.entries(cards)) this.storage.setCard(token, profile, { onlyIfNew: true });
  }

  get knobs(): Readonly<ProcessorKnobs> {
    return this.#knobs;
  }

  /**
   * Changes knobs and card profiles (validated; a 400 naming the field).
   * Cards given are set as stated, balances included.
   */
  configure(patch: unknown): Readonly<ProcessorKnobs> {
    const parsed: ConfigPatch = parseConfigPatch(patch);
    this.#knobs = applyKnobs(this.#knobs, parsed);
    for (const [token, profile] of Object.entries(parsed.cards ?? {})) this.storage.setCard(token, profile);
    return this.#knobs;
  }

  /** Throws processor_unavailable during an outage (window, or a draw against outageRate). */
  admit(): void {
    const draw = this.#outageRandom.float();
    const { outageUntil, outageRate } = this.#knobs;
    if ((outageUntil !== null && this.clock.now() < outageUntil) || draw < outageRate) {
      this.#counters.outages++;
      throw new ProcessorError('processor_unavailable', 'the processor is unavailable; nothing was done, try again');
    }
  }

  /** Authorizes and captures once per idempotency key; see the diagram above. */
  async authorize(idempotencyKey: unknown, body: unknown): Promise<AuthorizeResult> {
    this.admit();
    const key = parseIdempotencyKey(idempotencyKey, 'headers.idempotency-key');
    const request = parseAuthorizationRequest(body);
    const hash = requestHash(request);
    const [min, max] = this.#knobs.latencyMs;
    const delay = randomIntBetween(this.#latencyRandom, min, max);
    if (delay > 0) await sleep(this.clock, delay);

    const outcome = this.storage.authorizeOnce(key, hash, request, (card) => this.#decide(key, request, card));
    if (outcome.kind === 'key_reused') {
      this.#counters.keyReused++;
      throw reusedKey(key, outcome.stored, request);
    }
    const { authorization, json } = outcome.stored;
    if (outcome.kind === 'replayed') {
      this.#counters.replayed++;
      return { outcome: 'replayed', authorization, json, afterCommit: 'answer' };
    }
    this.#counters.created++;
    const lies = this.#afterCommitRandom.float() < this.#knobs.timeoutAfterCommitRate;
    if (lies) this.#counters.timeoutsAfterCommit++;
    return { outcome: 'created', authorization, json, afterCommit: lies ? this.#knobs.timeoutMode : 'answer' };
  }

  /**
   * Refunds part or all of an approved authorization, once per idempotency
   * key (storage `refundOnce`): a replay answers the stored refund; a key
   * used for another refund, a refund of no approved authorization, or one
   * above what is left of the capture is refused with nothing stored. A new
   * refund's answer may be lost like an authorization's (the knobs).
   */
  async refund(idempotencyKey: unknown, body: unknown): Promise<RefundResult> {
    this.admit();
    const key = parseIdempotencyKey(idempotencyKey, 'headers.idempotency-key');
    const request = validated(() => refundRequestSchema.parse(body));
    const [min, max] = this.#knobs.latencyMs;
    const delay = randomIntBetween(this.#latencyRandom, min, max);
    if (delay > 0) await sleep(this.clock, delay);
    const outcome = this.storage.refundOnce(key, {
      id: refundId(key),
      authorizationId: request.authorization,
      amount: request.amount,
      currency: request.currency,
      at: this.clock.now(),
    });
    switch (outcome.kind) {
      case 'key_reused':
        this.#counters.keyReused++;
        throw new ProcessorError(
          'idempotency_key_reused',
          `Idempotency-Key ${JSON.stringify(key)} was used for refund ${outcome.refund.id} of ${outcome.refund.amount} on ${outcome.refund.authorizationId}`,
          { field: 'body', rule: 'same refund for the same Idempotency-Key' },
        );
      case 'not_captured':
        throw new ProcessorError('refund_not_captured', outcome.message, { field: 'authorization' });
      case 'over_captured':
        throw new ProcessorError(
          'refund_over_capture',
          `authorization ${request.authorization} captured ${outcome.captured} and has ${outcome.refunded} refunded: at most ${outcome.captured - outcome.refunded} more`,
          { field: 'amount', rule: `at most ${outcome.captured - outcome.refunded}` },
        );
    }
    if (outcome.kind === 'replayed') {
      this.#counters.replayed++;
      // The same answer as the first time: the total as it stood once this refund was made.
      const first = this.storage.findRefundByKey(key) ?? outcome;
      return { outcome: 'replayed', refund: wireRefund(first.refund, first.refunded), afterCommit: 'answer' };
    }
    const refund = wireRefund(outcome.refund, outcome.refunded);
    this.#counters.created++;
    const lies = this.#afterCommitRandom.float() < this.#knobs.timeoutAfterCommitRate;
    if (lies) this.#counters.timeoutsAfterCommit++;
    return { outcome: 'created', refund, afterCommit: lies ? this.#knobs.timeoutMode : 'answer' };
  }

  /** The refund stored under an idempotency key, or null: "did my timed-out refund go through?" */
  findRefundByKey(idempotencyKey: unknown): Refund | null {
    this.admit();
    const found = this.storage.findRefundByKey(parseIdempotencyKey(idempotencyKey, 'query.idempotencyKey'));
    return found ? wireRefund(found.refund, found.refunded) : null;
  }

  /** The authorization stored under an idempotency key, or null: "did my timed-out request go through?" */
  findByKey(idempotencyKey: unknown): StoredAuthorization | null {
    this.admit();
    return this.storage.findByKey(parseIdempotencyKey(idempotencyKey, 'query.idempotencyKey'));
  }

  findById(id: unknown): StoredAuthorization | null {
    this.admit();
    if (typeof id !== 'string' || !AUTHORIZATION_ID_PATTERN.test(id)) {
      throw new ProcessorError('invalid_request', 'id must be "auth_" and 24 hex digits', {
        field: 'params.id',
        rule: 'auth_ and 24 lowercase hex digits',
      });
    }
    return this.storage.findById(id);
  }

  /** Every authorization in creation order; for reconciliation and tests, so never in an outage. */
  list(after: number, limit: number): Page<StoredAuthorization> {
    return this.storage.list(after, limit);
  }

  stats(): ProcessorStats {
    return { ...this.storage.stats(), seed: this.seed, sinceStart: { ...this.#counters } };
  }

  card(token: string): CardState | null {
    return this.storage.card(token);
  }

  /**
   * The decision for a new authorization. Card rules first (blocked,
   * expired), then a processor error draw, then funds, then the random
   * do_not_honor. An approval never takes a limited balance below zero.
   */
  #decide(key: string, request: AuthorizationRequest, card: CardState | null): Decision {
    const random = new SeededRandom(Number.parseInt(sha256Hex(`${this.seed}:${key}`).slice(0, 8), 16));
    const declineDraw = random.float();
    const errorDraw = random.float();
    const knobs = this.#knobs;
    let declineCode: DeclineCode | undefined;
    if (card?.blocked) declineCode = 'card_blocked';
    else if (card?.expired) declineCode = 'expired_card';
    else if (errorDraw < knobs.processorErrorRate) declineCode = 'processor_error';
    else if (card && card.balance !== null && card.balance < request.amount) declineCode = 'insufficient_funds';
    else if (declineDraw < knobs.declineRate) declineCode = 'do_not_honor';

    const authorization: Authorization = {
      id: authorizationId(key),
      status: declineCode ? 'declined' : 'approved',
      ...(declineCode ? { declineCode } : {}),
      merchant: request.merchant,
      amount: request.amount,
      currency: request.currency,
      card: { brand: request.card.brand, last4: request.card.last4 },
      ...(request.reference !== undefined ? { reference: request.reference } : {}),
      offline: request.offline,
      createdAt: this.clock.now(),
    };
    return { authorization, cardToken: request.card.token };
  }
}

/** Refund ids, like authorization ids, derive from the key: a seeded run's records are the same every run. */
export function refundId(idempotencyKey: string): string {
  return `rfnd_${sha256Hex(`refund:${idempotencyKey}`).slice(0, 24)}`;
}

function wireRefund(r: StoredRefund, refunded: number): Refund {
  return {
    id: r.id,
    authorization: r.authorizationId,
    amount: r.amount,
    currency: r.currency,
    refunded,
    createdAt: r.createdAt,
  };
}

/** The 422 for a key stored with another request, naming every field that differs. */
function reusedKey(key: string, stored: StoredAuthorization, request: AuthorizationRequest): ProcessorError {
  const before: unknown = JSON.parse(stored.requestJson);
  const differences = requestDifferences(before, request);
  const valueAt = (value: unknown, path: string) =>
    path.split('.').reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], value);
  const described = differences.map((path) =>
    // Card tokens stand for card numbers: name the field, not the values.
    path === 'card.token'
      ? path
      : `${path} (was ${JSON.stringify(valueAt(before, path)) ?? 'absent'}, now ${JSON.stringify(valueAt(request, path)) ?? 'absent'})`,
  );
  return new ProcessorError(
    'idempotency_key_reused',
    `Idempotency-Key ${JSON.stringify(key)} was used for a different request (${stored.authorization.id}); differs in ${described.join(', ')}`,
    { field: differences[0] ?? 'body', rule: 'same request for the same Idempotency-Key' },
  );
}
