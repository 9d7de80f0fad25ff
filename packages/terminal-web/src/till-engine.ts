/**
 * The till in the journal worker: the Terminal SDK's portable modules —
 * outbox (outbox.ts), exchange (exchange.ts), sync loop (sync-loop.ts),
 * recording (recording.ts), receipts (receipts.ts) — running unchanged on
 * the browser journal, over `fetch` (HttpTransport), with requests signed
 * and the server's signed answers verified by WebCrypto Ed25519.
 *
 * Staff sign in against the feed's roster (browser-staff.ts: PINs checked
 * with noble's scrypt in this worker, pin-check.ts; lock-outs kept in the
 * journal), and ops are stamped with the member signed in.
 *
 * The signed device feed is read by browser-feed.ts (signatures checked
 * with WebCrypto before one journal transaction stores the page).
 *
 * The risk policy is browser-policy.ts: fetched and refreshed as the Node
 * terminal under `offlineCardPolicy: 'enforce'` does (after enrollment and
 * start, after a successful sync at most every policyRefreshMinIntervalMs,
 * and when the feed names another policy), verified with WebCrypto, kept in
 * the journal; card sales and wristband payments are decided by the SDK's
 * OfflineDecisions in the op's own transaction; the feed's settlements and
 * declines release card approvals, the server's confirmation of a wristband
 * op releases its approval (as on Node).
 *
 * A card sale the policy sends to the server is authorized online by the
 * SDK's OnlineSales (online-sales.ts, online.ts) as on Node: the pending row
 * is in the journal before anything is sent, the request is signed with
 * WebCrypto, the server's answer verified; approved → the sale is recorded
 * with decision online/approved under the op id the server approved;
 * declined → nothing recorded; no answer → "pending confirmation", asked
 * again with the same op id after every successful sync (and by the clerk),
 * across reloads, never recorded twice.
 *
 * What the Node `Terminal` façade adds and this engine does not (yet): staff
 * approvals and key rotation (see docs/browser-terminal.md, "What is not
 * done yet").
 */

import { type Clock, NO_INJECTED_BUGS, type Random, type Receipt } from '@holdfast/domain';
import {
  type Decision,
  type EnrollResponse,
  enrollmentMessage,
  type PriceList,
  policyRef,
  priceAt,
  type SaleLine,
  type SignedPolicy,
  type Tender,
} from '@holdfast/protocol';
import {
  AlreadyEnrolledError,
  ConnectivityMonitor,
  DeviceRevokedError,
  Emitter,
  EnrollmentError,
  Exchange,
  HttpTransport,
  type JournalCore,
  type JournalEntry,
  META,
  NotEnrolledError,
  type OnlineAuthorization,
  type OnlineOutcome,
  OnlineSales,
  Outbox,
  Receipts,
  type RecordedOp,
  Recorder,
  resolveOptions,
  type SignedInStaff,
  type SyncEvents,
  SyncLoop,
  TransportError,
  WristbandPayments,
  type WristbandReader,
  type WristbandReceipt,
  WristbandStore,
} from '@holdfast/terminal/portable';
import { BrowserFeed, type BrowserFeedPoll, parsePlacement } from './browser-feed.js';
import { BrowserPolicy } from './browser-policy.js';
import { BrowserStaff, type StaffMemberView } from './browser-staff.js';
import {
  answerProblemWebCrypto,
  generateDeviceKeysWebCrypto,
  importSigningKeyWebCrypto,
  signMessageWebCrypto,
  signWithKeyWebCrypto,
} from './webcrypto-signing.js';

/** The till's state as the clerk's screens show it (the Node TerminalStatus, plus the shift). */
export interface TillStatus {
  till: string;
  deviceId: string | null;
  label: string | null;
  enrolled: boolean;
  revoked: { code: string; message: string } | null;
  connectivity: 'online' | 'degraded' | 'offline' | 'unknown';
  syncState: string;
  pending: number;
  confirmed: number;
  deadLetters: number;
  oldestPendingAt: number | null;
  lastSuccessAt: number | null;
  lastError: string | null;
  nextAttemptAt: number | null;
  /** What the signed device feed last gave (browser-feed.ts): cursor, location, roster and price list versions. */
  feed: {
    cursor: number;
    location: string | null;
    rosterVersion: number;
    priceListVersion: number;
    /** Why the last poll failed, or null. */
    error: string | null;
  };
  /** The risk policy held (browser-policy.ts), or null before the first one arrived. */
  policy: TillPolicyView | null;
  /** Why the last policy refresh failed (no answer, refused, tampered), or null. */
  policyError: string | null;
  /** Card payments declined after the sale (post-authorization), as the feed reported them. */
  declines: number;
  /** The staff member signed in (browser-staff.ts), or null. */
  staff: SignedInStaff | null;
  /** The member a newer roster dropped while signed in (signed out then), until the next sign-in; or null. */
  staffRemoved: { id: string; name: string } | null;
  /** Card payments asked of the server still waiting for its answer (pending confirmation). */
  authorizationsPending: number;
  shift: {
    id: string;
    clerk: string;
    currency: string;
    openingFloat: number;
    sales: number;
    salesTotal: number;
  } | null;
}

