/**
 * The ticket lifecycle part of the storage suite (every backend of
 * testing/storage-backends.ts; docs/betting.md): results in, tickets
 * settled once with their liability released, payouts confirmed online
 * once per ticket (the second answered with the first's receipt), offline
 * payouts and voids checked at ingest, and the drawer counting stakes in and
 * payouts out. Through HTTP where a terminal or an operator would go.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type AuthorizeResponse,
  ChainBuilder,
  type Decision,
  type OnlineRequest,
  potentialPayout,
  type TicketAuthorization,
  uuidv7,
} from '@holdfast/protocol';
import type { BettingConfig } from '../../authorize/betting-config.js';
import type { ExceptionRecord } from '../../model/exception.js';
import type { ResultsOutcome, TicketView } from '../../model/ticket.js';
import { type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { authorizeBody } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const ONLINE: Decision = { mode: 'online', outcome: 'approved', policy: null };
const OFFLINE: Decision = { mode: 'local', outcome: 'approved', policy: null };

const CONFIG: BettingConfig = {
  limits: [
    {
      currency: 'EUR',
      minStake: 100,
      maxStake: 50_000,
      maxPayout: 500_000,
      selectionLiabilityCap: 100_000,
      offlinePayoutLimit: 5_000,
    },
  ],
  suspended: { events: [], markets: [] },
  voidWindowMinutes: 10,
  eventStarts: [{ event: 'ev-late', startsAt: T0 + 3 * 60_000 }],
};

const newOpId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

function bet(stake: number, ...legs: [event: string, selection: string, odds: number][]): TicketAuthorization {
  return {
    kind: 'ticket',
    stake,
    currency: 'EUR',
    selections: legs.map(([event, selection, odds]) => ({ event, market: 'match_result', selection, odds })),
  };
}

async function authorize(h: Harness, d: TestDevice, opId: string, request: OnlineRequest) {
  return h.request<AuthorizeResponse>('POST', '/v1/authorize', { payload: authorizeBody(d, opId, request) });
}

/** A shop: a device with an open shift (float 10 000), sent. */
async function shop(h: Harness, label: string) {
  const d = await h.enrollDevice(label);
  const open = d.openShift();
  assert.equal((await h.send(d.batch([open]))).status, 200);
  return { d, shift: open.id };
}

/**
 * A shop whose till clock is `skewMs` off the server's (ahead if positive):
 * its ops' `at` and its batches' signed `sentAt` read that clock.
 */
async function skewedShop(h: Harness, label: string, skewMs: number) {
  const enrolled = await h.enrollDevice(label);
  const tillNow = () => h.clock.now() + skewMs;
  const chain = new ChainBuilder(enrolled.id, enrolled.privateKey, { now: tillNow });
  const d: TestDevice = { ...enrolled, chain, batch: (ops) => enrolled.batch(ops, chain.seq, tillNow()) };
  const open = chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 10_000 });
  assert.equal((await h.send(d.batch([open]))).status, 200);
  return { d, shift: open.id };
}

/** Sells `t` online at `s` and records its ticket.issued op; the ticket id. */
async function sell(h: Harness, s: { d: TestDevice; shift: string }, t: TicketAuthorization): Promise<string> {
  const opId = newOpId();
  const answer = await authorize(h, s.d, opId, t);
  assert.equal(answer.body.status, 'approved', JSON.stringify(answer.body));
  const { kind: _kind, ...fields } = t;
  const op = s.d.chain.next(
    'ticket.issued',
    {
      shift: s.shift,
      ...fields,
      potentialPayout: potentialPayout(
        t.stake,
        t.selections.map((x) => x.odds),
      ),
      authorization: answer.body.authorizationId as string,
    },
    ONLINE,
    opId,
  );
  assert.equal((await h.send(s.d.batch([op]))).body.results[0]?.status, 'accepted');
  return opId;
}

