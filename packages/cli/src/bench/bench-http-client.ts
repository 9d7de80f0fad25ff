/**
 * BenchHttpClient: a small keep-alive HTTP/1.1 client on `node:http` with a
 * bounded socket pool, for benchmarks that must drive many logical clients
 * from one process (the global `fetch` cannot be given a pool size without
 * the undici package).
 *
 * A request's timeout starts when it gets a socket, not while it waits in
 * this process's pool queue: that queue is an artifact of simulating many
 * terminals in one process; a real terminal owns its connection.
 */
import { Agent, request } from 'node:http';

/** A readable answer: the status, the `Retry-After` header, the body text. */
export interface HttpAnswer {
  status: number;
  retryAfter: string | undefined;
  text: string;
}

/** No readable answer (timeout, reset, refused, aborted): the outcome is unknown. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
  readonly kind: 'timeout' | 'network' | 'aborted';

  constructor(kind: 'timeout' | 'network' | 'aborted', message: string, options?: ErrorOptions) {
    super(message, options);
    this.kind = kind;
  }
}

export interface RequestOptions {
  body?: string | Uint8Array;
  headers?: Record<string, string>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

export class BenchHttpClient {
  readonly #agent: Agent;
  readonly #host: string;
  readonly #port: number;

  /** `baseUrl` such as `http://127.0.0.1:8080`; at most `maxSockets` connections at once. */
  constructor(baseUrl: string, maxSockets: number) {
    const url = new URL(baseUrl);
    this.#host = url.hostname;
    this.#port = Number(url.port);
    this.#agent = new Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets });
  }

  request(method: 'GET' | 'POST', path: string, options: RequestOptions = {}): Promise<HttpAnswer> {
    const { body, signal, timeoutMs = 10_000 } = options;
    return new Promise<HttpAnswer>((resolveAnswer, rejectAnswer) => {
      let settled = false;
      const resolve = (answer: HttpAnswer) => {
        if (!settled) resolveAnswer(answer);
        settled = true;
      };
      const reject = (error: NoAnswerError) => {
        if (!settled) rejectAnswer(error);
        settled = true;
      };
      if (signal?.aborted) {
        reject(new NoAnswerError('aborted', `${method} ${path}: aborted`));
        return;
      }
      const headers: Record<string, string | number> = { accept: 'application/json', ...options.headers };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = typeof body === 'string' ? Buffer.byteLength(body) : body.byteLength;
      }
      let timer: NodeJS.Timeout | undefined;
      let failure: NoAnswerError | null = null;
      const onAbort = () => {
        failure = new NoAnswerError('aborted', `${method} ${path}: aborted`);
        req.destroy(failure);
      };
      const done = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const fail = (error: Error) => {
        done();
        reject(failure ?? new NoAnswerError('network', `${method} ${path}: ${error.message}`, { cause: error }));
      };
      const req = request({ agent: this.#agent, host: this.#host, port: this.#port, method, path, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.on('end', () => {
          done();
          const retryAfter = res.headers['retry-after'];
          resolve({ status: res.statusCode ?? 0, retryAfter, text: Buffer.concat(chunks).toString('utf8') });
        });
        // Destroyed mid-body (timeout, abort, reset): no readable answer.
        res.on('error', fail);
        res.on('close', () => {
          if (!res.complete) fail(new Error('connection closed before the answer was complete'));
        });
      });
      req.once('socket', () => {
        timer = setTimeout(() => {
          failure = new NoAnswerError('timeout', `${method} ${path}: no answer in ${timeoutMs} ms`);
          req.destroy(failure);
        }, timeoutMs);
      });
      req.on('error', fail);
      signal?.addEventListener('abort', onAbort, { once: true });
      req.end(body);
    });
  }

  /** Closes every pooled connection. */
  close(): void {
    this.#agent.destroy();
  }
}

/** `Retry-After` in delta-seconds as ms (HTTP-dates ignored, as the terminal SDK does). */
export function retryAfterMs(header: string | undefined): number | undefined {
  if (header === undefined || !/^\s*\d+\s*$/.test(header)) return undefined;
  return Number(header.trim()) * 1000;
}

/** Waits `ms`, or less if `signal` aborts first. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', finish);
      resolve();
    }
    signal?.addEventListener('abort', finish, { once: true });
  });
}
