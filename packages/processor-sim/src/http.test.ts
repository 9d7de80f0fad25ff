/**
 * The HTTP API in process (Fastify inject): authentication, status codes,
 * replay headers, every bad input named, outages, listing and stats.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Authorization } from '@holdfast/processor-client';
import type { FastifyInstance } from 'fastify';
import { buildProcessorApp } from './http.js';
import type { ProcessorKnobs } from './knobs.js';
import type { ProcessorService } from './processor-service.js';
import { authRequest, memoryService, refClock, TEST_API_KEY } from './testing/fixtures.js';

const AUTH = { authorization: `Bearer ${TEST_API_KEY}` };

function app(knobs: Partial<ProcessorKnobs> = {}): { app: FastifyInstance; service: ProcessorService } {
  const service = memoryService({ clock: refClock, knobs, cards: { tok_blocked: { blocked: true } } });
  return { app: buildProcessorApp({ service, apiKey: TEST_API_KEY }), service };
}

function authorize(target: FastifyInstance, key: string | undefined, body: unknown) {
  return target.inject({
    method: 'POST',
    url: '/v1/authorizations',
    headers: { ...AUTH, ...(key !== undefined ? { 'idempotency-key': key } : {}) },
    payload: body as object,
  });
}

/** A request with one field changed: `path` is dotted; `undefined` removes it. */
function mutated(path: string, value: unknown): Record<string, unknown> {
  const body = structuredClone(authRequest()) as Record<string, unknown>;
  const keys = path.split('.');
  let at = body;
  for (const k of keys.slice(0, -1)) at = at[k] as Record<string, unknown>;
  const last = keys[keys.length - 1] as string;
  if (value === undefined) delete at[last];
  else at[last] = value;
  return body;
}

