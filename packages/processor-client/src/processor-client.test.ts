/**
 * ProcessorClient's reading of answers: what is an answer, what is a
 * refusal (nothing done), and what is "unknown" (maybe charged).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProcessorOutcomeUnknownError, ProcessorRefusedError } from './errors.js';
import { ProcessorClient } from './processor-client.js';
import { authRequest } from './testing/auth-request.js';

function clientAnswering(status: number, body: string, headers: Record<string, string> = {}) {
  const seen: { url: string; init: RequestInit }[] = [];
  const fake = (async (url: string, init: RequestInit) => {
    seen.push({ url, init });
    return new Response(body, { status, headers: { 'content-type': 'application/json', ...headers } });
  }) as unknown as typeof fetch;
  return { client: new ProcessorClient('http://processor.test/', { apiKey: 'k'.repeat(20), fetch: fake }), seen };
}

const APPROVED = JSON.stringify({
  id: 'auth_0123456789abcdef01234567',
  status: 'approved',
  merchant: 'venue-1',
  amount: 1250,
  currency: 'EUR',
  card: { brand: 'visa', last4: '4242' },
  offline: false,
  createdAt: 1,
});

async function outcome(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
    return 'answered';
  } catch (error) {
    if (error instanceof ProcessorOutcomeUnknownError) return `unknown:${error.reason}`;
    if (error instanceof ProcessorRefusedError) return `refused:${error.status}:${error.code}:${error.retryable}`;
    throw error;
  }
}

describe('ProcessorClient', () => {
  it('sends the key, the bearer key and JSON; reads a replay from the header', async () => {
    const { client, seen } = clientAnswering(200, APPROVED, { 'idempotent-replayed': 'true' });
    const answer = await client.authorize('op-1', authRequest(), 1000);
    assert.equal(answer.replayed, true);
    assert.equal(answer.authorization.status, 'approved');
    const sent = seen[0];
    assert.equal(sent?.url, 'http://processor.test/v1/authorizations');
    const headers = sent?.init.headers as Record<string, string>;
    assert.equal(headers['idempotency-key'], 'op-1');
    assert.equal(headers.authorization, `Bearer ${'k'.repeat(20)}`);
    assert.deepEqual(JSON.parse(sent?.init.body as string), authRequest());
  });

  it('tells refusals (nothing done) from unknown outcomes (maybe charged)', async () => {
    const error = (code: string, retryable = false) => JSON.stringify({ code, message: 'm', retryable });
    const cases: [number, string, string][] = [
      [201, APPROVED, 'answered'],
      [201, JSON.stringify({ ...JSON.parse(APPROVED), status: 'declined', declineCode: 'do_not_honor' }), 'answered'],
      [400, error('invalid_request'), 'refused:400:invalid_request:false'],
      [422, error('idempotency_key_reused'), 'refused:422:idempotency_key_reused:false'],
      [503, error('processor_unavailable', true), 'refused:503:processor_unavailable:true'],
      // Another 5xx, even with an error body, may have come after the commit.
      [500, error('internal', true), 'unknown:server_error'],
      [503, error('overloaded', true), 'unknown:server_error'],
      [502, '<html>Bad Gateway</html>', 'unknown:server_error'],
      [200, '<html>captive portal</html>', 'unknown:bad_response'],
      [201, JSON.stringify({ ok: true }), 'unknown:bad_response'],
      [404, 'Not Found', 'unknown:bad_response'],
    ];
    for (const [status, body, expected] of cases) {
      const { client } = clientAnswering(status, body);
      assert.equal(await outcome(client.authorize('op-1', authRequest(), 1000)), expected, `${status} ${body}`);
    }
  });

  it('a network failure or a timeout is unknown, never a decline', async () => {
    const refused = new ProcessorClient('http://127.0.0.1:9', { apiKey: 'k'.repeat(20) });
    assert.equal(await outcome(refused.authorize('op-1', authRequest(), 2000)), 'unknown:network');
    const never = (async (_url: string, init: RequestInit) =>
      new Promise((_resolve, reject) => {
        init.signal?.addEventListener('abort', () => reject(init.signal?.reason));
      })) as unknown as typeof fetch;
    const slow = new ProcessorClient('http://processor.test', { apiKey: 'k'.repeat(20), fetch: never });
    // AbortSignal.timeout does not keep the process alive; a real request's socket would.
    const alive = setTimeout(() => {}, 10_000);
    try {
      assert.equal(await outcome(slow.authorize('op-1', authRequest(), 20)), 'unknown:timeout');
    } finally {
      clearTimeout(alive);
    }
  });

  it('findByKey: the authorization, null on 404 not_found, unknown otherwise', async () => {
    assert.equal((await clientAnswering(200, APPROVED).client.findByKey('op 1'))?.status, 'approved');
    const { client, seen } = clientAnswering(
      404,
      JSON.stringify({ code: 'not_found', message: 'm', retryable: false }),
    );
    assert.equal(await client.findByKey('op 1'), null);
    assert.equal(seen[0]?.url, 'http://processor.test/v1/authorizations?idempotencyKey=op%201');
    assert.equal(
      await outcome(clientAnswering(504, 'gateway timeout').client.findByKey('op-1')),
      'unknown:server_error',
    );
  });
});
