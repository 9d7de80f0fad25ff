/**
 * Online-required ops end to end over real HTTP: a terminal sells betting
 * tickets that the server validates in real time, and charges cards online
 * through a real processor simulator. Lost answers, a dead network, restarts
 * and power cuts never print a ticket the server did not accept, and never
 * record one twice.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { systemClock } from '@holdfast/domain';
import { ProcessorClient } from '@holdfast/processor-client';
import type { BetSelection } from '@holdfast/protocol';
import {
  type CrashPoint,
  NeedsOnlineError,
  SimulatedCrashError,
  type Terminal,
  type Transport,
} from '@holdfast/terminal';
import { FaultyTransport } from '@holdfast/terminal/testing';
import { E2eWorld } from './e2e-fixture.js';

const SEL: BetSelection[] = [{ event: 'mx-2026-ame-gua', market: 'match_result', selection: 'home', odds: 250 }];

/** A server whose online authorizer charges cards at a processor simulator, with betting limits set. */
async function world(): Promise<E2eWorld> {
  const w = await E2eWorld.start('online', {
    processor: { seed: 3, timeoutMode: 'destroy' },
    // Forwarding rounds are not under test here: a long interval keeps them out of the way.
    forwarding: { intervalMs: 3_600_000, onlineTimeoutMs: 2_000 },
  });
  await w.admin('PUT', '/v1/admin/betting', {
    limits: [
      { currency: 'MXN', minStake: 100, maxStake: 100_000, maxPayout: 1_000_000, selectionLiabilityCap: 20_000 },
    ],
    suspended: { events: [], markets: [] },
  });
  return w;
}

/** A client of the world's processor, to read its records. */
function processorClient(w: E2eWorld): ProcessorClient {
  assert.ok(w.processor);
  return new ProcessorClient(w.processor.url, { apiKey: w.processor.apiKey });
}

/** A one-time enrollment token placing the device at merchant acme. */
const enrollmentToken = (w: E2eWorld) => w.enrollmentToken({ merchant: 'acme' });

interface Till {
  terminal: Terminal;
  transport: FaultyTransport;
  reopen(crashHook?: (point: CrashPoint) => boolean): Till;
}

function openTill(w: E2eWorld, name: string, crashHook?: (point: CrashPoint) => boolean): Till {
  const transport = new FaultyTransport(w.httpTransport(), { clock: systemClock });
  const terminal = w.openTerminal(name, {
    transport,
    autoSync: false,
    idlePingMs: 0,
    requestTimeoutMs: 5_000,
    ...(crashHook ? { crashHook } : {}),
  });
  return {
    terminal,
    transport,
    reopen: (hook) => {
      if (!terminal.closed) terminal.kill();
      return openTill(w, name, hook);
    },
  };
}

async function enrolledTill(w: E2eWorld, name: string): Promise<Till> {
  const till = openTill(w, name);
  await till.terminal.enroll(await enrollmentToken(w));
  till.terminal.openShift({ clerk: 'ana', currency: 'MXN', openingFloat: 0 });
  return till;
}

const ticketOps = (t: Terminal) => t.ops({ limit: 1000 }).filter((e) => e.kind === 'ticket.issued');

async function liability(w: E2eWorld): Promise<{ liability: number; tickets: number }[]> {
  const status = await w.admin<{ liabilities: { liability: number; tickets: number }[] }>('GET', '/v1/admin/betting');
  return status.liabilities.map((l) => ({ liability: l.liability, tickets: l.tickets }));
}

async function serverExceptions(w: E2eWorld, type: string) {
  const page = await w.admin<{ items: { type: string; opId: string }[] }>('GET', '/v1/admin/exceptions?limit=1000');
  return page.items.filter((x) => x.type === type);
}

