/**
 * The device feed on PostgreSQL (see device-feed.ts).
 *
 * The caller runs `readDeviceFeed` in a transaction that holds FEED_LOCK
 * exclusively (postgres-ingest.ts), as listLedger does: every writer of a
 * ledger row holds that lock shared from before its row gets a `pos` until
 * it commits, so while the reader holds it no ledger row is in flight. The
 * three statements (each READ COMMITTED, with its own snapshot) therefore
 * all see the same ledger, every `pos` below its end committed: a page never
 * skips an event that commits later with a smaller `pos`.
 */
import type pg from 'pg';
import type { DeviceFeedEvent, DeviceFeedPage } from '../../model/device-feed.js';
import { FEED_BILL_TYPE, FEED_BROADCAST_PREFIX, FEED_PAYMENT_TYPES, mergeDeviceFeed } from '../device-feed.js';
import { int, type Row } from '../rows.js';
import { ledgerEventOf } from '../sql/tables/ledger.js';
import { postgresDialect } from './postgres-dialect.js';

const PAYMENT_TYPES = FEED_PAYMENT_TYPES.map((t) => `'${t}'`).join(', ');
const BROADCAST = `'${FEED_BROADCAST_PREFIX}%'`;

// The WHERE terms repeat the partial indexes' own (postgres-schema.ts), so the planner uses them.
const OWN_SQL = `
  SELECT l.*, p.brand AS card_brand, p.last4 AS card_last4
  FROM ledger l
  LEFT JOIN offline_payments p ON p.op_id = l.op_id AND p.tender_index::text = l.data->>'tenderIndex'
  WHERE l.device = $1 AND l.type IN (${PAYMENT_TYPES}) AND l.pos > $2
  ORDER BY l.pos LIMIT $3`;

const BROADCAST_SQL = `
  SELECT l.*, NULL::text AS card_brand, NULL::text AS card_last4
  FROM ledger l
  LEFT JOIN device_placements ep ON ep.device = l.device
  LEFT JOIN device_placements me ON me.device = $1
  WHERE l.type LIKE ${BROADCAST} AND l.pos > $2
    AND (ep.merchant IS NULL OR me.merchant IS NULL OR ep.merchant = me.merchant)
  ORDER BY l.pos LIMIT $3`;

const BILLS_SQL = `
  SELECT l.*, NULL::text AS card_brand, NULL::text AS card_last4
  FROM ledger l
  WHERE l.device = $1 AND l.type = '${FEED_BILL_TYPE}' AND l.pos > $2
  ORDER BY l.pos LIMIT $3`;

const END_SQL = 'SELECT coalesce(max(pos), 0) AS top FROM ledger';

/** One page of `device`'s feed; the caller holds FEED_LOCK exclusively in `client`'s transaction. */
export async function readDeviceFeed(
  client: pg.PoolClient,
  device: string,
  after: number,
  limit: number,
): Promise<DeviceFeedPage> {
  const params = [device, after, limit];
  // A device's bills' fiscal numbers are its own events too: each list a prefix of its kind, merged by pos.
  const own = [...(await client.query(OWN_SQL, params)).rows, ...(await client.query(BILLS_SQL, params)).rows].map(
    toFeedEvent,
  );
  const broadcast = (await client.query(BROADCAST_SQL, params)).rows.map(toFeedEvent);
  const end = int(((await client.query(END_SQL)).rows[0] as Row).top);
  return mergeDeviceFeed(own, broadcast, after, limit, end);
}

function toFeedEvent(r: Row): DeviceFeedEvent {
  return {
    ...ledgerEventOf(r, postgresDialect),
    card: r.card_brand == null ? null : { brand: r.card_brand as string, last4: r.card_last4 as string },
  };
}
