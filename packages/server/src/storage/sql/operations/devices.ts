/**
 * Devices and their enrollment, for every backend: storing a token,
 * redeeming it (the token row read `forUpdate`, so one token redeemed
 * twice at once is decided once; one key redeeming two tokens at once
 * trips the unique public key, and PostgreSQL's retry answers
 * key_already_enrolled), reading devices, revoking and placing them.
 */
import type { DeviceReportView, DeviceStatus, Placement } from '@holdfast/protocol';
import { GENESIS_HASH } from '@holdfast/protocol';
import { decideRedemption } from '../../../enrollment.js';
import type { DeviceRecord } from '../../../model/device.js';
import type { EnrollmentTokenRecord, RedeemOutcome, RedeemRequest } from '../../../model/enrollment.js';
import { deviceStatusOf } from '../../device-status.js';
import { int, intOrNull, type Row } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { insertSql, valuesOf } from '../table.js';
import { DEVICE_COLUMNS, DEVICE_FROM, DEVICE_PLACEMENTS, DEVICES, deviceOf } from '../tables/devices.js';
import { ENROLLMENT_TOKENS, enrollmentTokenOf } from '../tables/enrollment-tokens.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';

const DEVICE_BY_ID = `SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} WHERE d.id = $1`;

export function* insertEnrollmentToken(d: SqlDialect, token: EnrollmentTokenRecord): SqlOperation<void> {
  yield* run(insertSql(ENROLLMENT_TOKENS, d), valuesOf(ENROLLMENT_TOKENS, token, d));
}

/** Redeems a token for a public key (see enrollment.ts for the rules); in one transaction. */
export function* redeemEnrollmentToken(d: SqlDialect, r: RedeemRequest): SqlOperation<RedeemOutcome> {
  const tokenRow = yield* one(`SELECT * FROM enrollment_tokens WHERE token_hash = $1${d.forUpdate}`, [r.tokenHash]);
  const token = tokenRow ? enrollmentTokenOf(tokenRow) : null;
  const decision = decideRedemption(token, r.publicKey, r.now);
  if (decision === 'already_enrolled') {
    const device = yield* getDevice(token?.deviceId ?? null);
    if (!device) return { outcome: 'token_invalid' };
    return { outcome: 'already_enrolled', device };
  }
  if (decision !== 'redeem') return { outcome: decision };
  // A key is never reused: not a current key, nor one a device has rotated away from.
  if (
    (yield* one('SELECT id FROM devices WHERE public_key = $1', [r.publicKey])) ||
    (yield* one('SELECT device FROM device_keys WHERE public_key = $1', [r.publicKey]))
  ) {
    return { outcome: 'key_already_enrolled' };
  }
  const label = r.label ?? token?.label ?? `device-${r.newDeviceId.slice(-8)}`;
  const device = { id: r.newDeviceId, label, publicKey: r.publicKey, enrolledAt: r.now, headHash: GENESIS_HASH };
  yield* run(insertSql(DEVICES, d), valuesOf(DEVICES, device, d));
  if (token?.merchant != null) {
    const placement = { device: r.newDeviceId, merchant: token.merchant, location: token.location, event: token.event };
    yield* run(insertSql(DEVICE_PLACEMENTS, d), valuesOf(DEVICE_PLACEMENTS, { ...placement, placedAt: r.now }, d));
  }
  yield* run('UPDATE enrollment_tokens SET used_at = $1, device_id = $2, public_key = $3 WHERE id = $4', [
    r.now,
    r.newDeviceId,
    r.publicKey,
    token?.id,
  ]);
  const enrolled = yield* getDevice(r.newDeviceId);
  if (!enrolled) throw new Error(`redeemEnrollmentToken: device ${r.newDeviceId} not found after inserting it`);
  return { outcome: 'enrolled', device: enrolled };
}

/** A device with its placement, or null. */
export function* getDevice(id: string | null): SqlOperation<DeviceRecord | null> {
  const row = yield* one(DEVICE_BY_ID, [id]);
  return row ? deviceOf(row) : null;
}

export function* listDevices(): SqlOperation<DeviceRecord[]> {
  return (yield* all(`SELECT ${DEVICE_COLUMNS} FROM ${DEVICE_FROM} ORDER BY d.enrolled_at, d.id`)).map(deviceOf);
}

/** Revokes a device once (a second revocation keeps the first's time and reason); null if there is none. */
export function* revokeDevice(id: string, reason: string, now: number): SqlOperation<DeviceRecord | null> {
  yield* run(
    'UPDATE devices SET revoked_at = COALESCE(revoked_at, $1), revoke_reason = COALESCE(revoke_reason, $2) WHERE id = $3',
    [now, reason, id],
  );
  return yield* getDevice(id);
}

/** Places (or moves) a device; null if there is no such device. */
export function* setDevicePlacement(id: string, placement: Placement, now: number): SqlOperation<DeviceRecord | null> {
  // INSERT … SELECT: nothing is placed unless the device exists.
  yield* run(
    `INSERT INTO device_placements (${DEVICE_PLACEMENTS.list})
     SELECT id, $2, $3, $4, $5 FROM devices WHERE id = $1
     ON CONFLICT (device) DO UPDATE SET
       merchant = excluded.merchant, location = excluded.location, event = excluded.event, placed_at = excluded.placed_at`,
    [id, placement.merchant, placement.location, placement.event, now],
  );
  return yield* getDevice(id);
}

/** Device statuses (a device with its conflict and fork counts): one device's, or every device's. */
export function* deviceStatuses(id: string | null): SqlOperation<DeviceStatus[]> {
  const rows = yield* all(
    `SELECT ${DEVICE_COLUMNS},
       (SELECT count(*) FROM exceptions x WHERE x.device = d.id AND x.type = 'conflict') AS conflicts,
       (SELECT count(*) FROM exceptions x WHERE x.device = d.id AND x.type = 'fork') AS forks,
       r.reported_at AS report_at, r.pending_since AS report_pending_since, r.policy AS report_policy,
       r.app AS report_app
     FROM ${DEVICE_FROM} LEFT JOIN device_reports r ON r.device = d.id
     ${id === null ? '' : 'WHERE d.id = $1'} ORDER BY d.enrolled_at, d.id`,
    id === null ? [] : [id],
  );
  return rows.map((r) => deviceStatusOf(deviceOf(r), int(r.conflicts), int(r.forks), reportOf(r)));
}

/** The device's newest report from the joined columns, or null if it never sent one. */
function reportOf(r: Row): DeviceReportView | null {
  if (r.report_at === null || r.report_at === undefined) return null;
  return {
    reportedAt: int(r.report_at),
    pendingSince: intOrNull(r.report_pending_since),
    policy: (r.report_policy as string | null) ?? null,
    app: (r.report_app as string | null) ?? null,
  };
}
