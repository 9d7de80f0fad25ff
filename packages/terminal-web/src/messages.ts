/** The messages between a page (client.ts) and the journal worker (worker.ts). */
import type { SaleLine, Tender } from '@holdfast/protocol';
import type { AppendInput } from '@holdfast/terminal/portable';

export type JournalRequest =
  /** `inDoubt`: the in-doubt list the page kept for this till (client.ts, localStorage), or null. */
  | { op: 'open'; till: string; lockBudgetMs: number; inDoubt: string | null }
  | { op: 'append'; input: AppendInput }
  | { op: 'ops'; afterSeq: number; limit: number }
  | { op: 'head' }
  | { op: 'counts' }
  | { op: 'integrity' }
  | { op: 'rawInsert'; payload: string }
  | { op: 'close' }
  // The till (till-engine.ts) on the open journal.
  | {
      op: 'till.start';
      serverUrl: string;
      backoffSeconds?: number[];
      requestTimeoutMs?: number;
      probeIntervalMs?: number;
      feedIntervalMs?: number;
      policyRefreshMs?: number;
    }
  | { op: 'till.status' }
  | { op: 'till.enroll'; token: string; label?: string }
  | { op: 'till.openShift'; clerk: string; currency: string; openingFloat: number }
  | { op: 'till.recordSale'; lines: SaleLine[]; tenders: Tender[] }
  | { op: 'till.closeShift'; countedCash: number; note?: string }
  | { op: 'till.recent'; limit: number }
  | { op: 'till.deadLetters'; limit: number }
  | { op: 'till.receipt'; id: string; copy: boolean }
  | { op: 'till.findReceipt'; number: string }
  | { op: 'till.syncNow' }
  | { op: 'till.requery' }
  | { op: 'till.pollFeed' }
  | { op: 'till.catalog' }
  // Wristbands: `present` is the simulated chip held to the reader (simulated-wristbands.ts), null for none.
  | { op: 'till.wristband.chips' }
  | { op: 'till.wristband.issue'; uid: string; currency: string }
  | { op: 'till.wristband.read'; present: string | null }
  | {
      op: 'till.wristband.pay';
      present: string | null;
      lines: SaleLine[];
      cash?: { amount: number; tendered: number };
      liftDuringWrite?: boolean;
    }
  | { op: 'till.wristband.topUp'; present: string | null; amount: number; liftDuringWrite?: boolean }
  | { op: 'till.wristband.pending' }
  | { op: 'till.refreshPolicy' }
  | { op: 'till.declines'; limit: number }
  | { op: 'till.signIn'; staff: string; pin: string }
  | { op: 'till.signOut' }
  | { op: 'till.staffMembers' }
  // The journal's in-doubt list (ops whose commit hit a disk error), resolved against the journal; and its acknowledgement.
  | { op: 'inDoubt' }
  | { op: 'inDoubt.acknowledge' }
  // Online card authorization (till-engine.ts recordSaleOnline).
  | { op: 'till.recordSaleOnline'; lines: SaleLine[]; tenders: Tender[] }
  | { op: 'till.pendingAuthorizations' }
  | { op: 'till.retryAuthorizations' };

/**
 * What the worker tells the page unasked: the till's status after every
 * change; a line for the in-doubt list, and its clearing (the page keeps
 * that list outside OPFS: client.ts).
 */
export type WorkerEvent =
  | { event: 'status'; status: unknown }
  | { event: 'inDoubt'; line: string }
  | { event: 'inDoubtClear' };

export type JournalResponse =
  | { id: number; ok: true; value: unknown }
  | {
      id: number;
      ok: false;
      error: {
        name: string;
        code: string;
        message: string;
        serverCode?: string;
        /** NeedsOnlineError: which policy rule sent the payment to the server. */
        rule?: string;
        /** StaffError locked_out: milliseconds until the member may try again. */
        retryAfterMs?: number;
        /** StaffError wrong_pin: wrong PINs left before a lock-out. */
        attemptsLeft?: number;
      };
    };

/** Codes of the errors the browser journal reports (BrowserJournalError.code). */
export type BrowserJournalErrorCode =
  /** Another tab or worker holds this till's journal: one writer per till. */
  | 'journal_locked'
  /** OPFS (or FileSystemSyncAccessHandle) is not available here: private window, old browser. */
  | 'opfs_unavailable'
  /** The journal is closed (after close(), or the worker died). */
  | 'journal_closed'
  /**
   * The origin's storage quota is exhausted: a write was refused. When it was
   * a record call's commit, the op is in doubt (the journal closes; reopen it
   * and `inDoubt()` says whether the op was kept).
   */
  | 'storage_full'
  /** Anything else the journal or SQLite reported, message as it was. */
  | 'journal_failed'
  /** The till is not started (till.start) on this journal. */
  | 'till_not_started';
