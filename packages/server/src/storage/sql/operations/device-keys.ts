/**
 * Device-key rotation and the key history, for every backend (issue 15,
 * key lifecycle; docs/security.md, "Key lifecycle").
 *
 * `devices.public_key` is always the current key; `device_keys` holds every
 * key from the device's first rotation on. A rotation, in one transaction
 * with the device row read `forUpdate`: the enrollment key gets its history
 * row if it has none, the current key is retired at `now + grace`, the new
 * key is inserted and becomes current. Repeating the rotation to the key
 * already current answers `already_rotated` and changes nothing, so a
 * terminal that lost the answer can ask again.
 */
import type { DeviceKeyRecord, RotateDeviceKeyOutcome, RotateDeviceKeyRequest } from '../../../model/device.js';
import { int, intOrNull } from '../../rows.js';
import type { SqlDialect } from '../dialect.js';
import { all, one, run, type SqlOperation } from '../transaction-port.js';
import { getDevice } from './devices.js';

function keyOf(r: Record<string, unknown>): DeviceKeyRecord {
  return {
    device: r.device as string,
    publicKey: r.public_key as string,
    validFrom: int(r.valid_from),
    retiredAt: intOrNull(r.retired_at),
  };
}

/**
 * Every key of the device's history, oldest first (empty until its first
 * rotation): retired keys by retirement, then the current one. (Not by
 * `valid_from`: a rotation in the millisecond of enrollment ties with it.)
 */
export function* listDeviceKeys(device: string): SqlOperation<DeviceKeyRecord[]> {
  const rows = yield* all(
    'SELECT * FROM device_keys WHERE device = $1 ORDER BY retired_at IS NULL, retired_at, valid_from, public_key',
    [device],
  );
  return rows.map(keyOf);
}

/** Rotates a device to a new key (see the module comment); in one transaction. */
export function* rotateDeviceKey(d: SqlDialect, r: RotateDeviceKeyRequest): SqlOperation<RotateDeviceKeyOutcome> {
  const row = yield* one(`SELECT public_key, enrolled_at, revoked_at FROM devices WHERE id = $1${d.forUpdate}`, [
    r.device,
  ]);
  if (!row) return { outcome: 'unknown_device' };
  if (row.revoked_at !== null && row.revoked_at !== undefined) return { outcome: 'revoked' };
  const current = row.public_key as string;
  if (current === r.publicKey) {
    const device = yield* getDevice(r.device);
    if (!device) return { outcome: 'unknown_device' };
    const keys = yield* listDeviceKeys(r.device);
    // "Rotating" to the key it already had since enrollment is no rotation: the key is in use.
    if (keys.length === 0) return { outcome: 'key_in_use' };
    return { outcome: 'already_rotated', device, keys };
  }
  if (current !== r.signedWith) return { outcome: 'not_current_key' };
  const taken =
    (yield* one('SELECT id FROM devices WHERE public_key = $1', [r.publicKey])) ??
    (yield* one('SELECT device FROM device_keys WHERE public_key = $1', [r.publicKey]));
  if (taken) return { outcome: 'key_in_use' };
  const retireAt = r.now + r.graceMs;
  if (yield* one('SELECT device FROM device_keys WHERE public_key = $1', [current])) {
    yield* run('UPDATE device_keys SET retired_at = $1 WHERE public_key = $2', [retireAt, current]);
  } else {
    yield* run('INSERT INTO device_keys (device, public_key, valid_from, retired_at) VALUES ($1, $2, $3, $4)', [
      r.device,
      current,
      int(row.enrolled_at),
      retireAt,
    ]);
  }
  yield* run('INSERT INTO device_keys (device, public_key, valid_from, retired_at) VALUES ($1, $2, $3, NULL)', [
    r.device,
    r.publicKey,
    r.now,
  ]);
  yield* run('UPDATE devices SET public_key = $1 WHERE id = $2', [r.publicKey, r.device]);
  const device = yield* getDevice(r.device);
  if (!device) throw new Error(`rotateDeviceKey: device ${r.device} not found after rotating it`);
  return { outcome: 'rotated', device, keys: yield* listDeviceKeys(r.device) };
}