/** What the till shows of the risk policy it holds. */
export interface TillPolicyView {
  /** `<id>@<version>`. */
  ref: string;
  /** False when it no longer verifies with the pinned keys: nothing is approved offline under it. */
  valid: boolean;
  currency: string;
  expiresAt: number;
  /** Most a card tender may be offline, minor units; null when the policy allows no card offline. */
  cardFloorLimit: number | null;
  /** Device clock of the last policy answer from the server, or null. */
  lastServerContactAt: number | null;
  /** Most a wristband payment may be offline, minor units; null when the policy allows no wristband offline. */
  wristbandFloorLimit: number | null;
  /** Longest the till may go without that contact and still approve offline (ms). */
  maxOfflineMs: number;
  /** Card and wristband approvals held offline, not yet settled: total and count. */
  exposure: { amount: number; count: number };
}

/** A sale just recorded, with the decision it carries (mode local: the offline policy approved its card tender). */
export type TillRecordedSale = RecordedOp & { decision: Decision };

/** A card payment declined after the fact (post-authorization), as the till's screens show it. */
export interface TillDeclineView {
  opId: string;
  tenderIndex: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  declineCode: string;
  declinedAt: number;
}

/** The catalog the till sells from: the held price list's items priced now (promotions applied). */
export interface TillCatalogView {
  location: string;
  version: number;
  currency: string;
  items: Array<{ sku: string; name: string; price: number }>;
}

/** A card payment asked of the server that has no final answer yet (pending confirmation), as the till shows it. */
export interface TillPendingAuthorizationView {
  opId: string;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  createdAt: number;
  attempts: number;
  lastAttemptAt: number | null;
  /** Why the last attempt has no answer (timeout, network, the server's "pending"), or null. */
  lastError: string | null;
}

/** What the server answered about a card sale authorized online (online.ts OnlineOutcome). */
export type TillOnlineOutcome = OnlineOutcome;

/** One op as the till's list shows it. */
export interface TillOpView {
  id: string;
  seq: number;
  kind: string;
  at: number;
  state: 'pending' | 'confirmed' | 'needs_attention';
  currency: string | null;
  total: number | null;
  deadReason: string | null;
}

function pendingView(row: OnlineAuthorization): TillPendingAuthorizationView {
  const r = row.request as { amount?: number; currency?: string; brand?: string; last4?: string };
  return {
    opId: row.opId,
    amount: Number(r.amount ?? 0),
    currency: String(r.currency ?? ''),
    brand: String(r.brand ?? ''),
    last4: String(r.last4 ?? ''),
    createdAt: row.createdAt,
    attempts: row.attempts,
    lastAttemptAt: row.lastAttemptAt,
    lastError: row.lastError,
  };
}

const browserClock: Clock = Object.freeze({
  now: () => Date.now(),
  setTimer(ms: number, fn: () => void) {
    const handle = setTimeout(fn, Math.max(0, ms));
    return { cancel: () => clearTimeout(handle) };
  },
});

const browserRandom: Random = Object.freeze({
  float: () => {
    const b = crypto.getRandomValues(new Uint8Array(6));
    let n = 0;
    for (const byte of b) n = n * 256 + byte;
    return n / 2 ** 48;
  },
  bytes: (n: number) => crypto.getRandomValues(new Uint8Array(n)),
});

/** A wristband payment just recorded, with the decision it carries (mode local: approved under the policy). */
export interface TillWristbandReceipt extends WristbandReceipt {
  decision: Decision;
}

/** A wristband as the till shows it: the chip (finished writes included), its block, its unfinished writes. */
export interface TillWristbandView {
  chip: { uid: string; balance: number; counter: number; currency: string };
  blocked: { reason: string } | null;
  /** Writes this till journaled for the chip and could not finish (the chip was written elsewhere since). */
  unfinished: number;
}

