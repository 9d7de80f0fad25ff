/**
 * Wallet statements of the SQLite backend: the facts the planner needs for
 * a batch's wristbands, and the plan's wallet writes. Runs inside the
 * caller's transaction (BEGIN IMMEDIATE: the only writer, so the facts read
 * are the rows written).
 */
import type { CounterUse } from '@holdfast/domain';
import type Database from 'better-sqlite3';
import type { IngestPlan } from '../../ingest/ingest-plan.js';
import type { WalletAccountRecord, WalletFacts, WalletFilter, WalletView } from '../../model/wallet.js';
import {
  addCounterUse,
  toWalletAccount,
  toWalletEntry,
  WALLET_ACCOUNT_COLUMNS,
  WALLET_ENTRY_COLUMNS,
  walletAccountValues,
  walletEntryValues,
} from '../../wallets/wallet-records.js';
import type { Row } from '../rows.js';
import { RowInserter } from './row-inserter.js';

export class SqliteWallets {
  readonly #accounts: Database.Statement;
  readonly #counters: Database.Statement;
  readonly #upsert: Database.Statement;
  readonly #entries: RowInserter;
  readonly #one: Database.Statement;
  readonly #entriesOf: Database.Statement;
  readonly #list: Database.Statement;

  constructor(db: Database.Database) {
    const cols = WALLET_ACCOUNT_COLUMNS;
    this.#accounts = db.prepare('SELECT * FROM wallet_accounts WHERE wristband IN (SELECT value FROM json_each(?))');
    this.#counters = db.prepare(
      `SELECT wristband, counter, op_id, tender_index, balance_before, balance_after FROM wallet_entries
       WHERE wristband IN (SELECT value FROM json_each(?)) ORDER BY wristband, counter, op_id, tender_index`,
    );
    this.#upsert = db.prepare(
      `INSERT INTO wallet_accounts (${cols.join(', ')}) VALUES (${cols.map(() => '?').join(', ')})
       ON CONFLICT (wristband) DO UPDATE SET ${cols
         .filter((c) => c !== 'wristband')
         .map((c) => `${c} = excluded.${c}`)
         .join(', ')}`,
    );
    this.#entries = new RowInserter(
      db,
      `INSERT INTO wallet_entries (${WALLET_ENTRY_COLUMNS.join(', ')})`,
      WALLET_ENTRY_COLUMNS.length,
    );
    this.#one = db.prepare('SELECT * FROM wallet_accounts WHERE wristband = ?');
    this.#entriesOf = db.prepare(
      'SELECT * FROM wallet_entries WHERE wristband = ? ORDER BY counter, op_id, tender_index',
    );
    this.#list = db.prepare(
      `SELECT * FROM wallet_accounts
       WHERE (@after IS NULL OR wristband > @after)
         AND (@blocked IS NULL OR (blocked_reason IS NOT NULL) = @blocked)
       ORDER BY wristband LIMIT @limit`,
    );
  }

  /** The wallets of `uids` (accounts and the counters written). */
  facts(uids: readonly string[]): Map<string, WalletFacts> {
    const out = new Map<string, WalletFacts>();
    if (uids.length === 0) return out;
    const json = JSON.stringify(uids);
    const counters = new Map<string, Map<number, CounterUse[]>>();
    for (const r of this.#counters.all(json) as Row[]) {
      const uid = r.wristband as string;
      addCounterUse(counters, uid, Number(r.counter), {
        opId: r.op_id as string,
        tenderIndex: Number(r.tender_index),
        balanceBefore: Number(r.balance_before),
        balanceAfter: Number(r.balance_after),
      });
    }
    for (const r of this.#accounts.all(json) as Row[]) {
      const account = toWalletAccount(r);
      out.set(account.wristband, { account, counters: counters.get(account.wristband) ?? new Map() });
    }
    return out;
  }

  write(plan: IngestPlan): void {
    this.#entries.insert(plan.walletEntries, (e, out) => {
      out.push(...walletEntryValues(e));
    });
    for (const a of plan.wallets) this.upsert(a);
  }

  upsert(account: WalletAccountRecord): void {
    this.#upsert.run(...walletAccountValues(account));
  }

  account(wristband: string): WalletAccountRecord | null {
    const row = this.#one.get(wristband) as Row | undefined;
    return row ? toWalletAccount(row) : null;
  }

  view(wristband: string): WalletView | null {
    const account = this.account(wristband);
    if (!account) return null;
    return { account, entries: (this.#entriesOf.all(wristband) as Row[]).map(toWalletEntry) };
  }

  list(filter: WalletFilter): WalletAccountRecord[] {
    const blocked = filter.blocked === undefined ? null : filter.blocked ? 1 : 0;
    return (this.#list.all({ after: filter.after ?? null, blocked, limit: filter.limit }) as Row[]).map(
      toWalletAccount,
    );
  }
}
