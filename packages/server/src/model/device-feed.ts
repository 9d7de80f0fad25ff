/**
 * A device's feed: ledger events as one device receives them.
 */
import type { LedgerEvent } from './ledger-event.js';

/** A ledger event as a device's feed delivers it: for a payment event, the card the payment was made with. */
export interface DeviceFeedEvent extends LedgerEvent {
  pos: number;
  /** Brand and last four of the card of a `payment.*` event (from its offline payment); null otherwise. */
  card: { brand: string; last4: string } | null;
}

/** One page of a device's feed (see `Storage.listDeviceFeed`). */
export interface DeviceFeedPage {
  items: DeviceFeedEvent[];
  /** Cursor for the next call: every event at or below it that concerns the device is in this page or earlier. */
  next: number;
  /** True when the page is full: more may follow `next`. */
  more: boolean;
  /** The largest ledger position when the page was read (0 for an empty ledger): no cursor handed out is above it. */
  end: number;
}
