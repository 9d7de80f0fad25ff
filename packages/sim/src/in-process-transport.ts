/**
 * A Transport that calls a HoldfastService in the same process, with the
 * same JSON round trip and error mapping as HTTP but no network: for
 * benchmarks, tools and tests that want the real SDK and server without
 * sockets or faults.
 */
import { ERROR_CODES } from '@holdfast/protocol';
import { type HoldfastService, toWireError } from '@holdfast/server';
import type { Transport, TransportResult } from '@holdfast/terminal';

async function call<T>(request: unknown, handle: (body: unknown) => Promise<T>): Promise<TransportResult<T>> {
  try {
    const body = await handle(JSON.parse(JSON.stringify(request)));
    return { ok: true, status: 200, body: JSON.parse(JSON.stringify(body)) as T };
  } catch (error) {
    const wire = toWireError(error);
    return { ok: false, status: ERROR_CODES[wire.code].status, error: wire };
  }
}

export function inProcessTransport(service: HoldfastService): Transport {
  return {
    enroll: (req) => call(req, (b) => service.enroll(b)),
    sendBatch: (batch) => call(batch, (b) => service.ingest(b)),
    queryOps: (query) => call(query, (b) => service.queryOps(b)),
    fetchPolicy: (req) => call(req, (b) => service.fetchPolicy(b)),
    fetchFeed: (req) => call(req, (b) => service.fetchFeed(b)),
    loyalty: (req) => call(req, (b) => service.loyaltyAsk(b)),
    ping: () => call({}, async () => ({ status: 'ok', time: service.now() })),
  };
}
