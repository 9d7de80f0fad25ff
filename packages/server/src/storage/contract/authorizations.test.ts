/**
 * The online-authorization part of the storage suite (run on every backend
 * of testing/storage-backends.ts): tickets decided once per op id under the
 * betting limits, the liability cap under concurrency, the card rows'
 * begin/finish, and the `online_unverified` check at ingest. Through HTTP
 * where a terminal would go, the Storage interface otherwise.
 */
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import {
  type AuthorizeResponse,
  type Decision,
  type OnlineRequest,
  onlineRequestHash,
  potentialPayout,
  type TicketAuthorization,
  uuidv7,
} from '@holdfast/protocol';
import type { BettingConfig } from '../../authorize/betting-config.js';
import type { AuthorizationRecord } from '../../model/authorization.js';
import { type Harness, T0, type TestDevice } from '../../testing/harness.js';
import { authorizeBody } from '../../testing/payments.js';
import { STORAGE_BACKENDS, storageTest } from '../../testing/storage-backends.js';

const ONLINE_APPROVED: Decision = { mode: 'online', outcome: 'approved', policy: null };

function bettingConfig(overrides: Partial<BettingConfig['limits'][number]> = {}): BettingConfig {
  return {
    limits: [
      {
        currency: 'EUR',
        minStake: 100,
        maxStake: 50_000,
        maxPayout: 500_000,
        selectionLiabilityCap: 10_000,
        ...overrides,
      },
    ],
    suspended: { events: [], markets: [] },
  };
}

function ticket(stake: number, odds = 200, event = 'ev-1', selection = 'home'): TicketAuthorization {
  return { kind: 'ticket', stake, currency: 'EUR', selections: [{ event, market: 'match_result', selection, odds }] };
}

const newOpId = () => uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));

async function authorize(h: Harness, d: TestDevice, opId: string, request: OnlineRequest) {
  return h.request<AuthorizeResponse>('POST', '/v1/authorize', { payload: authorizeBody(d, opId, request) });
}

async function configure(h: Harness, config: BettingConfig = bettingConfig()) {
  const res = await h.request('PUT', '/v1/admin/betting', { admin: true, payload: config });
  assert.equal(res.status, 200, JSON.stringify(res.body));
}

/** The ticket op for an approved answer. */
function ticketOp(
  d: TestDevice,
  shift: string,
  opId: string,
  t: TicketAuthorization,
  authorization: string,
  decision = ONLINE_APPROVED,
) {
  const { kind: _kind, ...fields } = t;
  return d.chain.next(
    'ticket.issued',
    {
      shift,
      ...fields,
      potentialPayout: potentialPayout(
        t.stake,
        t.selections.map((x) => x.odds),
      ),
      authorization,
    },
    decision,
    opId,
  );
}

function pendingCard(d: TestDevice, opId: string, amount = 1_500): AuthorizationRecord {
  const request: OnlineRequest = {
    kind: 'card',
    amount,
    currency: 'EUR',
    token: 'tok_online_4242',
    brand: 'visa',
    last4: '4242',
  };
  return {
    opId,
    device: d.id,
    kind: 'card',
    requestHash: onlineRequestHash(request),
    request,
    status: 'pending',
    authorizationId: newOpId(),
    reason: null,
    message: null,
    amount,
    currency: 'EUR',
    potentialPayout: null,
    processorId: null,
    createdAt: T0,
    decidedAt: null,
  };
}

async function unverified(h: Harness) {
  const page = await h.storage.listExceptions(0, 1000);
  return page.items.filter((x) => x.type === 'online_unverified');
}