describe('processor HTTP API', () => {
  it('answers 401 without the API key or with a wrong one; /v1/health needs none', async () => {
    const { app: target } = app();
    for (const headers of [
      {},
      { authorization: 'Bearer wrong-key-wrong-key-wrong' },
      { authorization: TEST_API_KEY },
    ]) {
      for (const [method, url] of [
        ['POST', '/v1/authorizations'],
        ['GET', '/v1/authorizations?idempotencyKey=k'],
        ['GET', '/v1/stats'],
        ['POST', '/v1/admin/config'],
      ] as const) {
        const res = await target.inject({ method, url, headers, ...(method === 'POST' ? { payload: {} } : {}) });
        assert.equal(res.statusCode, 401, `${method} ${url} with ${JSON.stringify(headers)}`);
        assert.equal(res.json().code, 'unauthorized');
      }
    }
    assert.equal((await target.inject({ method: 'GET', url: '/v1/health' })).statusCode, 200);
  });

  it('creates with 201, replays with 200 and the identical body, marked by idempotent-replayed', async () => {
    const { app: target } = app();
    const created = await authorize(target, 'key-1', authRequest());
    assert.equal(created.statusCode, 201);
    assert.equal(created.headers['idempotent-replayed'], 'false');
    const body = created.json() as Authorization;
    assert.equal(body.status, 'approved');
    assert.deepEqual(body.card, { brand: 'visa', last4: '4242' });
    assert.equal(created.body.includes('tok_visa_4242'), false, 'the card token is not echoed');
    const replay = await authorize(target, 'key-1', authRequest());
    assert.equal(replay.statusCode, 200);
    assert.equal(replay.headers['idempotent-replayed'], 'true');
    assert.equal(replay.body, created.body);
  });

  it('answers 422 idempotency_key_reused naming the field for the same key with another request', async () => {
    const { app: target, service } = app();
    await authorize(target, 'key-1', authRequest());
    const res = await authorize(target, 'key-1', authRequest({ currency: 'GBP' }));
    assert.equal(res.statusCode, 422);
    const error = res.json();
    assert.equal(error.code, 'idempotency_key_reused');
    assert.equal(error.field, 'currency');
    assert.match(error.message, /currency \(was "EUR", now "GBP"\)/);
    assert.equal(service.stats().authorizations, 1);
  });

  it('20 concurrent requests with one key: one authorization, one 201, identical bodies', async () => {
    const { app: target, service } = app({ latencyMs: [1, 20] });
    const answers = await Promise.all(Array.from({ length: 20 }, () => authorize(target, 'same', authRequest())));
    assert.deepEqual(answers.map((a) => a.statusCode).sort(), [...Array<number>(19).fill(200), 201]);
    assert.equal(new Set(answers.map((a) => a.body)).size, 1);
    assert.equal(service.stats().authorizations, 1);
  });

  it('answers 400 naming the field for every kind of bad input, and stores none of them', async () => {
    const { app: target, service } = app();
    const cases: [string, string | undefined, unknown][] = [
      ['merchant', 'k', mutated('merchant', undefined)],
      ['merchant', 'k', mutated('merchant', '')],
      ['amount', 'k', mutated('amount', 0)],
      ['amount', 'k', mutated('amount', -5)],
      ['amount', 'k', mutated('amount', 12.5)],
      ['amount', 'k', mutated('amount', '1250')],
      ['amount', 'k', mutated('amount', 10 ** 13)],
      ['currency', 'k', mutated('currency', 'eur')],
      ['currency', 'k', mutated('currency', 'EURO')],
      ['currency', 'k', mutated('currency', undefined)],
      ['card', 'k', mutated('card', undefined)],
      ['card', 'k', mutated('card', 'tok_visa')],
      ['card.token', 'k', mutated('card.token', '')],
      ['card.brand', 'k', mutated('card.brand', undefined)],
      ['card.last4', 'k', mutated('card.last4', '42a2')],
      ['card.last4', 'k', mutated('card.last4', '12345')],
      ['card.last4', 'k', mutated('card.last4', 4242)],
      ['card.number', 'k', mutated('card.number', '4242424242424242')],
      ['capture', 'k', mutated('capture', false)],
      ['capture', 'k', mutated('capture', undefined)],
      ['reference', 'k', mutated('reference', '')],
      ['reference', 'k', mutated('reference', 42)],
      ['offline', 'k', mutated('offline', 'yes')],
      ['cvv', 'k', mutated('cvv', '123')],
      ['body', 'k', []],
      ['headers.idempotency-key', undefined, authRequest()],
      ['headers.idempotency-key', 'x'.repeat(256), authRequest()],
      ['headers.idempotency-key', 'has space', authRequest()],
      ['headers.idempotency-key', 'ключ', authRequest()],
    ];
    for (const [field, key, body] of cases) {
      const res = await authorize(target, key, body);
      assert.equal(res.statusCode, 400, `${field}: ${res.body}`);
      const error = res.json();
      assert.equal(error.code, 'invalid_request', res.body);
      assert.equal(error.field, field, res.body);
      assert.equal(typeof error.rule, 'string', res.body);
      assert.equal(error.retryable, false);
    }
    assert.equal(service.stats().authorizations, 0);
  });

  it('answers malformed JSON with 400, another content type with 415, bad query parameters with 400', async () => {
    const { app: target } = app();
    const bad = await target.inject({
      method: 'POST',
      url: '/v1/authorizations',
      headers: { ...AUTH, 'idempotency-key': 'k', 'content-type': 'application/json' },
      payload: '{"amount": ',
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().code, 'malformed_json');
    const text = await target.inject({
      method: 'POST',
      url: '/v1/authorizations',
      headers: { ...AUTH, 'idempotency-key': 'k', 'content-type': 'text/plain' },
      payload: 'pay me',
    });
    assert.equal(text.statusCode, 415);
    for (const [url, field] of [
      ['/v1/authorizations?limit=0', 'query.limit'],
      ['/v1/authorizations?limit=abc', 'query.limit'],
      ['/v1/authorizations?after=-1', 'query.after'],
      ['/v1/authorizations?idempotencyKey=k&limit=5', 'query.idempotencyKey'],
      ['/v1/authorizations?idempotencyKey=', 'query.idempotencyKey'],
      ['/v1/authorizations/not-an-id', 'params.id'],
    ]) {
      const res = await target.inject({ method: 'GET', url: url as string, headers: AUTH });
      assert.equal(res.statusCode, 400, `${url}: ${res.body}`);
      assert.equal(res.json().field, field, url);
    }
  });

  it('finds an authorization by key and by id, 404 for unknown ones, and lists them in creation order', async () => {
    const { app: target } = app();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await authorize(target, `key-${i}`, authRequest())).json().id);
    const byKey = await target.inject({ method: 'GET', url: '/v1/authorizations?idempotencyKey=key-3', headers: AUTH });
    assert.equal(byKey.statusCode, 200);
    assert.equal(byKey.json().id, ids[3]);
    const byId = await target.inject({ method: 'GET', url: `/v1/authorizations/${ids[2]}`, headers: AUTH });
    assert.equal(byId.json().id, ids[2]);
    const missing = await target.inject({
      method: 'GET',
      url: '/v1/authorizations?idempotencyKey=nope',
      headers: AUTH,
    });
    assert.equal(missing.statusCode, 404);
    assert.equal(missing.json().code, 'not_found');
    const page = await target.inject({ method: 'GET', url: '/v1/authorizations?after=1&limit=3', headers: AUTH });
    const body = page.json();
    assert.deepEqual(
      body.items.map((i: { seq: number; idempotencyKey: string; authorization: Authorization }) => [
        i.seq,
        i.idempotencyKey,
        i.authorization.id,
      ]),
      [
        [2, 'key-1', ids[1]],
        [3, 'key-2', ids[2]],
        [4, 'key-3', ids[3]],
      ],
    );
    assert.equal(body.next, 4);
  });

  it('in an outage answers 503 retryable and stores nothing; stats and admin stay reachable', async () => {
    const { app: target, service } = app({ outageRate: 1 });
    const res = await authorize(target, 'k1', authRequest());
    assert.equal(res.statusCode, 503);
    assert.deepEqual(
      { code: res.json().code, retryable: res.json().retryable },
      { code: 'processor_unavailable', retryable: true },
    );
    const query = await target.inject({ method: 'GET', url: '/v1/authorizations?idempotencyKey=k1', headers: AUTH });
    assert.equal(query.statusCode, 503);
    const stats = await target.inject({ method: 'GET', url: '/v1/stats', headers: AUTH });
    assert.equal(stats.json().authorizations, 0);
    assert.equal(stats.json().sinceStart.outages, 2);
    const heal = await target.inject({
      method: 'POST',
      url: '/v1/admin/config',
      headers: AUTH,
      payload: { outageRate: 0 },
    });
    assert.equal(heal.statusCode, 200);
    assert.equal(heal.json().outageRate, 0);
    assert.equal((await authorize(target, 'k1', authRequest())).statusCode, 201);
    assert.equal(service.stats().authorizations, 1);
  });

  it('reports stats by status, decline code and currency', async () => {
    const { app: target } = app();
    await authorize(target, 'a', authRequest({ amount: 100 }));
    await authorize(target, 'b', authRequest({ amount: 250, currency: 'GBP' }));
    await authorize(target, 'c', authRequest({ amount: 70, card: { token: 'tok_blocked' } }));
    const stats = (await target.inject({ method: 'GET', url: '/v1/stats', headers: AUTH })).json();
    assert.equal(stats.authorizations, 3);
    assert.deepEqual(stats.byStatus, { approved: 2, declined: 1 });
    assert.deepEqual(stats.byDeclineCode, { card_blocked: 1 });
    assert.deepEqual(stats.totals.EUR, { approved: { count: 1, amount: 100 }, declined: { count: 1, amount: 70 } });
    assert.deepEqual(stats.totals.GBP, { approved: { count: 1, amount: 250 }, declined: { count: 0, amount: 0 } });
    assert.equal(stats.duplicateApprovedReferences, 1, 'a and b carry one reference under two keys');
  });

  it('changes knobs and card profiles at run time, validated, and shows a card', async () => {
    const { app: target } = app();
    const bad = await target.inject({
      method: 'POST',
      url: '/v1/admin/config',
      headers: AUTH,
      payload: { declineRate: 7 },
    });
    assert.equal(bad.statusCode, 400);
    assert.equal(bad.json().field, 'declineRate');
    const ok = await target.inject({
      method: 'POST',
      url: '/v1/admin/config',
      headers: AUTH,
      payload: { latencyMs: [0, 2], cards: { tok_new: { balance: 300 } } },
    });
    assert.deepEqual(ok.json().latencyMs, [0, 2]);
    const config = await target.inject({ method: 'GET', url: '/v1/admin/config', headers: AUTH });
    assert.deepEqual(config.json().latencyMs, [0, 2]);
    const card = await target.inject({ method: 'GET', url: '/v1/admin/cards/tok_new', headers: AUTH });
    assert.deepEqual(card.json(), { token: 'tok_new', balance: 300, blocked: false, expired: false });
    const none = await target.inject({ method: 'GET', url: '/v1/admin/cards/tok_nobody', headers: AUTH });
    assert.equal(none.statusCode, 404);
  });
});
