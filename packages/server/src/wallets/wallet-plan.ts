/**
 * The wallet part of the ingest planner: turns each chip write an op
 * carries into a wallet entry, applies it with the domain's wallet rules,
 * and says what to raise and whom to block. Pure, like planIngest: the
 * backends load `WalletFacts` for the wristbands of the batch (holding a
 * lock on each wristband, see the backends) and write what it returns.
 *
 * A debit is a fact that happened (the drink was served, the chip was
 * written), so it is always applied whole, even to a blocked wristband;
 * what it reveals becomes an exception. The first `wristband_clone` or
 * `wristband_overspend` of a wristband that is not blocked blocks it: a
 * `wristband.blocked` ledger event (data `{ wristband, reason,
 * exceptionId }`, device = the device whose op revealed it), which the
 * device feed delivers to every terminal.
 */
import {
  applyWalletEntry,
  blockWallet,
  describeWalletFinding,
  type WalletFinding,
  type WalletState,
} from '@holdfast/domain';
import type { Op } from '@holdfast/protocol';
import type { WalletAccountRecord, WalletEntryRecord, WalletFacts } from '../model/wallet.js';

const UID = /^(?:[0-9A-F]{2}){4,32}$/;

/** The wristbands an op batch writes to (from unvalidated bodies: only well-formed uids), sorted. */
export function walletRefs(ops: readonly Op[]): string[] {
  const refs = new Set<string>();
  const add = (value: unknown) => {
    if (typeof value === 'string' && UID.test(value)) refs.add(value);
  };
  for (const op of ops) {
    if (op.kind === 'wallet.topped_up' || op.kind === 'wallet.refunded' || op.kind === 'wallet.topup_reversed')
      add(op.body.wristband);
    else if (op.kind === 'sale.recorded' && Array.isArray(op.body.tenders)) {
      for (const t of op.body.tenders as unknown[]) {
        if (typeof t === 'object' && t !== null && (t as { type?: unknown }).type === 'wristband') {
          add((t as { wristband?: unknown }).wristband);
        }
      }
    }
  }
  return [...refs].sort();
}

/** One exception the wallet rules want raised, with the block it causes if any. */
export interface WalletRaise {
  type: 'wristband_clone' | 'wristband_overspend';
  wristband: string;
  dedupe: string;
  message: string;
  detail: Record<string, unknown>;
}

/**
 * Applies the chip writes of one batch, in batch order. `raise` records an
 * exception and returns its id; `block` is told when a wristband becomes
 * blocked (to write the ledger event).
 */
export class WalletPlanner {
  readonly #facts: ReadonlyMap<string, WalletFacts>;
  readonly #state = new Map<string, WalletState>();
  readonly #created = new Map<string, { merchant: string | null; firstSeenAt: number }>();
  readonly #changed = new Set<string>();
  readonly entries: WalletEntryRecord[] = [];

  constructor(facts: ReadonlyMap<string, WalletFacts> | undefined) {
    this.#facts = facts ?? new Map();
  }

  /**
   * Applies one entry. Returns the findings raised (already turned into
   * exceptions through `raise`) and the block, if this entry blocked the
   * wristband.
   */
  apply(
    entry: WalletEntryRecord,
    merchant: string | null,
    raise: (r: WalletRaise) => string,
  ): { findings: WalletFinding[]; blocked: { reason: WalletRaise['type']; exceptionId: string } | null } {
    const uid = entry.wristband;
    const before = this.#stateOf(uid);
    const out = applyWalletEntry(before, entry);
    if (out.applied) {
      this.entries.push(entry);
      this.#changed.add(uid);
      if (!before.account) this.#created.set(uid, { merchant, firstSeenAt: entry.appliedAt });
    }
    let state = out.state;
    let blocked: { reason: WalletRaise['type']; exceptionId: string } | null = null;
    for (const finding of out.findings) {
      const currency = state.account?.currency ?? entry.currency;
      const exceptionId = raise({
        type: finding.type,
        wristband: uid,
        dedupe: `${uid}:${entry.opId}:${entry.tenderIndex}:${findingKey(finding)}`,
        message: describeWalletFinding(uid, finding, currency),
        detail: {
          wristband: uid,
          ...finding,
          opId: entry.opId,
          tenderIndex: entry.tenderIndex,
          entryKind: entry.kind,
          amount: entry.amount,
          currency: entry.currency,
          counter: entry.counter,
          balanceBefore: entry.balanceBefore,
          serverBalance: state.account?.balance ?? null,
        },
      });
      const account = state.account;
      if (account && !account.blocked && !blocked) {
        blocked = { reason: finding.type, exceptionId };
        state = {
          ...state,
          account: blockWallet(account, {
            reason: finding.type,
            exceptionId,
            opId: entry.opId,
            device: entry.device,
            seq: entry.seq,
            at: entry.appliedAt,
          }),
        };
        this.#changed.add(uid);
      }
    }
    this.#state.set(uid, state);
    return { findings: out.findings, blocked };
  }

  /** The balance of `uid`'s wallet as the batch stands, or null if there is none. */
  balance(uid: string): number | null {
    return this.#stateOf(uid).account?.balance ?? null;
  }

  /** The accounts created or changed by the batch, final state. */
  accounts(now: number): WalletAccountRecord[] {
    const out: WalletAccountRecord[] = [];
    for (const uid of this.#changed) {
      const account = this.#state.get(uid)?.account;
      if (!account) continue;
      const stored = this.#facts.get(uid)?.account;
      const created = this.#created.get(uid);
      out.push({
        ...account,
        merchant: stored?.merchant ?? created?.merchant ?? null,
        firstSeenAt: stored?.firstSeenAt ?? created?.firstSeenAt ?? now,
        updatedAt: now,
      });
    }
    return out;
  }

  #stateOf(uid: string): WalletState {
    let state = this.#state.get(uid);
    if (!state) {
      const facts = this.#facts.get(uid);
      state = { account: facts?.account ?? null, counters: facts?.counters ?? new Map() };
      this.#state.set(uid, state);
    }
    return state;
  }
}

/**
 * What tells one finding of a write from another in its dedupe key: the
 * reason, and for a broken balance chain the neighbour it disagrees with (a
 * write can disagree with both the write below and the write above it).
 */
function findingKey(finding: WalletFinding): string {
  if (finding.type === 'wristband_overspend') return 'overspend';
  return finding.reason === 'balance_chain_broken' ? `${finding.reason}@${finding.neighbourCounter}` : finding.reason;
}