async function results(h: Harness, event: string, list: { market?: string; selection: string; result: string }[]) {
  return h.request<ResultsOutcome>('POST', `/v1/admin/events/${event}/results`, {
    admin: true,
    payload: { results: list.map((r) => ({ market: 'match_result', ...r })) },
  });
}

async function ticket(h: Harness, id: string): Promise<TicketView> {
  const res = await h.request<TicketView>('GET', `/v1/admin/tickets/${id}`, { admin: true });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  return res.body;
}

/** Pays `ticketId` online at `s`: the answer, and (approved) the ticket.paid op sent. */
async function payOnline(h: Harness, s: { d: TestDevice; shift: string }, ticketId: string, amount: number) {
  const opId = newOpId();
  const answer = await authorize(h, s.d, opId, { kind: 'payout', ticket: ticketId, amount, currency: 'EUR' });
  if (answer.body.status === 'approved') {
    const op = s.d.chain.next(
      'ticket.paid',
      {
        shift: s.shift,
        ticket: ticketId,
        currency: 'EUR',
        amount,
        authorization: answer.body.authorizationId as string,
      },
      ONLINE,
      opId,
    );
    assert.equal((await h.send(s.d.batch([op]))).status, 200);
  }
  return answer;
}

async function sendOp(
  h: Harness,
  s: { d: TestDevice },
  kind: 'ticket.paid' | 'ticket.voided',
  body: object,
  decision = OFFLINE,
) {
  const op = s.d.chain.next(kind, body as never, decision);
  const res = await h.send(s.d.batch([op]));
  assert.equal(res.body.results[0]?.status, 'accepted', JSON.stringify(res.body));
  return op;
}

async function exceptions(h: Harness, ...types: string[]): Promise<ExceptionRecord[]> {
  const page = await h.storage.listExceptions(0, 1000);
  return page.items.filter((x) => types.includes(x.type));
}

