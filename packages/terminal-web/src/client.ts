/**
 * The page's side of the browser journal: `openBrowserJournal` starts the
 * till's dedicated worker (worker.ts), asks for persistent storage, and
 * returns a client whose every call resolves once the worker has done it;
 * `append` resolves only after the op is durable in OPFS.
 */

import type { Receipt } from '@holdfast/domain';
import type { Op, SaleLine, Tender } from '@holdfast/protocol';
import type {
  AppendInput,
  ChainHead,
  ChipImage,
  InDoubtOp,
  JournalEntry,
  OpCounts,
  RecordedOp,
  SignedInStaff,
  WristbandReceipt,
} from '@holdfast/terminal/portable';
import type { BrowserFeedPoll } from './browser-feed.js';
import type { StaffMemberView } from './browser-staff.js';
import type { BrowserJournalErrorCode, JournalRequest, JournalResponse, WorkerEvent } from './messages.js';
import type {
  TillCatalogView,
  TillDeclineView,
  TillOnlineOutcome,
  TillOpView,
  TillPendingAuthorizationView,
  TillRecordedSale,
  TillStatus,
  TillWristbandReceipt,
  TillWristbandView,
} from './till-engine.js';

export type { ChipImage, InDoubtOp, WristbandReceipt } from '@holdfast/terminal/portable';
export type { BrowserFeedPoll } from './browser-feed.js';
export type { StaffMemberView } from './browser-staff.js';
export type { BrowserJournalErrorCode } from './messages.js';
export type {
  TillCatalogView,
  TillDeclineView,
  TillOnlineOutcome,
  TillOpView,
  TillPendingAuthorizationView,
  TillPolicyView,
  TillRecordedSale,
  TillStatus,
  TillWristbandReceipt,
  TillWristbandView,
} from './till-engine.js';

export class BrowserJournalError extends Error {
  constructor(
    /** A BrowserJournalErrorCode, or the SDK error's own code (not_enrolled, enrollment_rejected, ...). */
    readonly code: BrowserJournalErrorCode | (string & {}),
    message: string,
    /** The server's error code, for a refusal the server gave (enrollment_rejected: token_expired, ...). */
    readonly serverCode?: string,
    /**
     * A refusal's figures: for needs_online the risk policy's rule that sent
     * the payment to the server (floor_limit, no_policy, ...); for a staff
     * refusal (StaffError) how long a lock-out lasts and how many PINs are
     * left before one.
     */
    readonly extra: { rule?: string; retryAfterMs?: number; attemptsLeft?: number } = {},
  ) {
    super(message);
    this.name = 'BrowserJournalError';
    this.rule = extra.rule;
    this.retryAfterMs = extra.retryAfterMs;
    this.attemptsLeft = extra.attemptsLeft;
  }
  /** needs_online: the risk policy's rule that sent the payment to the server. */
  readonly rule: string | undefined;
  /** locked_out: milliseconds until the member may try again (the clerk's words use it). */
  readonly retryAfterMs: number | undefined;
  /** wrong_pin: wrong PINs left before a lock-out. */
  readonly attemptsLeft: number | undefined;
}

export interface TillStartOptions {
  /** The server's origin; the till talks to `<serverUrl>/v1/...`. */
  serverUrl: string;
  backoffSeconds?: number[];
  requestTimeoutMs?: number;
  probeIntervalMs?: number;
  /** Least time between two feed polls the till makes on its own (default 30 s). */
  feedIntervalMs?: number;
  /** Least time between two policy refreshes the till makes on its own (default 60 s). */
  policyRefreshMs?: number;
}

