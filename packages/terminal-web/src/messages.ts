/** The messages between a page (client.ts) and the journal worker (worker.ts). */
import type { AppendInput } from '@holdfast/terminal/portable';

export type JournalRequest =
  | { op: 'open'; till: string; lockBudgetMs: number }
  | { op: 'append'; input: AppendInput }
  | { op: 'ops'; afterSeq: number; limit: number }
  | { op: 'head' }
  | { op: 'counts' }
  | { op: 'integrity' }
  | { op: 'rawInsert'; payload: string }
  | { op: 'close' };

export type JournalResponse =
  | { id: number; ok: true; value: unknown }
  | { id: number; ok: false; error: { name: string; code: string; message: string } };

/** Codes of the errors the browser journal reports (BrowserJournalError.code). */
export type BrowserJournalErrorCode =
  /** Another tab or worker holds this till's journal: one writer per till. */
  | 'journal_locked'
  /** OPFS (or FileSystemSyncAccessHandle) is not available here: private window, old browser. */
  | 'opfs_unavailable'
  /** The journal is closed (after close(), or the worker died). */
  | 'journal_closed'
  /** Anything else the journal or SQLite reported, message as it was. */
  | 'journal_failed';
