/**
 * TcpFaultProxy: a real TCP proxy on 127.0.0.1 that forwards to a target
 * host:port and injects the network faults terminals meet in the field, for
 * tests and chaos runs with real processes (real sockets, real HTTP clients).
 * Neither side is changed or told.
 *
 * Faults, switchable at runtime with `setMode`:
 *
 *   pass          forward both ways
 *   drop          close the client connection without forwarding anything:
 *                 the client sees a network error, the server nothing
 *   delay         every chunk of the request and of its response waits a
 *                 random time in the delay range (order kept)
 *   cut-response  forward the request, let the server answer, forward only
 *                 part of the answer's first chunk, then close: the server
 *                 committed, the client sees a broken response
 *   blackhole     swallow the request and hold the connection open, never
 *                 answering: the client times out
 *   mix           one of the above per request, with the mix's weights
 *
 * Granularity: a fault is drawn per HTTP request, at its first byte, not
 * per connection. HTTP clients keep connections alive (undici's fetch reuses
 * one socket for many requests), so a per-connection draw would let one lucky
 * connection carry every later request untouched and make mode switches
 * invisible until the client reconnected. A request starts with the first
 * client bytes after the previous response began (HTTP/1.1 clients send one
 * request at a time per connection; fetch does not pipeline). For the first
 * request of a new connection, a `drop` is what the client would see from a
 * close right after accept. `delay` then acts per chunk, both ways; the
 * faults on the answer act at the answer's first chunk. Draws come from the
 * given Random in request-arrival order, so a seed replays the sequence of
 * decisions (the arrival order of real processes is not replayable).
 *
 *   client ──request──▶ proxy ──▶ target     drop, blackhole, delay: here
 *   client ◀──answer─── proxy ◀── target     cut-response, held: here
 *
 * When either side closes or fails, the other is cut too, as a dying
 * process's peer would see it (a blackholed client is kept waiting). While
 * the target is down, each connection is cut as soon as the proxy's own
 * connect fails.
 *
 * Tests can also act at a known point of an exchange: wait until a request
 * matching a request-line prefix (e.g. `POST /v1/batches`) reached the
 * target, or its answer reached the client, or hold back the next answer.
 */
import net from 'node:net';
import type { Random } from '@holdfast/domain';

export const PROXY_FAULTS = ['pass', 'drop', 'delay', 'cut-response', 'blackhole'] as const;
export type ProxyFault = (typeof PROXY_FAULTS)[number];
export type ProxyMode = ProxyFault | 'mix';
export const PROXY_MODES: readonly ProxyMode[] = [...PROXY_FAULTS, 'mix'];

/** Latency added to each chunk under `delay`, uniform in [minMs, maxMs]. */
export interface DelayRange {
  minMs: number;
  maxMs: number;
}

/** Relative weights of each fault under `mix` (missing: 0). */
export type FaultMix = Readonly<Partial<Record<ProxyFault, number>>>;

export interface TcpFaultProxyOptions {
  targetPort: number;
  /** Default 127.0.0.1. */
  targetHost?: string;
  /** Every fault decision and delay is drawn from it (pass a SeededRandom to replay decisions). */
  random: Random;
  /** Default `pass`. */
  mode?: ProxyMode;
  /** Default 20..200 ms. */
  delay?: DelayRange;
  /** Default: pass 0.5, the four faults 0.125 each. */
  mix?: FaultMix;
}

export interface ProxyCounters {
  connections: number;
  /** HTTP requests seen (each got one fault decision). */
  requests: number;
  /**
   * Requests per fault applied. cut-response counts answers actually cut: a
   * request drawn for it whose answer never came (the target died) is in
   * `requests` only.
   */
  faults: Record<ProxyFault, number>;
  /** Answers held back by `holdNextResponse`. */
  held: number;
  /** Connections cut because the proxy could not reach the target (it was down). */
  targetUnreachable: number;
}

const DEFAULT_DELAY: DelayRange = Object.freeze({ minMs: 20, maxMs: 200 });
const DEFAULT_MIX: FaultMix = Object.freeze({
  pass: 0.5,
  drop: 0.125,
  delay: 0.125,
  'cut-response': 0.125,
  blackhole: 0.125,
});
const REQUEST_LINE_MAX = 256;

