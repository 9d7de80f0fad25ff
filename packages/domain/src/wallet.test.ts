import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import {
  applyWalletEntry,
  balanceAfter,
  blockWallet,
  EMPTY_WALLET,
  MAX_WALLET_TOTAL,
  unblockWallet,
  type WalletEntry,
  type WalletEntryKind,
  type WalletFinding,
  type WalletState,
} from './wallet.js';

const UID = '04A1B2C3D4E5F6';

let nextOp = 0;
function entry(
  kind: WalletEntryKind,
  amount: number,
  counter: number,
  before: number,
  extra: Partial<WalletEntry> = {},
) {
  nextOp++;
  return {
    opId: `op-${nextOp}`,
    tenderIndex: 0,
    wristband: UID,
    kind,
    amount,
    currency: 'EUR',
    counter,
    balanceBefore: before,
    balanceAfter: balanceAfter(kind, before, amount),
    device: 'dev',
    seq: nextOp,
    at: 1_000 + nextOp,
    ...extra,
  } satisfies WalletEntry;
}

function applyAll(entries: readonly WalletEntry[], state: WalletState = EMPTY_WALLET) {
  const findings: WalletFinding[] = [];
  for (const e of entries) {
    const out = applyWalletEntry(state, e);
    state = out.state;
    findings.push(...out.findings);
  }
  return { state, findings };
}

describe('wallet: balance and totals', () => {
  it('balance = top-ups − debits + refunds', () => {
    const { state, findings } = applyAll([
      entry('topup', 1_000, 1, 0),
      entry('debit', 300, 2, 1_000),
      entry('refund', 100, 3, 700),
      entry('debit', 800, 4, 800),
    ]);
    assert.deepEqual(findings, []);
    const a = state.account;
    assert.ok(a);
    assert.deepEqual([a.toppedUp, a.debited, a.refunded, a.balance], [1_000, 1_100, 100, 0]);
    assert.deepEqual([a.entries, a.maxCounter, a.distinctCounters], [4, 4, 4]);
  });

  it('an entry applied twice counts once and finds nothing the second time', () => {
    const top = entry('topup', 1_000, 1, 0);
    const once = applyAll([top]);
    const again = applyWalletEntry(once.state, top);
    assert.equal(again.applied, false);
    assert.deepEqual(again.findings, []);
    assert.equal(again.state, once.state);
  });
});

describe('wallet: counters', () => {
  it('a counter written twice by two ops is a clone, whichever arrives first', () => {
    const top = entry('topup', 1_000, 1, 0);
    const a = entry('debit', 800, 2, 1_000);
    const b = entry('debit', 800, 2, 1_000);
    for (const order of [
      [top, a, b],
      [top, b, a],
      [b, top, a],
    ]) {
      const { findings } = applyAll(order);
      const reused = findings.filter((f) => f.type === 'wristband_clone' && f.reason === 'counter_reused');
      assert.equal(reused.length, 1, JSON.stringify(order.map((e) => e.opId)));
    }
  });

  it('late arrival (a lower counter that fills a hole) is not a clone', () => {
    const top = entry('topup', 1_000, 1, 0);
    const d2 = entry('debit', 100, 2, 1_000);
    const d3 = entry('debit', 100, 3, 900);
    const { findings, state } = applyAll([d3, top, d2]);
    assert.deepEqual(findings, []);
    assert.equal(state.account?.balance, 800);
  });

  it('a rollback to an older image, then spent again, reuses a counter', () => {
    const top = entry('topup', 1_000, 1, 0);
    const d2 = entry('debit', 600, 2, 1_000);
    // The chip was restored to its image after the top-up (counter 1, balance 1 000).
    const replay = entry('debit', 600, 2, 1_000);
    const { findings } = applyAll([top, d2, replay]);
    assert.equal(findings.filter((f) => f.type === 'wristband_clone').length, 1);
  });

  it('a balance the previous write did not leave breaks the chain (both directions of arrival)', () => {
    const top = entry('topup', 1_000, 1, 0);
    const forged = entry('debit', 100, 2, 5_000);
    for (const order of [
      [top, forged],
      [forged, top],
    ]) {
      const { findings } = applyAll(order);
      assert.equal(findings.length, 1);
      assert.equal(findings[0]?.type === 'wristband_clone' && findings[0].reason, 'balance_chain_broken');
    }
  });

  it('another currency is reported and not applied', () => {
    const top = entry('topup', 1_000, 1, 0);
    const usd = entry('debit', 100, 2, 1_000, { currency: 'USD' });
    const { findings, state } = applyAll([top, usd]);
    assert.equal(findings[0]?.type === 'wristband_clone' && findings[0].reason, 'currency_mismatch');
    assert.equal(state.account?.balance, 1_000);
    assert.equal(state.account?.entries, 1);
  });
});

