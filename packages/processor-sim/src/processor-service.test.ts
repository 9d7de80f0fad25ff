/**
 * The processor's logic without HTTP: idempotency, decisions, card
 * balances, seeded randomness, outages and timeouts after commit.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ManualClock } from '@holdfast/domain/testing';
import { ProcessorError } from './errors.js';
import { type AuthorizeResult, ProcessorService } from './processor-service.js';
import { ProcessorStorage } from './storage.js';
import { authRequest, memoryService } from './testing/fixtures.js';

async function rejects(promise: Promise<unknown>, code: string, field?: string): Promise<ProcessorError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof ProcessorError, `expected a ProcessorError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    if (field !== undefined) assert.equal(error.field, field, error.message);
    return error;
  }
  assert.fail(`expected ${code}`);
}

describe('idempotency', () => {
  it('a replay of the same key and request gets the stored answer, byte for byte, and stores nothing new', async () => {
    const service = memoryService();
    const first = await service.authorize('key-1', authRequest());
    assert.equal(first.outcome, 'created');
    assert.equal(first.authorization.status, 'approved');
    const again = await service.authorize('key-1', authRequest());
    assert.equal(again.outcome, 'replayed');
    assert.equal(again.json, first.json);
    assert.equal(service.list(0, 100).items.length, 1);
    assert.equal(service.stats().sinceStart.replayed, 1);
  });

  it('absent offline and offline:false are the same request', async () => {
    const service = memoryService();
    await service.authorize('key-1', authRequest());
    const again = await service.authorize('key-1', authRequest({ offline: false }));
    assert.equal(again.outcome, 'replayed');
  });

  it('the same key with another request is 422 naming every difference, and the stored answer stands', async () => {
    const service = memoryService();
    const first = await service.authorize('key-1', authRequest());
    const error = await rejects(
      service.authorize('key-1', authRequest({ amount: 9999, card: { token: 'tok_other' } })),
      'idempotency_key_reused',
      'amount',
    );
    assert.equal(error.status, 422);
    assert.match(error.message, /amount \(was 1250, now 9999\)/);
    assert.match(error.message, /card\.token/);
    assert.doesNotMatch(error.message, /tok_other/, 'card tokens are not echoed');
    assert.deepEqual(
      service.list(0, 100).items.map((s) => s.json),
      [first.json],
    );
  });

  it('20 concurrent requests with one key create one authorization and all get the same answer', async () => {
    const clock = new ManualClock(1_750_000_000_000);
    // Every request validates and starts waiting before any of them commits.
    const service = memoryService({ clock, knobs: { latencyMs: [5, 50] } });
    const pending = Array.from({ length: 20 }, () => service.authorize('same-key', authRequest()));
    assert.equal(clock.pendingTimers, 20);
    clock.advance(100);
    const results: AuthorizeResult[] = await Promise.all(pending);
    assert.equal(results.filter((r) => r.outcome === 'created').length, 1);
    assert.equal(new Set(results.map((r) => r.json)).size, 1);
    assert.equal(service.list(0, 100).items.length, 1);
  });
});

describe('decisions', () => {
  it('declines a blocked card and an expired card, approves an unknown one', async () => {
    const service = memoryService({
      cards: { tok_blocked: { blocked: true }, tok_expired: { expired: true } },
    });
    const blocked = await service.authorize('k1', authRequest({ card: { token: 'tok_blocked' } }));
    assert.equal(blocked.authorization.status, 'declined');
    assert.equal(blocked.authorization.declineCode, 'card_blocked');
    const expired = await service.authorize('k2', authRequest({ card: { token: 'tok_expired' } }));
    assert.equal(expired.authorization.declineCode, 'expired_card');
    const unknown = await service.authorize('k3', authRequest({ card: { token: 'tok_never_seen' } }));
    assert.equal(unknown.authorization.status, 'approved');
    assert.equal(unknown.authorization.declineCode, undefined);
  });

  it('charges a limited balance exactly once per approval and never below zero', async () => {
    const service = memoryService({ cards: { tok_limited: { balance: 1000 } } });
    const card = { token: 'tok_limited' };
    const a = await service.authorize('k1', authRequest({ amount: 400, card }));
    const b = await service.authorize('k2', authRequest({ amount: 400, card }));
    const c = await service.authorize('k3', authRequest({ amount: 400, card }));
    assert.deepEqual(
      [a, b, c].map((r) => r.authorization.declineCode ?? 'approved'),
      ['approved', 'approved', 'insufficient_funds'],
    );
    assert.equal(service.card('tok_limited')?.balance, 200);
    // Replays, including of the declined one, charge nothing.
    await service.authorize('k1', authRequest({ amount: 400, card }));
    await service.authorize('k3', authRequest({ amount: 400, card }));
    assert.equal(service.card('tok_limited')?.balance, 200);
    const exact = await service.authorize('k4', authRequest({ amount: 200, card }));
    assert.equal(exact.authorization.status, 'approved');
    assert.equal(service.card('tok_limited')?.balance, 0);
    const over = await service.authorize('k5', authRequest({ amount: 1, card }));
    assert.equal(over.authorization.declineCode, 'insufficient_funds');
    assert.equal(service.card('tok_limited')?.balance, 0);
    const stats = service.stats();
    assert.deepEqual(stats.totals.EUR, { approved: { count: 3, amount: 1000 }, declined: { count: 2, amount: 401 } });
  });

  it('random declines follow the seed, not the order requests arrive in', async () => {
    const keys = Array.from({ length: 200 }, (_, i) => `key-${i}`);
    const decide = async (seed: number, order: string[]) => {
      const service = memoryService({ seed, knobs: { declineRate: 0.5 } });
      const out = new Map<string, string>();
      for (const key of order) {
        const r = await service.authorize(key, authRequest({ card: { token: `tok_${key}` } }));
        out.set(key, r.authorization.declineCode ?? 'approved');
      }
      return keys.map((k) => out.get(k));
    };
    const one = await decide(7, keys);
    assert.deepEqual(await decide(7, [...keys].reverse()), one);
    assert.notDeepEqual(await decide(8, keys), one);
    const declined = one.filter((d) => d === 'do_not_honor').length;
    assert.ok(declined > 60 && declined < 140, `about half declined, got ${declined}`);
  });

  it('declineRate 0 never declines, 1 always does; processorErrorRate 1 is a stored processor_error decline', async () => {
    const never = memoryService({ knobs: { declineRate: 0 } });
    const always = memoryService({ knobs: { declineRate: 1 } });
    const errors = memoryService({ knobs: { processorErrorRate: 1 } });
    for (let i = 0; i < 20; i++) {
      assert.equal((await never.authorize(`k${i}`, authRequest())).authorization.status, 'approved');
      assert.equal((await always.authorize(`k${i}`, authRequest())).authorization.declineCode, 'do_not_honor');
      assert.equal((await errors.authorize(`k${i}`, authRequest())).authorization.declineCode, 'processor_error');
    }
  });
});

describe('faults', () => {
  it('an outage answers processor_unavailable before reading anything, and stores nothing', async () => {
    const service = memoryService({ knobs: { outageRate: 1 } });
    // Even a request with no key and no body: the outage comes first.
    await rejects(service.authorize(undefined, undefined), 'processor_unavailable');
    await rejects(service.authorize('k1', authRequest()), 'processor_unavailable');
    assert.throws(() => service.findByKey('k1'), /unavailable/);
    assert.equal(service.stats().authorizations, 0);
    assert.equal(service.stats().sinceStart.outages, 3);
    service.configure({ outageRate: 0 });
    assert.equal((await service.authorize('k1', authRequest())).outcome, 'created');
  });

  it('an outage window holds until its end on the processor clock', async () => {
    const clock = new ManualClock(1_750_000_000_000);
    const service = memoryService({ clock, knobs: { outageUntil: clock.now() + 60_000 } });
    await rejects(service.authorize('k1', authRequest()), 'processor_unavailable');
    clock.advance(60_000);
    assert.equal((await service.authorize('k1', authRequest())).outcome, 'created');
  });

  it('a timeout after commit is told to the transport only for new authorizations, never for replays', async () => {
    const service = memoryService({ knobs: { timeoutAfterCommitRate: 1, timeoutMode: 'destroy' } });
    const first = await service.authorize('k1', authRequest());
    assert.equal(first.afterCommit, 'destroy');
    assert.ok(service.findByKey('k1'), 'the authorization is stored before the answer is lost');
    const retry = await service.authorize('k1', authRequest());
    assert.equal(retry.outcome, 'replayed');
    assert.equal(retry.afterCommit, 'answer');
    assert.equal(service.stats().sinceStart.timeoutsAfterCommit, 1);
  });

  it('per-attempt faults replay with the seed', async () => {
    const run = async (seed: number) => {
      const service = memoryService({ seed, knobs: { outageRate: 0.3, timeoutAfterCommitRate: 0.3 } });
      const log: string[] = [];
      for (let i = 0; i < 60; i++) {
        try {
          log.push((await service.authorize(`k${i}`, authRequest())).afterCommit);
        } catch (error) {
          log.push((error as ProcessorError).code);
        }
      }
      return log;
    };
    const a = await run(3);
    assert.deepEqual(await run(3), a);
    assert.ok(a.includes('processor_unavailable') && a.includes('hang') && a.includes('answer'), a.join());
  });
});

describe('configuration', () => {
  it('rejects bad knobs naming the field, and keeps the old ones', () => {
    const service = memoryService({ knobs: { declineRate: 0.25 } });
    const bad: [unknown, string][] = [
      [{ declineRate: 2 }, 'declineRate'],
      [{ outageRate: -0.1 }, 'outageRate'],
      [{ timeoutAfterCommitRate: '0.5' }, 'timeoutAfterCommitRate'],
      [{ latencyMs: [5, 1] }, 'latencyMs'],
      [{ latencyMs: [5] }, 'latencyMs'],
      [{ timeoutMode: 'explode' }, 'timeoutMode'],
      [{ cards: { tok: { balance: -1 } } }, 'cards.tok.balance'],
      [{ cards: { tok: { frozen: true } } }, 'cards.tok.frozen'],
      [{ turbo: true }, 'turbo'],
    ];
    for (const [patch, field] of bad) {
      assert.throws(
        () => service.configure(patch),
        (e: unknown) => e instanceof ProcessorError && e.code === 'invalid_request' && e.field === field,
        JSON.stringify(patch),
      );
    }
    assert.equal(service.knobs.declineRate, 0.25);
  });

  it('start options seed cards without resetting a stored balance; configure sets it', async () => {
    const storage = new ProcessorStorage({ path: ':memory:' });
    const cards = { tok: { balance: 500 } };
    const first = new ProcessorService({ storage, seed: 1, cards });
    await first.authorize('k1', authRequest({ amount: 300, card: { token: 'tok' } }));
    const second = new ProcessorService({ storage, seed: 1, cards });
    assert.equal(second.card('tok')?.balance, 200);
    second.configure({ cards: { tok: { balance: 5000, blocked: true } } });
    assert.deepEqual(second.card('tok'), { token: 'tok', balance: 5000, blocked: true, expired: false });
  });
});
