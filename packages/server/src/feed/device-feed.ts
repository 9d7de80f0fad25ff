/**
 * The device feed (`POST /v1/feed`, docs/protocol.md "Device feed"): what
 * the server has to tell a terminal, as a view of the ledger. Nothing is
 * stored for it: the cursor is a ledger position, and the events a device
 * gets are chosen by Storage.listDeviceFeed. This module holds the rules of
 * the request (its cursor) and the shape of the items.
 */
import { type FeedItem, type PaymentFeedData, ProtocolError } from '@holdfast/protocol';
import type { DeviceFeedEvent } from '../model/device-feed.js';
import { FEED_PAYMENT_TYPES } from '../storage/device-feed.js';

/** Refuses a cursor this server cannot have handed out: above the ledger's end. */
export function checkFeedCursor(after: number, end: number): void {
  if (after > end) {
    throw new ProtocolError('invalid_request', `feed cursor ${after} is past the end of this server's ledger`, {
      field: 'after',
      rule: `a cursor from this server (at most ${end})`,
    });
  }
}

const PAYMENT_TYPES: ReadonlySet<string> = new Set(FEED_PAYMENT_TYPES);

/** The wire item of a feed event. Payment events carry PaymentFeedData; others their ledger data as written. */
export function feedItemOf(event: DeviceFeedEvent): FeedItem {
  const base = { pos: event.pos, type: event.type, opId: event.opId, device: event.device, at: event.appliedAt };
  if (!PAYMENT_TYPES.has(event.type)) return { ...base, data: event.data };
  const d = event.data;
  const data: PaymentFeedData = {
    tenderIndex: typeof d.tenderIndex === 'number' ? d.tenderIndex : 0,
    amount: event.amount ?? 0,
    currency: event.currency ?? '',
    brand: event.card?.brand ?? 'other',
    last4: event.card?.last4 ?? '0000',
    processorId: typeof d.processorId === 'string' ? d.processorId : '',
    declineCode:
      event.type === 'payment.declined' ? (typeof d.declineCode === 'string' ? d.declineCode : 'unknown') : null,
  };
  return { ...base, data: { ...data } };
}