describe('wallet: running totals are bounded (MAX_WALLET_TOTAL)', () => {
  it('a total may reach the bound, not pass it: the entry past it is reported and not applied, the others still apply', () => {
    const nearly: WalletState = {
      account: {
        wristband: UID,
        currency: 'EUR',
        toppedUp: MAX_WALLET_TOTAL - 10,
        debited: MAX_WALLET_TOTAL - 10,
        refunded: 0,
        balance: 0,
        entries: 2,
        maxCounter: 2,
        distinctCounters: 2,
        overspendOp: null,
        blocked: null,
      },
      counters: new Map(),
    };
    const reach = applyWalletEntry(nearly, entry('topup', 10, 3, 0));
    assert.deepEqual([reach.applied, reach.findings, reach.state.account?.toppedUp], [true, [], MAX_WALLET_TOTAL]);
    const past = applyWalletEntry(reach.state, entry('topup', 1, 4, 10));
    assert.equal(past.applied, false);
    assert.deepEqual(past.findings, [
      {
        type: 'wristband_clone',
        reason: 'total_out_of_range',
        total: 'toppedUp',
        value: MAX_WALLET_TOTAL,
        bound: MAX_WALLET_TOTAL,
      },
    ]);
    assert.equal(past.state, reach.state, 'nothing changed');
    const debit = applyWalletEntry(reach.state, entry('debit', 10, 4, 10));
    assert.deepEqual([debit.applied, debit.state.account?.debited], [true, MAX_WALLET_TOTAL]);
    assert.ok(3 * MAX_WALLET_TOTAL < Number.MAX_SAFE_INTEGER, 'the balance, from three totals, stays exact');
  });
});

describe('wallet: overspend', () => {
  it('below zero with every counter known: one overspend, however many more debits follow', () => {
    const top = entry('topup', 1_000, 1, 0);
    const a = entry('debit', 800, 2, 1_000);
    const b = entry('debit', 800, 2, 1_000);
    const c = entry('debit', 100, 3, 200);
    const { findings, state } = applyAll([top, a, b, c]);
    assert.equal(findings.filter((f) => f.type === 'wristband_overspend').length, 1);
    assert.equal(state.account?.balance, -700);
  });

  it('below zero with a hole in the counters is not (yet) an overspend: the hole may be a top-up', () => {
    const top = entry('topup', 1_000, 1, 0);
    const d2 = entry('debit', 800, 2, 1_000);
    const first = applyAll([d2]);
    assert.equal(first.state.account?.balance, -800);
    assert.deepEqual(first.findings, []);
    const then = applyWalletEntry(first.state, top);
    assert.deepEqual(then.findings, []);
    assert.equal(then.state.account?.balance, 200);
  });

  it('the balance exactly at zero is not an overspend; one unit under is', () => {
    const at = applyAll([entry('topup', 1_000, 1, 0), entry('debit', 1_000, 2, 1_000)]);
    assert.deepEqual(at.findings, []);
    const top = entry('topup', 1_000, 1, 0);
    const under = applyAll([top, entry('debit', 600, 2, 1_000), entry('debit', 401, 2, 1_000)]);
    assert.equal(under.findings.filter((f) => f.type === 'wristband_overspend').length, 1);
    const exact = applyAll([entry('topup', 1_000, 1, 0), entry('debit', 600, 2, 1_000), entry('debit', 400, 2, 1_000)]);
    assert.equal(exact.findings.filter((f) => f.type === 'wristband_overspend').length, 0);
  });

  it('a new episode after the balance recovered is reported again', () => {
    const top = entry('topup', 1_000, 1, 0);
    const a = entry('debit', 800, 2, 1_000);
    const b = entry('debit', 800, 2, 1_000);
    const refill = entry('topup', 1_000, 3, 200);
    const c = entry('debit', 1_000, 4, 1_200);
    const c2 = entry('debit', 1_000, 4, 1_200);
    const { findings } = applyAll([top, a, b, refill, c, c2]);
    assert.equal(findings.filter((f) => f.type === 'wristband_overspend').length, 2);
  });
});

