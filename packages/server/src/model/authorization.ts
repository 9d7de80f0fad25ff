/**
 * Online authorizations (POST /v1/authorize) as stored: one row per op id.
 */
import type { OnlineRequest } from '@holdfast/protocol';

export type AuthorizationKind = OnlineRequest['kind'];

export type StoredAuthorizationStatus = 'pending' | 'approved' | 'declined';

export interface AuthorizationRecord {
  opId: string;
  device: string;
  kind: AuthorizationKind;
  /** onlineRequestHash(request): a retry must send the same request. */
  requestHash: string;
  request: OnlineRequest;
  status: StoredAuthorizationStatus;
  /** The server's authorization id; assigned when asked, meaningful once approved. */
  authorizationId: string;
  /** Decline reason (a rule or processor decline code); null unless declined. */
  reason: string | null;
  message: string | null;
  /** Card amount or ticket stake, minor units. */
  amount: number;
  currency: string;
  /** Ticket only: stake × Π odds. */
  potentialPayout: number | null;
  /** Card only: the processor's authorization id, once it answered. */
  processorId: string | null;
  createdAt: number;
  decidedAt: number | null;
}

/** A card authorization's final answer from the processor. */
export interface AuthorizationFinish {
  status: 'approved' | 'declined';
  reason: string | null;
  message: string | null;
  processorId: string | null;
  decidedAt: number;
}

/** What a begin/decide call found: the stored row, and whether this call created it. */
export interface AuthorizationSlot {
  record: AuthorizationRecord;
  created: boolean;
}