describe('online-required ops over real HTTP', () => {
  let w: E2eWorld;
  before(async () => {
    w = await world();
  });
  after(async () => {
    await w?.close();
  });

  it('a ticket approved by the server is recorded with that op id, printable, and verified at ingest', async () => {
    const { terminal } = await enrolledTill(w, 'till-ok');
    const events: string[] = [];
    terminal.on('online', (o) => events.push(o.state));
    const outcome = await terminal.sellTicket({ stake: 1_000, selections: SEL });
    assert.equal(outcome.state, 'approved', JSON.stringify(outcome));
    assert.ok(outcome.state === 'approved');
    assert.deepEqual(
      [outcome.receipt.opId, outcome.receipt.kind, outcome.receipt.body.potentialPayout],
      [outcome.opId, 'ticket.issued', 2_500],
    );
    const [op] = ticketOps(terminal);
    assert.deepEqual([op?.id, op?.op.decision.mode, op?.op.decision.outcome], [outcome.opId, 'online', 'approved']);
    assert.equal(op?.op.body.authorization, outcome.receipt.authorizationId);
    assert.deepEqual(terminal.pendingConfirmations(), []);
    assert.deepEqual(events, ['approved']);
    await terminal.syncNow();
    assert.equal(terminal.opState(outcome.opId), 'confirmed');
    assert.deepEqual(await serverExceptions(w, 'online_unverified'), []);
    await terminal.close();
  });

  it('a declined ticket records nothing and gives the reason', async () => {
    const { terminal } = await enrolledTill(w, 'till-declined');
    const outcome = await terminal.sellTicket({ stake: 100_001, selections: SEL });
    assert.deepEqual([outcome.state, outcome.state === 'declined' && outcome.reason], ['declined', 'stake_above_max']);
    assert.deepEqual(ticketOps(terminal), []);
    assert.deepEqual(terminal.pendingConfirmations(), []);
    assert.equal(terminal.onlineAuthorization(outcome.opId)?.state, 'declined');
    await terminal.close();
  });

  it('a forged "approved" (someone on the path rewrote a decline) prints nothing: pending confirmation, then the real decline', async () => {
    const base = w.httpTransport();
    let forge = true;
    const onThePath: Transport = {
      enroll: (req, ms) => base.enroll(req, ms),
      sendBatch: (batch, ms) => base.sendBatch(batch, ms),
      queryOps: (query, ms) => base.queryOps(query, ms),
      fetchPolicy: (req, ms) => base.fetchPolicy(req, ms),
      fetchFeed: (req, ms) => base.fetchFeed(req, ms),
      ping: (ms) => base.ping(ms),
      authorize: async (req, ms) => {
        const res = await base.authorize(req, ms);
        if (!forge || !res.ok) return res;
        return { ...res, body: { ...res.body, status: 'approved' as const, authorizationId: 'forged-approval' } };
      },
    };
    const terminal = w.openTerminal('till-forged', { transport: onThePath, autoSync: false, idlePingMs: 0 });
    await terminal.enroll(await enrollmentToken(w));
    terminal.openShift({ clerk: 'ana', currency: 'MXN', openingFloat: 0 });
    const outcome = await terminal.sellTicket({ stake: 100_001, selections: SEL });
    assert.equal(outcome.state, 'pending_confirmation', JSON.stringify(outcome));
    assert.match(outcome.state === 'pending_confirmation' ? (outcome.lastError ?? '') : '', /unverifiable answer/);
    assert.deepEqual(ticketOps(terminal), [], 'no ticket recorded, nothing to print');
    forge = false;
    const [retried] = await terminal.retryPendingAuthorizations();
    assert.deepEqual(
      [retried?.state, retried?.state === 'declined' && retried.reason],
      ['declined', 'stake_above_max'],
    );
    assert.deepEqual(ticketOps(terminal), []);
    await terminal.close();
  });

  it('the answer is lost after the server committed: pending confirmation, then ONE ticket and ONE liability', async () => {
    const before = await liability(w);
    const till = await enrolledTill(w, 'till-lost');
    const { terminal, transport } = till;
    transport.next({ type: 'drop-response' }, 'authorize');
    const lost = await terminal.sellTicket({
      stake: 2_000,
      selections: [{ event: 'lost-answer', market: 'match_result', selection: 'home', odds: 200 }],
    });
    assert.equal(lost.state, 'pending_confirmation', 'never "failed", never a ticket');
    assert.deepEqual(ticketOps(terminal), [], 'no valid ticket before the approval is known');
    assert.deepEqual(
      terminal.pendingConfirmations().map((p) => p.opId),
      [lost.opId],
    );
    // The server did accept it: its liability is already held.
    assert.equal((await liability(w)).length, before.length + 1);

    const [retried] = await terminal.retryPendingAuthorizations();
    assert.equal(retried?.state, 'approved');
    assert.equal(retried?.opId, lost.opId, 'the retry reused the op id');
    // A second retry and a sync do nothing more.
    assert.deepEqual(await terminal.retryPendingAuthorizations(), []);
    await terminal.syncNow();
    assert.deepEqual(
      ticketOps(terminal).map((e) => e.id),
      [lost.opId],
    );
    const after = await liability(w);
    const mine = after.find((l) => !before.some((b) => b.liability === l.liability && b.tickets === l.tickets));
    assert.deepEqual(mine, { liability: 4_000, tickets: 1 }, 'one ticket liability on the server');
    const stored = await w.admin<{ op: { id: string } }>('GET', `/v1/admin/ops/${lost.opId}`);
    assert.equal(stored.op.id, lost.opId);
    assert.deepEqual(await serverExceptions(w, 'online_unverified'), []);
    await terminal.close();
  });

  it('offline: pending confirmation survives a restart; the retry after it is recorded exactly once', async () => {
    const till = await enrolledTill(w, 'till-offline');
    till.transport.down = true;
    const outcome = await till.terminal.sellTicket({ stake: 500, selections: SEL });
    assert.equal(outcome.state, 'pending_confirmation');
    assert.deepEqual(till.transport.log.filter((l) => l.route === 'authorize').length, 1);
    const again = till.reopen();
    assert.deepEqual(
      again.terminal.pendingConfirmations().map((p) => [p.opId, p.state, p.attempts]),
      [[outcome.opId, 'pending', 1]],
    );
    const [late] = await again.terminal.retryPendingAuthorizations();
    assert.equal(late?.state, 'approved');
    assert.deepEqual(
      ticketOps(again.terminal).map((e) => e.id),
      [outcome.opId],
    );
    await again.terminal.close();
  });

  it('a successful sync retries pending confirmations on its own', async () => {
    const till = await enrolledTill(w, 'till-sync');
    till.transport.next({ type: 'drop-request' }, 'authorize');
    const outcome = await till.terminal.sellTicket({ stake: 500, selections: SEL });
    assert.equal(outcome.state, 'pending_confirmation');
    const settled = new Promise<string>((resolve) => till.terminal.on('online', (o) => resolve(o.state)));
    await till.terminal.syncNow();
    assert.equal(await settled, 'approved');
    assert.deepEqual(
      ticketOps(till.terminal).map((e) => e.id),
      [outcome.opId],
    );
    await till.terminal.close();
  });

  it('power cut before the pending row commits: nothing pending, nothing sent', async () => {
    const till = await enrolledTill(w, 'till-cut-before');
    const cut = till.reopen((point) => point === 'authorize:before-commit');
    await assert.rejects(cut.terminal.sellTicket({ stake: 500, selections: SEL }), SimulatedCrashError);
    assert.deepEqual(
      cut.transport.log.filter((l) => l.route === 'authorize'),
      [],
    );
    const back = cut.reopen();
    assert.deepEqual(back.terminal.pendingConfirmations(), []);
    assert.deepEqual(ticketOps(back.terminal), []);
    await back.terminal.close();
  });

  it('power cut after the pending row commits: it is asked about after the restart, one ticket', async () => {
    const till = await enrolledTill(w, 'till-cut-after');
    const cut = till.reopen((point) => point === 'authorize:after-commit');
    await assert.rejects(cut.terminal.sellTicket({ stake: 700, selections: SEL }), SimulatedCrashError);
    assert.equal(cut.transport.log.filter((l) => l.route === 'authorize').length, 0, 'nothing was sent');
    const back = cut.reopen();
    const [pending] = back.terminal.pendingConfirmations();
    assert.ok(pending);
    const [outcome] = await back.terminal.retryPendingAuthorizations();
    assert.equal(outcome?.state, 'approved');
    assert.deepEqual(
      ticketOps(back.terminal).map((e) => e.id),
      [pending.opId],
    );
    await back.terminal.close();
  });

  it('power cut while recording the approval: the op and the approval roll back together; the retry records once', async () => {
    const till = await enrolledTill(w, 'till-cut-record');
    let armed = true;
    const cut = till.reopen((point) => {
      if (armed && point === 'record:before-commit') {
        armed = false;
        return true;
      }
      return false;
    });
    await assert.rejects(cut.terminal.sellTicket({ stake: 900, selections: SEL }), SimulatedCrashError);
    const back = cut.reopen();
    assert.deepEqual(ticketOps(back.terminal), [], 'no ticket without its approval');
    const [pending] = back.terminal.pendingConfirmations();
    const [outcome] = await back.terminal.retryPendingAuthorizations();
    assert.deepEqual([outcome?.state, outcome?.opId], ['approved', pending?.opId]);
    assert.equal(ticketOps(back.terminal).length, 1);
    await back.terminal.close();
  });

  it('tickets are never recorded without the server: record("ticket.issued") is refused', async () => {
    const { terminal } = await enrolledTill(w, 'till-forge');
    const shift = terminal.currentShift();
    assert.throws(
      () =>
        terminal.record('ticket.issued', {
          shift: shift?.id ?? '',
          stake: 100,
          currency: 'MXN',
          selections: SEL,
          potentialPayout: 250,
          authorization: 'made-up',
        }),
      /kind/,
    );
    await terminal.close();
  });

  it('online card: a sale the offline policy refuses is authorized through the processor, charged once, not forwarded', async () => {
    const till = openTill(w, 'till-card');
    await till.terminal.enroll(await enrollmentToken(w));
    const t = till.terminal;
    t.openShift({ clerk: 'ana', currency: 'MXN', openingFloat: 0 });
    const sale = {
      lines: [{ sku: 'BEER', name: 'Beer', qty: 2, unitPrice: 750 }],
      tenders: [
        { type: 'card' as const, amount: 1_500, token: 'tok_online_card_1', brand: 'visa' as const, last4: '4242' },
      ],
    };
    // Enforcing by default, and no policy held: the terminal may not approve it on its own.
    assert.throws(() => t.recordSale(sale), NeedsOnlineError);
    till.transport.next({ type: 'drop-response' }, 'authorize');
    const first = await t.recordSaleOnline(sale);
    assert.equal(first.state, 'pending_confirmation');
    const [outcome] = await t.retryPendingAuthorizations();
    assert.equal(outcome?.state, 'approved');
    assert.equal(outcome?.opId, first.opId);
    const recorded = t.getOp(first.opId);
    assert.deepEqual([recorded?.kind, recorded?.op.decision.mode], ['sale.recorded', 'online']);
    assert.equal(t.currentShift()?.sales, 1);
    await t.syncNow();
    assert.equal(t.opState(first.opId), 'confirmed');
    const charged = (await processorClient(w).listAll()).filter((l) => l.authorization.reference === first.opId);
    assert.deepEqual(
      charged.map((l) => [l.idempotencyKey, l.authorization.status, l.authorization.offline]),
      [[`holdfast-op-${first.opId}`, 'approved', false]],
    );
    const payments = await w.server.storage.listOfflinePayments(null);
    assert.deepEqual(
      payments.filter((p) => p.opId === first.opId),
      [],
      'already authorized: not an offline payment',
    );
    assert.deepEqual(await serverExceptions(w, 'online_unverified'), []);
    await t.close();
  });
});
