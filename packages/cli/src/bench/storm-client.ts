/**
 * The storm's terminals as HTTP clients: enrollment, delivering one signed
 * batch until it is answered, and a live terminal that records sales and
 * sends each at once. Lanes and retry times follow the Terminal SDK
 * (`laneOf`, `HttpTransport`, the sync loop's retry rule), which these
 * mirror over a pooled `node:http` client instead of one `fetch` per till.
 */
import { backoffDelayMs, cryptoRandom } from '@holdfast/domain';
import {
  ChainBuilder,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  type Op,
  signMessage,
} from '@holdfast/protocol';
import { type Lane, laneOf, MAX_RETRY_AFTER_MS, MIN_RETRY_AFTER_MS } from '@holdfast/terminal';
import { type BenchHttpClient, NoAnswerError, retryAfterMs, sleep } from './bench-http-client.js';
import { SHIFT_BODY, saleBody } from './sale-body.js';

/** What the storm's requests got: answers by HTTP status, and requests that got none. */
export interface Tally {
  status: Map<number, number>;
  timeouts: number;
  networkErrors: number;
}

export interface Device {
  deviceId: string;
  privateKey: string;
}

/** Runs `fn` over `items`, at most `limit` at a time, results in order. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const lanes = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(lanes);
  return out;
}

/** Enrolls a new device over HTTP with an operator-issued token, as a terminal does. */
export async function enroll(client: BenchHttpClient, operatorToken: string, label: string): Promise<Device> {
  const keys = generateDeviceKeys();
  const auth = { authorization: `Bearer ${operatorToken}` };
  const issued = await client.request('POST', '/v1/admin/enrollment-tokens', { body: '{}', headers: auth });
  if (issued.status !== 200) throw new Error(`storm: token HTTP ${issued.status} ${issued.text}`);
  const { token } = JSON.parse(issued.text) as { token: string };
  const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
  const body = JSON.stringify({ token, publicKey: keys.publicKey, label, sig });
  const enrolled = await client.request('POST', '/v1/enroll', { body });
  if (enrolled.status !== 200) throw new Error(`storm: enroll HTTP ${enrolled.status} ${enrolled.text}`);
  return { deviceId: (JSON.parse(enrolled.text) as { deviceId: string }).deviceId, privateKey: keys.privateKey };
}

/** Where a terminal sends from: its connection pool, the storm's tally, the stop signal, the SDK's timeout. */
export interface Sender {
  client: BenchHttpClient;
  tally: Tally;
  signal: AbortSignal;
  timeoutMs: number;
}

/** An attempt's outcome: the per-op results, or a failure with the retry time the server asked for (if any). */
export type Attempt = { results: { status: string }[] } | { failed: true; toldMs: number | undefined };

const LIVE_HEADERS = Object.freeze({ 'holdfast-lane': 'live' });

/**
 * POSTs one batch once, in `lane` (the `holdfast-lane: live` header, as the
 * SDK's HttpTransport sends it). Null if `signal` aborted. A 4xx other than
 * 429 is a bug in this bench: thrown.
 */
export async function sendOnce(s: Sender, body: string | Uint8Array, lane: Lane): Promise<Attempt | null> {
  let res: Awaited<ReturnType<BenchHttpClient['request']>>;
  try {
    res = await s.client.request('POST', '/v1/batches', {
      body,
      timeoutMs: s.timeoutMs,
      signal: s.signal,
      ...(lane === 'live' ? { headers: { ...LIVE_HEADERS } } : {}),
    });
  } catch (error) {
    if (!(error instanceof NoAnswerError)) throw error;
    if (error.kind === 'aborted') return null;
    if (error.kind === 'timeout') s.tally.timeouts++;
    else s.tally.networkErrors++;
    return { failed: true, toldMs: undefined };
  }
  s.tally.status.set(res.status, (s.tally.status.get(res.status) ?? 0) + 1);
  if (res.status === 200) return { results: (JSON.parse(res.text) as { results: { status: string }[] }).results };
  if (res.status !== 429 && res.status < 500) throw new Error(`storm: HTTP ${res.status} ${res.text.slice(0, 500)}`);
  // The body's precise retryAfterMs wins over the header rounded up to seconds, as in the SDK.
  let toldMs = retryAfterMs(res.retryAfter);
  try {
    const fromBody = (JSON.parse(res.text) as { retryAfterMs?: unknown }).retryAfterMs;
    if (typeof fromBody === 'number' && fromBody >= 0) toldMs = fromBody;
  } catch {
    // Not JSON (a proxy's page): the header, or the backoff alone.
  }
  return { failed: true, toldMs };
}