describe('wallet: block', () => {
  it('the first block stands; unblock lifts it', () => {
    const { state } = applyAll([entry('topup', 1_000, 1, 0)]);
    const account = state.account;
    assert.ok(account);
    const first = { reason: 'wristband_clone' as const, exceptionId: 'x1', opId: 'o1', device: 'd', seq: 1, at: 5 };
    const blocked = blockWallet(account, first);
    assert.equal(blockWallet(blocked, { ...first, exceptionId: 'x2' }).blocked?.exceptionId, 'x1');
    assert.equal(unblockWallet(blocked).blocked, null);
  });
});

/** A genuine chip's history: each write reads what the previous one wrote; debits never exceed the balance. */
const genuineHistory = fc
  .array(
    fc.record({
      kind: fc.constantFrom<WalletEntryKind>('topup', 'debit', 'refund'),
      amount: fc.integer({ min: 1, max: 5_000 }),
    }),
    {
      minLength: 1,
      maxLength: 30,
    },
  )
  .map((steps) => {
    const entries: WalletEntry[] = [];
    let balance = 0;
    for (const step of steps) {
      const kind = step.kind === 'debit' && step.amount > balance ? 'topup' : step.kind;
      const e = entry(kind, step.amount, entries.length + 1, balance);
      balance = e.balanceAfter;
      entries.push(e);
    }
    return { entries, balance };
  });

/** Arrival: any order, with some entries delivered again. */
function arrival(entries: readonly WalletEntry[]) {
  return fc
    .tuple(
      fc.shuffledSubarray([...entries], { minLength: entries.length, maxLength: entries.length }),
      fc.array(fc.nat(), { maxLength: 5 }),
    )
    .map(([order, repeats]) => {
      const out = [...order];
      for (const r of repeats) out.splice(r % (out.length + 1), 0, entries[r % entries.length] as WalletEntry);
      return out;
    });
}

function signedSum(entries: readonly WalletEntry[]): number {
  return entries.reduce((t, e) => t + (e.kind === 'debit' ? -e.amount : e.amount), 0);
}

describe('wallet: properties', () => {
  it('money is conserved and each entry applied once, under any arrival order with replays', () => {
    fc.assert(
      fc.property(
        genuineHistory.chain(({ entries }) => arrival(entries).map((order) => ({ entries, order }))),
        ({ entries, order }) => {
          const { state } = applyAll(order);
          const a = state.account;
          assert.ok(a);
          assert.equal(a.balance, a.toppedUp - a.debited + a.refunded);
          assert.equal(a.balance, signedSum(entries));
          assert.equal(a.entries, entries.length);
        },
      ),
    );
  });

  it('a genuine history finds nothing in any arrival order (late arrival is never a clone or an overspend)', () => {
    fc.assert(
      fc.property(
        genuineHistory.chain(({ entries }) => arrival(entries).map((order) => ({ entries, order }))),
        ({ entries, order }) => {
          const { state, findings } = applyAll(order);
          assert.deepEqual(findings, []);
          assert.equal(state.account?.balance, entries.at(-1)?.balanceAfter);
        },
      ),
    );
  });

  it('a cloned image spent twice is found in any arrival order, and the totals do not depend on the order', () => {
    fc.assert(
      fc.property(
        genuineHistory.chain(({ entries }) =>
          fc.tuple(fc.nat({ max: entries.length - 1 }), fc.integer({ min: 1, max: 5_000 })).chain(([at, amount]) => {
            const image = entries[at] as WalletEntry;
            // A copy of the chip as written at `image` is spent at another bar.
            const copy = entry(
              'debit',
              Math.min(amount, Math.max(1, image.balanceAfter)),
              image.counter + 1,
              image.balanceAfter,
            );
            const all = [...entries, copy];
            return fc.tuple(arrival(all), arrival(all)).map(([one, two]) => ({ all, one, two }));
          }),
        ),
        ({ all, one, two }) => {
          const x = applyAll(one);
          const y = applyAll(two);
          for (const run of [x, y]) {
            const clones = run.findings.filter((f) => f.type === 'wristband_clone');
            // The copy reuses a counter, unless it wrote the next counter of the last write (then it is just genuine).
            const reused = all.filter((e) => e.counter === all.at(-1)?.counter).length > 1;
            if (reused) assert.ok(clones.length >= 1);
            assert.equal(run.state.account?.balance, signedSum(all));
          }
          assert.deepEqual({ ...x.state.account, overspendOp: null }, { ...y.state.account, overspendOp: null });
        },
      ),
    );
  });
});
