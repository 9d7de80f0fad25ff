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
