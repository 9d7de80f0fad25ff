/**
 * pinnedFetch: a `fetch` for HttpTransport that trusts only the given
 * certificate authority (or the server's own self-signed certificate,
 * pinned), over node:https. Node's global fetch cannot take a CA per
 * request, and undici (which could) is not a dependency here. Node-only.
 *
 * It does what fetchJson needs of a fetch: method, headers, a string body,
 * an AbortSignal, and a Response with status, headers and the body text.
 */
import { Agent, request as httpsRequest } from 'node:https';

export interface PinnedFetchOptions {
  /** PEM certificate(s) trusted for the server: its CA, or its own certificate (pinning). */
  ca: string | Buffer;
}

export function pinnedFetch(options: PinnedFetchOptions): typeof fetch {
  // Its own connection pool: kept-alive connections are reused by this fetch only, all under this CA.
  const agent = new Agent({ keepAlive: true, ca: options.ca });
  return ((input: string | URL, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    if (url.protocol !== 'https:') {
      return Promise.reject(new TypeError(`a pinned CA needs an https:// server URL, got ${url.protocol}//`));
    }
    return new Promise<Response>((resolve, reject) => {
      const signal = init.signal ?? undefined;
      if (signal?.aborted) {
        reject(signal.reason);
        return;
      }
      const req = httpsRequest(url, {
        method: init.method ?? 'GET',
        headers: init.headers as Record<string, string> | undefined,
        agent,
      });
      const onAbort = () => req.destroy(signal?.reason instanceof Error ? signal.reason : new Error('aborted'));
      signal?.addEventListener('abort', onAbort, { once: true });
      req.once('error', (error) => {
        signal?.removeEventListener('abort', onAbort);
        reject(error);
      });
      req.once('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('error', reject);
        res.once('end', () => {
          signal?.removeEventListener('abort', onAbort);
          const headers = new Headers();
          for (const [name, value] of Object.entries(res.headers)) {
            if (Array.isArray(value)) for (const v of value) headers.append(name, v);
            else if (value !== undefined) headers.set(name, value);
          }
          const status = res.statusCode ?? 0;
          const empty = status === 204 || status === 304 || (status >= 100 && status < 200);
          resolve(new Response(empty ? null : Buffer.concat(chunks), { status, headers }));
        });
      });
      if (typeof init.body === 'string') req.end(init.body);
      else req.end();
    });
  }) as typeof fetch;
}