/**
 * The SDK's wait before the next attempt: the server's stated time exactly
 * (clamped as the SDK clamps it; the server spreads the fleet itself), else
 * the failure backoff with full jitter.
 */
export function retryDelayMs(toldMs: number | undefined, failures: number): number {
  if (toldMs !== undefined && toldMs > 0) return Math.min(MAX_RETRY_AFTER_MS, Math.max(MIN_RETRY_AFTER_MS, toldMs));
  return backoffDelayMs(failures, cryptoRandom);
}

/** Sends one batch, the same bytes, until it is answered 200. Null if `signal` aborted first. */
export async function deliver(s: Sender, body: Uint8Array, lane: Lane): Promise<{ status: string }[] | null> {
  for (let failures = 1; !s.signal.aborted; failures++) {
    const attempt = await sendOnce(s, body, lane);
    if (!attempt) return null;
    if ('results' in attempt) return attempt.results;
    await sleep(retryDelayMs(attempt.toldMs, failures), s.signal);
  }
  return null;
}

/**
 * A terminal at the till: records a sale and, when no request is in flight,
 * sends everything pending (up to 500) as one batch, re-reading what is
 * pending on every attempt and choosing the lane by the SDK's rule
 * (`laneOf`: ends at the head, small, recent), as the SDK's sync loop does.
 */
export class LiveTerminal {
  readonly #chain: ChainBuilder;
  readonly #shift: Op;
  readonly #sender: Sender;
  readonly #pending: { op: Op; recordedAt: number }[] = [];
  #sending: Promise<void> | null = null;
  #error: unknown = null;
  #sales = 0;
  /** Latency of each confirmed sale (ms): recorded → the 200 that confirmed it. The owner swaps it between phases. */
  latencies: number[] = [];
  confirmed = 0;

  constructor(device: Device, sender: Sender) {
    this.#chain = new ChainBuilder(device.deviceId, device.privateKey);
    this.#shift = this.#chain.next('shift.opened', SHIFT_BODY);
    this.#sender = sender;
  }

  get pending(): number {
    return this.#pending.length;
  }

  /** Sends the shift opening, before any sale. */
  async openShift(): Promise<void> {
    const body = new TextEncoder().encode(JSON.stringify(this.#chain.batch([this.#shift])));
    const results = await deliver(this.#sender, body, laneOf([this.#shift], this.#chain.seq, Date.now()));
    if (results?.[0]?.status !== 'accepted') throw new Error('storm: a live shift was not accepted');
    this.confirmed++;
  }

  record(): void {
    const op = this.#chain.next('sale.recorded', saleBody(this.#shift.id, ++this.#sales));
    this.#pending.push({ op, recordedAt: performance.now() });
    this.#sending ??= this.#flush()
      .catch((error: unknown) => {
        this.#error ??= error;
      })
      .finally(() => {
        this.#sending = null;
      });
  }

  /** Resolves when nothing is in flight; throws what a send ran into. */
  async idle(): Promise<void> {
    while (this.#sending) await this.#sending;
    if (this.#error) throw this.#error;
  }

  async #flush(): Promise<void> {
    for (let failures = 0; this.#pending.length > 0 && !this.#sender.signal.aborted; ) {
      const slice = this.#pending.slice(0, 500);
      const ops = slice.map((p) => p.op);
      const lane = laneOf(ops, this.#chain.seq, Date.now());
      const attempt = await sendOnce(this.#sender, JSON.stringify(this.#chain.batch(ops)), lane);
      if (!attempt) return;
      if (!('results' in attempt)) {
        await sleep(retryDelayMs(attempt.toldMs, ++failures), this.#sender.signal);
        continue;
      }
      failures = 0;
      const { results } = attempt;
      // A duplicate is a resend after no answer that the server had in fact applied: confirmed too.
      if (results.length !== slice.length || results.some((r) => r.status !== 'accepted' && r.status !== 'duplicate'))
        throw new Error(`storm: a live sale was not accepted: ${JSON.stringify(results).slice(0, 300)}`);
      const now = performance.now();
      for (const p of slice) this.latencies.push(now - p.recordedAt);
      this.confirmed += slice.length;
      this.#pending.splice(0, slice.length);
    }
  }
}