export interface TillEngineOptions {
  till: string;
  journal: JournalCore;
  /** The server's origin (e.g. https://holdfast.example); the till talks to /v1/... under it. */
  serverUrl: string;
  /** Called whenever the status may have changed. */
  onStatus: (status: TillStatus) => void;
  onError: (error: unknown) => void;
  /** Backoff schedule, seconds (default the SDK's). */
  backoffSeconds?: readonly number[];
  requestTimeoutMs?: number;
  probeIntervalMs?: number;
  /** Least time between two feed polls made on the till's own (after a successful exchange); default 30 s. */
  feedIntervalMs?: number;
  /** Least time between two policy refreshes made on the till's own; default the SDK's (60 s). */
  policyRefreshMs?: number;
}

export class TillEngine {
  readonly #till: string;
  readonly #journal: JournalCore;
  readonly #transport: HttpTransport;
  readonly #connectivity = new ConnectivityMonitor();
  readonly #events: Emitter<SyncEvents>;
  readonly #exchange: Exchange;
  readonly #loop: SyncLoop;
  readonly #recorder: Recorder;
  readonly #receipts: Receipts;
  readonly #onStatus: (status: TillStatus) => void;
  readonly #requestTimeoutMs: number;
  readonly #feed: BrowserFeed;
  readonly #wristbands: WristbandStore;
  readonly #wristbandPayments: WristbandPayments;
  readonly #staff: BrowserStaff;
  #feedPolling: Promise<BrowserFeedPoll> | null = null;
  readonly #feedIntervalMs: number;
  #feedPolledAt = Number.NEGATIVE_INFINITY;
  #feedError: string | null = null;
  #credentials: { deviceId: string; key: CryptoKey } | null = null;
  #enrolling: Promise<{ deviceId: string }> | null = null;
  readonly #policy: BrowserPolicy;
  readonly #policyRefreshMs: number;
  #policyRefreshing: Promise<SignedPolicy | null> | null = null;
  #policyRefreshedAt = Number.NEGATIVE_INFINITY;
  #policyError: string | null = null;
  readonly #online: OnlineSales;
  #onlineRetry: Promise<OnlineOutcome[]> | null = null;

