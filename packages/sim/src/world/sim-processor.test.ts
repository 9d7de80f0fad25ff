/**
 * The in-process processor answers the forwarder as the HTTP client would
 * see the processor-sim: answers, replays, refusals with the wire's status
 * and code, and "unknown" for answers lost after commit or too slow — after
 * which the authorization is there to be found by key. And the card pool
 * the processor is told about is the seed's, with tokens, never numbers.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import {
  type AuthorizationRequestBody,
  ProcessorOutcomeUnknownError,
  ProcessorRefusedError,
} from '@holdfast/processor-client';
import { VirtualClock } from '../virtual-clock.js';
import { CardPool } from './card-pool.js';
import { SimProcessor, type SimProcessorOptions } from './sim-processor.js';

const T0 = Date.UTC(2026, 5, 1, 12, 0, 0);
const dirs: string[] = [];
after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function processor(options: Partial<Omit<SimProcessorOptions, 'clock' | 'path'>> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'holdfast-sim-processor-'));
  dirs.push(dir);
  const clock = new VirtualClock(T0);
  const p = new SimProcessor({
    path: join(dir, 'processor.db'),
    clock,
    seed: 7,
    cards: { tok_sim_blocked_0001: { blocked: true } },
    latencyMs: [0, 0],
    lostAnswerRate: 0,
    outages: [],
    ...options,
  });
  const settle = () => new Promise<void>((resolve) => setImmediate(resolve));
  /** Awaits `work` while running virtual time (timers: latency, timeouts, hangs). */
  const run = async <T>(work: Promise<T>): Promise<T> => {
    let done = false;
    const outcome = work.then(
      (value) => ({ value }),
      (error: unknown) => ({ error }),
    );
    void outcome.then(() => {
      done = true;
    });
    for (let i = 0; !done && i < 1_000; i++) await clock.runUntil(clock.now() + 1_000, settle);
    const o = await outcome;
    if ('error' in o) throw o.error;
    return o.value;
  };
  return { p, clock, run, client: p.client() };
}

const request = (over: Partial<AuthorizationRequestBody> = {}): AuthorizationRequestBody => ({
  merchant: 'holdfast-sim',
  amount: 1_250,
  currency: 'EUR',
  card: { token: 'tok_sim_good_00001', brand: 'visa', last4: '4242' },
  capture: true,
  reference: 'op-1',
  offline: true,
  ...over,
});

describe('InProcessProcessor', () => {
  it('answers, replays the same answer for the same key, and refuses a reused key naming the field', async () => {
    const { client, run, p } = processor();
    const first = await run(client.authorize('holdfast-op-1', request()));
    assert.equal(first.replayed, false);
    assert.equal(first.authorization.status, 'approved');
    assert.equal(first.authorization.amount, 1_250);
    const again = await run(client.authorize('holdfast-op-1', request()));
    assert.deepEqual(again, { ...first, replayed: true });
    await assert.rejects(
      run(client.authorize('holdfast-op-1', request({ amount: 1_251 }))),
      (e: unknown) =>
        e instanceof ProcessorRefusedError &&
        e.status === 422 &&
        e.code === 'idempotency_key_reused' &&
        !e.retryable &&
        e.field === 'amount',
    );
    const blocked = await run(
      client.authorize(
        'holdfast-op-2',
        request({ card: { token: 'tok_sim_blocked_0001', brand: 'visa', last4: '0001' } }),
      ),
    );
    assert.equal(blocked.authorization.status, 'declined');
    assert.equal(blocked.authorization.declineCode, 'card_blocked');
    assert.deepEqual([p.figures.created, p.figures.replayed, p.figures.authorizeCalls], [2, 1, 4]);
  });

  it('refuses a bad key with the wire status and field, and every request during an outage with a retryable 503', async () => {
    const { client, run, clock, p } = processor({ outages: [{ from: T0 + 60_000, to: T0 + 120_000 }] });
    await assert.rejects(
      run(client.authorize('', request())),
      (e: unknown) => e instanceof ProcessorRefusedError && e.status === 400 && e.field === 'headers.idempotency-key',
    );
    await clock.runUntil(T0 + 90_000, async () => undefined);
    await assert.rejects(
      run(client.authorize('holdfast-op-3', request())),
      (e: unknown) => e instanceof ProcessorRefusedError && e.status === 503 && e.retryable,
    );
    await assert.rejects(run(client.findByKey('holdfast-op-3')), ProcessorRefusedError);
    assert.equal(p.figures.refused, 2);
    await clock.runUntil(T0 + 120_000, async () => undefined);
    assert.equal((await run(client.authorize('holdfast-op-3', request()))).authorization.status, 'approved');
  });

  it('an answer lost after commit is unknown, never a decline; the authorization is found by key', async () => {
    const { client, run, p, clock } = processor({ lostAnswerRate: 1 });
    const started = clock.now();
    await assert.rejects(
      run(client.authorize('holdfast-op-4', request(), 10_000)),
      (e: unknown) => e instanceof ProcessorOutcomeUnknownError && e.reason === 'timeout',
    );
    assert.ok(clock.now() - started >= 10_000, 'the caller waited out its timeout (the connection hung)');
    const found = await run(client.findByKey('holdfast-op-4'));
    assert.equal(found?.status, 'approved');
    assert.equal(await run(client.findByKey('holdfast-op-never')), null);
    assert.deepEqual([p.figures.lostAnswers, p.figures.lookups], [1, 2]);
  });

  it('slower than the timeout is unknown, and the request still commits', async () => {
    const { client, run, p, clock } = processor({ latencyMs: [5_000, 5_000] });
    await assert.rejects(
      run(client.authorize('holdfast-op-5', request(), 1_000)),
      (e: unknown) => e instanceof ProcessorOutcomeUnknownError && e.reason === 'timeout',
    );
    assert.equal(p.figures.timeouts, 1);
    assert.equal(await run(client.findByKey('holdfast-op-5')), null, 'not decided yet when the caller gave up');
    await clock.runUntil(clock.now() + 5_000, async () => undefined);
    const found = await run(client.findByKey('holdfast-op-5'));
    assert.equal(found?.status, 'approved', 'committed after the caller gave up');
  });
});

describe('CardPool', () => {
  it('draws the same cards from the same seed, with the shares asked for, as tokens', () => {
    const options = { size: 200, blockedShare: 0.05, lowBalanceShare: 0.1, lowBalance: 2_500 };
    const a = new CardPool(new SeededRandom(3), options);
    assert.deepEqual(new CardPool(new SeededRandom(3), options).cards, a.cards);
    assert.notDeepEqual(new CardPool(new SeededRandom(4), options).cards, a.cards);
    const count = (kind: string) => a.cards.filter((c) => c.kind === kind).length;
    assert.deepEqual([count('blocked'), count('low-balance'), count('good')], [10, 20, 170]);
    assert.equal(new Set(a.cards.map((c) => c.token)).size, 200, 'tokens are unique');
    for (const c of a.cards) {
      assert.match(c.token, /^tok_sim_[0-9a-f]{21}$/);
      assert.match(c.last4, /^\d{4}$/);
    }
    const profiles = a.profiles();
    assert.equal(Object.keys(profiles).length, 30, 'good cards have no profile (no limit)');
    assert.deepEqual(profiles[a.first('blocked')?.token ?? ''], { blocked: true });
    assert.deepEqual(profiles[a.first('low-balance')?.token ?? ''], { balance: 2_500 });
    assert.throws(() => new CardPool(new SeededRandom(1), { ...options, size: 0 }), /size must be >= 1/);
  });
});