type Phase = 'idle' | 'request' | 'response';

/** Writes chunks to a socket in order, each no earlier than its delay; zero delay on an empty queue is synchronous. */
class DelayedWriter {
  readonly #socket: net.Socket;
  readonly #queue: { at: number; chunk: Buffer; then: (() => void) | undefined }[] = [];
  #timer: NodeJS.Timeout | null = null;

  constructor(socket: net.Socket) {
    this.#socket = socket;
  }

  get idle(): boolean {
    return this.#queue.length === 0;
  }

  write(chunk: Buffer, delayMs: number, then?: () => void): void {
    if (delayMs <= 0 && this.#queue.length === 0) {
      this.#socket.write(chunk);
      then?.();
      return;
    }
    const last = this.#queue.at(-1);
    this.#queue.push({ at: Math.max(performance.now() + delayMs, last?.at ?? 0), chunk, then });
    this.#arm();
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = null;
    this.#queue.length = 0;
  }

  #arm(): void {
    const head = this.#queue[0];
    if (this.#timer || !head) return;
    this.#timer = setTimeout(
      () => {
        this.#timer = null;
        const now = performance.now();
        while (this.#queue[0] && (this.#queue[0].at <= now || this.#socket.destroyed)) {
          const next = this.#queue.shift();
          if (!next || this.#socket.destroyed) continue;
          this.#socket.write(next.chunk);
          next.then?.();
        }
        this.#arm();
      },
      Math.max(0, head.at - performance.now()),
    );
  }
}

interface Link {
  client: net.Socket;
  upstream: net.Socket;
  up: DelayedWriter;
  down: DelayedWriter;
  phase: Phase;
  /** The current request's first line (e.g. `POST /v1/batches HTTP/1.1`). */
  requestLine: string;
  fault: ProxyFault;
  /** The current request's first chunk reached the target. */
  forwarded: boolean;
  /** The current answer is held back: nothing more reaches the client. */
  held: boolean;
  /** Swallowing everything; the client waits until it gives up. */
  blackholed: boolean;
  /** Being closed on purpose (cut-response): close events of either side change nothing. */
  closing: boolean;
  connected: boolean;
}

type WaiterKind = 'forwarded' | 'delivered' | 'held';
interface Waiter {
  kind: WaiterKind;
  match: string;
  resolve: () => void;
  reject: (error: Error) => void;
}

