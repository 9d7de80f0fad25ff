/**
 * ProcessorClient: a small typed HTTP client for the processor's API, for
 * the server's forwarder and for tests.
 *
 * It keeps "answered" apart from "unknown", because a charge may exist
 * without its answer ever arriving:
 *
 * - an authorization (approved or declined) is an answer, returned;
 * - an error the processor chose to send (4xx with an error body, or 503
 *   `processor_unavailable`) is an answer meaning nothing was done:
 *   `ProcessorRefusedError`;
 * - anything else — timeout, connection reset, an unreadable body, another
 *   5xx (a proxy's 502/504 could come after a commit) — is
 *   `ProcessorOutcomeUnknownError`: the charge may or may not exist. Never
 *   treat it as declined; retry with the same key, or ask `findByKey`.
 *
 * Timeouts use `AbortSignal.timeout` (real time): this is a production
 * client.
 */
import {
  type Authorization,
  type AuthorizationRequestBody,
  type AuthorizeAnswer,
  type ListedAuthorization,
  REPLAYED_HEADER,
} from './authorization.js';
import { ProcessorRefusedError } from './errors.js';
import { badResponse, callJson, isObject, type Json } from './json-call.js';
import type { ProcessorStatsBody } from './processor-stats.js';
import type { Refund, RefundAnswer, RefundRequestBody } from './refund.js';

export interface ProcessorClientOptions {
  apiKey: string;
  /** Timeout of calls that take none: default 10 s. */
  timeoutMs?: number;
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof fetch;
}

const isAuthorization = (v: unknown): v is Authorization =>
  isObject(v) &&
  typeof v.id === 'string' &&
  (v.status === 'approved' || v.status === 'declined') &&
  typeof v.amount === 'number' &&
  typeof v.currency === 'string';

const isRefund = (v: unknown): v is Refund =>
  isObject(v) &&
  typeof v.id === 'string' &&
  typeof v.authorization === 'string' &&
  typeof v.amount === 'number' &&
  typeof v.currency === 'string';

export class ProcessorClient {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  /** `baseUrl` such as `http://127.0.0.1:8090` (a trailing slash is fine). */
  constructor(baseUrl: string, options: ProcessorClientOptions) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /**
   * Authorizes and captures under `idempotencyKey`. Resolves with the
   * decision (approved or declined); throws ProcessorRefusedError or
   * ProcessorOutcomeUnknownError.
   */
  async authorize(
    idempotencyKey: string,
    request: AuthorizationRequestBody,
    timeoutMs = this.#timeoutMs,
  ): Promise<AuthorizeAnswer> {
    const res = await this.#call('POST', '/v1/authorizations', request, timeoutMs, {
      'idempotency-key': idempotencyKey,
    });
    if (!isAuthorization(res.body)) throw badResponse('POST /v1/authorizations', res.status);
    return { authorization: res.body, replayed: res.headers.get(REPLAYED_HEADER) === 'true' };
  }

  /** The authorization stored under `idempotencyKey`, or null if the processor has none. */
  async findByKey(idempotencyKey: string, timeoutMs = this.#timeoutMs): Promise<Authorization | null> {
    const path = `/v1/authorizations?idempotencyKey=${encodeURIComponent(idempotencyKey)}`;
    return this.#authorizationOrNull(path, timeoutMs);
  }

  async get(id: string, timeoutMs = this.#timeoutMs): Promise<Authorization | null> {
    return this.#authorizationOrNull(`/v1/authorizations/${encodeURIComponent(id)}`, timeoutMs);
  }

  /** Authorizations in creation order after the `after` cursor (a seq). */
  async list(
    after = 0,
    limit = 100,
    timeoutMs = this.#timeoutMs,
  ): Promise<{ items: ListedAuthorization[]; next: number | null }> {
    const res = await this.#call('GET', `/v1/authorizations?after=${after}&limit=${limit}`, undefined, timeoutMs);
    if (!isObject(res.body) || !Array.isArray(res.body.items)) throw badResponse('GET /v1/authorizations', res.status);
    return res.body as unknown as { items: ListedAuthorization[]; next: number | null };
  }

  /** Every stored authorization, page by page. */
  async listAll(timeoutMs = this.#timeoutMs): Promise<ListedAuthorization[]> {
    const all: ListedAuthorization[] = [];
    let after: number | null = 0;
    while (after !== null) {
      const page: { items: ListedAuthorization[]; next: number | null } = await this.list(after, 1000, timeoutMs);
      all.push(...page.items);
      after = page.next;
    }
    return all;
  }

  /**
   * Refunds `request.amount` of an approved authorization under
   * `idempotencyKey`: once per key, whatever the retries. Throws
   * ProcessorRefusedError (`refund_over_capture`, `refund_not_captured`,
   * `idempotency_key_reused`: nothing was refunded) or
   * ProcessorOutcomeUnknownError (ask `findRefundByKey`).
   */
  async refund(idempotencyKey: string, request: RefundRequestBody, timeoutMs = this.#timeoutMs): Promise<RefundAnswer> {
    const res = await this.#call('POST', '/v1/refunds', request, timeoutMs, { 'idempotency-key': idempotencyKey });
    if (!isRefund(res.body)) throw badResponse('POST /v1/refunds', res.status);
    return { refund: res.body, replayed: res.headers.get(REPLAYED_HEADER) === 'true' };
  }

  /** The refund stored under `idempotencyKey`, or null if the processor has none. */
  async findRefundByKey(idempotencyKey: string, timeoutMs = this.#timeoutMs): Promise<Refund | null> {
    const path = `/v1/refunds?idempotencyKey=${encodeURIComponent(idempotencyKey)}`;
    try {
      const res = await this.#call('GET', path, undefined, timeoutMs);
      if (!isRefund(res.body)) throw badResponse('GET /v1/refunds', res.status);
      return res.body;
    } catch (error) {
      if (error instanceof ProcessorRefusedError && error.status === 404 && error.code === 'not_found') return null;
      throw error;
    }
  }

  async stats(timeoutMs = this.#timeoutMs): Promise<ProcessorStatsBody> {
    const res = await this.#call('GET', '/v1/stats', undefined, timeoutMs);
    return res.body as unknown as ProcessorStatsBody;
  }

  /** Changes behaviour knobs and card profiles at run time (`POST /v1/admin/config`); returns the knobs now. */
  async configure(patch: Record<string, unknown>, timeoutMs = this.#timeoutMs): Promise<Json> {
    const res = await this.#call('POST', '/v1/admin/config', patch, timeoutMs);
    return res.body as Json;
  }

  async #authorizationOrNull(path: string, timeoutMs: number): Promise<Authorization | null> {
    try {
      const res = await this.#call('GET', path, undefined, timeoutMs);
      if (!isAuthorization(res.body)) throw badResponse(`GET ${path}`, res.status);
      return res.body;
    } catch (error) {
      if (error instanceof ProcessorRefusedError && error.status === 404 && error.code === 'not_found') return null;
      throw error;
    }
  }

  #call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    return callJson({
      fetch: this.#fetch,
      base: this.#base,
      apiKey: this.#apiKey,
      method,
      path,
      body,
      timeoutMs,
      headers: extraHeaders,
      unavailableCode: 'processor_unavailable',
      service: 'processor',
    });
  }
}
