/**
 * FaultyTransport: wraps a Transport and misbehaves on request, the way real
 * networks do, so tests can prove the terminal never loses or doubles an op.
 *
 *   drop-request   the request never arrives; the caller sees a network error
 *   drop-response  the server APPLIES the request, the answer is lost; the caller sees a timeout
 *   duplicate      the request arrives twice (a retrying proxy); the caller gets the second answer
 *   delay          arrives after `ms` of clock time; at or past the caller's timeout the caller
 *                  times out while the server still applies it later
 *   status         the front answers an error without forwarding (429/503/500 by default code,
 *                  or any status and code, e.g. a 400 the server would give)
 *   bad-response   the server applies it, the answer arrives garbled
 *
 * Faults are queued (`next`) for the next requests of a route, or standing
 * (`down`: every request is dropped). Every request is logged, and the
 * number of requests in flight at once is tracked.
 */
import type { Clock } from '@holdfast/domain';
import type {
  AuthorizeRequest,
  Batch,
  EnrollRequest,
  ErrorCode,
  FeedRequest,
  OpQuery,
  PolicyRequest,
  RotateKeyRequest,
} from '@holdfast/protocol';
import { ProtocolError } from '@holdfast/protocol';
import { TransportError } from '../errors.js';
import type { Lane, Transport, TransportResult } from '../transport.js';

export type Fault =
  | { type: 'drop-request' }
  | { type: 'drop-response' }
  | { type: 'duplicate' }
  | { type: 'delay'; ms: number }
  | { type: 'status'; status: number; code?: ErrorCode; retryAfterMs?: number }
  | { type: 'bad-response' };

export type Route =
  | 'enroll'
  | 'sendBatch'
  | 'queryOps'
  | 'fetchPolicy'
  | 'fetchFeed'
  | 'authorize'
  | 'rotateKey'
  | 'ping';

export interface RequestLogEntry {
  route: Route;
  at: number;
  fault: Fault['type'] | 'down' | null;
  /** For batches: the seqs sent. */
  firstSeq: number | null;
  lastSeq: number | null;
  ids: string[];
  /** For batches: the lane the terminal asked for. */
  lane: Lane | null;
}

const STATUS_CODES: Readonly<Record<number, ErrorCode>> = { 429: 'rate_limited', 500: 'internal', 503: 'overloaded' };

export class FaultyTransport implements Transport {
  readonly #inner: Transport;
  readonly #clock: Clock;
  readonly #queue: { fault: Fault; route: Route }[] = [];
  /** While true, every request is dropped before it arrives. */
  down = false;
  readonly log: RequestLogEntry[] = [];
  /** Every batch handed to this transport, delivered or not (for `replay`). */
  readonly batches: Batch[] = [];
  #inFlight = 0;
  #maxInFlight = 0;

  constructor(inner: Transport, options: { clock: Clock }) {
    this.#inner = inner;
    this.#clock = options.clock;
  }

  /** Queues `fault` for the next request on `route` (batches by default). */
  next(fault: Fault, route: Route = 'sendBatch'): this {
    this.#queue.push({ fault, route });
    return this;
  }

  /** Drops every queued fault and brings the link up. */
  heal(): void {
    this.#queue.length = 0;
    this.down = false;
  }

  get inFlight(): number {
    return this.#inFlight;
  }

  /** The most requests that were ever in flight at once. */
  get maxInFlight(): number {
    return this.#maxInFlight;
  }

  /** Delivers an earlier batch again, straight to the server (a late, reordered packet). */
  replay(index: number): Promise<TransportResult<unknown>> {
    const batch = this.batches[index];
    if (!batch) throw new RangeError(`no batch ${index}`);
    return this.#inner.sendBatch(batch, 60_000);
  }

  enroll(req: EnrollRequest, timeoutMs: number) {
    return this.#run('enroll', timeoutMs, [], () => this.#inner.enroll(req, timeoutMs));
  }

  sendBatch(batch: Batch, timeoutMs: number, lane: Lane = 'backlog') {
    this.batches.push(batch);
    return this.#run('sendBatch', timeoutMs, batch.ops, () => this.#inner.sendBatch(batch, timeoutMs, lane), lane);
  }