/** The till on the browser journal (till-engine.ts in the worker): every call answers once done; records once durable. */
export interface BrowserTill {
  status(): Promise<TillStatus>;
  /** Subscribes to status changes (the worker pushes one after every change); returns the unsubscribe function. */
  onStatus(fn: (status: TillStatus) => void): () => void;
  enroll(token: string, label?: string): Promise<{ deviceId: string }>;
  openShift(input: { clerk: string; currency: string; openingFloat: number }): Promise<RecordedOp>;
  /** Records a sale; a card tender is decided under the risk policy (refused: code needs_online with its rule). */
  recordSale(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<TillRecordedSale>;
  closeShift(input: { countedCash: number; note?: string }): Promise<RecordedOp>;
  recent(limit: number): Promise<TillOpView[]>;
  deadLetters(limit?: number): Promise<Array<TillOpView & { reason: string; message: string }>>;
  receipt(id: string, copy?: boolean): Promise<Receipt>;
  findReceipt(number: string): Promise<TillOpView>;
  syncNow(): Promise<unknown>;
  requery(): Promise<unknown>;
  /** Reads the signed device feed (roster, price list, declines) now; see browser-feed.ts. */
  pollFeed(): Promise<BrowserFeedPoll>;
  /** The held price list's items priced now, or null (sell from quick keys). */
  catalog(): Promise<TillCatalogView | null>;
  /**
   * Wristbands on the simulated reader (simulated-wristbands.ts): `present`
   * is the uid of the chip held to it, null for none. The chips are kept in
   * their own OPFS file, apart from the journal.
   */
  wristbands: {
    /** The simulated chips of this browser (the reader's "box of wristbands"). */
    chips(): Promise<ChipImage[]>;
    /** A blank simulated wristband: balance 0, counter 0. */
    issue(uid: string, currency: string): Promise<ChipImage>;
    /** Reads the chip, finishing a write this till left unfinished on it. */
    read(present: string | null): Promise<TillWristbandView>;
    pay(input: {
      present: string | null;
      lines: SaleLine[];
      cash?: { amount: number; tendered: number };
      liftDuringWrite?: boolean;
    }): Promise<TillWristbandReceipt>;
    topUp(input: { present: string | null; amount: number; liftDuringWrite?: boolean }): Promise<WristbandReceipt>;
    /** Chip writes journaled here and not yet on their chip. */
    pending(): Promise<Array<{ opId: string; wristband: string; kind: string; amount: number }>>;
  };
  /** Fetches the risk policy now (browser-policy.ts); its view is status().policy. */
  refreshPolicy(): Promise<unknown>;
  /** Card payments declined after the fact, newest first. */
  declines(limit?: number): Promise<TillDeclineView[]>;
  /**
   * Signs a staff member in: their PIN is checked in the worker against the
   * held roster (browser-staff.ts). Rejects with code no_roster,
   * staff_unknown, staff_no_pin, wrong_pin (attemptsLeft), locked_out
   * (retryAfterMs), validation.
   */
  signIn(staff: string, pin: string): Promise<SignedInStaff>;
  signOut(): Promise<void>;
  /** The held roster's members (no verifiers) with their lock-outs, for the sign-in screen; [] without a roster. */
  staffMembers(): Promise<StaffMemberView[]>;
  /**
   * Ops whose commit hit a disk error in an earlier run (storage full, an OPFS
   * write that failed), each resolved against the journal: `recorded` (it
   * stands and syncs) or not (it never happened: ring it again). Kept until
   * acknowledged.
   */
  inDoubt(): Promise<InDoubtOp[]>;
  /** Forgets the in-doubt list once the clerk has seen it. */
  acknowledgeInDoubt(): Promise<void>;
  /**
   * Asks the server to authorize a sale's one card tender now (after recordSale refused it with needs_online):
   * recorded only once approved; pending_confirmation while the server has not answered (asked again, same op id).
   */
  recordSaleOnline(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<TillOnlineOutcome>;
  /** Card payments asked of the server still waiting for its answer, oldest first. */
  pendingAuthorizations(): Promise<TillPendingAuthorizationView[]>;
  /** Asks the server again about them, with the same op ids. */
  retryAuthorizations(): Promise<TillOnlineOutcome[]>;
}

export interface BrowserJournalOptions {
  /** The till's name: one journal (and one writer) per name and origin. */
  till: string;
  /** URL of the worker bundle (dist/journal-worker.js); sqlite3.wasm must sit next to it. */
  workerUrl: string | URL;
  /**
   * How long to keep retrying when the till's lock is held (a reloaded
   * page's predecessor can hold it for a moment). Default 3000 ms.
   */
  lockBudgetMs?: number;
}

export interface BrowserJournal {
  /** What navigator.storage.persist() answered: false means the browser may evict the journal under storage pressure. */
  readonly persisted: boolean;
  append(input: AppendInput): Promise<Op>;
  ops(afterSeq: number, limit: number): Promise<JournalEntry[]>;
  head(): Promise<ChainHead>;
  counts(): Promise<OpCounts>;
  /** PRAGMA integrity_check ("ok" when sound). */
  integrity(): Promise<string>;
  /** A bare durable INSERT beside the journal (for the latency script's baseline). */
  rawInsert(payload: string): Promise<void>;
  /** Starts the till (outbox, sync loop, recording) on this journal, talking to `serverUrl`. */
  startTill(options: TillStartOptions): Promise<BrowserTill>;
  /** Closes the journal, releases the till's lock, and ends the worker. */
  close(): Promise<void>;
}

/** Where the page keeps till `till`'s in-doubt list (worker.ts, pageInDoubtLog: outside OPFS on purpose). */
export const inDoubtKey = (till: string) => `holdfast-in-doubt:${till}`;

function keptInDoubt(till: string): string | null {
  try {
    return localStorage.getItem(inDoubtKey(till));
  } catch {
    return null; // no localStorage here (a worker, storage disabled): the failing call alone names the op
  }
}

/** Asks for persistent storage; false when refused or not available. */
export async function requestPersistence(): Promise<boolean> {
  if (typeof navigator.storage?.persist !== 'function') return false;
  if (await navigator.storage.persisted()) return true;
  return navigator.storage.persist();
}

export async function openBrowserJournal(options: BrowserJournalOptions): Promise<BrowserJournal> {
  const persisted = await requestPersistence();
  const worker = new Worker(options.workerUrl, { type: 'module', name: `holdfast-journal-${options.till}` });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 1;
  let dead: BrowserJournalError | null = null;
  const failAll = (error: BrowserJournalError) => {
    dead = error;
    for (const { reject } of waiting.values()) reject(error);
    waiting.clear();
  };
  const statusListeners = new Set<(status: TillStatus) => void>();
  worker.onmessage = (event: MessageEvent<JournalResponse | WorkerEvent>) => {
    if ('event' in event.data) {
      const told = event.data;
      if (told.event === 'status') {
        const status = told.status as TillStatus;
        for (const fn of statusListeners) fn(status);
        return;
      }
      // Stored before the failing call's answer (which comes after this message) reaches the caller.
      try {
        const key = inDoubtKey(options.till);
        if (told.event === 'inDoubt') localStorage.setItem(key, (localStorage.getItem(key) ?? '') + told.line);
        else localStorage.removeItem(key);
      } catch (error) {
        console.error('holdfast: could not keep the in-doubt list:', error);
      }
      return;
    }
    const answer = event.data;
    const entry = waiting.get(answer.id);
    if (!entry) return;
    waiting.delete(answer.id);
    if (answer.ok) entry.resolve(answer.value);
    else {
      const { code, message, serverCode, rule, retryAfterMs, attemptsLeft } = answer.error;
      entry.reject(
        new BrowserJournalError(code, message, serverCode, {
          ...(rule !== undefined ? { rule } : {}),
          ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
          ...(attemptsLeft !== undefined ? { attemptsLeft } : {}),
        }),
      );
    }
  };
  worker.onerror = (event) => {
    event.preventDefault();
    failAll(new BrowserJournalError('journal_failed', `the journal worker failed: ${event.message}`));
  };
  const call = <T>(request: JournalRequest): Promise<T> => {
    if (dead) return Promise.reject(dead);
    const id = nextId++;
    return new Promise<T>((resolve, reject) => {
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      worker.postMessage({ id, request });
    });
  };
  // Release the till promptly when the page goes away, so a reload finds it free.
  const onPageHide = () => worker.terminate();
  addEventListener('pagehide', onPageHide);
  try {
    await call({
      op: 'open',
      till: options.till,
      lockBudgetMs: options.lockBudgetMs ?? 3000,
      inDoubt: keptInDoubt(options.till),
    });
  } catch (error) {
    removeEventListener('pagehide', onPageHide);
    worker.terminate();
    throw error;
  }
  return {
    persisted,
    append: (input) => call<Op>({ op: 'append', input }),
    ops: (afterSeq, limit) => call<JournalEntry[]>({ op: 'ops', afterSeq, limit }),
    head: () => call<ChainHead>({ op: 'head' }),
    counts: () => call<OpCounts>({ op: 'counts' }),
    integrity: () => call<string>({ op: 'integrity' }),
    rawInsert: (payload) => call<void>({ op: 'rawInsert', payload }),
    async startTill(start) {
      await call({ op: 'till.start', ...start });
      return {
        status: () => call<TillStatus>({ op: 'till.status' }),
        onStatus(fn) {
          statusListeners.add(fn);
          return () => statusListeners.delete(fn);
        },
        enroll: (token, label) =>
          call<{ deviceId: string }>({ op: 'till.enroll', token, ...(label !== undefined ? { label } : {}) }),
        openShift: (input) => call<RecordedOp>({ op: 'till.openShift', ...input }),
        recordSale: (input) => call<TillRecordedSale>({ op: 'till.recordSale', ...input }),
        closeShift: (input) => call<RecordedOp>({ op: 'till.closeShift', ...input }),
        recent: (limit) => call<TillOpView[]>({ op: 'till.recent', limit }),
        deadLetters: (limit = 100) => call({ op: 'till.deadLetters', limit }),
        receipt: (id, copy = false) => call<Receipt>({ op: 'till.receipt', id, copy }),
        findReceipt: (number) => call<TillOpView>({ op: 'till.findReceipt', number }),
        syncNow: () => call({ op: 'till.syncNow' }),
        requery: () => call({ op: 'till.requery' }),
        pollFeed: () => call({ op: 'till.pollFeed' }) as Promise<BrowserFeedPoll>,
        catalog: () => call({ op: 'till.catalog' }) as Promise<TillCatalogView | null>,
        wristbands: {
          chips: () => call<ChipImage[]>({ op: 'till.wristband.chips' }),
          issue: (uid, currency) => call<ChipImage>({ op: 'till.wristband.issue', uid, currency }),
          read: (present) => call<TillWristbandView>({ op: 'till.wristband.read', present }),
          pay: (input) => call<TillWristbandReceipt>({ op: 'till.wristband.pay', ...input }),
          topUp: (input) => call<WristbandReceipt>({ op: 'till.wristband.topUp', ...input }),
          pending: () => call({ op: 'till.wristband.pending' }),
        },
        refreshPolicy: () => call({ op: 'till.refreshPolicy' }),
        declines: (limit = 100) => call<TillDeclineView[]>({ op: 'till.declines', limit }),
        signIn: (staff, pin) => call<SignedInStaff>({ op: 'till.signIn', staff, pin }),
        signOut: () => call<void>({ op: 'till.signOut' }),
        staffMembers: () => call<StaffMemberView[]>({ op: 'till.staffMembers' }),
        inDoubt: () => call<InDoubtOp[]>({ op: 'inDoubt' }),
        acknowledgeInDoubt: () => call<void>({ op: 'inDoubt.acknowledge' }),
        recordSaleOnline: (input) => call<TillOnlineOutcome>({ op: 'till.recordSaleOnline', ...input }),
        pendingAuthorizations: () => call<TillPendingAuthorizationView[]>({ op: 'till.pendingAuthorizations' }),
        retryAuthorizations: () => call<TillOnlineOutcome[]>({ op: 'till.retryAuthorizations' }),
      };
    },
    async close() {
      try {
        await call({ op: 'close' });
      } finally {
        removeEventListener('pagehide', onPageHide);
        worker.terminate();
        failAll(new BrowserJournalError('journal_closed', 'the journal is closed'));
      }
    },
  };
}

/** The protocol's portable pieces, for a web POS (and for checking this build against docs/test-vectors). */
export { batchMessage, canonicalJson, hashOp } from '@holdfast/protocol';
export { signMessageWebCrypto, verifyMessageWebCrypto } from './webcrypto-signing.js';
