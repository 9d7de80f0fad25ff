/**
 * The newest report of each device (model/device-report.ts), for every
 * backend: one row per device, replaced only by a report the device sent
 * later (by its own clock), so a request that arrives late or is replayed
 * does not bring an older state back.
 */
import type { DeviceReportRecord } from '../../../model/device-report.js';
import { run, type SqlOperation } from '../transaction-port.js';

export function* recordDeviceReport(r: DeviceReportRecord): SqlOperation<void> {
  yield* run(
    `INSERT INTO device_reports (device, sent_at, reported_at, pending_since, policy, app)
     VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (device) DO UPDATE SET
       sent_at = excluded.sent_at, reported_at = excluded.reported_at, pending_since = excluded.pending_since,
       policy = excluded.policy, app = excluded.app
     WHERE device_reports.sent_at < excluded.sent_at`,
    [r.device, r.sentAt, r.reportedAt, r.pendingSince, r.policy, r.app],
  );
}
