/**
 * Wallet statements of the PostgreSQL backend.
 *
 * Batches of different devices ingest concurrently (each holds only its own
 * device row), but two of them may write to the same wristband. Before
 * reading a wallet's facts, an ingest takes a transaction-scoped advisory
 * lock per wristband of the batch, in ascending key order (so two batches
 * never wait for each other in a cycle), and holds them to COMMIT: the
 * facts it reads are then the rows it overwrites. The lock key is a 64-bit
 * hash of the uid; a collision only serialises two wristbands needlessly.
 */
import type { CounterUse } from '@holdfast/domain';
import type pg from 'pg';
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
import { int, type Row } from '../rows.js';

/** Locks the wallets of `uids` (sorted by lock key inside the fenced subquery) until COMMIT. */
export async function lockWallets(client: pg.PoolClient, uids: readonly string[]): Promise<void> {
  if (uids.length === 0) return;
  await client.query({
    name: 'holdfast_wallet_lock',
    text: `SELECT count(pg_advisory_xact_lock(k)) FROM (
             SELECT DISTINCT hashtextextended('holdfast.wallet:' || w, 0) AS k FROM unnest($1::text[]) AS w
             ORDER BY k OFFSET 0) keys`,
    values: [uids],
  });
}

/** Locks, then loads, the wallets of `uids`. */
export async function loadWalletFacts(
  client: pg.PoolClient,
  uids: readonly string[],
): Promise<Map<string, WalletFacts>> {
  const out = new Map<string, WalletFacts>();
  if (uids.length === 0) return out;
  await lockWallets(client, uids);
  const { rows } = await client.query({
    name: 'holdfast_wallet_facts',
    text: `SELECT
      (SELECT coalesce(json_agg(a), '[]'::json) FROM wallet_accounts a WHERE a.wristband = ANY ($1::text[])) AS accounts,
      (SELECT coalesce(json_agg(json_build_array(e.wristband, e.counter, e.op_id, e.tender_index, e.balance_before,
                                                 e.balance_after) ORDER BY e.wristband, e.counter, e.op_id, e.tender_index),
                        '[]'::json)
         FROM wallet_entries e WHERE e.wristband = ANY ($1::text[])) AS counters`,
    values: [uids],
  });
  const row = rows[0] as Row;
  const counters = new Map<string, Map<number, CounterUse[]>>();
  for (const [uid, counter, opId, tenderIndex, before, after] of row.counters as [
    string,
    number,
    string,
    number,
    number,
    number,
  ][]) {
    addCounterUse(counters, uid, int(counter), {
      opId,
      tenderIndex: int(tenderIndex),
      balanceBefore: int(before),
      balanceAfter: int(after),
    });
  }
  for (const r of row.accounts as Row[]) {
    const account = toWalletAccount(r);
    out.set(account.wristband, { account, counters: counters.get(account.wristband) ?? new Map() });
  }
  return out;
}

const UPSERT_ACCOUNT = `INSERT INTO wallet_accounts (${WALLET_ACCOUNT_COLUMNS.join(', ')})
  VALUES (${WALLET_ACCOUNT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})
  ON CONFLICT (wristband) DO UPDATE SET ${WALLET_ACCOUNT_COLUMNS.filter((c) => c !== 'wristband')
    .map((c) => `${c} = excluded.${c}`)
    .join(', ')}`;

const ENTRY_TYPES = [
  'text',
  'int',
  'text',
  'text',
  'bigint',
  'text',
  'bigint',
  'bigint',
  'bigint',
  'text',
  'bigint',
  'text',
  'bigint',
  'bigint',
];
const INSERT_ENTRIES = `INSERT INTO wallet_entries (${WALLET_ENTRY_COLUMNS.join(', ')})
  SELECT * FROM unnest(${ENTRY_TYPES.map((t, i) => `$${i + 1}::${t}[]`).join(', ')})`;

export async function upsertWallet(client: pg.PoolClient, account: WalletAccountRecord): Promise<void> {
  await client.query({ name: 'holdfast_wallet_upsert', text: UPSERT_ACCOUNT, values: walletAccountValues(account) });
}

/** Writes the plan's wallet entries and accounts (the caller holds the wallet locks). */
export async function writeWallets(client: pg.PoolClient, plan: IngestPlan): Promise<void> {
  if (plan.walletEntries.length > 0) {
    const rows = plan.walletEntries.map(walletEntryValues);
    const columns = WALLET_ENTRY_COLUMNS.map((_, i) => rows.map((r) => r[i]));
    await client.query({ name: 'holdfast_wallet_entries', text: INSERT_ENTRIES, values: columns });
  }
  for (const account of plan.wallets) await upsertWallet(client, account);
}

export async function walletView(db: pg.Pool | pg.PoolClient, wristband: string): Promise<WalletView | null> {
  const account = (await db.query('SELECT * FROM wallet_accounts WHERE wristband = $1', [wristband])).rows[0] as
    | Row
    | undefined;
  if (!account) return null;
  const { rows } = await db.query(
    'SELECT * FROM wallet_entries WHERE wristband = $1 ORDER BY counter, op_id, tender_index',
    [wristband],
  );
  return { account: toWalletAccount(account), entries: rows.map(toWalletEntry) };
}

export async function listWallets(db: pg.Pool, filter: WalletFilter): Promise<WalletAccountRecord[]> {
  const { rows } = await db.query(
    `SELECT * FROM wallet_accounts
     WHERE ($1::text IS NULL OR wristband > $1) AND ($2::boolean IS NULL OR (blocked_reason IS NOT NULL) = $2)
     ORDER BY wristband LIMIT $3`,
    [filter.after ?? null, filter.blocked ?? null, filter.limit],
  );
  return rows.map(toWalletAccount);
}
