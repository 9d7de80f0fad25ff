/**
 * A device's feed as a view of the ledger (Storage.listDeviceFeed), the part
 * both backends share: each backend reads the two kinds of events that
 * concern a device — its own payment settlements, and wristband notices —
 * with one indexed query each, in one snapshot, and this merges them.
 *
 * Each query returns the first `limit` matching events after the cursor, in
 * `pos` order; the first `limit` of their merge are then the first `limit`
 * events of the feed. When both came back short, every matching event up
 * to the ledger's end in that snapshot was read, so the cursor moves to the
 * end, and the next call scans nothing it has scanned before.
 */
import type { DeviceFeedEvent, DeviceFeedPage } from '../model/device-feed.js';

/** Ledger event types delivered to the device whose op they concern. */
export const FEED_PAYMENT_TYPES = ['payment.settled', 'payment.declined'] as const;
/** Ledger event of a bill's fiscal number (docs/e-invoicing.md), delivered to the device that issued the bill. */
export const FEED_BILL_TYPE = 'bill.registered';
/** Prefix of the ledger event types delivered to every device of the merchant. */
export const FEED_BROADCAST_PREFIX = 'wristband.';

export function mergeDeviceFeed(
  own: readonly DeviceFeedEvent[],
  broadcast: readonly DeviceFeedEvent[],
  after: number,
  limit: number,
  end: number,
): DeviceFeedPage {
  const merged = [...own, ...broadcast].sort((a, b) => a.pos - b.pos);
  if (merged.length >= limit) {
    const items = merged.slice(0, limit);
    return { items, next: (items[items.length - 1] as DeviceFeedEvent).pos, more: true, end };
  }
  return { items: merged, next: Math.max(after, end), more: false, end };
}
