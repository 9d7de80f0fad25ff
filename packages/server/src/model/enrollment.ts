/**
 * Enrollment tokens and what redeeming one does.
 */
import type { DeviceRecord } from './device.js';

export interface EnrollmentTokenRecord {
  id: string;
  /** SHA-256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  label: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  deviceId: string | null;
  publicKey: string | null;
  /** Placement copied onto the device that redeems the token; all null for none. */
  merchant: string | null;
  location: string | null;
  event: string | null;
}

/** What redeeming a token did; see enrollment.ts for the rules. */
export type RedeemOutcome =
  | { outcome: 'enrolled' | 'already_enrolled'; device: DeviceRecord }
  | { outcome: 'token_invalid' | 'token_expired' | 'token_used' | 'key_already_enrolled' };

export interface RedeemRequest {
  tokenHash: string;
  publicKey: string;
  label: string | undefined;
  /** Id to give the device if this redemption creates it. */
  newDeviceId: string;
  now: number;
}