export class TcpFaultProxy {
  readonly port: number;
  readonly #server: net.Server;
  readonly #targetPort: number;
  readonly #targetHost: string;
  readonly #random: Random;
  readonly #links = new Set<Link>();
  readonly #counters: ProxyCounters = {
    connections: 0,
    requests: 0,
    faults: { pass: 0, drop: 0, delay: 0, 'cut-response': 0, blackhole: 0 },
    held: 0,
    targetUnreachable: 0,
  };
  #mode: ProxyMode;
  #delay: DelayRange;
  #mix: { fault: ProxyFault; weight: number }[];
  #waiters: Waiter[] = [];
  /** Request-line prefixes whose next answer is to be held back. */
  #holds: string[] = [];
  #closed = false;

  /** Listens on an ephemeral port of 127.0.0.1, forwarding to the target. */
  static async start(options: TcpFaultProxyOptions): Promise<TcpFaultProxy> {
    const server = net.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const address = server.address();
    if (typeof address !== 'object' || address === null) throw new Error('TcpFaultProxy: no address');
    return new TcpFaultProxy(server, address.port, options);
  }

  private constructor(server: net.Server, port: number, options: TcpFaultProxyOptions) {
    this.#server = server;
    this.port = port;
    this.#targetPort = options.targetPort;
    this.#targetHost = options.targetHost ?? '127.0.0.1';
    this.#random = options.random;
    this.#mode = 'pass';
    this.#delay = DEFAULT_DELAY;
    this.#mix = [];
    this.setMode(options.mode ?? 'pass', {
      delay: options.delay ?? DEFAULT_DELAY,
      mix: options.mix ?? DEFAULT_MIX,
    });
    server.on('connection', (client) => this.#accept(client));
  }

  /** `http://127.0.0.1:<port>`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get mode(): ProxyMode {
    return this.#mode;
  }

  /** A copy of the counters. */
  get counters(): ProxyCounters {
    return { ...this.#counters, faults: { ...this.#counters.faults } };
  }

  /**
   * Switches the mode for requests that start from now on (a request in
   * flight keeps its fault; a blackholed client keeps waiting). `delay` and
   * `mix`, if given, replace the current ones.
   */
  setMode(mode: ProxyMode, options: { delay?: DelayRange; mix?: FaultMix } = {}): void {
    if (!PROXY_MODES.includes(mode)) throw new RangeError(`mode must be one of ${PROXY_MODES.join(', ')}`);
    if (options.delay) {
      const { minMs, maxMs } = options.delay;
      if (!(Number.isFinite(minMs) && Number.isFinite(maxMs) && minMs >= 0 && maxMs >= minMs)) {
        throw new RangeError('delay must have 0 <= minMs <= maxMs');
      }
      this.#delay = Object.freeze({ minMs, maxMs });
    }
    if (options.mix) {
      const mix = PROXY_FAULTS.map((fault) => ({ fault, weight: options.mix?.[fault] ?? 0 }));
      if (mix.some((m) => !Number.isFinite(m.weight) || m.weight < 0) || !mix.some((m) => m.weight > 0)) {
        throw new RangeError('mix weights must be finite, >= 0, and not all 0');
      }
      this.#mix = mix.filter((m) => m.weight > 0);
    }
    this.#mode = mode;
  }

  /** Requests matching `match` (a request-line prefix) that reached the target and whose answer has not begun. */
  inFlight(match: string): number {
    let n = 0;
    for (const link of this.#links) {
      if (link.phase === 'request' && link.forwarded && link.requestLine.startsWith(match)) n++;
    }
    return n;
  }

  /**
   * Resolves when the next request matching `match` has reached the target.
   * `act` runs synchronously at that moment, before the proxy reads anything
   * more: a SIGKILL sent from it finds the request in flight.
   */
  nextRequest(match: string, timeoutMs: number, act?: () => void): Promise<void> {
    return this.#wait('forwarded', match, timeoutMs, act);
  }

  /** Resolves when the answer to the next request matching `match` has begun to reach the client. */
  nextResponse(match: string, timeoutMs: number): Promise<void> {
    return this.#wait('delivered', match, timeoutMs);
  }

  /**
   * Holds back the next answer to a request matching `match`, whatever the
   * mode: the target has answered (and committed), the client never hears.
   * Resolves once it is held; the connection stays open until either side
   * goes away.
   */
  holdNextResponse(match: string, timeoutMs: number): Promise<void> {
    this.#holds.push(match);
    return this.#wait('held', match, timeoutMs).finally(() => {
      const i = this.#holds.indexOf(match);
      if (i >= 0) this.#holds.splice(i, 1);
    });
  }

  /** Cuts every connection (held and blackholed ones too), stops listening; pending waits fail. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const link of this.#links) this.#cut(link);
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const waiter of waiters) waiter.reject(new Error('TcpFaultProxy: closed'));
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #accept(client: net.Socket): void {
    if (this.#closed) {
      client.destroy();
      return;
    }
    this.#counters.connections++;
    const upstream = net.connect(this.#targetPort, this.#targetHost);
    const link: Link = {
      client,
      upstream,
      up: new DelayedWriter(upstream),
      down: new DelayedWriter(client),
      phase: 'idle',
      requestLine: '',
      fault: 'pass',
      forwarded: false,
      held: false,
      blackholed: false,
      closing: false,
      connected: false,
    };
    this.#links.add(link);
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    upstream.once('connect', () => {
      link.connected = true;
    });
    client.on('data', (chunk: Buffer) => this.#fromClient(link, chunk));
    upstream.on('data', (chunk: Buffer) => this.#fromTarget(link, chunk));
    client.on('error', () => this.#cut(link));
    client.on('close', () => this.#cut(link));
    const upstreamGone = () => {
      if (!link.connected && !link.closing && !link.blackholed && this.#links.has(link)) {
        this.#counters.targetUnreachable++;
      }
      // A blackholed client waits for nothing; an answer being cut closes on its own.
      if (link.blackholed || link.closing) return;
      this.#cut(link);
    };
    upstream.on('error', upstreamGone);
    upstream.on('close', upstreamGone);
  }

  #fromClient(link: Link, chunk: Buffer): void {
    if (link.blackholed || link.closing) return;
    const first = link.phase !== 'request';
    if (first) {
      this.#beginRequest(link, chunk);
      if (link.blackholed || !this.#links.has(link)) return;
    }
    link.up.write(chunk, this.#delayFor(link), () => {
      if (!first) return;
      link.forwarded = true;
      this.#notify('forwarded', link.requestLine);
    });
  }

  #beginRequest(link: Link, chunk: Buffer): void {
    const head = chunk.toString('latin1', 0, Math.min(chunk.length, REQUEST_LINE_MAX));
    const eol = head.indexOf('\r\n');
    link.phase = 'request';
    link.requestLine = eol >= 0 ? head.slice(0, eol) : head;
    link.forwarded = false;
    link.held = false;
    link.fault = this.#draw();
    this.#counters.requests++;
    if (link.fault !== 'cut-response') this.#counters.faults[link.fault]++;
    if (link.fault === 'drop') {
      this.#cut(link);
    } else if (link.fault === 'blackhole') {
      link.blackholed = true;
      link.up.clear();
      link.upstream.destroy();
    }
  }

  #fromTarget(link: Link, chunk: Buffer): void {
    if (link.held || link.closing || link.blackholed) return;
    if (link.phase !== 'request') {
      link.down.write(chunk, this.#delayFor(link));
      return;
    }
    link.phase = 'response';
    const hold = this.#holds.findIndex((match) => link.requestLine.startsWith(match));
    if (hold >= 0) {
      this.#holds.splice(hold, 1);
      link.held = true;
      this.#counters.held++;
      this.#notify('held', link.requestLine);
      return;
    }
    if (link.fault === 'cut-response') {
      this.#counters.faults['cut-response']++;
      this.#cutAnswer(link, chunk);
      return;
    }
    const line = link.requestLine;
    link.down.write(chunk, this.#delayFor(link), () => this.#notify('delivered', line));
  }

  /** Forwards 1..n-1 bytes of the answer's first chunk (n bytes long), then closes the client. */
  #cutAnswer(link: Link, chunk: Buffer): void {
    link.closing = true;
    link.upstream.destroy();
    const keep = chunk.length < 2 ? 0 : 1 + Math.floor(this.#random.float() * (chunk.length - 1));
    const finish = () => link.client.end(chunk.subarray(0, keep), () => link.client.destroy());
    // Whatever an earlier delayed chunk still owes goes first.
    if (link.down.idle) finish();
    else link.down.write(Buffer.alloc(0), 0, finish);
  }

  #cut(link: Link): void {
    link.up.clear();
    link.down.clear();
    link.client.destroy();
    link.upstream.destroy();
    this.#links.delete(link);
  }

  #draw(): ProxyFault {
    if (this.#mode !== 'mix') return this.#mode;
    const total = this.#mix.reduce((sum, m) => sum + m.weight, 0);
    let r = this.#random.float() * total;
    for (const m of this.#mix) {
      r -= m.weight;
      if (r < 0) return m.fault;
    }
    return this.#mix.at(-1)?.fault ?? 'pass';
  }

  #delayFor(link: Link): number {
    if (link.fault !== 'delay') return 0;
    const { minMs, maxMs } = this.#delay;
    return minMs + this.#random.float() * (maxMs - minMs);
  }

  #wait(kind: WaiterKind, match: string, timeoutMs: number, act?: () => void): Promise<void> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new Error(`TcpFaultProxy: no ${kind} "${match}" within ${timeoutMs} ms`));
      }, timeoutMs);
      const waiter: Waiter = {
        kind,
        match,
        resolve: () => {
          clearTimeout(timer);
          try {
            act?.();
            resolve();
          } catch (error) {
            reject(error);
          }
        },
        reject: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      this.#waiters.push(waiter);
    });
  }

  #notify(kind: WaiterKind, requestLine: string): void {
    const ready = this.#waiters.filter((w) => w.kind === kind && requestLine.startsWith(w.match));
    if (ready.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => !ready.includes(w));
    for (const waiter of ready) waiter.resolve();
  }
}
