/**
 * An enrolled device as the server stores it: its chain head and placement.
 */
/** A device as the server stores it. */
export interface DeviceRecord {
  id: string;
  label: string;
  publicKey: string;
  enrolledAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  highWater: number;
  headHash: string;
  latestSeq: number;
  gapFrom: number | null;
  gapTo: number | null;
  lastSeenAt: number | null;
  clockOffsetMs: number | null;
  /** Placement: null until placed (at enrollment from its token, or by an operator). */
  merchant: string | null;
  /** Set only together with `merchant`. */
  location: string | null;
  event: string | null;
}

/** One key a device has signed with (the `device_keys` history, written from its first rotation on). */
export interface DeviceKeyRecord {
  device: string;
  publicKey: string;
  /** Server time the key took effect: enrollment for the first key, the rotation for the others. */
  validFrom: number;
  /** Server time after which the key is no longer accepted; null for the current key. */
  retiredAt: number | null;
}

/** What a rotation request asks the store to do (see storage/sql/operations/device-keys.ts). */
export interface RotateDeviceKeyRequest {
  device: string;
  /** The key that signed the request: must be the device's current key. */
  signedWith: string;
  /** The new key. */
  publicKey: string;
  now: number;
  /** How long the previous key stays accepted. */
  graceMs: number;
}

export type RotateDeviceKeyOutcome =
  | { outcome: 'rotated' | 'already_rotated'; device: DeviceRecord; keys: DeviceKeyRecord[] }
  | { outcome: 'unknown_device' | 'revoked' | 'not_current_key' | 'key_in_use' };
