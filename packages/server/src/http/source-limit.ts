/**
 * Limits refused traffic per source address.
 *
 * Per-device limits (admission.ts) are charged only once a batch's signature
 * verifies, so nobody can spend a till's budget by naming it. Traffic that
 * fails before that (bad JSON, unknown device, bad signature, wrong operator
 * token...) is charged here instead, to the address it came from: each
 * refused request takes one token of that address's bucket (`burst` tokens,
 * refilled at `rate` a second); an address with no token left is answered
 * `429 rate_limited` before its body is read, until a token is back.
 *
 * The map of addresses is bounded (`maxSources`, least recently used
 * forgotten first), so a flood of addresses costs a fixed amount of memory.
 */
import type { Clock } from '@holdfast/domain';
import { ProtocolError } from '@holdfast/protocol';

export interface SourceLimitOptions {
  /** Refused requests a second an address may make, sustained; 0 turns the limit off. */
  rate: number;
  /** Refused requests an address may make in a burst. */
  burst: number;
  /** Addresses remembered at most. */
  maxSources: number;
}

export const DEFAULT_SOURCE_LIMIT: SourceLimitOptions = { rate: 20, burst: 500, maxSources: 10_000 };

/** Answers that charge their source: the request was refused before anything was authenticated or applied. */
export const CHARGED_STATUSES: ReadonlySet<number> = new Set([400, 401, 403, 404, 405, 408, 413, 414, 415, 431]);

interface Bucket {
  tokens: number;
  at: number;
}

export class SourceLimiter {
  readonly options: SourceLimitOptions;
  readonly #clock: Pick<Clock, 'now'>;
  readonly #sources = new Map<string, Bucket>();
  #limited = 0;

  constructor(options: Partial<SourceLimitOptions>, clock: Pick<Clock, 'now'>) {
    const o = { ...DEFAULT_SOURCE_LIMIT, ...options };
    if (!Number.isFinite(o.rate) || o.rate < 0) throw new Error('sourceLimit.rate must be a number >= 0');
    for (const key of ['burst', 'maxSources'] as const) {
      if (!Number.isSafeInteger(o[key]) || o[key] < 1) throw new Error(`sourceLimit.${key} must be an integer >= 1`);
    }
    this.options = o;
    this.#clock = clock;
  }

  /** Addresses remembered now (at most maxSources). */
  get size(): number {
    return this.#sources.size;
  }

  /** Requests refused because their address was over its limit. */
  get limited(): number {
    return this.#limited;
  }

  /** Throws ProtocolError('rate_limited') if `source` has no token left. */
  check(source: string): void {
    if (this.options.rate === 0) return;
    const bucket = this.#sources.get(source);
    if (!bucket) return;
    this.#refill(bucket);
    if (bucket.tokens >= 1) return;
    this.#limited++;
    const retryAfterMs = Math.ceil(((1 - bucket.tokens) / this.options.rate) * 1000);
    throw new ProtocolError(
      'rate_limited',
      `too many refused requests from this address; retry in ${retryAfterMs} ms`,
      { retryAfterMs },
    );
  }

  /** Charges one refused request to `source`. */
  charge(source: string): void {
    if (this.options.rate === 0) return;
    let bucket = this.#sources.get(source);
    if (bucket) {
      this.#refill(bucket);
      // Most recently used last: the map's first entries are the ones to forget.
      this.#sources.delete(source);
    } else {
      bucket = { tokens: this.options.burst, at: this.#clock.now() };
      while (this.#sources.size >= this.options.maxSources) {
        const oldest = this.#sources.keys().next().value as string;
        this.#sources.delete(oldest);
      }
    }
    bucket.tokens = Math.max(0, bucket.tokens - 1);
    this.#sources.set(source, bucket);
  }

  #refill(bucket: Bucket): void {
    const now = this.#clock.now();
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + ((now - bucket.at) / 1000) * this.options.rate);
    bucket.at = now;
  }
}
