/**
 * What a terminal tells the server about itself on its batches and feed
 * polls (optional: terminals built before it omit it, and the server keeps
 * what the newest report said). Operators see it in the fleet: how long the
 * oldest op has waited to be delivered, which policy the device holds, which
 * software it runs (docs/protocol.md, "Device report").
 */
import { epochMs } from './op.js';
import * as s from './schema.js';

/** `<policy id>@<version>` as `policyRef` writes it. */
export const POLICY_REF_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}@[1-9][0-9]{0,14}$/;

/** A software name and version: 1..64 printable ASCII characters (e.g. `holdfast-terminal/0.1.0 till/1.2`). */
export const APP_VERSION_PATTERN = /^[\x20-\x7e]{1,64}$/;

export const deviceReportSchema = s.object({
  /**
   * Device clock (ms) when the oldest op the device holds unacknowledged was
   * recorded, not counting the ops the request itself carries (a batch
   * delivers those); null when nothing else waits.
   */
  pendingSince: s.nullable(epochMs()),
  /** The risk policy the device holds (`policyRef`: `<id>@<version>`), or null for none. */
  policy: s.nullable(
    s.string({ maxLength: 64, pattern: POLICY_REF_PATTERN, patternRule: 'policy reference <uuid>@<version>' }),
  ),
  /** The software the device runs, or null if it does not say. */
  app: s.nullable(
    s.string({ maxLength: 64, pattern: APP_VERSION_PATTERN, patternRule: '1..64 printable ASCII characters' }),
  ),
});
export type DeviceReport = s.Infer<typeof deviceReportSchema>;

/** The last report the server holds for a device, as operators read it (DeviceStatus.report). */
export interface DeviceReportView {
  /** Server clock when the report arrived. */
  reportedAt: number;
  /** `pendingSince` moved onto the server's clock (by the request's clock offset); null: nothing waited. */
  pendingSince: number | null;
  policy: string | null;
  app: string | null;
}
