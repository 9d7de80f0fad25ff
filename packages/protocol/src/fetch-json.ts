/**
 * fetchJson: one HTTP request with a JSON body and a JSON answer, through a
 * given `fetch`, with a timeout — the part every Holdfast HTTP client
 * shares (the terminal's transport, the processor client).
 *
 * It only tells apart what a caller needs to decide on: an answer it could
 * read (any status), no answer in time, no answer at all, or an answer
 * that is not JSON. What each means — unknown outcome, refusal, retry — is
 * the caller's to say. Uses only `fetch` and `AbortSignal.timeout`, so it
 * runs in a browser as in Node; the timeout runs on real time.
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
  const headers: Record<string, string> = { accept: 'application/json', ...request.headers };
  const init: RequestInit = { method: request.method, headers, signal: AbortSignal.timeout(request.timeoutMs) };
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
