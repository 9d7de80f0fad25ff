/**
 * The storm's terminals as HTTP clients: enrollment, delivering one signed
 * batch until it is answered (retries as the Terminal SDK does them), and a
 * live terminal that records sales and sends each at once.
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

/**
 * Sends one batch until it is answered 200, as a terminal would: the same
 * bytes again after no answer (SDK backoff, full jitter) or a 429/503/5xx
 * (at least Retry-After, plus up to half of it again as jitter). Null if
 * `signal` aborted first. Any other answer is a bug in this bench: thrown.
 */
export async function deliver(
  client: BenchHttpClient,
  body: string | Uint8Array,
  tally: Tally,
  signal: AbortSignal,
  timeoutMs: number,
): Promise<{ status: string }[] | null> {
  for (let failures = 0; !signal.aborted; ) {
    let res: Awaited<ReturnType<BenchHttpClient['request']>>;
    try {
      res = await client.request('POST', '/v1/batches', { body, timeoutMs, signal });
    } catch (error) {
      if (!(error instanceof NoAnswerError)) throw error;
      if (error.kind === 'aborted') return null;
      if (error.kind === 'timeout') tally.timeouts++;
      else tally.networkErrors++;
      await sleep(backoffDelayMs(++failures, cryptoRandom), signal);
      continue;
    }
    tally.status.set(res.status, (tally.status.get(res.status) ?? 0) + 1);
    if (res.status === 200) return (JSON.parse(res.text) as { results: { status: string }[] }).results;
    if (res.status === 429 || res.status >= 500) {
      let askedMs = retryAfterMs(res.retryAfter);
      try {
        const fromBody = (JSON.parse(res.text) as { retryAfterMs?: unknown }).retryAfterMs;
        if (typeof fromBody === 'number') askedMs = Math.max(askedMs ?? 0, fromBody);
      } catch {
        // Not JSON (a proxy's page): the header, or the backoff alone.
      }
      const backoff = backoffDelayMs(++failures, cryptoRandom);
      const wait = askedMs === undefined ? backoff : Math.max(backoff, askedMs * (1 + cryptoRandom.float() / 2));
      await sleep(wait, signal);
      continue;
    }
    throw new Error(`storm: HTTP ${res.status} ${res.text.slice(0, 500)}`);
  }
  return null;
}

/** A terminal at the till: records a sale, sends what is pending as soon as no request is in flight. */
export class LiveTerminal {
  readonly #chain: ChainBuilder;
  readonly #shift: Op;
  readonly #send: (body: string) => Promise<{ status: string }[] | null>;
  readonly #pending: { op: Op; recordedAt: number }[] = [];
  #sending: Promise<void> | null = null;
  #error: unknown = null;
  #sales = 0;
  /** Latency of each confirmed sale (ms); the owner may swap the array between phases. */
  latencies: number[] = [];
  confirmed = 0;

  get pending(): number {
    return this.#pending.length;
  }

  constructor(device: Device, send: (body: string) => Promise<{ status: string }[] | null>) {
    this.#chain = new ChainBuilder(device.deviceId, device.privateKey);
    this.#shift = this.#chain.next('shift.opened', SHIFT_BODY);
    this.#send = send;
  }

  /** Sends the shift opening, before any sale. */
  async openShift(): Promise<void> {
    const results = await this.#send(JSON.stringify(this.#chain.batch([this.#shift])));
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
    while (this.#pending.length > 0 && !this.#error) {
      const slice = this.#pending.slice(0, 500);
      const results = await this.#send(JSON.stringify(this.#chain.batch(slice.map((p) => p.op))));
      if (!results) return;
      if (results.length !== slice.length || results.some((r) => r.status !== 'accepted'))
        throw new Error(`storm: a live sale was not accepted: ${JSON.stringify(results).slice(0, 300)}`);
      const now = performance.now();
      for (const p of slice) this.latencies.push(now - p.recordedAt);
      this.confirmed += slice.length;
      this.#pending.splice(0, slice.length);
    }
  }
}
