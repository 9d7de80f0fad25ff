/**
 * Refunds on a real socket, driven by ProcessorClient: once per key (a
 * lost answer is found by key, never refunded twice), never above the
 * capture across refunds, every bad input named, durable across restart.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { ProcessorClient, ProcessorOutcomeUnknownError, ProcessorRefusedError } from '@holdfast/processor-client';
import { type RunningProcessorSim, type StartProcessorSimOptions, startProcessorSim } from './start.js';
import { authRequest } from './testing/fixtures.js';

const dirs: string[] = [];
const running: RunningProcessorSim[] = [];
after(async () => {
  for (const sim of running) await sim.close();
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-refunds-'));
  dirs.push(dir);
  return join(dir, 'data');
}

async function start(options: Partial<StartProcessorSimOptions> = {}) {
  const sim = await startProcessorSim({ dataDir: options.dataDir ?? tempDir(), seed: 5, ...options });
  running.push(sim);
  return { sim, client: new ProcessorClient(sim.url, { apiKey: sim.apiKey, timeoutMs: 5000 }) };
}

async function refused(promise: Promise<unknown>): Promise<ProcessorRefusedError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProcessorRefusedError, `expected a refusal, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a refusal');
}

describe('processor refunds', () => {
  it('refunds once per key, never above the capture across refunds, and credits the card back', async () => {
    const { client } = await start({ cards: { tok_limited: { balance: 10_000 } } });
    const { authorization } = await client.authorize(
      'sale-1',
      authRequest({ amount: 3000, card: { token: 'tok_limited' } }),
    );
    assert.equal(authorization.status, 'approved');
    const ask = (amount: number) => ({ authorization: authorization.id, amount, currency: 'EUR' });

    const first = await client.refund('refund:a', ask(1000));
    assert.equal(first.replayed, false);
    assert.equal(first.refund.refunded, 1000);
    const again = await client.refund('refund:a', ask(1000));
    assert.deepEqual(again, { refund: first.refund, replayed: true });

    const reused = await refused(client.refund('refund:a', ask(999)));
    assert.deepEqual([reused.status, reused.code], [422, 'idempotency_key_reused']);
    const over = await refused(client.refund('refund:b', ask(2001)));
    assert.deepEqual([over.status, over.code, over.retryable], [422, 'refund_over_capture', false]);
    assert.match(over.message, /at most 2000 more/);
    const rest = await client.refund('refund:b', ask(2000));
    assert.equal(rest.refund.refunded, 3000);
    assert.equal((await refused(client.refund('refund:c', ask(1)))).code, 'refund_over_capture');

    assert.equal((await client.findRefundByKey('refund:b'))?.id, rest.refund.id);
    assert.equal(await client.findRefundByKey('refund:nope'), null);
    const stats = await client.stats();
    assert.equal(stats.sinceStart.keyReused, 1);
  });

  it('refuses a refund of a declined, unknown or other-currency authorization with nothing stored', async () => {
    const { client } = await start({ cards: { tok_blocked: { blocked: true } } });
    const { authorization: declined } = await client.authorize(
      'sale-d',
      authRequest({ card: { token: 'tok_blocked' } }),
    );
    assert.equal(declined.status, 'declined');
    const { authorization: approved } = await client.authorize('sale-e', authRequest({ amount: 500 }));
    for (const [key, body] of [
      ['r1', { authorization: declined.id, amount: 1, currency: 'EUR' }],
      ['r2', { authorization: 'auth_000000000000000000000000', amount: 1, currency: 'EUR' }],
      ['r3', { authorization: approved.id, amount: 1, currency: 'USD' }],
    ] as const) {
      const error = await refused(client.refund(key, body));
      assert.deepEqual([error.status, error.code], [422, 'refund_not_captured'], key);
      assert.equal(await client.findRefundByKey(key), null);
    }
  });

  it('answers 400 naming the field for bad refund input', async () => {
    const { client } = await start();
    const good = { authorization: 'auth_000000000000000000000000', amount: 1, currency: 'EUR' };
    const cases: [string, string, unknown][] = [
      ['authorization', 'k', { ...good, authorization: 'sale-1' }],
      ['authorization', 'k', { ...good, authorization: undefined }],
      ['amount', 'k', { ...good, amount: 0 }],
      ['amount', 'k', { ...good, amount: 1.5 }],
      ['amount', 'k', { ...good, amount: '1' }],
      ['currency', 'k', { ...good, currency: 'eur' }],
      ['card', 'k', { ...good, card: 'tok_visa' }],
      ['headers.idempotency-key', 'has space', good],
    ];
    for (const [field, key, body] of cases) {
      const error = await refused(client.refund(key, body as typeof good));
      assert.deepEqual([error.status, error.code, error.field], [400, 'invalid_request', field], JSON.stringify(body));
    }
  });

  for (const timeoutMode of ['hang', 'destroy'] as const) {
    it(`a refund whose answer is lost (${timeoutMode}) is found by key and never made twice`, {
      timeout: 20_000,
    }, async () => {
      const dataDir = tempDir();
      const { sim, client } = await start({ dataDir, cards: { tok_limited: { balance: 10_000 } } });
      const { authorization } = await client.authorize(
        'sale-1',
        authRequest({ amount: 4000, card: { token: 'tok_limited' } }),
      );
      await client.configure({ timeoutAfterCommitRate: 1, timeoutMode, hangMs: 2000 });
      const ask = { authorization: authorization.id, amount: 1500, currency: 'EUR' };
      await assert.rejects(client.refund('refund:lost', ask, 300), ProcessorOutcomeUnknownError);
      const found = await client.findRefundByKey('refund:lost');
      assert.equal(found?.amount, 1500);
      // Sent again under the same key: the stored refund, answered (replays never lie).
      const again = await client.refund('refund:lost', ask);
      assert.deepEqual([again.replayed, again.refund.id, again.refund.refunded], [true, found?.id, 1500]);
      assert.deepEqual((await client.stats()).sinceStart.timeoutsAfterCommit, 1);
      // Durable: after a restart on the same data, the key still answers the one refund.
      await sim.close();
      const restarted = await start({ dataDir });
      assert.equal((await restarted.client.findRefundByKey('refund:lost'))?.id, found?.id);
      const card = restarted.sim.service.card('tok_limited');
      assert.equal(card?.balance, 10_000 - 4000 + 1500);
    });
  }
});
