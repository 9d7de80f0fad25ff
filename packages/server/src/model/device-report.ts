/**
 * A device's report (protocol device-report.ts) as the server keeps it: the
 * newest one per device, its `pendingSince` moved onto the server clock.
 */
import { BATCH_FRESHNESS_MS, type DeviceReport, type DeviceReportView } from '@holdfast/protocol';

export interface DeviceReportRecord extends DeviceReportView {
  device: string;
  /** Device clock of the request that carried it: a report older than the one held never replaces it. */
  sentAt: number;
}

/**
 * The record of `report`, sent at device time `sentAt` and received at
 * server time `now`; null when `sentAt` is more than BATCH_FRESHNESS_MS from
 * the server clock (a till with a wrong clock, or a replayed request), as the
 * server believes nothing else derived from such a request's time. The
 * device's `pendingSince` is moved by the request's clock offset
 * (`now − sentAt`) and never lies after `now`.
 */
export function deviceReportRecord(
  device: string,
  report: DeviceReport,
  sentAt: number,
  now: number,
): DeviceReportRecord | null {
  if (Math.abs(now - sentAt) > BATCH_FRESHNESS_MS) return null;
  const pendingSince = report.pendingSince === null ? null : Math.min(now, report.pendingSince + (now - sentAt));
  return { device, sentAt, reportedAt: now, pendingSince, policy: report.policy, app: report.app };
}
