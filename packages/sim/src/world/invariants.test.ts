/**
 * The invariant checker bites: after a clean run finds nothing, the state on
 * disk is tampered with — server rows deleted, invented, duplicated and
 * edited behind the append-only triggers' backs, terminal journals edited —
 * and every rule must fire, naming the right terminal and op, with an
 * explanation that carries the op's history and the replay command.
 * (packages/cli's simulate tests prove the same against the deliberate bugs
 * in production code.)
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { SeededRandom } from '@holdfast/domain';
import Database from 'better-sqlite3';
import { cardTraffic } from '../scenarios/plan-kit.js';
import { TINY_START, tinyPlan } from '../testing/tiny-plan.js';
import { explain } from './explain.js';
import { checkInvariants, RULES, type Rule, type Violation } from './invariants.js';
import type { SimLane } from './sim-lane.js';
import { SimWorld } from './sim-world.js';

const MINUTE = 60_000;
const cards = cardTraffic(new SeededRandom(5), {
  event: 'tamper-test',
  terminals: 3,
  from: TINY_START,
  to: TINY_START + 20 * MINUTE,
  processorOutages: 1,
  lostAnswerRate: 0.2,
  // Catalog sales with a little stock, and a price change while the south is cut off.
  catalog: {
    items: [
      { sku: 'BEER-05', name: 'Beer', price: 650 },
      { sku: 'HOTDOG', name: 'Hot dog', price: 450 },
    ],
    promotions: [{ sku: 'HOTDOG', price: 400, until: TINY_START + 60 * MINUTE }],
    changes: [{ at: TINY_START + 5 * MINUTE, prices: [{ sku: 'BEER-05', price: 700 }] }],
    stock: { HOTDOG: 3 },
    share: 0.4,
  },
});

describe('checkInvariants', () => {
  let world: SimWorld;
  before(async () => {
    world = new SimWorld({
      scenario: 'tamper-test',
      seed: 5,
      plan: tinyPlan({
        minutes: 20,
        traffic: { miscountShare: 0.5, payoutShare: 0.2 },
        faults: {
          rates: { requestLoss: 0.05, responseLoss: 0.1 },
          partitions: [{ zone: 'south', from: TINY_START + 3 * MINUTE, to: TINY_START + 8 * MINUTE }],
          terminalCrashes: [
            { lane: 'till-1', at: TINY_START + 4 * MINUTE, mode: 'settle:after-commit', downMs: 20_000 },
          ],
          serverCrashes: [{ at: TINY_START + 9 * MINUTE, point: 'ingest:after-commit', downMs: 10_000 }],
        },
        plan: { cards: { ...cards, pool: { ...cards.pool, blockedShare: 0.2 } }, staff: true },
      }),
    });
    await world.run();
  });
  after(() => world.close());

  it('finds nothing wrong with a clean run', () => {
    assert.deepEqual(checkInvariants(world), []);
  });

  it("with staff at the till: every op names the lane's clerk, every paid-out its supervisor", () => {
    const ops = (world.lane('till-1') as SimLane).terminal?.ops({ limit: 1000 }) ?? [];
    assert.ok(ops.length > 12);
    for (const entry of ops) assert.equal(entry.op.actor?.staff, 'clerk-till-1', `${entry.op.kind} ${entry.seq}`);
    const payouts = ops.filter((e) => e.op.kind === 'cash.moved' && e.op.body.reason === 'paid_out');
    assert.ok(payouts.length > 0, 'paid-outs were recorded');
    for (const p of payouts) assert.equal(p.op.actor?.approvedBy, 'sup-north');
  });

  it('fires every rule when the disks are tampered with, naming the terminal and the op', () => {
    const lane = (label: string) => world.lane(label) as SimLane;
    const device = (label: string) => lane(label).deviceId as string;
    const [t1, t2, t3] = ['till-1', 'till-2', 'till-3'].map((l) => lane(l).terminal?.ops({ limit: 1000 }) ?? []);
    assert.ok(t1 && t2 && t3 && t1.length > 12 && t2.length > 12 && t3.length > 12, 'enough ops on every till');
    const op = (ops: typeof t1, seq: number) => ops[seq - 1] as (typeof t1)[number];
    const shiftOf = (label: string) => lane(label).terminal?.lastShift()?.id as string;
    const expected: { rule: Rule; device?: string; opId?: string; what: string }[] = [];
    const expect = (rule: Rule, what: string, target: { device?: string; opId?: string } = {}) =>
      expected.push({ rule, what, ...target });

    // The server's disk, behind the append-only triggers' backs.
    const db = new Database(world.server.path);
    db.exec('DROP TRIGGER ops_no_update; DROP TRIGGER ops_no_delete; DROP TRIGGER ledger_no_update;');
    db.prepare('DELETE FROM ops WHERE id = ?').run(op(t1, 5).id);
    expect('lost', 'a confirmed op deleted from the server', { device: 'till-1', opId: op(t1, 5).id });
    expect('chain', 'which leaves a hole in the chain', { device: 'till-1' });
    expect('phantom', 'and a ledger event of an op no longer stored', { opId: op(t1, 5).id });
    db.prepare(
      "INSERT INTO ops (id, device, seq, hash, kind, envelope, status, result, received_at) VALUES ('phantom-op', ?, 999, 'h', 'sale.recorded', '{}', 'accepted', '{}', 0)",
    ).run(device('till-2'));
    expect('phantom', 'an op no terminal recorded', { opId: 'phantom-op' });
    db.prepare(
      'INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at) SELECT op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at FROM ledger WHERE op_id = ?',
    ).run(op(t2, 4).id);
    expect('applied-once', 'an op applied twice', { opId: op(t2, 4).id });
    db.prepare('UPDATE ledger SET amount = amount + 100 WHERE op_id = ?').run(op(t3, 3).id);
    expect('money', 'a ledger amount changed', { device: 'till-3', opId: shiftOf('till-3') });
    db.prepare('UPDATE shifts SET cash_in = cash_in + 1 WHERE id = ?').run(shiftOf('till-1'));
    expect('shift-projection', 'a shift projection changed', { device: 'till-1', opId: shiftOf('till-1') });
    db.prepare('UPDATE ops SET result = ? WHERE id = ?').run('{"status":"accepted","at":1}', op(t3, 6).id);
    expect('result-changed', 'a stored result rewritten', { opId: op(t3, 6).id });
    expect('view-agrees', 'so the till holds another result than the server', { device: 'till-3', opId: op(t3, 6).id });
    const exception = db.prepare(
      "INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key) VALUES (?, ?, 'alarm', ?, NULL, NULL, 'tampered', '{}', 0, ?)",
    );
    exception.run('x-1', 'shift_rule', device('till-2'), 'tamper-1');
    expect('exception', 'an exception no clerk caused', { device: 'till-2' });
    exception.run('x-2', 'fork', device('till-3'), 'tamper-2');
    expect('fork', 'a fork nobody injected', { device: 'till-3' });
    // An aggregated op_rejected counting rejections the server never stored.
    db.prepare(
      `INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key, occurrences)
       VALUES ('x-3', 'op_rejected', 'warning', ?, NULL, NULL, 'tampered', '{"cause":"unknown_kind"}', 0, 'tamper-3', 2)`,
    ).run(device('till-1'));
    expect('rejections-counted', 'an op_rejected counting rejections no op stands for', { device: 'till-1' });
    db.prepare('UPDATE devices SET clock_offset_ms = clock_offset_ms + 600000 WHERE id = ?').run(device('till-2'));
    expect('clock-offset', 'an offset estimate ten minutes off', { device: 'till-2' });
    db.prepare('UPDATE devices SET high_water = high_water - 1 WHERE id = ?').run(device('till-3'));
    expect('chain', 'a head that does not match the ops', { device: 'till-3' });

    // Card payments: the server's offline payments and settlements, and the processor's own records.
    type Payment = { op_id: string; device: string; outcome: string; token: string; amount: number };
    const payments = db
      .prepare('SELECT op_id, device, outcome, token, amount FROM offline_payments ORDER BY device, seq')
      .all() as Payment[];
    const approved = payments.filter((p) => p.outcome === 'approved');
    const declined = payments.find((p) => p.outcome === 'declined');
    assert.ok(approved.length >= 4 && declined, 'card payments approved and declined');
    const [neverSent, charged, relabelled, unsettled] = approved as [Payment, Payment, Payment, Payment];
    const labelOf = (p: Payment) => world.lanes.find((l) => l.deviceId === p.device)?.label as string;
    db.prepare("UPDATE ledger SET type = 'payment.declined' WHERE op_id = ? AND type = 'payment.settled'").run(
      relabelled.op_id,
    );
    expect('decline-surfaced', 'an approval recorded as a decline, with no exception', {
      device: labelOf(relabelled),
      opId: relabelled.op_id,
    });
    db.prepare("DELETE FROM exceptions WHERE type = 'post_auth_decline' AND op_id = ?").run(declined.op_id);
    expect('decline-surfaced', 'a post-authorization decline nobody was told of', {
      device: labelOf(declined),
      opId: declined.op_id,
    });
    db.prepare('UPDATE offline_payments SET settled_at = NULL WHERE op_id = ?').run(unsettled.op_id);
    expect('unsettled', 'an offline payment never settled', { device: labelOf(unsettled), opId: unsettled.op_id });
    // Wallets: totals edited (the CHECK still holds), a chip write dropped, a negative balance left unblocked.
    const wallets = db
      .prepare(
        'SELECT wristband FROM wallet_accounts WHERE debited > 0 AND blocked_reason IS NULL AND distinct_counters = max_counter ORDER BY wristband',
      )
      .all() as { wristband: string }[];
    assert.ok(wallets.length >= 3, `wristband traffic left ${wallets.length} wallets`);
    const [w1, w2, w3] = wallets.map((w) => w.wristband) as [string, string, string];
    db.prepare(
      'UPDATE wallet_accounts SET topped_up = topped_up + 100, balance = balance + 100 WHERE wristband = ?',
    ).run(w1);
    expect('wallet-conserved', 'a wallet topped up with no entry');
    const dropped = db
      .prepare("SELECT op_id FROM wallet_entries WHERE wristband = ? AND kind = 'debit' LIMIT 1")
      .get(w2) as { op_id: string };
    db.prepare('DELETE FROM wallet_entries WHERE op_id = ?').run(dropped.op_id);
    expect('wallet-once', "a sale's chip write in no wallet", { opId: dropped.op_id });
    db.prepare('UPDATE wallet_accounts SET debited = debited + balance + 100, balance = -100 WHERE wristband = ?').run(
      w3,
    );
    expect('overspend-blocked', 'a wallet below zero, with every counter known, neither raised nor blocked');
    // An op claiming a staff member no roster ever had (staff at the till).
    db.prepare(`UPDATE ops SET envelope = json_set(envelope, '$.actor', json('{"staff":"ghost"}')) WHERE id = ?`).run(
      op(t3, 4).id,
    );
    expect('staff', 'an op naming a staff member no roster ever had', { device: 'till-3', opId: op(t3, 4).id });
    // Betting tickets (docs/betting.md): a ticket paid with no payout stored and no history, a
    // settlement its results do not give, liability no open ticket holds, a void with no approver.
    const insertTicket = db.prepare(
      `INSERT INTO tickets (ticket_id, device, authorization_id, currency, stake, potential_payout, selections,
         accepted_at, state, payout, settled_at)
       VALUES (?, ?, 'auth-x', 'EUR', 100, 200, '[{"event":"ev-x","market":"m","selection":"s","odds":200}]', 0, ?, ?, 0)`,
    );
    insertTicket.run('ticket-paid', device('till-2'), 'paid', 200);
    expect('ticket-paid-once', 'a ticket paid with no payout stored');
    expect('ticket-history', 'a ticket with no history');
    insertTicket.run('ticket-won', device('till-2'), 'won', 999);
    expect('payout-amount', 'a settlement its results do not give');
    db.prepare(
      "INSERT INTO selection_liability (currency, event, market, selection, liability, tickets) VALUES ('EUR', 'ev-y', 'm', 's', 5, 1)",
    ).run();
    expect('liability-held', 'liability no open ticket holds');
    const voidOp = op(t2, 3).id;
    db.prepare(
      `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
       SELECT op_id, device, seq, 'ticket.voided', shift_id, currency, 0, '{"ticket":"ticket-won"}', device_at, applied_at
       FROM ledger WHERE op_id = ? LIMIT 1`,
    ).run(voidOp);
    expect('void-approved', 'a ticket voided with no approver', { opId: voidOp });
    // A stale-price report for an op that is no catalog sale (docs/catalog-and-stock.md).
    const notStale = op(t2, 2).id;
    db.prepare(
      `INSERT INTO exceptions (id, type, severity, device, op_id, seq, message, detail, raised_at, dedupe_key)
       VALUES ('stale-x', 'stale_price', 'info', ?, ?, 2, 'tampered', '{"difference":-1}', 0, 'stale-x')`,
    ).run(device('till-2'), notStale);
    expect('stale-price-reported', 'a stale_price for an op that is no catalog sale', { opId: notStale });
    // Stock (docs/catalog-and-stock.md): a level's received changed; a stock_shortfall deleted.
    assert.ok(
      (
        db.prepare("SELECT COUNT(*) AS n FROM exceptions WHERE type = 'stale_price' AND id <> 'stale-x'").get() as {
          n: number;
        }
      ).n > 0,
      'the south sold at a superseded price',
    );
    db.prepare("UPDATE stock_levels SET received = received + 2 WHERE location = 'north' AND sku = 'HOTDOG'").run();
    expect('stock-conserved', "a level's received changed");
    const shortfall = db.prepare("SELECT id, op_id FROM exceptions WHERE type = 'stock_shortfall' LIMIT 1").get() as
      | { id: string; op_id: string }
      | undefined;
    assert.ok(shortfall, 'the hot dogs were oversold');
    db.prepare('DELETE FROM exceptions WHERE id = ?').run(shortfall.id);
    expect('oversell-flagged', 'an oversell episode whose stock_shortfall was deleted', { opId: shortfall.op_id });

    // Sale corrections (docs/corrections.md): a sale voided with no approver, and refunds above
    // a sale with no refund_over_sale raised.
    const sold = db.prepare('SELECT op_id, total FROM sales ORDER BY device, seq LIMIT 1').get() as {
      op_id: string;
      total: number;
    };
    const correctOp = op(t2, 4).id;
    const correction = db.prepare(
      `INSERT INTO ledger (op_id, device, seq, type, shift_id, currency, amount, data, device_at, applied_at)
       SELECT op_id, device, seq, ?, shift_id, currency, ?, ?, device_at, applied_at FROM ledger WHERE op_id = ? LIMIT 1`,
    );
    correction.run('sale.voided', 0, JSON.stringify({ sale: sold.op_id, cash: 0, card: 0 }), correctOp);
    expect('sale-void-approved', 'a sale voided with no approver', { opId: correctOp });
    correction.run('sale.refunded', sold.total + 1, JSON.stringify({ sale: sold.op_id, tender: 'cash' }), correctOp);
    expect('refunds-within-sale', 'refunds above their sale, unnoticed', { opId: correctOp });
    // Cash corrections (docs/corrections.md): a cash movement corrected for more than it moved, with no
    // cash_correction_over raised.
    const moved = db
      .prepare("SELECT op_id, amount, data FROM ledger WHERE type = 'cash.moved' ORDER BY device, seq LIMIT 1")
      .get() as { op_id: string; amount: number; data: string } | undefined;
    assert.ok(moved, 'the clerks moved cash');
    const direction = (JSON.parse(moved.data) as { direction: string }).direction === 'in' ? 'out' : 'in';
    correction.run(
      'cash.corrected',
      moved.amount + 1,
      JSON.stringify({ movement: moved.op_id, direction, approvedBy: 'sup-1' }),
      correctOp,
    );
    expect('cash-corrections-within-movement', 'a cash movement corrected beyond it, unnoticed', { opId: correctOp });
    db.close();

    const processor = new Database(world.cards?.processor.path as string);
    processor.exec('DROP TRIGGER authorizations_no_delete;');
    processor.prepare('DELETE FROM authorizations WHERE reference = ?').run(neverSent.op_id);
    expect('forwarded-once', 'an offline payment the processor never saw', {
      device: labelOf(neverSent),
      opId: neverSent.op_id,
    });
    // A second charge of one payment, under another key.
    processor
      .prepare(
        `INSERT INTO authorizations (id, idempotency_key, request_hash, request_json, merchant, card_token, amount, currency,
           status, decline_code, reference, offline, created_at, response_json)
         SELECT 'auth_000000000000000000000001', idempotency_key || '-again', request_hash, request_json, merchant, card_token,
           amount, currency, status, decline_code, reference, offline, created_at, response_json
           FROM authorizations WHERE reference = ?`,
      )
      .run(charged.op_id);
    expect('forwarded-once', 'an authorization that is no offline payment', { opId: charged.op_id });
    expect('double-charge', 'a card charged twice for one payment');
    processor.close();
    world.cards?.breaches.push({
      at: TINY_START + 5 * MINUTE,
      source: 'fleet',
      group: 'EUR holdfast-sim/north/tamper-test',
      amount: 1,
      count: 1,
      boundAmount: 0,
      boundCount: 0,
    });
    expect('exposure-bound', 'an exposure above its bound at a sampling tick');

    // A terminal's journal, with the till switched off.
    const till2 = lane('till-2');
    till2.terminal?.kill();
    till2.terminal = null;
    const journal = new Database(join(till2.dir, 'journal.db'));
    const last = t2.at(-1) as (typeof t2)[number];
    journal.prepare('DELETE FROM ops WHERE seq = ?').run(last.seq);
    expect('recorded-durable', 'an op the app saw recorded, gone from the journal', {
      device: 'till-2',
      opId: last.id,
    });
    journal.prepare("UPDATE ops SET state = 'pending' WHERE seq = 7").run();
    expect('not-drained', 'an op pending after the drain', { device: 'till-2', opId: op(t2, 7).id });
    journal.prepare("UPDATE ops SET state = 'dead' WHERE seq = 8").run();
    expect('view-agrees', 'an op dead on the till that the server applied', { device: 'till-2', opId: op(t2, 8).id });
    journal
      .prepare(
        "INSERT INTO dead_letters (seq, id, kind, reason, message, result, at) VALUES (8, ?, 'sale.recorded', '', '', NULL, 0)",
      )
      .run(op(t2, 8).id);
    expect('dead-letter', 'a dead letter without a reason', { device: 'till-2', opId: op(t2, 8).id });
    journal.prepare("UPDATE ops SET hash = 'tampered' WHERE seq = 9").run();
    expect('journal-chain', 'a journal op whose hash is not its own', { device: 'till-2', opId: op(t2, 9).id });
    journal.close();

    // What the world saw while running.
    world.errors.push({ lane: 'till-3', at: 0, error: new Error('listener blew up') });
    expect('sdk-error', 'an error from the SDK', { device: 'till-3' });
    world.network.internalErrors.push(new Error('disk full'));
    expect('server-error', 'an internal server error');
    const drainedAt = world.drainedAt;
    world.drainedAt = null;
    expect('not-drained', 'queues never empty');

    // A drawer shows another variance than the clerk's count meant (drawer-honest).
    const [counted] = world.counts.keys();
    assert.ok(counted, 'the clerks closed their shifts');
    const meant = world.counts.get(counted) as number;
    world.counts.set(counted, meant + 7);
    expect('drawer-honest', 'a variance the clerk did not count', { opId: counted });

    const found = checkInvariants(world);
    world.drainedAt = drainedAt;
    world.counts.set(counted, meant);
    const matches = (v: Violation, e: (typeof expected)[number]) =>
      v.rule === e.rule &&
      (e.device === undefined || v.device === e.device) &&
      (e.opId === undefined || v.opId === e.opId);
    for (const e of expected) {
      assert.ok(
        found.some((v) => matches(v, e)),
        `${e.rule} for ${e.what} (${e.device ?? ''} ${e.opId ?? ''}); found:\n${found.map((v) => `  ${v.rule} ${v.device ?? ''} ${v.opId ?? ''}: ${v.message}`).join('\n')}`,
      );
    }
    const fired = new Set(found.map((v) => v.rule));
    // Rules over data this world has none of (loyalty members, fiscal bills, top-up reversals) are
    // tamper-tested on worlds that have it: sim/src/check/rules/loyalty.test.ts, fiscal.test.ts and
    // topup-reversals.test.ts.
    const elsewhere = new Set([
      'points-conserved',
      'points-once',
      'points-overdrawn-flagged',
      'points-online-confirmed',
      'fiscal-once',
      'fiscal-order',
      'topup-reversals-within-topup',
    ]);
    assert.deepEqual(
      RULES.filter((r) => !fired.has(r) && !elsewhere.has(r)),
      ['expectation'],
      'every rule fired (scenario expectations are tested with the scenarios)',
    );

    // The explanation: rule, run, op, its history on the wire, and the replay command.
    const lostOne = found.find((v) => v.rule === 'lost' && v.opId === op(t1, 5).id) as Violation;
    const text = explain(world, lostOne, 'holdfast simulate --scenario tamper-test --seed 5');
    assert.match(text, /✗ lost: /);
    assert.match(text, /scenario tamper-test, seed 5/);
    assert.match(text, new RegExp(`op: ${op(t1, 5).id} \\(seq 5\\)`));
    assert.match(text, new RegExp(`the app recorded it at \\+\\d\\dm\\d\\d\\.\\d{3}s: ${op(t1, 5).op.kind}`));
    assert.match(text, /server: not stored/);
    assert.match(text, /batch #\d+ sent \(seqs \d+\.\.\d+/);
    // The server's answer to the batch that carried it (what else it answered depends on the run's faults).
    assert.match(text, /server answered 200: (duplicate of accepted ×\d+, )?accepted ×\d+/);
    assert.match(text, /server crashes: \+09m/);
    assert.match(text, /replay: holdfast simulate --scenario tamper-test --seed 5/);
    // A card payment's explanation tells what the forwarder did and what the processor holds.
    const unsent = found.find((v) => v.rule === 'forwarded-once' && v.opId === neverSent.op_id) as Violation;
    const story = explain(world, unsent, 'holdfast simulate --scenario tamper-test --seed 5');
    assert.match(story, /never reached the processor/);
    assert.match(story, /its card payment:\n.*forwarder \(server incarnation \d\): tender 0 approved by the processor/);
    assert.match(story, /the processor holds nothing for it/);
    const twice = found.find((v) => v.rule === 'forwarded-once' && v.opId === charged.op_id) as Violation;
    assert.match(explain(world, twice, ''), /the processor holds:\n.*approved.*\n.*approved.*-again/);
  });
});
