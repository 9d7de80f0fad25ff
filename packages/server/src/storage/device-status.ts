import type { DeviceReportView, DeviceStatus } from '@holdfast/protocol';
import type { DeviceRecord } from '../model/device.js';

/** The wire view of a device (shared by backends). */
export function deviceStatusOf(
  d: DeviceRecord,
  conflicts: number,
  forks: number,
  report: DeviceReportView | null = null,
): DeviceStatus {
  return {
    id: d.id,
    label: d.label,
    publicKey: d.publicKey,
    enrolledAt: d.enrolledAt,
    revokedAt: d.revokedAt,
    revokeReason: d.revokeReason,
    highWater: d.highWater,
    headHash: d.headHash,
    latestSeq: d.latestSeq,
    behind: Math.max(0, d.latestSeq - d.highWater),
    gap: d.gapFrom !== null && d.gapTo !== null ? { from: d.gapFrom, to: d.gapTo } : null,
    lastSeenAt: d.lastSeenAt,
    clockOffsetMs: d.clockOffsetMs,
    conflicts,
    forks,
    placement: d.merchant === null ? null : { merchant: d.merchant, location: d.location, event: d.event },
    report,
  };
}
