/**
 * Sending a workload's signed batches to `holdfast server` processes over
 * HTTP, as the ingest benchmarks do: enrollment through the operator API,
 * then each device's batches in order, one request at a time, every op
 * required to come back accepted.
 */
import type { IngestResponse } from '@holdfast/protocol';
import type { HoldfastService } from '@holdfast/server';
import type { BenchHttpClient } from './bench-http-client.js';

/** What enrollment needs: a service in process, or the same two calls over HTTP. */
export type Enroller = Pick<HoldfastService, 'createEnrollmentToken' | 'enroll'>;

/** One signed batch as sent: its device, its JSON text, its ops. */
export interface BatchText {
  device: string;
  text: string;
  ops: readonly unknown[];
}

/** Enrollment (token, then enroll) over HTTP with the operator's bearer token. */
export function httpEnroller(client: BenchHttpClient, operatorToken: string): Enroller {
  const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
    const answer = await client.request('POST', path, {
      body: JSON.stringify(body ?? {}),
      headers: { 'content-type': 'application/json', ...headers },
    });
    if (answer.status !== 200) throw new Error(`bench: ${path} HTTP ${answer.status} ${answer.text}`);
    return JSON.parse(answer.text);
  };
  return {
    createEnrollmentToken: (body) =>
      post('/v1/admin/enrollment-tokens', body, { authorization: `Bearer ${operatorToken}` }),
    enroll: (body) => post('/v1/enroll', body),
  };
}

/** The workload's batches grouped by device, each device's in order. */
export function byDevice<B extends BatchText>(batches: readonly B[]): B[][] {
  const lanes = new Map<string, B[]>();
  for (const batch of batches) lanes.set(batch.device, [...(lanes.get(batch.device) ?? []), batch]);
  return [...lanes.values()];
}

/**
 * Sends every device's batches at once, each device's one at a time in
 * order; request k of device d goes to client (d + k) % clients. Throws
 * unless every batch is answered 200 with every op accepted.
 */
export async function sendLanes(
  label: string,
  clients: readonly BenchHttpClient[],
  lanes: readonly (readonly BatchText[])[],
) {
  await Promise.all(
    lanes.map(async (lane, d) => {
      for (const [k, batch] of lane.entries()) {
        const client = clients[(d + k) % clients.length] as BenchHttpClient;
        const answer = await client.request('POST', '/v1/batches', {
          body: batch.text,
          headers: { 'content-type': 'application/json' },
          timeoutMs: 60_000,
        });
        if (answer.status !== 200)
          throw new Error(`bench ${label}: HTTP ${answer.status} ${answer.text.slice(0, 500)}`);
        const response = JSON.parse(answer.text) as IngestResponse;
        const bad = response.results.find((r) => r.status !== 'accepted');
        if (bad || response.results.length !== batch.ops.length)
          throw new Error(`bench ${label}: not every op accepted: ${JSON.stringify(bad ?? response.results.length)}`);
      }
    }),
  );
}
