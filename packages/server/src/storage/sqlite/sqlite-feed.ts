/**
 * The device feed on SQLite (see device-feed.ts). One connection, one
 * writer: a read transaction sees a prefix of the ledger, so the three
 * queries of a page agree with each other.
 */
import { limitedStatement } from '@holdfast/domain';
import type Database from 'better-sqlite3';
import type { DeviceFeedEvent, DeviceFeedPage } from '../../model/device-feed.js';
import { FEED_BILL_TYPE, FEED_BROADCAST_PREFIX, FEED_PAYMENT_TYPES, mergeDeviceFeed } from '../device-feed.js';
import type { Row } from '../rows.js';
import { ledgerEventOf } from '../sql/tables/ledger.js';
import { sqliteDialect } from './sqlite-dialect.js';

const PAYMENT_TYPES = FEED_PAYMENT_TYPES.map((t) => `'${t}'`).join(', ');
const BROADCAST = `'${FEED_BROADCAST_PREFIX}%'`;

export class SqliteDeviceFeed {
  readonly #db: Database.Database;
  readonly #own: (limit: number) => Database.Statement;
  readonly #broadcast: (limit: number) => Database.Statement;
  readonly #bills: (limit: number) => Database.Statement;
  readonly #end: Database.Statement;

  constructor(db: Database.Database) {
    this.#db = db;
    // The WHERE terms repeat the partial indexes' own, so the planner uses them. The page's limit is
    // written into each text (limitedStatement, @holdfast/domain: a bound LIMIT made every poll plan them again).
    this.#own = limitedStatement(
      (text) => db.prepare(text),
      `SELECT l.*, p.brand AS card_brand, p.last4 AS card_last4
      FROM ledger l
      LEFT JOIN offline_payments p ON p.op_id = l.op_id AND p.tender_index = json_extract(l.data, '$.tenderIndex')
      WHERE l.device = @device AND l.type IN (${PAYMENT_TYPES}) AND l.pos > @after
      ORDER BY l.pos LIMIT @limit`,
    );
    this.#broadcast = limitedStatement(
      (text) => db.prepare(text),
      `SELECT l.*, NULL AS card_brand, NULL AS card_last4
      FROM ledger l
      LEFT JOIN device_placements ep ON ep.device = l.device
      LEFT JOIN device_placements me ON me.device = @device
      WHERE l.type LIKE ${BROADCAST} AND l.pos > @after
        AND (ep.merchant IS NULL OR me.merchant IS NULL OR ep.merchant = me.merchant)
      ORDER BY l.pos LIMIT @limit`,
    );
    this.#bills = limitedStatement(
      (text) => db.prepare(text),
      `SELECT l.*, NULL AS card_brand, NULL AS card_last4
      FROM ledger l
      WHERE l.device = @device AND l.type = '${FEED_BILL_TYPE}' AND l.pos > @after
      ORDER BY l.pos LIMIT @limit`,
    );
    this.#end = db.prepare('SELECT coalesce(max(pos), 0) AS top FROM ledger');
  }

  list(device: string, after: number, limit: number): DeviceFeedPage {
    const own = this.#own(limit);
    const bills = this.#bills(limit);
    const broadcast = this.#broadcast(limit);
    return this.#db.transaction(() => {
      const params = { device, after };
      // A device's bills' fiscal numbers are its own events too: each list a prefix of its kind, merged by pos.
      const mine = [...(own.all(params) as Row[]), ...(bills.all(params) as Row[])].map(toFeedEvent);
      const everyone = (broadcast.all(params) as Row[]).map(toFeedEvent);
      const end = Number((this.#end.get() as Row).top);
      return mergeDeviceFeed(mine, everyone, after, limit, end);
    })();
  }
}

function toFeedEvent(r: Row): DeviceFeedEvent {
  return {
    ...ledgerEventOf(r, sqliteDialect),
    card: r.card_brand == null ? null : { brand: r.card_brand as string, last4: r.card_last4 as string },
  };
}