  queryOps(query: OpQuery, timeoutMs: number) {
    return this.#run('queryOps', timeoutMs, [], () => this.#inner.queryOps(query, timeoutMs));
  }

  fetchPolicy(req: PolicyRequest, timeoutMs: number) {
    return this.#run('fetchPolicy', timeoutMs, [], () => this.#inner.fetchPolicy(req, timeoutMs));
  }

  fetchFeed(req: FeedRequest, timeoutMs: number) {
    return this.#run('fetchFeed', timeoutMs, [], () => this.#inner.fetchFeed(req, timeoutMs));
  }

  authorize(req: AuthorizeRequest, timeoutMs: number) {
    const inner = this.#inner;
    return this.#run('authorize', timeoutMs, [], () => {
      if (!inner.authorize) throw new TransportError('network', 'authorize: the inner transport cannot ask online');
      return inner.authorize(req, timeoutMs);
    });
  }

  rotateKey(req: RotateKeyRequest, timeoutMs: number) {
    const inner = this.#inner;
    return this.#run('rotateKey', timeoutMs, [], () => {
      if (!inner.rotateKey) throw new TransportError('network', 'rotateKey: the inner transport cannot rotate keys');
      return inner.rotateKey(req, timeoutMs);
    });
  }

  ping(timeoutMs: number) {
    return this.#run('ping', timeoutMs, [], () => this.#inner.ping(timeoutMs));
  }

  async #run<T>(
    route: Route,
    timeoutMs: number,
    ops: readonly { seq: number; id: string }[],
    send: () => Promise<TransportResult<T>>,
    lane: Lane | null = null,
  ): Promise<TransportResult<T>> {
    const index = this.#queue.findIndex((q) => q.route === route);
    const fault = index >= 0 ? (this.#queue.splice(index, 1)[0]?.fault ?? null) : null;
    this.log.push({
      route,
      at: this.#clock.now(),
      fault: this.down ? 'down' : (fault?.type ?? null),
      firstSeq: ops[0]?.seq ?? null,
      lastSeq: ops.at(-1)?.seq ?? null,
      ids: ops.map((op) => op.id),
      lane,
    });
    this.#inFlight++;
    this.#maxInFlight = Math.max(this.#maxInFlight, this.#inFlight);
    try {
      if (this.down) throw new TransportError('network', `${route}: network is down`);
      return await this.#apply(fault, route, timeoutMs, send);
    } finally {
      this.#inFlight--;
    }
  }

  async #apply<T>(
    fault: Fault | null,
    route: Route,
    timeoutMs: number,
    send: () => Promise<TransportResult<T>>,
  ): Promise<TransportResult<T>> {
    switch (fault?.type) {
      case undefined:
        return send();
      case 'drop-request':
        throw new TransportError('network', `${route}: connection reset before the request arrived`);
      case 'drop-response':
        await send();
        throw new TransportError('timeout', `${route}: the answer was lost`);
      case 'bad-response':
        await send();
        throw new TransportError('bad_response', `${route}: the answer was garbled`);
      case 'duplicate':
        await send();
        return send();
      case 'status': {
        const code = fault.code ?? STATUS_CODES[fault.status] ?? 'internal';
        const error = new ProtocolError(code, `injected ${fault.status} ${code}`).toWire();
        if (fault.retryAfterMs !== undefined) error.retryAfterMs = fault.retryAfterMs;
        return fault.retryAfterMs === undefined
          ? { ok: false, status: fault.status, error }
          : { ok: false, status: fault.status, error, retryAfterMs: fault.retryAfterMs };
      }
      case 'delay': {
        if (fault.ms < timeoutMs) {
          await this.#sleep(fault.ms);
          return send();
        }
        // The caller gives up first; the request still lands later.
        this.#clock.setTimer(fault.ms, () => {
          send().catch(() => undefined);
        });
        await this.#sleep(timeoutMs);
        throw new TransportError('timeout', `${route}: no answer within ${timeoutMs} ms`);
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => this.#clock.setTimer(ms, resolve));
  }
}
