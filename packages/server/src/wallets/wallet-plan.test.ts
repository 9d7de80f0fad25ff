/**
 * The wallet part of the pure ingest planner: what a batch's chip writes do
 * to the wallets it is given as facts, without a database.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_INJECTED_BUGS } from '@holdfast/domain';
import {
  ChainBuilder,
  GENESIS_HASH,
  generateDeviceKeys,
  type Op,
  uuidv7,
  type WalletToppedUpBody,
} from '@holdfast/protocol';
import type { IngestFacts } from '../ingest/ingest-facts.js';
import { planIngest } from '../ingest/plan-ingest.js';
import type { VerifiedBatch } from '../model/batch.js';
import type { DeviceRecord } from '../model/device.js';
import type { WalletFacts } from '../model/wallet.js';
import { saleBody, T0 } from '../testing/harness.js';
import { walletRefs } from './wallet-plan.js';

const NOW = T0 + 60_000;
const UID = '04A1B2C3D4E5F6';
let n = 0;
const newId = () => uuidv7(T0, new Uint8Array(10).fill(++n % 256));

function device(): { record: DeviceRecord; chain: ChainBuilder } {
  const id = uuidv7(T0, crypto.getRandomValues(new Uint8Array(10)));
  let at = T0;
  const record: DeviceRecord = {
    id,
    label: 'bar',
    publicKey: 'k'.repeat(43),
    enrolledAt: T0,
    revokedAt: null,
    revokeReason: null,
    highWater: 0,
    headHash: GENESIS_HASH,
    latestSeq: 0,
    gapFrom: null,
    gapTo: null,
    lastSeenAt: null,
    clockOffsetMs: null,
    merchant: 'acme',
    location: null,
    event: null,
  };
  return { record, chain: new ChainBuilder(id, generateDeviceKeys().privateKey, { now: () => at++ }) };
}

const batchOf = (d: DeviceRecord, ops: Op[]): VerifiedBatch => ({
  device: d.id,
  ops,
  sentAt: NOW,
  latestSeq: ops.length,
  trust: 'fresh',
});

function topUp(chain: ChainBuilder, shift: string, amount: number, counter: number, before: number): Op {
  const body: WalletToppedUpBody = {
    shift,
    currency: 'EUR',
    wristband: UID,
    amount,
    counter,
    balanceBefore: before,
    paid: 'cash',
  };
  return chain.next('wallet.topped_up', body);
}

function bandSale(chain: ChainBuilder, shift: string, amount: number, counter: number, before: number): Op {
  return chain.next(
    'sale.recorded',
    saleBody(shift, amount, {
      tenders: [{ type: 'wristband', amount, wristband: UID, counter, balanceBefore: before }],
    }),
  );
}

function plan(d: DeviceRecord, ops: Op[], wallets?: Map<string, WalletFacts>) {
  const facts: IngestFacts = {
    device: d,
    byId: new Map(),
    bySeq: new Map(),
    shifts: new Map(),
    ...(wallets ? { wallets } : {}),
  };
  return planIngest(batchOf(d, ops), facts, { now: NOW, newId, bugs: NO_INJECTED_BUGS });
}

describe('wallet planning', () => {
  it('walletRefs: well-formed uids of sale tenders and wallet ops, sorted, once; junk ignored', () => {
    const { chain } = device();
    const open = chain.next('shift.opened', { clerk: 'a', currency: 'EUR', openingFloat: 0 });
    const ops = [open, bandSale(chain, open.id, 100, 2, 500), topUp(chain, open.id, 100, 1, 0)];
    const junk = {
      ...bandSale(chain, open.id, 100, 3, 400),
      body: { tenders: [{ type: 'wristband', wristband: 'x' }] },
    };
    assert.deepEqual(walletRefs([...ops, junk as Op]), [UID]);
  });

  it('a cloned image in one batch: two findings on the second write, one block event, totals conserved', () => {
    const { record, chain } = device();
    const open = chain.next('shift.opened', { clerk: 'a', currency: 'EUR', openingFloat: 0 });
    const ops = [
      open,
      topUp(chain, open.id, 1_000, 1, 0),
      bandSale(chain, open.id, 800, 2, 1_000),
      bandSale(chain, open.id, 800, 2, 1_000),
    ];
    const p = plan(record, ops);
    assert.deepEqual(
      p.exceptions.map((x) => x.type),
      ['wristband_clone', 'wristband_overspend'],
    );
    assert.equal(p.exceptions[0]?.opId, ops[3]?.id);
    const blocked = p.ledger.filter((e) => e.type === 'wristband.blocked');
    assert.equal(blocked.length, 1);
    assert.deepEqual(blocked[0]?.data, { wristband: UID, reason: 'wristband_clone', exceptionId: p.exceptions[0]?.id });
    const [account] = p.wallets;
    assert.ok(account);
    assert.deepEqual(
      [account.toppedUp, account.debited, account.balance, account.merchant],
      [1_000, 1_600, -600, 'acme'],
    );
    assert.equal(account.blocked?.exceptionId, p.exceptions[0]?.id);
    assert.equal(p.walletEntries.length, 3);
  });

  it('a write that breaks the balance chain on both sides raises two findings, each with its own dedupe key', () => {
    const { record, chain } = device();
    const open = chain.next('shift.opened', { clerk: 'a', currency: 'EUR', openingFloat: 0 });
    // Counter 1 leaves 1000 and counter 3 reads 900; counter 2 (arriving last) reads 500 and leaves 400.
    const ops = [open, topUp(chain, open.id, 1_000, 1, 0), bandSale(chain, open.id, 100, 3, 900)];
    const forged = bandSale(chain, open.id, 100, 2, 500);
    const p = plan(record, [...ops, forged]);
    const found = p.exceptions.filter((x) => x.opId === forged.id);
    assert.deepEqual(
      found.map((x) => [x.type, x.detail.reason, x.detail.neighbourCounter]),
      [
        ['wristband_clone', 'balance_chain_broken', 1],
        ['wristband_clone', 'balance_chain_broken', 3],
      ],
    );
    assert.equal(new Set(found.map((x) => x.dedupeKey)).size, 2, 'distinct keys: neither is dropped on insert');
  });

  it('the facts given are continued, not replaced: a stored account and its counters', () => {
    const { record, chain } = device();
    const open = chain.next('shift.opened', { clerk: 'a', currency: 'EUR', openingFloat: 0 });
    const first = plan(record, [open, topUp(chain, open.id, 1_000, 1, 0)]);
    const stored = first.wallets[0];
    assert.ok(stored);
    const facts = new Map<string, WalletFacts>([
      [
        UID,
        {
          account: stored,
          counters: new Map([[1, [{ opId: 'x', tenderIndex: 0, balanceBefore: 0, balanceAfter: 1_000 }]]]),
        },
      ],
    ]);
    const second = device();
    const open2 = second.chain.next('shift.opened', { clerk: 'b', currency: 'EUR', openingFloat: 0 });
    const p = plan(second.record, [open2, bandSale(second.chain, open2.id, 300, 2, 1_000)], facts);
    assert.deepEqual(p.exceptions, []);
    assert.equal(p.wallets[0]?.balance, 700);
    assert.equal(p.wallets[0]?.firstSeenAt, stored.firstSeenAt);
    assert.equal(p.wallets[0]?.merchant, 'acme');
  });

  it('an invalid wallet body is rejected and touches no wallet', () => {
    const { record, chain } = device();
    const open = chain.next('shift.opened', { clerk: 'a', currency: 'EUR', openingFloat: 0 });
    const bad = chain.next('wallet.topped_up', {
      shift: open.id,
      currency: 'EUR',
      wristband: UID,
      amount: 100,
      counter: 1,
      balanceBefore: 0,
      paid: 'card',
    } as WalletToppedUpBody);
    const p = plan(record, [open, bad]);
    assert.equal(p.results[1]?.status, 'rejected');
    assert.deepEqual([p.wallets, p.walletEntries], [[], []]);
    assert.equal(p.exceptions[0]?.detail.field, 'body.card');
  });

  it('a wallet op on a shift this device never opened: applied to the wallet, shift_rule raised', () => {
    const { record, chain } = device();
    const stranger = uuidv7(T0, new Uint8Array(10).fill(9));
    const p = plan(record, [topUp(chain, stranger, 500, 1, 0)]);
    assert.deepEqual(
      p.exceptions.map((x) => x.type),
      ['shift_rule'],
    );
    assert.equal(p.wallets[0]?.balance, 500);
  });
});
