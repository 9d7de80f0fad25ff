/**
 * HttpTransport: the Transport over HTTP/JSON with the global `fetch`.
 *
 * Every failure to get a readable answer becomes a `TransportError` (outcome
 * unknown); every readable non-2xx answer becomes `{ ok: false, error }`.
 * A proxy's HTML error page is unreadable, hence unknown, hence retried.
 *
 * The request itself is @holdfast/protocol's `fetchJson` (shared with the
 * processor client). Its timeouts use `AbortSignal.timeout`, which runs on
 * real time: this is the production transport. Simulations use in-process transports driven
 * by a virtual clock instead.
 */
import {
  type AuthorizeRequest,
  type AuthorizeResponse,
  type Batch,
  type EnrollRequest,
  type EnrollResponse,
  type FeedRequest,
  type FeedResponse,
  fetchJson,
  type IngestResponse,
  type LoyaltyAnswer,
  type LoyaltyRequest,
  type OpQuery,
  type OpQueryResponse,
  type PolicyRequest,
  type PolicyResponse,
  type RotateKeyRequest,
  type RotateKeyResponse,
  type ShiftReportAnswer,
  type ShiftReportRequest,
  type WireError,
} from '@holdfast/protocol';
import { TransportError } from './errors.js';
import type { HealthResponse, Lane, Transport, TransportResult } from './transport.js';

const LIVE_HEADERS = Object.freeze({ 'holdfast-lane': 'live' });

export interface HttpTransportOptions {
  /** Replaces the global fetch (tests, custom agents). */
  fetch?: typeof fetch;
  /** Extra headers sent with every request (e.g. a venue gateway's key). */
  headers?: Readonly<Record<string, string>>;
}

type Validator = (body: Record<string, unknown>) => boolean;

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const validEnroll: Validator = (b) => typeof b.deviceId === 'string' && typeof b.enrolledAt === 'number';
const validIngest: Validator = (b) =>
  typeof b.device === 'string' && Array.isArray(b.results) && typeof b.highWater === 'number';
const validQuery: Validator = (b) => Array.isArray(b.results) && typeof b.highWater === 'number';
const validPolicy: Validator = (b) =>
  (b.policy === null || isObject(b.policy)) && isObject(b.keys) && typeof b.serverTime === 'number';
const validShiftReport: Validator = (b) =>
  typeof b.shift === 'string' &&
  (b.state === 'open' || b.state === 'confirmed' || b.state === 'differs') &&
  Array.isArray(b.pending) &&
  Array.isArray(b.notApplied) &&
  Array.isArray(b.differences) &&
  isObject(b.server);
const validFeed: Validator = (b) =>
  Array.isArray(b.items) &&
  typeof b.next === 'number' &&
  typeof b.more === 'boolean' &&
  (b.placement === null || isObject(b.placement)) &&
  (b.policy === null || typeof b.policy === 'string') &&
  typeof b.serverTime === 'number';
const validAuthorize: Validator = (b) =>
  typeof b.opId === 'string' &&
  (b.status === 'approved' || b.status === 'declined' || b.status === 'pending') &&
  (b.status !== 'approved' || typeof b.authorizationId === 'string') &&
  typeof b.serverTime === 'number';
const validRotateKey: Validator = (b) =>
  typeof b.device === 'string' && typeof b.publicKey === 'string' && typeof b.serverTime === 'number';
const validLoyalty: Validator = (b) =>
  (b.kind === 'lookup' || b.kind === 'redeem' || b.kind === 'confirm') && typeof b.serverTime === 'number';
const validHealth: Validator = (b) => typeof b.status === 'string' && typeof b.time === 'number';

export class HttpTransport implements Transport {
  readonly #base: string;
  readonly #fetch: typeof fetch;
  readonly #headers: Readonly<Record<string, string>>;