  /** Builds the engine; `start()` begins delivery once the signing key is imported. */
  constructor(options: TillEngineOptions) {
    this.#till = options.till;
    const journal = options.journal;
    this.#journal = journal;
    this.#onStatus = options.onStatus;
    const config = resolveOptions({
      dataDir: `opfs:${options.till}`,
      transport: null as never,
      offlineCardPolicy: 'enforce',
      ...(options.policyRefreshMs !== undefined ? { policyRefreshMinIntervalMs: options.policyRefreshMs } : {}),
      ...(options.backoffSeconds ? { backoffSeconds: options.backoffSeconds } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
    });
    this.#requestTimeoutMs = config.requestTimeoutMs;
    this.#transport = new HttpTransport(options.serverUrl);
    this.#events = new Emitter<SyncEvents>((error) => options.onError(error));
    this.#feedIntervalMs = options.feedIntervalMs ?? 30_000;
    this.#staff = new BrowserStaff({ journal, clock: browserClock });
    // The journal is a JournalCore; the SDK's modules are typed with Node's Journal, which adds nothing at run time.
    const asJournal = journal as never;
    const wristbands = new WristbandStore(asJournal);
    this.#wristbands = wristbands;
    this.#policyRefreshMs = config.policyRefreshMinIntervalMs;
    this.#policy = new BrowserPolicy({ journal, transport: this.#transport, timeoutMs: config.requestTimeoutMs });
    this.#feed = new BrowserFeed({
      journal,
      transport: this.#transport,
      timeoutMs: config.requestTimeoutMs,
      policy: this.#policy,
      // Wristband blocks and unblocks update the block list in the transaction that keeps them (as on Node).
      onNotice: (type, data, now) => {
        if (type.startsWith('wristband.')) wristbands.applyNotice(type, data, now);
      },
    });
    const outbox = new Outbox(asJournal);
    this.#receipts = new Receipts(asJournal, (id) => this.#stateOf(id));
    const credentials = () => this.#credentials as never;
    this.#exchange = new Exchange({
      journal: asJournal,
      outbox,
      transport: this.#transport,
      clock: browserClock,
      requestTimeoutMs: config.requestTimeoutMs,
      connectivity: this.#connectivity,
      events: this.#events,
      bugs: NO_INJECTED_BUGS,
      answerKeys: () => {
        if (journal.getMeta(META.signsAnswers) !== '1') return null;
        const pinned = journal.getMeta(META.policyKeys);
        return pinned ? (JSON.parse(pinned) as Record<string, string>) : {};
      },
      signer: {
        sign: (message, c) => signWithKeyWebCrypto(message, (c as unknown as { key: CryptoKey }).key),
        answerProblem: (route, requestSig, body, keys) => answerProblemWebCrypto(route, requestSig, body, keys),
      },
    });
    this.#loop = new SyncLoop({
      journal: asJournal,
      outbox,
      exchange: this.#exchange,
      clock: browserClock,
      random: browserRandom,
      backoffSeconds: config.backoffSeconds,
      batchSize: config.batchSize,
      batchMaxBytes: config.batchMaxBytes,
      idlePingMs: config.idlePingMs,
      manualRetryMinIntervalMs: config.manualRetryMinIntervalMs,
      probeIntervalMs: config.probeIntervalMs,
      connectivity: this.#connectivity,
      events: this.#events,
      credentials,
      isRevoked: () => this.#revoked() !== null,
      onChange: () => this.#changed(),
      onError: options.onError,
    });
    this.#recorder = new Recorder({
      journal: asJournal,
      clock: browserClock,
      idRandom: browserRandom,
      policy: this.#policy,
      wristbands,
      staff: this.#staff as never,
      // Card sales are decided under the risk policy, as a Node till with offlineCardPolicy 'enforce'.
      enforceCards: true,
      placement: () => this.#feed.placement(),
      canRecord: () => this.#canRecord() as never,
      onRecorded: () => {
        this.#changed();
        this.#loop.notifyRecorded();
      },
    });
    this.#wristbandPayments = new WristbandPayments({
      journal: asJournal,
      clock: browserClock,
      recorder: this.#recorder,
      // Wristband payments are decided under the risk policy's wristband limits, as on a Node till.
      policy: this.#policy as never,
      wristbands,
      enforceCards: true,
      placement: () => this.#feed.placement(),
    });
    this.#online = new OnlineSales({
      journal: asJournal,
      transport: this.#transport,
      clock: browserClock,
      idRandom: browserRandom,
      timeoutMs: config.requestTimeoutMs,
      recorder: this.#recorder,
      events: new Emitter((error) => options.onError(error)) as never,
      credentials,
      canRecord: () => this.#canRecord() as never,
      answerProblem: (route, sig, body) => this.#exchange.answerProblem(route, sig, body),
      sign: (message, c) => signWithKeyWebCrypto(message, (c as unknown as { key: CryptoKey }).key),
    });
    for (const event of ['sync', 'confirmed', 'dead-letter'] as const) this.#events.on(event, () => this.#changed());
    // ...and the card payments still waiting for the server's answer, asked again with the same op ids (as on Node).
    this.#events.on('sync', (event) => {
      if (event.outcome === 'ok' && this.#online.pending().length > 0)
        this.retryAuthorizations().catch(() => undefined);
    });
    // The server answered: read the feed too, at most every feedIntervalMs (its failures show in status.feed.error).
    this.#events.on('sync', (event) => {
      if (event.outcome === 'ok' && browserClock.now() - this.#feedPolledAt >= this.#feedIntervalMs) {
        this.pollFeed().catch(() => undefined);
      }
    });
    // ...and the risk policy, at most every policyRefreshMs (its failures show in status.policyError).
    this.#events.on('sync', (event) => {
      if (event.outcome === 'ok') this.#refreshPolicySoon();
    });
  }

  /** Imports the stored key (if enrolled) and starts delivery. */
  async start(): Promise<void> {
    const deviceId = this.#journal.getMeta(META.deviceId);
    const privateKey = this.#journal.getMeta(META.privateKey);
    if (deviceId && privateKey) this.#credentials = { deviceId, key: await importSigningKeyWebCrypto(privateKey) };
    // The policy held is re-verified before any card sale is decided under it.
    await this.#policy.load();
    this.#loop.start();
    this.#refreshPolicySoon();
    this.#changed();
  }

  /**
   * Asks the server for the risk policy now (browser-policy.ts), verifies it
   * and keeps it if newer. One refresh at a time: a call while one runs gets
   * that one. Throws NotEnrolledError, TransportError, PolicyRefreshError,
   * PolicyVerificationError, storing nothing.
   */
  refreshPolicy(): Promise<SignedPolicy | null> {
    const credentials = this.#credentials;
    if (!credentials) return Promise.reject(new NotEnrolledError());
    this.#policyRefreshedAt = browserClock.now();
    this.#policyRefreshing ??= this.#policy
      .refresh(credentials, browserClock.now)
      .then(
        (signed) => {
          this.#policyError = null;
          return signed;
        },
        (error: unknown) => {
          this.#policyError = error instanceof Error ? error.message : String(error);
          throw error;
        },
      )
      .finally(() => {
        this.#policyRefreshing = null;
        this.#changed();
      });
    return this.#policyRefreshing;
  }

  /** A background refresh, at most every policyRefreshMs; a failure waits for the next chance (status.policyError). */
  #refreshPolicySoon(): void {
    if (!this.#credentials || this.#revoked() !== null) return;
    if (browserClock.now() - this.#policyRefreshedAt < this.#policyRefreshMs) return;
    this.refreshPolicy().catch(() => undefined);
  }

  /**
   * Enrolls with a one-time token, as enrollment.ts does on Node: the key
   * pair is committed to the journal before the request, so a retry after
   * a lost answer reuses it. Throws EnrollmentError (the server's reason),
   * TransportError (no answer: try again), AlreadyEnrolledError.
   */
  enroll(token: string, label?: string): Promise<{ deviceId: string }> {
    this.#enrolling ??= this.#enroll(token, label).finally(() => {
      this.#enrolling = null;
    });
    return this.#enrolling;
  }

  async #enroll(token: string, label: string | undefined): Promise<{ deviceId: string }> {
    const journal = this.#journal;
    const existing = journal.getMeta(META.deviceId);
    if (existing) throw new AlreadyEnrolledError(existing);
    token = token.trim();
    if (token.length === 0)
      throw new EnrollmentError(400, {
        code: 'validation',
        message: 'the token is empty: paste the one-time token the operator gave you',
        retryable: false,
      } as never);
    let publicKey = journal.getMeta(META.publicKey);
    let privateKey = journal.getMeta(META.privateKey);
    if (journal.getMeta(META.enrollToken) !== token || !publicKey || !privateKey) {
      const keys = await generateDeviceKeysWebCrypto();
      journal.setMeta({
        [META.enrollToken]: token,
        [META.publicKey]: keys.publicKey,
        [META.privateKey]: keys.privateKey,
      });
      publicKey = keys.publicKey;
      privateKey = keys.privateKey;
    }
    const sig = await signMessageWebCrypto(enrollmentMessage(token, publicKey), privateKey);
    const startedAt = Date.now();
    let res: Awaited<ReturnType<HttpTransport['enroll']>>;
    try {
      res = await this.#transport.enroll(
        { token, publicKey, sig, ...(label ? { label } : {}) },
        this.#requestTimeoutMs,
      );
    } catch (error) {
      this.#connectivity.failed(error instanceof Error ? error.message : String(error));
      this.#changed();
      throw error;
    }
    const at = Date.now();
    if (!res.ok) {
      if (res.error.retryable) this.#connectivity.failed(res.error.message);
      else {
        this.#connectivity.answered(at, at - startedAt, res.error.message);
        journal.setMeta({ [META.enrollToken]: null });
      }
      this.#changed();
      throw new EnrollmentError(res.status, res.error);
    }
    const body: EnrollResponse = res.body;
    if (typeof body.deviceId !== 'string' || !/^[0-9a-f-]{36}$/.test(body.deviceId)) {
      this.#connectivity.failed('enrollment answer without a device id');
      throw new TransportError('bad_response', 'enrollment answer has no valid deviceId');
    }
    this.#connectivity.answered(at, at - startedAt);
    const keys = body.policyKeys;
    const pinnable =
      typeof keys === 'object' &&
      keys !== null &&
      Object.keys(keys).length > 0 &&
      Object.values(keys).every((v) => typeof v === 'string');
    const placement = parsePlacement(body.placement);
    journal.setMeta({
      [META.deviceId]: body.deviceId,
      // Where the token placed the device (as enrollment.ts on Node): the feed refuses a roster for elsewhere.
      ...(placement ? { [META.placement]: JSON.stringify(placement) } : {}),
      [META.label]: typeof body.label === 'string' ? body.label : (label ?? null),
      [META.enrolledAt]: String(body.enrolledAt),
      [META.enrollToken]: null,
      ...(pinnable && journal.getMeta(META.policyKeys) === null ? { [META.policyKeys]: JSON.stringify(keys) } : {}),
      ...(body.signsAnswers === true && pinnable ? { [META.signsAnswers]: '1' } : {}),
    });
    this.#credentials = { deviceId: body.deviceId, key: await importSigningKeyWebCrypto(privateKey) };
    this.#changed();
    this.#loop.notifyRecorded();
    this.#refreshPolicySoon();
    return { deviceId: body.deviceId };
  }

  status(): TillStatus {
    const counts = this.#journal.counts;
    const shift = this.#recorder.currentShift();
    return {
      till: this.#till,
      deviceId: this.#credentials?.deviceId ?? this.#journal.getMeta(META.deviceId),
      label: this.#journal.getMeta(META.label),
      enrolled: this.#journal.getMeta(META.deviceId) !== null,
      revoked: this.#revoked(),
      connectivity: this.#connectivity.state,
      syncState: this.#loop.state,
      pending: counts.pending,
      confirmed: counts.confirmed,
      deadLetters: counts.dead,
      oldestPendingAt: this.#journal.oldestPendingAt(),
      lastSuccessAt: this.#connectivity.lastSuccessAt,
      lastError: this.#connectivity.lastError,
      nextAttemptAt: this.#loop.nextAttemptAt,
      feed: {
        cursor: this.#feed.cursor(),
        location: this.#feed.placement()?.location ?? null,
        rosterVersion: this.#feed.roster()?.version ?? 0,
        priceListVersion: this.#feed.priceList()?.version ?? 0,
        error: this.#feedError,
      },
      policy: this.#policyView(),
      policyError: this.#policyError,
      declines: this.#declineCount(),
      staff: this.#staff.current(),
      staffRemoved: this.#staff.removed(),
      authorizationsPending: this.#online.pending().length,
      shift: shift
        ? {
            id: shift.id,
            clerk: shift.clerk,
            currency: shift.currency,
            openingFloat: shift.openingFloat,
            sales: shift.sales,
            salesTotal: shift.salesTotal,
          }
        : null,
    };
  }

  /**
   * Signs a member in with their PIN, checked here against the held roster
   * (browser-staff.ts). Throws StaffError (no_roster, staff_unknown,
   * staff_no_pin, wrong_pin with attemptsLeft, locked_out with retryAfterMs).
   */
  async signIn(staff: unknown, pin: unknown): Promise<SignedInStaff> {
    try {
      return await this.#staff.signIn(staff, pin);
    } finally {
      this.#changed();
    }
  }

  signOut(): void {
    this.#staff.signOut();
    this.#changed();
  }

  /** The held roster's members for the sign-in screen (no verifiers), with their lock-outs on this till. */
  staffMembers(): StaffMemberView[] {
    return this.#staff.members();
  }

  openShift(input: { clerk: string; currency: string; openingFloat: number }): RecordedOp {
    return this.#recorder.recordAny('shift.opened', input);
  }

  /**
   * Records a sale. A card tender is decided offline under the risk policy
   * held (approved within its limits: decision mode local); outside them it
   * throws NeedsOnlineError (code needs_online, `rule` saying which limit) and
   * nothing is recorded; the caller may then ask the server (recordSaleOnline).
   */
  recordSale(input: { lines: SaleLine[]; tenders: Tender[] }): TillRecordedSale {
    const recorded = this.#recorder.recordSale(input);
    const decision = this.#journal.getOp(recorded.id)?.op.decision as Decision;
    return { ...recorded, decision };
  }

  /**
   * Records a sale whose one card tender is authorized online first (after
   * `recordSale` threw NeedsOnlineError and the server is reachable), as the
   * Node till's recordSaleOnline: the sale is recorded, with decision
   * online/approved, only once the server approved it; declined or refused:
   * nothing recorded; no answer: pending confirmation, kept in the journal
   * and asked again with the same op id, never guessed.
   */
  async recordSaleOnline(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<TillOnlineOutcome> {
    try {
      return await this.#online.recordSale(input);
    } finally {
      this.#changed();
    }
  }

  /** Card payments asked of the server still waiting for its answer, oldest first. */
  pendingAuthorizations(): TillPendingAuthorizationView[] {
    return this.#online.pending().map((row) => pendingView(row));
  }

  /**
   * Asks the server again about every pending confirmation, with the same op
   * ids (one round at a time: a call while one runs gets that one).
   */
  retryAuthorizations(): Promise<TillOnlineOutcome[]> {
    this.#onlineRetry ??= this.#online.retry().finally(() => {
      this.#onlineRetry = null;
      this.#changed();
    });
    return this.#onlineRetry;
  }

  closeShift(input: { countedCash: number; note?: string }): RecordedOp {
    return this.#recorder.closeShift(input);
  }

  /**
   * Pays a sale with the wristband on `reader` as the Node till does
   * (wristband-payments.ts): the chip is read (a write this till left
   * unfinished is finished first), refused before anything is recorded
   * when blocked, in another currency or short of the amount
   * (WristbandRefusedError), then the op and the chip write it promises
   * are journaled in one transaction, then the chip is written. A failed
   * chip write leaves the op recorded (`chipWritten` false): the next read
   * of that wristband here finishes it. The wristband's share is decided
   * under the risk policy's wristband limits (OfflineDecisions, as on Node):
   * approved, the op carries decision mode local and its exposure; outside
   * them (or with no usable policy) it throws NeedsOnlineError (code
   * needs_online, `rule` saying which limit) and nothing is recorded, the
   * chip untouched: the browser till has no online authorization.
   */
  payWithWristband(
    input: { lines: SaleLine[]; cash?: { amount: number; tendered: number } },
    reader: WristbandReader,
  ): TillWristbandReceipt {
    const receipt = this.#wristbandPayments.pay({ ...input, reader });
    const decision = this.#journal.getOp(receipt.op.id)?.op.decision as Decision;
    return { ...receipt, decision };
  }

  /** Loads money paid in cash onto the wristband on `reader` (journal first, then the chip). */
  topUpWristband(input: { amount: number }, reader: WristbandReader): WristbandReceipt {
    return this.#wristbandPayments.topUp({ reader, amount: input.amount, paid: 'cash' });
  }

  /** Reads the wristband on `reader`, finishing the writes this till left unfinished on it. */
  readWristband(reader: WristbandReader): TillWristbandView {
    const chip = this.#wristbands.readSettled(reader, browserClock.now());
    const blocked = this.#wristbands.isBlocked(chip.uid);
    return {
      chip,
      blocked: blocked ? { reason: blocked.reason } : null,
      unfinished: this.#wristbands.pending(chip.uid).length,
    };
  }

  /** Chip writes journaled here and not yet on their chip, oldest first. */
  pendingWristbandWrites(): Array<{ opId: string; wristband: string; kind: string; amount: number }> {
    return this.#wristbands
      .pending()
      .map((w) => ({ opId: w.opId, wristband: w.wristband, kind: w.kind, amount: w.amount }));
  }

  /** The newest ops, newest first, at most `limit`. */
  recent(limit: number): TillOpView[] {
    const head = this.#journal.head.seq;
    const from = Math.max(0, head - limit);
    return this.#journal
      .ops(from, limit)
      .map((e) => this.#view(e))
      .reverse();
  }

  deadLetters(limit = 100): Array<TillOpView & { reason: string; message: string }> {
    return this.#journal.deadLetters(limit, 0).map((d) => {
      const entry = this.#journal.getOp(d.id);
      const view = entry ? this.#view(entry) : null;
      return {
        ...(view ?? {
          id: d.id,
          seq: d.seq,
          kind: d.kind,
          at: 0,
          state: 'needs_attention' as const,
          currency: null,
          total: null,
          deadReason: null,
        }),
        reason: d.reason,
        message: d.message,
      };
    });
  }

  receipt(id: string, copy: boolean): Receipt {
    return this.#receipts.receipt(id, { copy });
  }

  /**
   * Card payments approved here that the processor declined afterwards (the
   * feed's payment.declined items for this device), newest first: the
   * customer has the goods, the shop has not been paid.
   */
  declines(limit = 100): TillDeclineView[] {
    const rows = this.#journal
      .prepare(
        `SELECT op_id, tender_index, amount, currency, brand, last4, decline_code, declined_at
           FROM post_auth_declines ORDER BY pos DESC LIMIT ?`,
      )
      .all(Math.max(1, Math.min(1000, Math.trunc(limit) || 1))) as Array<Record<string, unknown>>;
    return rows.map((r) => ({
      opId: String(r.op_id),
      tenderIndex: Number(r.tender_index),
      amount: Number(r.amount),
      currency: String(r.currency),
      brand: String(r.brand),
      last4: String(r.last4),
      declineCode: String(r.decline_code),
      declinedAt: Number(r.declined_at),
    }));
  }

  /** The op a receipt number names (typed as read: any case, O for 0). */
  findReceipt(number: string): TillOpView {
    const device = this.#credentials?.deviceId ?? null;
    if (device === null) throw new NotEnrolledError();
    return this.#view(this.#receipts.find(number, device));
  }

  /**
   * The clerk's retry: a sync, then (as the Node terminal's syncThenFeed) a
   * read of the feed, so settlements and post-authorization declines show
   * without waiting for the next background poll. A feed failure shows in
   * status.feed.error; the sync's report is the answer.
   */
  async syncNow(): Promise<unknown> {
    const report = await this.#loop.syncNow();
    if (this.#credentials && this.#revoked() === null) await this.pollFeed().catch(() => undefined);
    this.#changed();
    return report;
  }

  /**
   * Reads the signed device feed now (browser-feed.ts): placement, roster,
   * price list, post-authorization declines. One poll at a time: a call
   * while one runs gets that one. Throws NotEnrolledError, TransportError,
   * BrowserFeedError.
   */
  pollFeed(): Promise<BrowserFeedPoll> {
    const credentials = this.#credentials;
    if (!credentials) return Promise.reject(new NotEnrolledError());
    this.#feedPolledAt = browserClock.now();
    this.#feedPolling ??= this.#feed
      .poll(credentials, browserClock.now)
      .then(
        (result) => {
          this.#feedError = result.rosterRefused ?? result.priceListRefused;
          // The feed names the policy in force: another than the one held is fetched now, not at the next interval.
          const held = this.#policy.policy();
          if (result.policy !== null && (held === null || policyRef(held.policy) !== result.policy)) {
            this.refreshPolicy().catch(() => undefined);
          }
          return result;
        },
        (error: unknown) => {
          this.#feedError = error instanceof Error ? error.message : String(error);
          throw error;
        },
      )
      .finally(() => {
        this.#feedPolling = null;
        this.#changed();
      });
    return this.#feedPolling;
  }

  /**
   * The held price list's items with their price now, or null when no list
   * is held or it is not in force now (the till then sells from quick keys).
   * Items the list does not price now are left out.
   */
  catalog(): TillCatalogView | null {
    const list = this.#feed.priceList();
    if (list === null) return null;
    const now = browserClock.now();
    const priced = { ...list, publishedAt: list.issuedAt, publishedBy: '' } as PriceList;
    const items: TillCatalogView['items'] = [];
    for (const item of list.items) {
      const price = priceAt(priced, item.sku, now);
      if (price !== null) items.push({ sku: item.sku, name: item.name, price });
    }
    if (items.length === 0) return null;
    return { location: list.location, version: list.version, currency: list.currency, items };
  }

  /** Asks the server what it stored for the pending ops and settles accordingly. */
  async requery(): Promise<unknown> {
    const statuses = await this.#loop.requery();
    this.#changed();
    return statuses;
  }

  async close(): Promise<void> {
    await this.#loop.close();
  }

  #declineCount(): number {
    const row = this.#journal.prepare('SELECT COUNT(*) AS n FROM post_auth_declines').get() as
      | { n: number }
      | undefined;
    return Number(row?.n ?? 0);
  }

  #policyView(): TillPolicyView | null {
    const signed = this.#policy.policy();
    if (signed === null) return null;
    const p = signed.policy;
    const approvals = [...this.#policy.exposure().approvals.values()];
    return {
      ref: policyRef(p),
      valid: this.#policy.policyValid(),
      currency: p.currency,
      expiresAt: p.expiresAt,
      cardFloorLimit: p.offline.tenders.card?.floorLimit ?? null,
      lastServerContactAt: this.#policy.lastServerContactAt(),
      wristbandFloorLimit: p.offline.tenders.wristband?.floorLimit ?? null,
      maxOfflineMs: p.offline.maxOfflineMs,
      exposure: { amount: approvals.reduce((sum, a) => sum + a.amount, 0), count: approvals.length },
    };
  }

  #view(entry: JournalEntry): TillOpView {
    const body = entry.op.body as { currency?: unknown; total?: unknown };
    return {
      id: entry.id,
      seq: entry.seq,
      kind: entry.kind,
      at: entry.op.at,
      state: this.#stateOf(entry.id) ?? 'pending',
      currency: typeof body.currency === 'string' ? body.currency : null,
      total: typeof body.total === 'number' ? body.total : null,
      deadReason: entry.state === 'dead' ? (entry.lastError ?? null) : null,
    };
  }

  #stateOf(id: string): TillOpView['state'] | undefined {
    const state = this.#journal.getOp(id)?.state;
    if (state === undefined) return undefined;
    return state === 'dead' ? 'needs_attention' : state;
  }

  #revoked(): { code: string; message: string } | null {
    if (this.#journal.getMeta(META.revokedAt) === null) return null;
    return {
      code: this.#journal.getMeta(META.revokedCode) ?? 'device_revoked',
      message: this.#journal.getMeta(META.revokedMessage) ?? '',
    };
  }

  #canRecord(): { deviceId: string; key: CryptoKey } {
    if (!this.#credentials) throw new NotEnrolledError();
    const revoked = this.#revoked();
    if (revoked) throw new DeviceRevokedError(this.#credentials.deviceId, revoked.code, revoked.message);
    return this.#credentials;
  }

  #changed(): void {
    this.#onStatus(this.status());
  }
}
