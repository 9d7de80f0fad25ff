/**
 * fetchJson: one HTTP request with a JSON body and a JSON answer, through a
 * given `fetch`, with a timeout — the part every Holdfast HTTP client
 * shares (the terminal's transport, the processor client).
 *
 * It only tells apart what a caller needs to decide on: an answer it could
 * read (any status), no answer in time, no answer at all, or an answer
 * that is not JSON. What each means — unknown outcome, refusal, retry — is
 * the caller's to say. Uses only `fetch`, `AbortController` and
 * `setTimeout`, so it runs in a browser as in Node; the timeout runs on real
 * time.
 *
 * It settles by its deadline whatever the network does. Node 20's fetch can
 * leave its promise unsettled when a connection is reset, and an abort does
 * not always reach it; `AbortSignal.timeout` also does not keep a Node
 * process alive, so a process waiting on such a fetch simply ended (exit 0,
 * nothing printed). Here the request races its own timer, which does keep
 * the process alive, and aborts the fetch when the timer wins.
 */

export interface FetchJsonRequest {
  method: 'GET' | 'POST';
  url: string;
  /** Sent with `accept: application/json` (and `content-type` with a body). */
  headers?: Readonly<Record<string, string>>;
  /** Sent as JSON when defined. */
  body?: unknown;
  timeoutMs: number;
}

export type FetchJsonResult =
  /** A readable answer, whatever its status. */
  | { kind: 'answer'; status: number; ok: boolean; headers: Headers; json: unknown }
  /** No answer within the timeout. */
  | { kind: 'timeout'; cause: unknown }
  /** The request failed without an answer (refused, reset, DNS …); `message` says how. */
  | { kind: 'network'; message: string; cause: unknown }
  /** An answer whose body is not JSON (a proxy's HTML error page, a cut body). */
  | { kind: 'not_json'; status: number; cause: unknown };

/** Sends `request` with `fetchFn` and reads the answer as JSON; never throws. */
export async function fetchJson(fetchFn: typeof fetch, request: FetchJsonRequest): Promise<FetchJsonResult> {
  const controller = new AbortController();
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<FetchJsonResult>((settle) => {
    timer = setTimeout(() => {
      const cause = new Error(`no answer within ${request.timeoutMs} ms`);
      cause.name = 'TimeoutError';
      controller.abort(cause);
      settle({ kind: 'timeout', cause });
    }, request.timeoutMs);
  });
  try {
    return await Promise.race([exchange(fetchFn, request, controller.signal), deadline]);
  } finally {
    clearTimeout(timer);
  }
}

async function exchange(
  fetchFn: typeof fetch,
  request: FetchJsonRequest,
  signal: AbortSignal,
): Promise<FetchJsonResult> {
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  const init: RequestInit = { method: request.method, headers, signal };
  if (request.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(request.body);
  }
  let response: Response;
  let text: string;
  try {
    response = await fetchFn(request.url, init);
    text = await response.text();
  } catch (error) {
    const name = error instanceof Error ? error.name : '';
    if (name === 'TimeoutError' || name === 'AbortError') return { kind: 'timeout', cause: error };
    const message = error instanceof Error ? error.message : String(error);
    return { kind: 'network', message, cause: error };
  }
  try {
    const json: unknown = JSON.parse(text);
    return { kind: 'answer', status: response.status, ok: response.ok, headers: response.headers, json };
  } catch (error) {
    return { kind: 'not_json', status: response.status, cause: error };
  }
}