  /** `baseUrl` such as `https://holdfast.example.com` (a trailing slash is fine). */
  constructor(baseUrl: string, options: HttpTransportOptions = {}) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#fetch = options.fetch ?? globalThis.fetch;
    this.#headers = Object.freeze({ ...options.headers });
  }

  enroll(req: EnrollRequest, timeoutMs: number): Promise<TransportResult<EnrollResponse>> {
    return this.#request('POST', '/v1/enroll', req, timeoutMs, validEnroll);
  }

  sendBatch(batch: Batch, timeoutMs: number, lane: Lane = 'backlog'): Promise<TransportResult<IngestResponse>> {
    return this.#request('POST', '/v1/batches', batch, timeoutMs, validIngest, lane === 'live' ? LIVE_HEADERS : null);
  }

  queryOps(query: OpQuery, timeoutMs: number): Promise<TransportResult<OpQueryResponse>> {
    return this.#request('POST', '/v1/ops/query', query, timeoutMs, validQuery);
  }

  fetchPolicy(req: PolicyRequest, timeoutMs: number): Promise<TransportResult<PolicyResponse>> {
    return this.#request('POST', '/v1/policy', req, timeoutMs, validPolicy);
  }

  fetchFeed(req: FeedRequest, timeoutMs: number): Promise<TransportResult<FeedResponse>> {
    return this.#request('POST', '/v1/feed', req, timeoutMs, validFeed);
  }

  authorize(req: AuthorizeRequest, timeoutMs: number): Promise<TransportResult<AuthorizeResponse>> {
    return this.#request('POST', '/v1/authorize', req, timeoutMs, validAuthorize);
  }

  loyalty(req: LoyaltyRequest, timeoutMs: number): Promise<TransportResult<LoyaltyAnswer>> {
    return this.#request('POST', '/v1/loyalty', req, timeoutMs, validLoyalty);
  }

  rotateKey(req: RotateKeyRequest, timeoutMs: number): Promise<TransportResult<RotateKeyResponse>> {
    return this.#request('POST', '/v1/devices/rotate-key', req, timeoutMs, validRotateKey);
  }

  fetchShiftReport(req: ShiftReportRequest, timeoutMs: number): Promise<TransportResult<ShiftReportAnswer>> {
    return this.#request('POST', '/v1/shifts/z-report', req, timeoutMs, validShiftReport);
  }

  ping(timeoutMs: number): Promise<TransportResult<HealthResponse>> {
    return this.#request('GET', '/v1/health', undefined, timeoutMs, validHealth);
  }

  async #request<T>(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    valid: Validator,
    extraHeaders: Readonly<Record<string, string>> | null = null,
  ): Promise<TransportResult<T>> {
    const what = `${method} ${path}`;
    const result = await fetchJson(this.#fetch, {
      method,
      url: `${this.#base}${path}`,
      headers: { ...this.#headers, ...extraHeaders },
      body,
      timeoutMs,
    });
    switch (result.kind) {
      case 'timeout':
        throw new TransportError('timeout', `${what}: no answer in time`, { cause: result.cause });
      case 'network':
        throw new TransportError('network', `${what}: ${result.message}`, { cause: result.cause });
      case 'not_json':
        throw new TransportError('bad_response', `${what}: HTTP ${result.status} body is not JSON`, {
          cause: result.cause,
        });
    }
    const { status, headers, json } = result;
    if (result.ok) {
      if (!isObject(json) || !valid(json)) {
        throw new TransportError('bad_response', `${what}: HTTP ${status} body lacks expected fields`);
      }
      return { ok: true, status, body: json as T };
    }
    const error = wireError(json);
    if (!error) {
      throw new TransportError('bad_response', `${what}: HTTP ${status} body is not an error`);
    }
    // The body's retryAfterMs is the server's precise figure (the header is it rounded up to seconds).
    const retryAfterMs = error.retryAfterMs ?? parseRetryAfter(headers.get('retry-after'));
    return retryAfterMs === undefined ? { ok: false, status, error } : { ok: false, status, error, retryAfterMs };
  }
}

function wireError(json: unknown): WireError | null {
  if (!isObject(json) || typeof json.code !== 'string' || typeof json.message !== 'string') return null;
  // An unknown code from a newer server is kept as is: the terminal branches on `retryable` and the status.
  const error = { code: json.code, message: json.message, retryable: json.retryable === true } as WireError;
  if (typeof json.field === 'string') error.field = json.field;
  if (typeof json.rule === 'string') error.rule = json.rule;
  if (typeof json.retryAfterMs === 'number' && json.retryAfterMs >= 0) error.retryAfterMs = json.retryAfterMs;
  if (typeof json.serverKey === 'string' && typeof json.serverSig === 'string') {
    error.serverKey = json.serverKey;
    error.serverSig = json.serverSig;
  }
  return error;
}

/** `Retry-After` in delta-seconds as ms. HTTP-dates are ignored: reading them needs a clock this layer lacks. */
export function parseRetryAfter(header: string | null): number | undefined {
  if (header === null || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header.trim()) * 1000;
}
