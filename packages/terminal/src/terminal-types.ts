import type { Connectivity } from './connectivity.js';
import type { FeedNotice, PostAuthDecline } from './feed.js';
import type { OnlineOutcome } from './online.js';
import type { Blocked } from './outbox.js';
import type { RecordedOp } from './recorded-op.js';
import type { SyncEvents } from './sync-events.js';

export type { RecordedOp } from './recorded-op.js';

/**
 * An op's state as the clerk sees it. `needs_attention`: the server will not
 * take it as it stands (`deadLetters()` says why), or its card payment was
 * declined after an offline approval (`postAuthDeclines()` says which).
 */
export type ClerkOpState = 'pending' | 'confirmed' | 'needs_attention';

export interface TerminalStatus {
  deviceId: string | null;
  enrolled: boolean;
  revoked: boolean;
  connectivity: Connectivity;
  /** Newest recorded seq (0 before the first op). */
  latestSeq: number;
  pending: number;
  confirmed: number;
  deadLetters: number;
  /** When the oldest pending op was recorded (device clock). */
  oldestPendingAt: number | null;
  oldestPendingAgeMs: number | null;
  lastSuccessAt: number | null;
  lastAttemptAt: number | null;
  lastError: string | null;
  consecutiveFailures: number;
  nextAttemptAt: number | null;
  blocked: Blocked | null;
}

export interface TerminalEvents extends SyncEvents {
  recorded: RecordedOp;
  /** An online request was answered, or asked about again (online.ts). */
  online: OnlineOutcome;
  status: TerminalStatus;
  /** The feed told of a card payment declined after it was approved offline (committed before the event). */
  postAuthDecline: PostAuthDecline;
  /** A feed item no terminal module handles itself yet, kept in `feed_items` (e.g. `wristband.blocked`). */
  feedItem: FeedNotice;
}
