/**
 * Two server instances (each its own HoldfastService, Fastify app and
 * PostgreSQL pool) on one database: a winning ticket paid from two shops at
 * once through both pays once (docs/betting.md, "The race"); the other
 * answers carry the first payout's receipt. The same with results posted to
 * both at once: each ticket settled once. (e2e/src/payout-race.test.ts runs
 * the payout race with two real server processes.)
 */
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { type AuthorizeResponse, type OnlineRequest, uuidv7 } from '@holdfast/protocol';
import type { ResultsOutcome } from '../../model/ticket.js';
import { createHarness, type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { authorizeBody } from '../../testing/payments.js';
import { startTestPostgres } from '../../testing/postgres.js';
import { PostgresStorage } from './postgres-storage.js';

const pg = await startTestPostgres();
after(() => pg.stop());

const newOpId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));
const CONFIG = {
  limits: [
    { currency: 'MXN', minStake: 100, maxStake: 1_000_000, maxPayout: 10_000_000, selectionLiabilityCap: 10_000_000 },
  ],
  suspended: { events: [], markets: [] },
};

async function authorize(h: Harness, d: TestDevice, request: OnlineRequest) {
  const res = await h.request<AuthorizeResponse>('POST', '/v1/authorize', {
    payload: authorizeBody(d, newOpId(), request),
  });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

describe('ticket lifecycle on PostgreSQL, two server instances', () => {
  it('a payout raced from two shops through both instances pays once; results raced settle once', async () => {
    const url = await pg.newDatabase();
    const one = await createHarness({ storage: new PostgresStorage({ connectionString: url }) });
    const two = await createHarness({ storage: new PostgresStorage({ connectionString: url }) });
    try {
      assert.equal((await one.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG })).status, 200);
      const a = await one.enrollDevice('shop-a');
      const b = await two.enrollDevice('shop-b');
      const tickets: string[] = [];
      for (let i = 0; i < 5; i++) {
        const sold = await authorize(i % 2 ? two : one, a, {
          kind: 'ticket',
          stake: 10_000,
          currency: 'MXN',
          selections: [{ event: 'mx-ame-gua', market: 'match_result', selection: 'home', odds: 275 }],
        });
        assert.equal(sold.status, 'approved');
        tickets.push(sold.opId);
      }
      const posts = await Promise.all(
        [one, two, one, two].map((h) =>
          h.request<ResultsOutcome>('POST', '/v1/admin/events/mx-ame-gua/results', {
            admin: true,
            payload: { results: [{ market: 'match_result', selection: 'home', result: 'won' }] },
          }),
        ),
      );
      assert.ok(
        posts.every((p) => p.status === 200),
        JSON.stringify(posts.map((p) => p.body)),
      );
      assert.equal(
        posts.reduce((n, p) => n + p.body.settled.won, 0),
        5,
        'each ticket settled by exactly one of the racing posts',
      );

      const ticket = tickets[0] as string;
      const payout: OnlineRequest = { kind: 'payout', ticket, amount: 27_500, currency: 'MXN' };
      const attempts: Promise<AuthorizeResponse>[] = [];
      for (let i = 0; i < 12; i++)
        attempts.push(authorize(i % 2 ? one : two, a, payout), authorize(i % 2 ? two : one, b, payout));
      const answers = await Promise.all(attempts);
      const approved = answers.filter((x) => x.status === 'approved');
      assert.equal(approved.length, 1, JSON.stringify(answers));
      const winner = approved[0] as AuthorizeResponse;
      for (const x of answers.filter((y) => y.status === 'declined')) {
        assert.equal(x.reason, 'ticket_paid');
        assert.deepEqual([x.firstPayout?.opId, x.firstPayout?.amount], [winner.opId, 27_500]);
        assert.match(x.message ?? '', /\$275\.00 by device/);
      }
      const view = await two.storage.getTicket(ticket);
      assert.deepEqual(
        view?.history.map((e) => e.state),
        ['accepted', 'won', 'paid'],
      );
      assert.equal(view?.paid?.opId, winner.opId);
    } finally {
      await one.close();
      await two.close();
    }
  });
});
