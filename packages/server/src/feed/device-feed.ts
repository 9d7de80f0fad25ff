/**
 * The device feed (`POST /v1/feed`, docs/protocol.md "Device feed"): what
 * the server has to tell a terminal, as a view of the ledger. Nothing is
 * stored for it: the cursor is a ledger position, and the events a device
 * gets are chosen by Storage.listDeviceFeed. This module holds the rules of
 * the request (freshness, cursor) and the shape of the items.
 */
import { type FeedItem, type PaymentFeedData, ProtocolError } from '@holdfast/protocol';
import { FEED_PAYMENT_TYPES } from '../storage/device-feed.js';
import type { DeviceFeedEvent, DeviceRecord } from '../storage/storage.js';

/**
 * How far a feed request's `at` may be from the server clock, after
 * correcting it by the device's estimated clock offset (from its newest
 * batch): a captured request cannot be replayed later than this.
 */
export const FEED_FRESHNESS_MS = 10 * 60_000;

/** Refuses a feed request whose `at` (device clock) is not within FEED_FRESHNESS_MS of now (server clock). */
export function checkFeedFreshness(at: number, device: Pick<DeviceRecord, 'clockOffsetMs'>, now: number): void {
  // clockOffsetMs is server time − device time; without an estimate the clocks are taken to agree.
  const skew = at + (device.clockOffsetMs ?? 0) - now;
  if (Math.abs(skew) > FEED_FRESHNESS_MS) {
    throw new ProtocolError(
      'invalid_request',
      `feed request time is ${Math.round(skew / 1000)} s from the server clock (corrected by the device's clock offset)`,
      { field: 'at', rule: `within ${FEED_FRESHNESS_MS / 60_000} minutes of the server clock` },
    );
  }
}

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
