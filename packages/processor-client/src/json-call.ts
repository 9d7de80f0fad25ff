/**
 * One HTTP call to a service that commits before it answers (the card
 * processor, the tax authority), classified the one way both clients need:
 * a 2xx is the answer; a refusal the service stands by (any 4xx with its
 * coded body, or its own "unavailable" 503) is ProcessorRefusedError —
 * nothing was done; anything else (timeout, reset, another 5xx, a body that
 * is not its JSON) is ProcessorOutcomeUnknownError — it may have committed,
 * so the caller asks by idempotency key before trying again.
 */
import { fetchJson } from '@holdfast/protocol';
import { ProcessorOutcomeUnknownError, ProcessorRefusedError } from './errors.js';

export type Json = Record<string, unknown>;
export const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface JsonCall {
  fetch: typeof fetch;
  /** Base URL without a trailing slash. */
  base: string;
  apiKey: string;
  method: 'GET' | 'POST';
  path: string;
  body: unknown;
  timeoutMs: number;
  headers?: Record<string, string>;
  /** The only 5xx code that promises nothing was done (the service's simulated outage). */
  unavailableCode: string;
  /** Who answered, in messages: "processor", "authority". */
  service: string;
}

export async function callJson(call: JsonCall): Promise<{ status: number; body: unknown; headers: Headers }> {
  const { method, path, timeoutMs } = call;
  const what = `${method} ${path.split('?')[0]}`;
  const result = await fetchJson(call.fetch, {
    method,
    url: `${call.base}${path}`,
    headers: { authorization: `Bearer ${call.apiKey}`, ...call.headers },
    body: call.body,
    timeoutMs,
  });
  switch (result.kind) {
    case 'timeout':
      throw new ProcessorOutcomeUnknownError('timeout', `${what}: no answer within ${timeoutMs} ms`, {
        cause: result.cause,
      });
    case 'network':
      throw new ProcessorOutcomeUnknownError('network', `${what}: ${result.message}`, { cause: result.cause });
    case 'not_json':
      throw new ProcessorOutcomeUnknownError(
        result.status >= 500 ? 'server_error' : 'bad_response',
        `${what}: HTTP ${result.status} body is not JSON`,
        { cause: result.cause },
      );
  }
  const { status, headers, json } = result;
  if (result.ok) return { status, body: json, headers };
  // Only the service's own "unavailable" 503 promises nothing was done; any other 5xx may have come after a commit.
  const refusal =
    isObject(json) &&
    typeof json.code === 'string' &&
    typeof json.message === 'string' &&
    (status < 500 || (status === 503 && json.code === call.unavailableCode));
  if (!refusal) {
    throw new ProcessorOutcomeUnknownError(
      status >= 500 ? 'server_error' : 'bad_response',
      `${what}: HTTP ${status} is not an answer the ${call.service} stands by`,
    );
  }
  throw new ProcessorRefusedError(
    status,
    json.code as string,
    json.message as string,
    json.retryable === true,
    typeof json.field === 'string' ? json.field : undefined,
  );
}

export function badResponse(what: string, status: number): ProcessorOutcomeUnknownError {
  return new ProcessorOutcomeUnknownError('bad_response', `${what}: HTTP ${status} body lacks expected fields`);
}