for (const backend of STORAGE_BACKENDS) {
  describe(`storage suite: ${backend.name}`, () => {
    const test = storageTest(backend);
    describe('online authorizations', () => {
      test('ticket: declined until betting is configured; then approved once per op id, liability added once', async (h) => {
        const d = await h.enrollDevice('a');
        const first = await authorize(h, d, newOpId(), ticket(500));
        assert.equal(first.status, 200, JSON.stringify(first.body));
        assert.deepEqual([first.body.status, first.body.reason], ['declined', 'betting_not_configured']);
        await configure(h);
        const opId = newOpId();
        const a = await authorize(h, d, opId, ticket(500, 250));
        assert.deepEqual([a.body.status, a.body.potentialPayout, a.body.replayed], ['approved', 1_250, false]);
        assert.ok(a.body.authorizationId);
        const again = await authorize(h, d, opId, ticket(500, 250));
        // Each answer is signed for its own request (serverSig), over the same stored decision.
        assert.deepEqual(
          { ...again.body, serverTime: 0, serverSig: '' },
          { ...a.body, replayed: true, serverTime: 0, serverSig: '' },
          'the stored answer, not a second ticket',
        );
        const status = await h.request<{ liabilities: { liability: number; tickets: number }[] }>(
          'GET',
          '/v1/admin/betting',
          {
            admin: true,
          },
        );
        assert.deepEqual(
          status.body.liabilities.map((l) => [l.liability, l.tickets]),
          [[1_250, 1]],
        );
      });

      test('the same op id with another request, or from another device, is refused with op_id_reused', async (h) => {
        await configure(h);
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const opId = newOpId();
        assert.equal((await authorize(h, a, opId, ticket(500))).body.status, 'approved');
        const other = await authorize(h, a, opId, ticket(600));
        assert.deepEqual([other.status, other.error.code, other.error.field], [409, 'op_id_reused', 'opId']);
        const stolen = await authorize(h, b, opId, ticket(500));
        assert.deepEqual([stolen.status, stolen.error.code], [409, 'op_id_reused']);
        const stored = await h.storage.getAuthorizations([opId]);
        assert.deepEqual(
          stored.map((x) => [x.device, x.amount, x.status]),
          [[a.id, 500, 'approved']],
        );
      });

      test('a bad signature or body is refused naming the field, and nothing is stored', async (h) => {
        await configure(h);
        const d = await h.enrollDevice('a');
        const opId = newOpId();
        const body = authorizeBody(d, opId, ticket(500));
        const forged = await h.request('POST', '/v1/authorize', { payload: { ...body, request: ticket(5_000) } });
        assert.deepEqual([forged.status, forged.error.code, forged.error.field], [401, 'unknown_device', 'sig']);
        const bad = await h.request('POST', '/v1/authorize', {
          payload: { ...body, request: { ...ticket(500), selections: [] } },
        });
        assert.deepEqual([bad.status, bad.error.field], [400, 'request.selections']);
        assert.deepEqual(await h.storage.getAuthorizations([opId]), []);
      });

      test('liability cap: concurrent tickets on one selection never pass it together', async (h) => {
        await configure(h, bettingConfig({ selectionLiabilityCap: 10_000 }));
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        // Each pays 1 000 if it wins: exactly 10 fit under the cap.
        const answers = await Promise.all(
          Array.from({ length: 24 }, (_, i) => authorize(h, i % 2 === 0 ? a : b, newOpId(), ticket(500, 200))),
        );
        const approved = answers.filter((x) => x.body.status === 'approved');
        const declined = answers.filter((x) => x.body.status === 'declined');
        assert.equal(approved.length, 10, JSON.stringify(answers.map((x) => x.body)));
        assert.ok(declined.every((x) => x.body.reason === 'liability_cap'));
        const [held] = await h.storage.listSelectionLiabilities();
        assert.deepEqual([held?.liability, held?.tickets], [10_000, 10]);
        // Another selection of the same market has its own cap.
        assert.equal((await authorize(h, a, newOpId(), ticket(500, 200, 'ev-1', 'away'))).body.status, 'approved');
      });

      test('suspensions take effect with the next ticket', async (h) => {
        const d = await h.enrollDevice('a');
        await configure(h);
        assert.equal((await authorize(h, d, newOpId(), ticket(500, 200, 'ev-2'))).body.status, 'approved');
        await configure(h, {
          ...bettingConfig(),
          suspended: { events: [], markets: [{ event: 'ev-2', market: 'match_result' }] },
        });
        const res = await authorize(h, d, newOpId(), ticket(500, 200, 'ev-2'));
        assert.deepEqual([res.body.status, res.body.reason], ['declined', 'market_suspended']);
        assert.equal((await h.storage.getBettingConfig())?.version, 2);
      });

      test('betting config: refused naming the field, nothing stored', async (h) => {
        const res = await h.request('PUT', '/v1/admin/betting', {
          admin: true,
          payload: bettingConfig({ minStake: 1_000, maxStake: 999 }),
        });
        assert.deepEqual([res.status, res.error.field], [400, 'limits[0].minStake']);
        assert.equal(await h.storage.getBettingConfig(), null);
        const anon = await h.request('PUT', '/v1/admin/betting', { payload: bettingConfig() });
        assert.equal(anon.status, 401);
      });

      test('card rows: begin stores once; finish decides once and never changes a final row', async (h) => {
        const d = await h.enrollDevice('a');
        const opId = newOpId();
        const first = await h.storage.beginAuthorization(pendingCard(d, opId));
        assert.equal(first.created, true);
        const second = await h.storage.beginAuthorization({
          ...pendingCard(d, opId, 9_999),
          authorizationId: newOpId(),
        });
        assert.deepEqual([second.created, second.record.amount, second.record.status], [false, 1_500, 'pending']);
        const done = await h.storage.finishAuthorization(opId, {
          status: 'approved',
          reason: null,
          message: null,
          processorId: 'auth_1',
          decidedAt: T0 + 5,
        });
        assert.deepEqual([done?.status, done?.processorId, done?.decidedAt], ['approved', 'auth_1', T0 + 5]);
        const late = await h.storage.finishAuthorization(opId, {
          status: 'declined',
          reason: 'do_not_honor',
          message: null,
          processorId: 'auth_2',
          decidedAt: T0 + 9,
        });
        assert.deepEqual([late?.status, late?.processorId], ['approved', 'auth_1']);
        assert.equal(await h.storage.finishAuthorization(newOpId(), { ...done, status: 'approved' } as never), null);
        // Concurrent begins of one op id: one creates, the others find it.
        const racer = newOpId();
        const slots = await Promise.all(
          Array.from({ length: 6 }, () => h.storage.beginAuthorization(pendingCard(d, racer))),
        );
        assert.equal(slots.filter((s) => s.created).length, 1);
      });

      test('ingest: a ticket the server approved is accepted quietly; one it never approved raises online_unverified', async (h) => {
        await configure(h);
        const d = await h.enrollDevice('a');
        const open = d.openShift();
        const okId = newOpId();
        const t = ticket(500, 300);
        const answer = await authorize(h, d, okId, t);
        assert.equal(answer.body.status, 'approved');
        const good = ticketOp(d, open.id, okId, t, answer.body.authorizationId as string);
        const res = await h.send(d.batch([open, good]));
        assert.deepEqual(
          res.body.results.map((r) => r.status),
          ['accepted', 'accepted'],
        );
        assert.deepEqual(await unverified(h), []);

        // Never asked; asked but stake changed afterwards; recorded as a local decision; declined by the server.
        const never = ticketOp(d, open.id, newOpId(), t, 'made-up');
        const changedId = newOpId();
        const changed = await authorize(h, d, changedId, ticket(500, 300, 'ev-9'));
        const tampered = ticketOp(
          d,
          open.id,
          changedId,
          ticket(600, 300, 'ev-9'),
          changed.body.authorizationId as string,
        );
        const localId = newOpId();
        const local = await authorize(h, d, localId, ticket(500, 300, 'ev-8'));
        const localOp = ticketOp(d, open.id, localId, ticket(500, 300, 'ev-8'), local.body.authorizationId as string, {
          mode: 'local',
          outcome: 'approved',
          policy: null,
        });
        const declinedId = newOpId();
        const declined = await authorize(h, d, declinedId, ticket(50));
        assert.equal(declined.body.reason, 'stake_below_min');
        const declinedOp = ticketOp(d, open.id, declinedId, ticket(50), 'x');
        const onlineSale = d.cardSale(open.id, 700, ONLINE_APPROVED);
        const sent = await h.send(d.batch([never, tampered, localOp, declinedOp, onlineSale]));
        assert.deepEqual(
          sent.body.results.map((r) => r.status),
          ['accepted', 'accepted', 'accepted', 'accepted', 'accepted'],
          'facts are stored',
        );
        const alarms = await unverified(h);
        assert.deepEqual(
          alarms.map((x) => x.opId).sort(),
          [never.id, tampered.id, localOp.id, declinedOp.id, onlineSale.id].sort(),
        );
        assert.ok(alarms.every((x) => x.severity === 'alarm'));
        // Replaying the batch raises nothing new.
        await h.send(d.batch([never, tampered, localOp, declinedOp, onlineSale]));
        assert.equal((await unverified(h)).length, 5);
      });

      test('ingest: an op authorized for one device and recorded by another raises online_unverified', async (h) => {
        await configure(h);
        const a = await h.enrollDevice('a');
        const b = await h.enrollDevice('b');
        const opId = newOpId();
        const t = ticket(500);
        const answer = await authorize(h, a, opId, t);
        const open = b.openShift();
        const op = ticketOp(b, open.id, opId, t, answer.body.authorizationId as string);
        await h.send(b.batch([open, op]));
        const alarms = await unverified(h);
        assert.equal(alarms.length, 1);
        assert.match(alarms[0]?.message ?? '', /another device/);
      });
    });
  });
}