async function liabilities(h: Harness) {
  return (await h.storage.listSelectionLiabilities()).map((l) => [l.event, l.selection, l.liability, l.tickets]);
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('ticket lifecycle', () => {
      test('results settle each ticket once, release its liability, and pay per the rounding rule', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const single = await sell(h, a, bet(333, ['ev-1', 'home', 150]));
        const loser = await sell(h, a, bet(1_000, ['ev-1', 'away', 300]));
        const acca = await sell(h, a, bet(777, ['ev-1', 'home', 133], ['ev-2', 'home', 117]));
        assert.equal((await ticket(h, single)).state, 'accepted');
        assert.deepEqual(await liabilities(h), [
          ['ev-1', 'away', 3_000, 1],
          ['ev-1', 'home', 499 + 1_209, 2],
          ['ev-2', 'home', 1_209, 1],
        ]);

        const first = await results(h, 'ev-1', [
          { selection: 'home', result: 'won' },
          { selection: 'away', result: 'lost' },
        ]);
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.deepEqual([first.body.recorded, first.body.settled], [2, { won: 1, lost: 1, void: 0, push: 0 }]);
        const won = await ticket(h, single);
        // 333 × 1.50 = 499.5, rounded down.
        assert.deepEqual([won.state, won.payout], ['won', 499]);
        assert.deepEqual(
          won.history.map((e) => e.state),
          ['accepted', 'won'],
        );
        assert.deepEqual([(await ticket(h, loser)).state, (await ticket(h, loser)).payout], ['lost', 0]);
        assert.equal((await ticket(h, acca)).state, 'accepted', 'the accumulator waits for ev-2');
        assert.deepEqual(await liabilities(h), [
          ['ev-1', 'home', 1_209, 1],
          ['ev-2', 'home', 1_209, 1],
        ]);

        const again = await results(h, 'ev-1', [{ selection: 'home', result: 'won' }]);
        assert.deepEqual([again.status, again.body.recorded, again.body.unchanged], [200, 0, 1]);
        const changed = await results(h, 'ev-1', [{ selection: 'home', result: 'lost' }]);
        assert.deepEqual([changed.status, changed.error.code], [409, 'result_conflict']);
        assert.equal((await ticket(h, single)).state, 'won', 'a refused correction changes nothing');

        await results(h, 'ev-2', [{ selection: 'home', result: 'void' }]);
        const settled = await ticket(h, acca);
        // 777 × 1.33 × 1.00 (void) = 1033.41 → 1033.
        assert.deepEqual([settled.state, settled.payout], ['won', 1_033]);
        assert.deepEqual(await liabilities(h), []);

        const bad = await results(h, 'ev-3', [{ selection: 'home', result: 'draw' }]);
        assert.deepEqual([bad.status, bad.error.code, bad.error.field], [400, 'invalid_request', 'results[0].result']);
      });

      test('settlement races: results posted at once settle every ticket exactly once', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const ids = [];
        for (let i = 0; i < 6; i++) ids.push(await sell(h, a, bet(1_000, ['ev-r', i % 2 ? 'home' : 'away', 200])));
        const answers = await Promise.all(
          Array.from({ length: 4 }, () =>
            results(h, 'ev-r', [
              { selection: 'home', result: 'won' },
              { selection: 'away', result: 'lost' },
            ]),
          ),
        );
        assert.ok(
          answers.every((x) => x.status === 200),
          JSON.stringify(answers.map((x) => x.body)),
        );
        const settledCount = answers.reduce((n, x) => n + x.body.settled.won + x.body.settled.lost, 0);
        assert.equal(settledCount, 6);
        for (const id of ids) assert.equal((await ticket(h, id)).history.length, 2);
        assert.deepEqual(await liabilities(h), []);
      });

      test('a payout is confirmed once; a second shop gets the first payout receipt; the drawers balance', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const b = await shop(h, 'b');
        const id = await sell(h, a, bet(10_000, ['ev-1', 'home', 250]));
        const early = await payOnline(h, b, id, 25_000);
        assert.deepEqual([early.body.status, early.body.reason], ['declined', 'ticket_unsettled']);
        await results(h, 'ev-1', [{ selection: 'home', result: 'won' }]);
        const wrong = await payOnline(h, b, id, 30_000);
        assert.deepEqual([wrong.body.status, wrong.body.reason], ['declined', 'payout_mismatch']);

        const topUp = b.d.cashMove(b.shift, 'in', 20_000, { reason: 'float_in' });
        await h.send(b.d.batch([topUp]));
        const paid = await payOnline(h, b, id, 25_000);
        assert.equal(paid.body.status, 'approved', JSON.stringify(paid.body));
        const twice = await payOnline(h, a, id, 25_000);
        assert.deepEqual([twice.body.status, twice.body.reason], ['declined', 'ticket_paid']);
        assert.deepEqual(
          [twice.body.firstPayout?.device, twice.body.firstPayout?.opId, twice.body.firstPayout?.amount],
          [b.d.id, paid.body.opId, 25_000],
        );
        const view = await ticket(h, id);
        assert.deepEqual([view.state, view.paid?.device, view.paid?.mode], ['paid', b.d.id, 'online']);
        assert.deepEqual(await exceptions(h, 'online_unverified', 'payout_invalid', 'ticket_paid_twice'), []);

        // Drawers: a took the 10 000 stake, b paid 25 000 out of a float of 10 000 + a cash-in of 20 000.
        await h.send(a.d.batch([a.d.closeShift(a.shift, 20_000)]));
        await h.send(b.d.batch([b.d.closeShift(b.shift, 5_000)]));
        assert.deepEqual(await exceptions(h, 'cash_variance', 'shift_rule'), [], 'honest closes balance');
      });

      test('a payout without a stored approval claiming online raises online_unverified', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const id = await sell(h, a, bet(1_000, ['ev-1', 'home', 200]));
        await results(h, 'ev-1', [{ selection: 'home', result: 'won' }]);
        const body = { shift: a.shift, ticket: id, currency: 'EUR', amount: 2_000, authorization: 'made-up' };
        await sendOp(h, a, 'ticket.paid', body, ONLINE);
        assert.equal((await exceptions(h, 'online_unverified')).length, 1);
        assert.equal((await ticket(h, id)).state, 'won', 'an unverified claim pays nothing on the server');
      });

      test('offline payouts: checked at ingest, a fact either way', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const b = await shop(h, 'b');
        const lost = await sell(h, a, bet(1_000, ['ev-1', 'away', 200]));
        const small = await sell(h, a, bet(1_000, ['ev-1', 'home', 200]));
        const big = await sell(h, a, bet(5_000, ['ev-1', 'draw', 300]));
        const open = await sell(h, a, bet(1_000, ['ev-9', 'home', 200]));
        await results(h, 'ev-1', [
          { selection: 'home', result: 'won' },
          { selection: 'away', result: 'lost' },
          { selection: 'draw', result: 'won' },
        ]);
        const pay = (ticketId: string, amount: number) => ({
          shift: b.shift,
          ticket: ticketId,
          currency: 'EUR',
          amount,
          authorization: null,
        });
        await sendOp(h, b, 'ticket.paid', pay(lost, 2_000));
        await sendOp(h, b, 'ticket.paid', pay(open, 2_000));
        const reasons = (await exceptions(h, 'payout_invalid')).map((x) => x.detail.reason);
        assert.deepEqual(reasons, ['ticket_lost', 'ticket_unsettled']);

        await sendOp(h, b, 'ticket.paid', pay(small, 2_000));
        assert.deepEqual([(await ticket(h, small)).state, (await ticket(h, small)).paid?.mode], ['paid', 'offline']);
        assert.equal((await exceptions(h, 'payout_invalid')).length, 2, 'within the offline limit: no exception');
        const online = await payOnline(h, a, small, 2_000);
        assert.deepEqual([online.body.reason, online.body.firstPayout?.device], ['ticket_paid', b.d.id]);
        const secondOffline = await sendOp(h, a, 'ticket.paid', { ...pay(small, 2_000), shift: a.shift });
        const twice = await exceptions(h, 'ticket_paid_twice');
        assert.deepEqual(
          twice.map((x) => [x.opId, (x.detail.firstPayout as { device: string }).device]),
          [[secondOffline.id, b.d.id]],
        );

        await sendOp(h, b, 'ticket.paid', pay(big, 15_000));
        const over = (await exceptions(h, 'payout_invalid')).map((x) => x.detail.reason);
        assert.deepEqual(over, ['ticket_lost', 'ticket_unsettled', 'offline_limit']);
        assert.equal((await ticket(h, big)).state, 'paid', 'paid against the policy: still paid, never again');
      });

      test('voids: within the window with an approver; otherwise raised; liability released either way', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const a = await shop(h, 'a');
        const ok = await sell(h, a, bet(1_000, ['ev-1', 'home', 200]));
        const unapproved = await sell(h, a, bet(1_000, ['ev-1', 'away', 200]));
        const late = await sell(h, a, bet(1_000, ['ev-late', 'home', 200]));
        const old = await sell(h, a, bet(1_000, ['ev-2', 'home', 200]));
        const voidBody = (ticketId: string, extra: object = {}) => ({
          shift: a.shift,
          ticket: ticketId,
          currency: 'EUR',
          amount: 1_000,
          approvedBy: 'sup-1',
          ...extra,
        });
        await sendOp(h, a, 'ticket.voided', voidBody(ok), { mode: 'none', outcome: 'approved', policy: null });
        assert.deepEqual(await exceptions(h, 'void_invalid'), []);
        const voided = await ticket(h, ok);
        assert.deepEqual(
          voided.history.map((e) => e.state),
          ['accepted', 'voided'],
        );
        const { approvedBy: _gone, ...noApprover } = voidBody(unapproved);
        await sendOp(h, a, 'ticket.voided', noApprover);
        await sendOp(h, a, 'ticket.voided', voidBody(unapproved, { approvedBy: 'ana' }));
        h.clock.advance(5 * 60_000);
        await sendOp(h, a, 'ticket.voided', voidBody(late));
        h.clock.advance(10 * 60_000);
        await sendOp(h, a, 'ticket.voided', voidBody(old));
        const problems = (await exceptions(h, 'void_invalid')).map((x) => String(x.message));
        assert.equal(problems.length, 4, problems.join('\n'));
        assert.match(problems[0] as string, /names no approver/);
        assert.match(problems[1] as string, /approved by ana, the clerk.*is voided: only an unsettled/);
        assert.match(problems[2] as string, /event ev-late had started/);
        assert.match(problems[3] as string, /15 min after acceptance; the window is 10 min/);
        for (const id of [ok, unapproved, late, old]) assert.equal((await ticket(h, id)).state, 'voided');
        assert.deepEqual(await liabilities(h), []);
        const payVoided = await payOnline(h, a, ok, 1_000);
        assert.deepEqual([payVoided.body.status, payVoided.body.reason], ['declined', 'ticket_voided']);
        // The drawer: float 10 000 + 4 stakes − 5 refunds (one void of a void was refunded twice).
        await h.send(a.d.batch([a.d.closeShift(a.shift, 10_000 + 4_000 - 5_000)]));
        assert.deepEqual(await exceptions(h, 'cash_variance'), []);
      });

      test('voids on a till whose clock is minutes off are judged on the server clock (its estimated offset)', async (h) => {
        await h.request('PUT', '/v1/admin/betting', { admin: true, payload: CONFIG });
        const voidBody = (s: { shift: string }, ticketId: string) => ({
          shift: s.shift,
          ticket: ticketId,
          currency: 'EUR',
          amount: 1_000,
          approvedBy: 'sup-1',
        });
        // A till 7 minutes ahead: an honest void 4 minutes after acceptance reads 11 minutes on its clock.
        const ahead = await skewedShop(h, 'ahead', 7 * 60_000);
        const honest = await sell(h, ahead, bet(1_000, ['ev-1', 'home', 200]));
        // A till 7 minutes behind: a void 12 minutes after acceptance reads 5 minutes on its clock.
        const behind = await skewedShop(h, 'behind', -7 * 60_000);
        const late = await sell(h, behind, bet(1_000, ['ev-1', 'away', 200]));
        // Event starts are server times too: ev-late starts 3 min after T0; voided 1 min after T0, the
        // ahead till's clock reads 8.
        const beforeStart = await sell(h, ahead, bet(1_000, ['ev-late', 'home', 200]));
        const approved: Decision = { mode: 'none', outcome: 'approved', policy: null };
        h.clock.advance(60_000);
        await sendOp(h, ahead, 'ticket.voided', voidBody(ahead, beforeStart), approved);
        h.clock.advance(3 * 60_000);
        await sendOp(h, ahead, 'ticket.voided', voidBody(ahead, honest), approved);
        assert.deepEqual(
          (await exceptions(h, 'void_invalid')).map((x) => x.message),
          [],
          'honest voids inside the window and before the start are not flagged',
        );
        h.clock.advance(8 * 60_000);
        await sendOp(h, behind, 'ticket.voided', voidBody(behind, late), approved);
        const problems = (await exceptions(h, 'void_invalid')).map((x) => String(x.message));
        assert.equal(problems.length, 1, problems.join('\n'));
        assert.match(problems[0] as string, /12 min after acceptance; the window is 10 min/);
        for (const id of [beforeStart, honest, late]) assert.equal((await ticket(h, id)).state, 'voided');
      });
    });
  });
}
