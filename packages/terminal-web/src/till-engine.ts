/**
 * The till in the journal worker: the Terminal SDK's portable modules —
 * outbox (outbox.ts), exchange (exchange.ts), sync loop (sync-loop.ts),
 * recording (recording.ts), receipts (receipts.ts) — running unchanged on
 * the browser journal, over `fetch` (HttpTransport), with requests signed
 * and the server's signed answers verified by WebCrypto Ed25519.
 *
 * Staff sign-in against the feed's roster is browser-staff.ts (PINs checked
 * with noble's scrypt, pin-check.ts).
 *
 * The signed device feed is read by browser-feed.ts (signatures checked
 * with WebCrypto before one journal transaction stores the page).
 *
 * What the Node `Terminal` façade adds and this engine does not (yet): the
 * risk policy (card sales are recorded with no offline decision, as
 * `offlineCardPolicy: 'off'`), staff approvals, wristbands,
 * online authorization and key rotation (see
 * docs/browser-terminal.md, "What is not done yet").
 */

import { type Clock, NO_INJECTED_BUGS, type Random, type Receipt } from '@holdfast/domain';
import {
  type EnrollResponse,
  enrollmentMessage,
  type PriceList,
  priceAt,
  type SaleLine,
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
  Outbox,
  Receipts,
  type RecordedOp,
  Recorder,
  resolveOptions,
  type SignedInStaff,
  type SyncEvents,
  SyncLoop,
  TransportError,
} from '@holdfast/terminal/portable';
import { BrowserFeed, type BrowserFeedPoll, parsePlacement } from './browser-feed.js';
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
  /** The staff member signed in (browser-staff.ts), or null. */
  staff: SignedInStaff | null;
  /** The member a newer roster dropped while signed in (signed out then), until the next sign-in; or null. */
  staffRemoved: { id: string; name: string } | null;
  shift: {
    id: string;
    clerk: string;
    currency: string;
    openingFloat: number;
    sales: number;
    salesTotal: number;
  } | null;
}

/** The catalog the till sells from: the held price list's items priced now (promotions applied). */
export interface TillCatalogView {
  location: string;
  version: number;
  currency: string;
  items: Array<{ sku: string; name: string; price: number }>;
}

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

/** The risk policy is not verified in the browser: card sales are recorded undecided ('off'), so it is never asked. */
const NO_POLICY = Object.freeze({
  authorizeCardSale: () => {
    throw new Error('the offline card policy is not enforced in the browser till');
  },
  committed: () => undefined,
});

const NO_WRISTBANDS = Object.freeze({
  promise: () => {
    throw new Error('wristband tenders are not available in the browser till');
  },
});

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
  readonly #staff: BrowserStaff;
  #feedPolling: Promise<BrowserFeedPoll> | null = null;
  readonly #feedIntervalMs: number;
  #feedPolledAt = Number.NEGATIVE_INFINITY;
  #feedError: string | null = null;
  #credentials: { deviceId: string; key: CryptoKey } | null = null;
  #enrolling: Promise<{ deviceId: string }> | null = null;

  /** Builds the engine; `start()` begins delivery once the signing key is imported. */
  constructor(options: TillEngineOptions) {
    this.#till = options.till;
    const journal = options.journal;
    this.#journal = journal;
    this.#onStatus = options.onStatus;
    const config = resolveOptions({
      dataDir: `opfs:${options.till}`,
      transport: null as never,
      offlineCardPolicy: 'off',
      ...(options.backoffSeconds ? { backoffSeconds: options.backoffSeconds } : {}),
      ...(options.requestTimeoutMs ? { requestTimeoutMs: options.requestTimeoutMs } : {}),
      ...(options.probeIntervalMs !== undefined ? { probeIntervalMs: options.probeIntervalMs } : {}),
    });
    this.#requestTimeoutMs = config.requestTimeoutMs;
    this.#transport = new HttpTransport(options.serverUrl);
    this.#events = new Emitter<SyncEvents>((error) => options.onError(error));
    this.#feedIntervalMs = options.feedIntervalMs ?? 30_000;
    this.#feed = new BrowserFeed({ journal, transport: this.#transport, timeoutMs: config.requestTimeoutMs });
    this.#staff = new BrowserStaff({ journal, clock: browserClock });
    // The journal is a JournalCore; the SDK's modules are typed with Node's Journal, which adds nothing at run time.
    const asJournal = journal as never;
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
      policy: NO_POLICY as never,
      wristbands: NO_WRISTBANDS as never,
      staff: this.#staff as never,
      enforceCards: false,
      placement: () => null,
      canRecord: () => this.#canRecord() as never,
      onRecorded: () => {
        this.#changed();
        this.#loop.notifyRecorded();
      },
    });
    for (const event of ['sync', 'confirmed', 'dead-letter'] as const) this.#events.on(event, () => this.#changed());
    // The server answered: read the feed too, at most every feedIntervalMs (its failures show in status.feed.error).
    this.#events.on('sync', (event) => {
      if (event.outcome === 'ok' && browserClock.now() - this.#feedPolledAt >= this.#feedIntervalMs) {
        this.pollFeed().catch(() => undefined);
      }
    });
  }

  /** Imports the stored key (if enrolled) and starts delivery. */
  async start(): Promise<void> {
    const deviceId = this.#journal.getMeta(META.deviceId);
    const privateKey = this.#journal.getMeta(META.privateKey);
    if (deviceId && privateKey) this.#credentials = { deviceId, key: await importSigningKeyWebCrypto(privateKey) };
    this.#loop.start();
    this.#changed();
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
      staff: this.#staff.current(),
      staffRemoved: this.#staff.removed(),
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

  recordSale(input: { lines: SaleLine[]; tenders: Tender[] }): RecordedOp {
    return this.#recorder.recordSale(input);
  }

  closeShift(input: { countedCash: number; note?: string }): RecordedOp {
    return this.#recorder.closeShift(input);
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

  /** The op a receipt number names (typed as read: any case, O for 0). */
  findReceipt(number: string): TillOpView {
    const device = this.#credentials?.deviceId ?? null;
    if (device === null) throw new NotEnrolledError();
    return this.#view(this.#receipts.find(number, device));
  }

  async syncNow(): Promise<unknown> {
    const report = await this.#loop.syncNow();
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
