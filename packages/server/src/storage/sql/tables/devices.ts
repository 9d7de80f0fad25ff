/**
 * The `devices` table (an enrolled device and its chain head) with
 * `device_placements` (where it is placed now, if anywhere): the columns
 * and the row mapper, for every backend.
 */

import type { Placement } from '@holdfast/protocol';
import type { DeviceUpdate } from '../../../ingest/ingest-plan.js';
import type { DeviceRecord } from '../../../model/device.js';
import { int, intOrNull, type Row, textOrNull } from '../../rows.js';
import { defineTable } from '../table.js';

/** A device as enrollment writes it; the rest starts at its defaults. */
export interface NewDevice {
  id: string;
  label: string;
  publicKey: string;
  enrolledAt: number;
  headHash: string;
}

export const DEVICES = defineTable<NewDevice>(
  'devices',
  {
    id: ['text', (d) => d.id],
    label: ['text', (d) => d.label],
    public_key: ['text', (d) => d.publicKey],
    enrolled_at: ['bigint', (d) => d.enrolledAt],
    head_hash: ['text', (d) => d.headHash],
  },
  ['revoked_at', 'revoke_reason', 'high_water', 'latest_seq', 'gap_from', 'gap_to', 'last_seen_at', 'clock_offset_ms'],
);

/** A device's placement as stored: one row per placed device, replaced when it moves. */
export type PlacementRow = Placement & {
  device: string;
  placedAt: number;
};

export const DEVICE_PLACEMENTS = defineTable<PlacementRow>('device_placements', {
  device: ['text', (p) => p.device],
  merchant: ['text', (p) => p.merchant],
  location: ['text', (p) => p.location],
  event: ['text', (p) => p.event],
  placed_at: ['bigint', (p) => p.placedAt],
});

/** The chain head and statistics an ingest moves, in the order of `deviceHeadValues`. */
export const DEVICE_HEAD_COLUMNS = [
  'high_water',
  'head_hash',
  'latest_seq',
  'gap_from',
  'gap_to',
  'last_seen_at',
  'clock_offset_ms',
] as const;

export function deviceHeadValues(d: DeviceUpdate): unknown[] {
  return [d.highWater, d.headHash, d.latestSeq, d.gapFrom, d.gapTo, d.lastSeenAt, d.clockOffsetMs];
}

/**
 * A device with its placement, every column named: a named prepared
 * statement with `SELECT *` stops working in PostgreSQL ("cached plan must
 * not change result type") once a later migration adds a column, in every
 * process still running the release before it.
 */
export const DEVICE_COLUMNS = `d.id, d.label, d.public_key, d.enrolled_at, d.revoked_at, d.revoke_reason, d.high_water,
  d.head_hash, d.latest_seq, d.gap_from, d.gap_to, d.last_seen_at, d.clock_offset_ms, p.merchant, p.location, p.event`;
export const DEVICE_FROM = 'devices d LEFT JOIN device_placements p ON p.device = d.id';

export function deviceOf(r: Row): DeviceRecord {
  return {
    id: r.id as string,
    label: r.label as string,
    publicKey: r.public_key as string,
    enrolledAt: int(r.enrolled_at),
    revokedAt: intOrNull(r.revoked_at),
    revokeReason: textOrNull(r.revoke_reason),
    highWater: int(r.high_water),
    headHash: r.head_hash as string,
    latestSeq: int(r.latest_seq),
    gapFrom: intOrNull(r.gap_from),
    gapTo: intOrNull(r.gap_to),
    lastSeenAt: intOrNull(r.last_seen_at),
    clockOffsetMs: intOrNull(r.clock_offset_ms),
    merchant: textOrNull(r.merchant),
    location: textOrNull(r.location),
    event: textOrNull(r.event),
  };
}
