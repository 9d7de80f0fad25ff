/**
 * Terminal: the SDK a till, handheld or kiosk embeds.
 *
 * Recording is synchronous and local: `record*` returns once the op is
 * committed to the journal, whatever the network is doing. Delivery happens
 * behind it in the sync loop. What the clerk sees of an op:
 *
 *   pending          recorded, not confirmed yet (NOT failed: it is safe on disk)
 *   confirmed        the server settled it
 *   needs_attention  the server will not take it as it stands (dead letter), or
 *                    its card payment, approved offline, was declined afterwards
 *                    (a post-authorization decline, from the device feed)
 */
import {
  type Clock,
  cryptoIdRandom,
  cryptoRandom,
  LoyaltyError,
  NO_INJECTED_BUGS,
  type OfflineExposure,
  type Receipt,
  type Shift,
  systemClock,
} from '@holdfast/domain';
import {
  type BetSelection,
  type CardTender,
  type CashMovementReason,
  type Customer,
  type Decision,
  importPrivateKey,
  NO_DECISION,
  type OpBodies,
  type OpKind,
  type OpStatus,
  type Placement,
  policyRef,
  type Roster,
  type SaleLine,
  type ShiftOpenedBody,
  type ShiftReportAnswer,
  type SignedPolicy,
  type Tender,
  type TopUpMethod,
  uuidv7,
  ValidationError,
} from '@holdfast/protocol';
import { withApproval } from './approval.js';
import { Background } from './background.js';
import { type CashCorrectionInput, cashCorrectionBody } from './cash-corrections.js';
import { TillCatalog } from './catalog.js';
import { ConnectivityMonitor } from './connectivity.js';
import { type RefundInput, saleRefundBody, saleVoidBody } from './corrections.js';
import { Emitter } from './emitter.js';
import { enrollDevice } from './enrollment.js';
import {
  CorrectionRefusedError,
  DeviceRevokedError,
  JournalClosedError,
  KeyRotationError,
  NotEnrolledError,
  SimulatedCrashError,
  TerminalClosedError,
  TopUpReversalRefusedError,
  TransportError,
  VoidRefusedError,
} from './errors.js';
import { Exchange } from './exchange.js';
import { DeviceFeed, type FeedNotice, type FeedPollResult, type PostAuthDecline } from './feed.js';
import { type CrashPoint, type InDoubtOp, Journal, OPS_PAGE_MAX } from './journal.js';
import { META } from './journal-schema.js';
import type { DeadLetter, JournalEntry, SyncAttempt } from './journal-types.js';
import { pendingRotation, rotateDeviceKey } from './key-rotation.js';
import {
  type ConfirmedRedemption,
  type KnownBalance,
  LoyaltyOnline,
  type PendingRedemption,
} from './loyalty-online.js';
import { type LoyaltyPointsInput, loyaltyPointsBody } from './loyalty-points.js';
import { NODE_SIGNER } from './node-signer.js';
import { OfflinePolicy, type TerminalPlacement } from './offline-policy.js';
import type { OnlineAuthorization, OnlineOutcome } from './online.js';
import { OnlineSales } from './online-sales.js';
import { Outbox } from './outbox.js';
import { type ReceiptRequest, Receipts } from './receipts.js';
import { Recorder } from './recording.js';
import { fetchShiftReport, unconfirmedOfShift } from './shift-report.js';
import { type SignedInStaff, type StaffApproval, StaffError, type StaffIdentity, TillStaff } from './staff.js';
import { TillStock } from './stock.js';
import type { Credentials, SyncReport } from './sync-events.js';
import { SyncLoop, type SyncState } from './sync-loop.js';
import { type ResolvedOptions, resolveOptions, type TerminalOptions } from './terminal-options.js';
import { registerTestHooks } from './terminal-test-hooks.js';
import type { ClerkOpState, RecordedOp, TerminalEvents, TerminalStatus } from './terminal-types.js';
import type { Transport } from './transport.js';
import { type BlockedWristband, type PendingChipWrite, type WristbandReader, WristbandStore } from './wristband.js';
import { type TopUpReversalApproval, WristbandPayments, type WristbandReceipt } from './wristband-payments.js';

/**
 * The Terminal: a façade that owns the lifecycle (open, enroll, start/stop,
 * close, kill), the status and the events, and hands each feature to its
 * module: recording (recording.ts), online sales (online-sales.ts),
 * wristbands (wristband-payments.ts), the risk policy (offline-policy.ts),
 * the device feed (feed.ts), delivery (sync-loop.ts) and background server
 * contact (background.ts).
 */
export class Terminal {
  readonly #journal: Journal;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #betting: NonNullable<TerminalOptions['betting']>;
  readonly #requestTimeoutMs: number;
  readonly #events: Emitter<TerminalEvents>;
  readonly #connectivity = new ConnectivityMonitor();
  readonly #exchange: Exchange;
  readonly #loop: SyncLoop;
  readonly #policy: OfflinePolicy;
  readonly #feed: DeviceFeed;
  readonly #wristbands: WristbandStore;
  readonly #recorder: Recorder;
  readonly #staff: TillStaff;
  readonly #catalog: TillCatalog;
  readonly #stock: TillStock;
  readonly #online: OnlineSales;
  readonly #wristbandPayments: WristbandPayments;
  readonly #background: Background;
  readonly #receipts: Receipts;
  /** The `placement` option: overrides what the server reports. */
  readonly #placement: TerminalPlacement | null;
  #credentials: Credentials | null = null;
  readonly #loyaltyOnline: LoyaltyOnline;
  /** The key rotation in flight, shared by concurrent rotateKey() calls. */
  #rotation: Promise<{ publicKey: string }> | null = null;
  /** Where background failures go (the `onError` option). */
  readonly #onError: (error: unknown) => void;
  #closed = false;
  #lastStatusKey = '';

  /** Opens the journal in `dataDir` (exclusively) and, unless `autoSync: false`, starts delivery. */
  static open(options: TerminalOptions): Terminal {
    const config = resolveOptions(options);
    // The hook is bound late: a power cut inside the journal must also stop this Terminal.
    let self: Terminal | null = null;
    const hook = options.crashHook;
    const journal = Journal.open(options.dataDir, {
      ...(options.connect ? { connect: options.connect } : {}),
      ...(options.journalSync ? { synchronous: options.journalSync } : {}),
      ...(options.bugs ? { bugs: options.bugs } : {}),
      ...(hook
        ? {
            crashHook: (point: CrashPoint) => {
              const cut = hook(point);
              if (cut && self) self.#die();
              return cut;
            },
          }
        : {}),
    });
    try {
      self = new Terminal(journal, options, config);
      return self;
    } catch (error) {
      journal.close();
      throw error;
    }
  }

  private constructor(journal: Journal, options: TerminalOptions, config: ResolvedOptions) {
    this.#journal = journal;
    this.#receipts = new Receipts(journal, (id) => this.opState(id));
    this.#transport = options.transport;
    const clock = options.clock ?? systemClock;
    const idRandom = options.idRandom ?? cryptoIdRandom;
    this.#clock = clock;
    this.#betting = options.betting ?? {};
    this.#requestTimeoutMs = config.requestTimeoutMs;
    const report = options.onError ?? ((error: unknown) => console.error('holdfast terminal:', error));
    // After death (kill or a simulated power cut) abandoned work fails on the closed journal: not news.
    const onError = (error: unknown) => {
      if (this.#closed && (error instanceof JournalClosedError || error instanceof SimulatedCrashError)) return;
      // The binding's own error for a statement on the dropped connection (a background policy refresh).
      if (this.#closed && journal.isClosedConnectionError(error)) return;
      report(error);
    };
    this.#onError = onError;
    const events = new Emitter<TerminalEvents>((error) => onError(error));
    this.#events = events;
    const enforceCards = config.offlineCardPolicy === 'enforce';
    this.#placement = options.placement ? Object.freeze({ ...options.placement }) : null;
    const canRecord = () => this.#assertCanRecord();
    const placement = () => this.#placement ?? this.#feed.placement();
    this.#policy = new OfflinePolicy(journal);
    const wristbands = new WristbandStore(journal);
    this.#wristbands = wristbands;
    const policy = this.#policy;
    this.#staff = new TillStaff({
      journal,
      clock,
      keys: () => policy.pinnedKeys(),
      placement: () => placement(),
      newId: () => uuidv7(clock.now(), idRandom.bytes(10)),
    });
    this.#catalog = new TillCatalog({ journal, clock, keys: () => policy.pinnedKeys(), placement: () => placement() });
    this.#stock = new TillStock({ journal, placement: () => placement() });
    // Wristband notices (blocks, unblocks) update the block list in the transaction that keeps them.
    this.#feed = new DeviceFeed(
      journal,
      this.#policy,
      (item, now) => {
        if (item.type.startsWith('wristband.')) wristbands.applyNotice(item.type, item.data, now);
      },
      this.#staff,
      this.#catalog,
      (route, sig, body) => this.#exchange.answerProblem(route, sig, body),
      this.#stock,
    );
    // What the fleet shows of this terminal: how long its oldest undelivered op has waited, its policy, its software.
    this.#feed.reportsWith((afterSeq) => {
      const held = this.#policy.policy();
      return {
        pendingSince: afterSeq === null ? journal.oldestPendingAt() : journal.oldestPendingAfter(afterSeq),
        policy: held === null ? null : policyRef(held.policy),
        app: config.appVersion,
      };
    });
    const deviceId = journal.getMeta(META.deviceId);
    const privateKey = journal.getMeta(META.privateKey);
    if (deviceId && privateKey) this.#credentials = { deviceId, key: importPrivateKey(privateKey) };
    const common = { journal, clock, policy: this.#policy, wristbands, enforceCards, placement };
    this.#recorder = new Recorder({
      ...common,
      staff: this.#staff,
      idRandom,
      canRecord,
      onRecorded: (op) => {
        events.emit('recorded', op);
        this.#statusChanged();
        this.#loop.notifyRecorded();
      },
      // The journal closed itself after a disk error: this terminal stops as if killed; reopen it.
      onOutcomeUnknown: () => this.#die(),
    });
    this.#wristbandPayments = new WristbandPayments({ ...common, recorder: this.#recorder });
    this.#online = new OnlineSales({
      journal,
      transport: options.transport,
      clock,
      idRandom,
      timeoutMs: config.requestTimeoutMs,
      recorder: this.#recorder,
      events,
      credentials: () => this.#credentials,
      canRecord,
      answerProblem: (route, sig, body) => this.#exchange.answerProblem(route, sig, body),
      sign: NODE_SIGNER.sign,
    });
    this.#loyaltyOnline = new LoyaltyOnline({
      transport: options.transport,
      clock,
      idRandom,
      timeoutMs: config.requestTimeoutMs,
      credentials: () => this.#credentials,
      answerProblem: (route, sig, body) => this.#exchange.answerProblem(route, sig, body),
    });
    this.#background = new Background({
      clock,
      transport: options.transport,
      timeoutMs: config.requestTimeoutMs,
      policy: this.#policy,
      feed: this.#feed,
      online: this.#online,
      events,
      enforceCards,
      policyRefreshMs: config.policyRefreshMinIntervalMs,
      canRecord,
      mayContactServer: () => !this.#closed && this.#credentials !== null && !this.revoked,
      onError,
    });
    const outbox = new Outbox(journal);
    this.#exchange = new Exchange({
      signer: NODE_SIGNER,
      journal,
      outbox,
      transport: options.transport,
      clock,
      requestTimeoutMs: config.requestTimeoutMs,
      connectivity: this.#connectivity,
      events,
      bugs: options.bugs ?? NO_INJECTED_BUGS,
      answerKeys: () => (journal.getMeta(META.signsAnswers) === '1' ? (this.#policy.pinnedKeys() ?? {}) : null),
      learnServerKeys: () => this.#background.learnServerKeys(),
      report: (afterSeq) => this.#feed.reportFor(afterSeq),
      keyRotationPending: () => {
        if (!this.keyRotationPending) return false;
        this.#resumeRotation();
        return true;
      },
    });
    this.#loop = new SyncLoop({
      journal,
      outbox,
      exchange: this.#exchange,
      clock,
      random: options.random ?? cryptoRandom,
      backoffSeconds: config.backoffSeconds,
      batchSize: config.batchSize,
      batchMaxBytes: config.batchMaxBytes,
      idlePingMs: config.idlePingMs,
      manualRetryMinIntervalMs: config.manualRetryMinIntervalMs,
      probeIntervalMs: config.probeIntervalMs,
      connectivity: this.#connectivity,
      events,
      credentials: () => this.#credentials,
      isRevoked: () => this.revoked,
      onChange: () => this.#statusChanged(),
      onError,
    });
    registerTestHooks(this, {
      applyWristbandNotice: (type, data) => {
        this.#assertOpen();
        return wristbands.applyNotice(type, data, clock.now());
      },
    });
    if (options.autoSync ?? true) this.start();
  }

  get deviceId(): string | null {
    return this.#credentials?.deviceId ?? null;
  }

  get enrolled(): boolean {
    return this.#credentials !== null;
  }

  get revoked(): boolean {
    return this.#journal.isOpen && this.#journal.getMeta(META.revokedAt) !== null;
  }

  /** The sync loop's state: stopped, idle, sending or backoff. */
  get syncState(): SyncState {
    return this.#loop.state;
  }

  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof TerminalEvents>(event: E, fn: (payload: TerminalEvents[E]) => void): () => void {
    return this.#events.on(event, fn);
  }

  /**
   * Enrolls this terminal with a one-time token. The key pair is committed to
   * the journal before the request, so a retry after a lost answer (a thrown
   * TransportError) reuses it and gets the same device id.
   */
  enroll(token: string, label?: string): Promise<{ deviceId: string }> {
    this.#assertOpen();
    return this.#background.enroll(token, () =>
      enrollDevice({
        journal: this.#journal,
        transport: this.#transport,
        clock: this.#clock,
        connectivity: this.#connectivity,
        timeoutMs: this.#requestTimeoutMs,
        token,
        label,
      }).then((credentials) => {
        this.#credentials = credentials;
        this.#statusChanged();
        this.#loop.notifyRecorded();
        this.#background.contactSoon('enrolled');
        return { deviceId: credentials.deviceId };
      }),
    );
  }

  /**
   * Rotates this device's signing key (docs/protocol.md §2, "Key rotation"):
   * a new key pair is committed to the journal BEFORE the request, signed
   * by the current and the new key, leaves; the terminal signs with the new
   * key once the server's signed answer confirms it. Pending ops are not
   * touched: batches are signed when sent, and the server still accepts the
   * previous key for a grace period. After a crash or a thrown
   * TransportError the same rotation is pending: calling rotateKey() again
   * (or reopening the terminal, which resumes it) completes it. Throws
   * KeyRotationError when the server refuses (revoked device, key in use).
   */
  rotateKey(): Promise<{ publicKey: string }> {
    let credentials: Credentials;
    try {
      credentials = this.#assertCanRecord();
    } catch (error) {
      return Promise.reject(error);
    }
    this.#rotation ??= rotateDeviceKey({
      journal: this.#journal,
      transport: this.#transport,
      clock: this.#clock,
      connectivity: this.#connectivity,
      timeoutMs: this.#requestTimeoutMs,
      credentials,
      answerKeys: this.#journal.getMeta(META.signsAnswers) === '1' ? (this.#policy.pinnedKeys() ?? {}) : null,
    })
      .then((rotated) => {
        this.#credentials = rotated;
        this.#statusChanged();
        return { publicKey: this.#journal.getMeta(META.publicKey) ?? '' };
      })
      .finally(() => {
        this.#rotation = null;
      });
    return this.#rotation;
  }

  /** True while a key rotation is committed locally and not yet confirmed by the server. */
  get keyRotationPending(): boolean {
    return this.#journal.isOpen && pendingRotation(this.#journal) !== null;
  }

  /**
   * Fetches the risk policy in force for this device, verifies it with the
   * pinned policy keys and keeps it if it is newer than the one held; records
   * the time of this successful server contact. Returns the policy held
   * afterwards (null: none). Throws TransportError, PolicyRefreshError or
   * PolicyVerificationError, storing nothing. Recording never waits for it.
   */
  refreshPolicy(): Promise<SignedPolicy | null> {
    return this.#background.refreshPolicy();
  }

  /** The signed risk policy this terminal holds, or null. */
  riskPolicy(): SignedPolicy | null {
    this.#assertOpen();
    return this.#policy.policy();
  }

  /**
   * What this device holds approved offline (card sales under the risk
   * policy) and has not been told is settled. The device feed releases an
   * approval when the server reports its payment settled or declined
   * (`payment.settled` / `payment.declined`, applied in the same journal
   * transaction as the feed cursor); see docs/risk-policy.md, "Terminal
   * enforcement".
   */
  offlineExposure(): OfflineExposure {
    this.#assertOpen();
    return this.#policy.exposure();
  }

  /**
   * Reads the device feed from the cursor kept in the journal and applies it
   * (docs/protocol.md "Device feed"): settlement notices release offline
   * exposure, post-authorization declines are recorded for the clerk, other
   * items are kept in `feed_items` and emitted as `feedItem`. One poll at a
   * time: a call while one runs gets that one. If the server names a policy
   * other than the one held, an enforcing terminal refreshes its policy.
   * Throws TransportError (outcome unknown) or FeedError; pages applied
   * before a failure stay applied.
   */
  pollFeed(): Promise<FeedPollResult> {
    return this.#background.pollFeed();
  }

  /**
   * The server's word on the Z report of this till's shift `shiftId`:
   * `confirmed` (closed, every op applied, the same drawer), `differs`
   * (naming the op not applied or the figure), or `open` (the server has
   * not received the closing yet). Throws TransportError or
   * RequestRejectedError (`not_found` before the server holds the shift).
   */
  shiftReport(shiftId: string): Promise<ShiftReportAnswer> {
    this.#assertOpen();
    return fetchShiftReport(shiftId, {
      transport: this.#transport,
      credentials: this.#credentials,
      clock: this.#clock,
      timeoutMs: this.#requestTimeoutMs,
      answerProblem: (route, sig, body) => this.#exchange.answerProblem(route, sig, body),
    });
  }

  /** The ops of shift `shiftId` (its opening and every op naming it) the server has not confirmed yet, in seq order. */
  shiftPending(shiftId: string): JournalEntry[] {
    this.#assertOpen();
    const out: JournalEntry[] = [];
    for (let afterSeq = 0; ; ) {
      const page = this.#journal.ops(afterSeq, OPS_PAGE_MAX);
      const last = page.at(-1);
      if (!last) return out;
      out.push(...unconfirmedOfShift(shiftId, page));
      afterSeq = last.seq;
    }
  }

  /** Card payments approved offline and declined by the processor afterwards, oldest first (from the feed). */
  postAuthDeclines(): PostAuthDecline[] {
    this.#assertOpen();
    return this.#feed.declines();
  }

  /** Feed items kept for other modules (types the feed does not handle itself), after `afterPos`. */
  feedItems(afterPos = 0, limit = 100): FeedNotice[] {
    this.#assertOpen();
    return this.#feed.notices(afterPos, limit);
  }

  /** The device feed's cursor: the server ledger position applied up to (0 before the first poll). */
  feedCursor(): number {
    this.#assertOpen();
    return this.#feed.cursor();
  }

  /**
   * Where this device is placed, for the risk policy's scope: the
   * `placement` option if given (an override, for tests and fixed installs),
   * else what the server last reported (enrollment answer, device feed),
   * else null (no policy covers the device).
   */
  placement(): Placement | null {
    this.#assertOpen();
    return this.#placement ?? this.#feed.placement();
  }

  // ---- staff at the till (staff.ts, docs/staff-and-roles.md) ----

  /**
   * Signs a staff member in, by staff id or badge, with their PIN, checked
   * offline against the roster the feed delivered. Throws StaffError
   * (no_roster, staff_unknown, staff_no_pin, wrong_pin, locked_out).
   */
  signIn(who: StaffIdentity, pin: string): SignedInStaff {
    this.#assertOpen();
    return this.#staff.signIn(who, pin);
  }

  signOut(): void {
    this.#assertOpen();
    this.#staff.signOut();
  }

  /** The staff member signed in, or null. */
  currentStaff(): SignedInStaff | null {
    return this.#staff.current();
  }

  /**
   * The location's price list this till holds (catalog.ts): prices sale
   * lines offline (`catalog.line(sku, qty)`), naming the version they were
   * priced under. Empty (version 0) before the feed delivered one.
   */
  get catalog(): TillCatalog {
    this.#assertOpen();
    return this.#catalog;
  }

  /**
   * The location's last-known stock this till holds (stock.ts), with its
   * own sales since reserved: `stock.check(lines)` says which lines it
   * believes are out before the clerk records them.
   */
  get stock(): TillStock {
    this.#assertOpen();
    return this.#stock;
  }

  /**
   * Records a stock receiving, count or adjustment at this till's location
   * (docs/catalog-and-stock.md). Throws StockError (`not_placed`,
   * `stock_other_location`), ValidationError (a negative, zero or fractional
   * quantity, a bad SKU) or the staff errors (an adjustment needs a
   * supervisor's approval where the location has a roster) before anything
   * is written.
   */
  recordStock<K extends 'stock.received' | 'stock.counted' | 'stock.adjusted'>(kind: K, body: OpBodies[K]): RecordedOp {
    this.#assertOpen();
    this.#stock.assertLocation(body.location);
    return this.#recorder.recordAny(kind, body, NO_DECISION);
  }

  /** The location's roster this till holds (verifiers included), or null before the feed delivered one. */
  staffRoster(): Roster | null {
    this.#assertOpen();
    return this.#staff.roster();
  }

  /**
   * A supervisor or manager approves the one next op of `kind` with exactly
   * `body` (single use, APPROVAL_TTL_MS). See TillStaff.approve.
   */
  approve<K extends OpKind>(
    op: { kind: K; body: OpBodies[K] | Record<string, unknown> },
    who: StaffIdentity,
    pin: string,
  ): StaffApproval {
    this.#assertOpen();
    return this.#staff.approve(op, who, pin);
  }

  /** Wrong PINs and lock-out of a staff member on this till. */
  staffLockout(staff: string): { failures: number; lockedUntil: number | null } {
    this.#assertOpen();
    return this.#staff.lockout(staff);
  }

  /** Opens a shift; the shift's id is this op's id. */
  openShift(input: ShiftOpenedBody): RecordedOp {
    return this.record('shift.opened', input);
  }

  /**
   * Records a sale in the open shift; `total` is computed from the lines.
   * `customer`: the customer's contact if the clerk captured it (checked
   * by the sale schema, which names the field).
   */
  recordSale(input: { lines: SaleLine[]; tenders: Tender[]; customer?: Customer }): RecordedOp {
    this.#assertOpen();
    // Stock believed out: refused (StockError out_of_stock) only when the signed policy says so; else the
    // clerk was told by `stock.check` and the sale is a fact the server reconciles (stock_shortfall).
    if (this.#policy.policy()?.policy.stock?.blockWhenOut === true) this.#stock.enforce(input.lines, true);
    return this.#recorder.recordSale(input);
  }

  recordCashMovement(input: {
    direction: 'in' | 'out';
    reason: CashMovementReason;
    amount: number;
    note?: string;
  }): RecordedOp {
    return this.#recorder.recordCashMovement(input);
  }

  closeShift(input: { countedCash: number; note?: string }): RecordedOp {
    return this.#recorder.closeShift(input);
  }

  /**
   * Records any op kind. The body is checked against its schema (throwing a
   * ValidationError naming the field), the device clock against the
   * protocol's range (`at`), and the shift rules (DomainError) before
   * anything is written: a refused op consumes no seq. With
   * `offlineCardPolicy: 'enforce'`, a sale with card tenders is decided here
   * under the risk policy (unless the server decided it: mode online); a
   * refusal throws NeedsOnlineError, also before anything is written.
   */
  record<K extends OpKind>(kind: K, body: OpBodies[K], decision: Decision = NO_DECISION): RecordedOp {
    return this.#recorder.recordAny(kind, body, decision);
  }

  /**
   * Records the loyalty points a member earned and/or redeemed on a sale
   * this till recorded (docs/loyalty.md): earned from the loyalty rule of
   * the signed risk policy held, a redemption within the rule's offline cap
   * and the balance the till knows. Throws LoyaltyError (no rule, unknown
   * sale, bad points, above the balance, above the offline cap:
   * `loyalty_needs_online`) or ValidationError before anything is written.
   */
  recordLoyaltyPoints(input: LoyaltyPointsInput): RecordedOp {
    this.#assertOpen();
    const signed = this.#policy.policy();
    const body = loyaltyPointsBody(signed, this.#journal.getOp(input.sale)?.op, input);
    if (input.online && this.#journal.getOp(input.online.opId)) {
      throw new LoyaltyError('loyalty_redemption_used', `redemption ${input.online.redemption} is recorded already`);
    }
    // The decision names the policy whose rule decided (earned points, the offline cap): the server checks them.
    const decision: Decision = { mode: 'none', outcome: 'approved', policy: signed ? policyRef(signed.policy) : null };
    return this.#recorder.record({
      kind: 'loyalty.points',
      body,
      decision,
      ...(input.online ? { id: input.online.opId } : {}),
    });
  }

  /**
   * A member's balance as the server knows it now, less the points held by
   * online redemptions not yet applied (POST /v1/loyalty, signed answer).
   * The till keeps the last one per member (`knownLoyaltyBalance`) to earn
   * and redeem against offline. Throws LoyaltyOnlineError (unknown member,
   * an answer not signed by the server) or TransportError (no answer).
   */
  lookupLoyaltyMember(member: string): Promise<KnownBalance> {
    this.#assertOpen();
    return this.#loyaltyOnline.lookup(member);
  }

  /** The balance last read for `member` on this till since it started, or null. */
  knownLoyaltyBalance(member: string): KnownBalance | null {
    return this.#loyaltyOnline.knownBalance(member);
  }

  /**
   * Asks the server to redeem `points` online (above the offline cap): it
   * sends the member a one-time code. Then `confirmLoyaltyRedemption` with
   * the code the member reads out, then `recordLoyaltyPoints({ online })`.
   */
  requestLoyaltyRedemption(member: string, points: number): Promise<PendingRedemption> {
    this.#assertOpen();
    return this.#loyaltyOnline.requestRedemption(member, points);
  }

  /** Sends the member a new code for the same redemption (same op id). */
  resendLoyaltyCode(pending: PendingRedemption): Promise<PendingRedemption> {
    this.#assertOpen();
    return this.#loyaltyOnline.resendCode(pending);
  }

  /**
   * Confirms a redemption with the code the member read out. Resolves only
   * with the server's signed confirmation; a wrong, expired or locked code
   * is a LoyaltyOnlineError (with `attemptsLeft` for a wrong one), no answer
   * a TransportError. Never guessed offline.
   */
  confirmLoyaltyRedemption(pending: PendingRedemption, code: string): Promise<ConfirmedRedemption> {
    this.#assertOpen();
    return this.#loyaltyOnline.confirmRedemption(pending, code);
  }

  /**
   * Sells a betting ticket: accepted only after the server's real-time risk
   * validation (POST /v1/authorize). The op id is generated and a pending
   * authorization made durable BEFORE the request; `approved` carries the
   * receipt (the only time a valid ticket may be printed), `declined` the
   * reason, and an offline server or a timeout gives `pending_confirmation`:
   * retries reuse the op id, so a late success is recorded once.
   * Throws ValidationError (naming the field) or DomainError before anything
   * is written.
   */
  sellTicket(input: { stake: number; selections: BetSelection[] }): Promise<OnlineOutcome> {
    return this.#online.sellTicket(input);
  }

  /**
   * Pays a settled ticket (docs/betting.md §5): waits for the server's
   * confirmation (POST /v1/authorize, kind payout) and records `ticket.paid`
   * only once it approved; `declined` says why (a second payout's message
   * names the first: amount, device, time). If the server cannot be reached
   * and `amount` is within `betting.offlinePayoutLimit`, it is recorded
   * offline at the shop's risk (`paid_offline`); otherwise it stays
   * `pending_confirmation` and nothing may be paid yet. Never guesses.
   */
  payTicket(input: {
    ticket: string;
    amount: number;
  }): Promise<OnlineOutcome | { state: 'paid_offline'; opId: string; seq: number }> {
    return this.#online.payTicket(input, this.#betting.offlinePayoutLimit ?? null);
  }

  /**
   * Voids a ticket and refunds its stake out of the drawer (docs/betting.md
   * §6), approved by a supervisor (`approvedBy`, attached in approval.ts).
   * Throws VoidRefusedError, before anything is written, with no approver,
   * the shift's clerk as approver, or — for a ticket sold on this terminal —
   * past `betting.voidWindowMinutes`. `amount` defaults to the stake of a
   * ticket sold here. The server checks the window, the event start and the
   * ticket's state again at ingest.
   */
  voidTicket(input: { ticket: string; approvedBy: string; amount?: number; reason?: string }): RecordedOp {
    const shift = this.#recorder.requireOpenShift();
    const sold = this.#journal.getOp(input.ticket);
    const soldBody = sold?.kind === 'ticket.issued' ? (sold.op.body as OpBodies['ticket.issued']) : null;
    const window = this.#betting.voidWindowMinutes;
    if (sold && window !== undefined && this.#clock.now() - sold.op.at > window * 60_000) {
      throw new VoidRefusedError(
        `ticket ${input.ticket} was sold more than ${window} minutes ago: past the void window`,
      );
    }
    const amount = input.amount ?? soldBody?.stake;
    if (amount === undefined)
      throw new ValidationError('amount', 'the stake (the ticket was not sold here)', 'missing');
    const body = withApproval(
      {
        shift: shift.id,
        ticket: input.ticket,
        currency: shift.currency,
        amount,
        ...(input.reason !== undefined ? { reason: input.reason } : {}),
      },
      input.approvedBy,
      shift.clerk,
    );
    return this.#recorder.record({ kind: 'ticket.voided', body });
  }

  /**
   * Voids a whole sale of the current shift recorded on this terminal
   * (docs/corrections.md): its cash goes back out of the drawer, its card
   * part is refunded to the card; its wristband part is credited back with
   * `refundToWristband`. Needs a supervisor's approval at the till (the
   * location's roster, `approve`): throws CorrectionRefusedError
   * approval_missing where there is no roster, sale_void_invalid for a sale
   * of another shift or terminal or one voided or refunded already, and the
   * staff and shift errors of any op (approval_required, insufficient_cash).
   */
  voidSale(input: { sale: string; reason?: string }): RecordedOp {
    const shift = this.#recorder.requireOpenShift();
    this.#requireApprovalPossible('sale.voided');
    const body = saleVoidBody(this.#journal, this.deviceId ?? '', shift, input);
    return this.#recorder.record({ kind: 'sale.voided', body });
  }

  /**
   * Refunds a sale, whole or some lines, in cash out of the drawer or back
   * to the card (docs/corrections.md), with a supervisor's approval. For a
   * sale recorded here the terminal refuses more than is left across this
   * terminal's corrections (refund_over_sale) and lines the sale never had
   * (refund_invalid); a sale recorded elsewhere is refunded on the clerk's
   * word (amount, card) and judged by the server across devices.
   */
  refundSale(input: RefundInput): RecordedOp {
    const shift = this.#recorder.requireOpenShift();
    this.#requireApprovalPossible('sale.refunded');
    const body = saleRefundBody(this.#journal, this.deviceId ?? '', shift, input);
    return this.#recorder.record({ kind: 'sale.refunded', body });
  }

  /** The body `voidSale(input)` would record, refused as it would be: what a supervisor approves (`approve`). */
  voidSaleBody(input: { sale: string; reason?: string }): OpBodies['sale.voided'] {
    return saleVoidBody(this.#journal, this.deviceId ?? '', this.#recorder.requireOpenShift(), input);
  }

  /** The body `refundSale(input)` would record, refused as it would be: what a supervisor approves (`approve`). */
  refundSaleBody(input: RefundInput): OpBodies['sale.refunded'] {
    return saleRefundBody(this.#journal, this.deviceId ?? '', this.#recorder.requireOpenShift(), input);
  }

  /**
   * Corrects a `cash.moved` this till recorded wrongly (docs/corrections.md,
   * "Cash corrections"): moves cash the opposite way, `amount` of it (all
   * that is left by default), in the shift open now, approved at the till by
   * `approvedBy` with their PIN (offline, against the roster, as a void's
   * approval). Throws CorrectionRefusedError before anything is written:
   * approval_missing (no roster), cash_correction_invalid (a movement this
   * till did not record), cash_correction_over (more than is left of it after
   * this till's corrections), approver_is_clerk (the approver is the member
   * signed in or the shift's clerk); StaffError approval_required (no
   * approver), approval_role (the approver is below supervisor), wrong_pin;
   * DomainError no_open_shift, insufficient_cash; ValidationError for a bad
   * amount or reason.
   */
  correctCashMovement(input: CashCorrectionInput & { approvedBy: { staff: string; pin: string } }): RecordedOp {
    const body = this.cashCorrectionBody(input);
    const approver = input.approvedBy as { staff?: unknown; pin?: unknown } | undefined;
    if (typeof approver?.staff !== 'string' || approver.staff === '' || typeof approver.pin !== 'string') {
      throw new StaffError('approval_required', "a cash correction needs a supervisor's approval (approvedBy)");
    }
    const clerk = this.#staff.current()?.id ?? null;
    const shiftClerk = this.#recorder.requireOpenShift().clerk;
    if (approver.staff === clerk || approver.staff === shiftClerk) {
      throw new CorrectionRefusedError(
        'approver_is_clerk',
        `${approver.staff} is the clerk recording this correction; another supervisor must approve`,
      );
    }
    this.approve({ kind: 'cash.corrected', body }, { staff: approver.staff }, approver.pin);
    return this.#recorder.record({ kind: 'cash.corrected', body });
  }

  /** The body `correctCashMovement(input)` would record, refused as it would be. */
  cashCorrectionBody(input: CashCorrectionInput): OpBodies['cash.corrected'] {
    this.#assertOpen();
    const shift = this.#recorder.requireOpenShift();
    this.#requireApprovalPossible('cash.corrected');
    return cashCorrectionBody(this.#journal, this.deviceId ?? '', shift, input);
  }

  /** A correction needs a supervisor's approval, given at the till only where the location has a roster. */
  #requireApprovalPossible(kind: 'sale.voided' | 'sale.refunded' | 'cash.corrected'): void {
    if (this.staffRoster() === null) {
      throw new CorrectionRefusedError(
        'approval_missing',
        `${kind} needs a supervisor's approval at the till, and this location has no staff roster to approve with`,
      );
    }
  }

  /**
   * Records a sale whose one card tender is authorized online first, e.g.
   * after `recordSale` threw NeedsOnlineError. The sale is recorded (with
   * decision online/approved and the op id the server approved) only once
   * the processor approved it; outcomes as for `sellTicket`. Not an offline
   * payment: nothing is forwarded later.
   */
  recordSaleOnline(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<OnlineOutcome> {
    return this.#online.recordSale(input);
  }

  /** Online requests still waiting for the server's answer (the clerk's "pending confirmation" list), oldest first. */
  pendingConfirmations(): OnlineAuthorization[] {
    this.#assertOpen();
    return this.#online.pending();
  }

  /** One online authorization as the journal holds it, or undefined. */
  onlineAuthorization(opId: string): OnlineAuthorization | undefined {
    this.#assertOpen();
    return this.#online.get(opId);
  }

  /** Asks the server again about every pending confirmation, with the same op ids; the sync loop also does this. */
  retryPendingAuthorizations(): Promise<OnlineOutcome[]> {
    return this.#online.retry();
  }

  /**
   * Pays a sale with a wristband: `cash` (optional) pays part, the chip the
   * rest. Reads the chip (finishing a write an earlier op left pending),
   * refuses before recording anything (WristbandRefusedError: blocked, other
   * currency, balance too low; NeedsOnlineError: outside the risk policy's
   * wristband limits, e.g. no policy, floor limit, per-wristband caps), then
   * journals the op and writes the chip (docs/wristbands.md).
   */
  payWithWristband(input: {
    lines: SaleLine[];
    reader: WristbandReader;
    cash?: { amount: number; tendered: number };
  }): WristbandReceipt {
    return this.#wristbandPayments.pay(input);
  }

  /**
   * Loads money onto a wristband. A cash top-up needs no risk check (the
   * cash is in the drawer, counted at close); a card top-up is a card
   * payment and follows the card path (`offlineCardPolicy`). Refused,
   * before recording, for a blocked wristband or another currency.
   */
  topUpWristband(input: {
    reader: WristbandReader;
    amount: number;
    paid: TopUpMethod;
    card?: { token: string; brand: CardTender['brand']; last4: string };
  }): WristbandReceipt {
    return this.#wristbandPayments.topUp(input);
  }

  /**
   * Credits a refund of `sale` (recorded on this terminal, paid with this
   * wristband) back onto the wristband: at most what the wristband paid,
   * less refunds already credited. Under the risk policy like a payment
   * (`online.refundAbove` applies).
   */
  refundToWristband(input: {
    reader: WristbandReader;
    sale: string;
    amount: number;
    reason?: string;
  }): WristbandReceipt {
    return this.#wristbandPayments.refund(input);
  }

  /**
   * Reverses a top-up this till recorded in the open shift (a mistaken
   * top-up: docs/wristbands.md, "Top-up reversal"): all of it, or `amount`;
   * a cash top-up's money out of the drawer, a card top-up's back to its
   * card (`tender: 'card'`: the server's card refunder refunds it at the
   * processor once; nothing leaves the drawer). A supervisor approves
   * `reverseTopUpBody(input)` first (`approve`, on the roster, offline; not
   * the clerk). Reads the chip (finishing a write an earlier op left
   * pending), refuses before recording anything (TopUpReversalRefusedError:
   * unknown, other shift, reversed already, more than is left, another
   * wristband on the reader, chip balance spent, approved by the clerk, no
   * roster; StaffError approval_required; WristbandRefusedError blocked or
   * other currency; DomainError insufficient_cash), then journals the op
   * with its chip write (balance − amount, counter + 1) and writes the
   * chip. A write cut short is finished at the next read of that wristband
   * here; retrying the reversal finishes it and is then refused as
   * `topup_already_reversed`, so the chip is debited once.
   */
  reverseTopUp(input: { reader: WristbandReader; topUp: string; amount?: number; reason?: string }): WristbandReceipt {
    const shift = this.#recorder.requireOpenShift();
    if (this.staffRoster() === null) {
      throw new TopUpReversalRefusedError(
        'approval_missing',
        "wallet.topup_reversed needs a supervisor's approval at the till, and this location has no staff roster to approve with",
      );
    }
    return this.#wristbandPayments.reverseTopUp({
      ...input,
      checkApproval: (bound) => {
        // Throws approval_required without an approval of exactly these fields; names the approver otherwise.
        const approver = this.#staff.stamp('wallet.topup_reversed', bound as OpBodies['wallet.topup_reversed']).actor
          ?.approvedBy;
        const clerk = this.#staff.current()?.id;
        if (approver !== undefined && (approver === clerk || approver === shift.clerk)) {
          throw new TopUpReversalRefusedError(
            'topup_approval_by_clerk',
            `${approver} is the clerk here; another supervisor must approve the reversal`,
          );
        }
      },
    });
  }

  /** The fields `reverseTopUp(input)` records that a supervisor approves (`approve`), refused as it would be. */
  reverseTopUpBody(input: { topUp: string; amount?: number; reason?: string }): TopUpReversalApproval {
    this.#assertOpen();
    return this.#wristbandPayments.reversalBody(input);
  }

  /** The wristbands the server blocked, as this terminal knows them (kept current by the device feed). */
  blockedWristbands(): BlockedWristband[] {
    this.#assertOpen();
    return this.#wristbands.blocked();
  }

  /** Chip writes recorded ops promised that have not reached their chip yet. */
  pendingWristbandWrites(): PendingChipWrite[] {
    this.#assertOpen();
    return this.#wristbands.pending();
  }

  /** The open shift, or null. Survives restarts (it is committed with the op that changed it). */
  currentShift(): Shift | null {
    return this.#recorder.currentShift();
  }

  /** The latest shift, open or closed (e.g. to show the variance after closing), or null. */
  lastShift(): Shift | null {
    return this.#recorder.lastShift();
  }

  opState(id: string): ClerkOpState | undefined {
    this.#assertOpen();
    const state = this.#journal.getOp(id)?.state;
    if (state === undefined) return undefined;
    // A post-authorization decline (postAuthDeclines() says which) outranks the server's acceptance.
    return state === 'dead' || this.#feed.isDeclined(id) ? 'needs_attention' : state;
  }

  /**
   * The receipt of op `id` (a sale, or a `shift.closed` op's Z report) as a
   * model every printed form renders (receiptText, receiptEscPos,
   * receiptHtml from @holdfast/domain). `copy: true` for a reprint, which
   * prints COPY. Reads only: printing never records an op. Throws
   * NoReceiptError for an unknown op or a kind that prints none.
   */
  receipt(id: string, request?: ReceiptRequest): Receipt {
    this.#assertOpen();
    return this.#receipts.receipt(id, request);
  }

  /**
   * The op a receipt number printed by this device names, typed as a person
   * reads it (any case, spaces, O for 0); NoReceiptError when it is not a
   * receipt number, belongs to another device, or names no op here.
   */
  findReceipt(number: string): JournalEntry {
    this.#assertOpen();
    const device = this.deviceId;
    if (device === null) throw new NotEnrolledError();
    return this.#receipts.find(number, device);
  }

  getOp(id: string): JournalEntry | undefined {
    this.#assertOpen();
    return this.#journal.getOp(id);
  }

  /**
   * The journal's ops in seq order, whatever their state: those with seq
   * above `afterSeq` (default 0), at most `limit` (1..OPS_PAGE_MAX, default
   * 100). Page on by passing the last entry's seq as `afterSeq`; an empty
   * page is the end. For reconciliation and audits: each entry carries the
   * sealed op exactly as sent and the server's result once settled.
   */
  ops(options: { afterSeq?: number; limit?: number } = {}): JournalEntry[] {
    this.#assertOpen();
    const { afterSeq = 0, limit = 100 } = options;
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) throw new RangeError('afterSeq must be an integer >= 0');
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > OPS_PAGE_MAX) {
      throw new RangeError(`limit must be an integer 1..${OPS_PAGE_MAX}`);
    }
    return this.#journal.ops(afterSeq, limit);
  }

  /** Ops that need attention, in seq order (page with `afterSeq`). */
  deadLetters(limit = 100, afterSeq = 0): DeadLetter[] {
    this.#assertOpen();
    return this.#journal.deadLetters(limit, afterSeq);
  }

  /** The newest delivery attempts (newest first), for diagnostics. */
  syncAttempts(limit = 50): SyncAttempt[] {
    this.#assertOpen();
    return this.#journal.recentAttempts(limit);
  }

  status(): TerminalStatus {
    this.#assertOpen();
    const counts = this.#journal.counts;
    const oldest = this.#journal.oldestPendingAt();
    return {
      deviceId: this.deviceId,
      enrolled: this.enrolled,
      revoked: this.revoked,
      connectivity: this.#connectivity.state,
      latestSeq: this.#journal.head.seq,
      pending: counts.pending,
      confirmed: counts.confirmed,
      deadLetters: counts.dead,
      oldestPendingAt: oldest,
      oldestPendingAgeMs: oldest === null ? null : Math.max(0, this.#clock.now() - oldest),
      lastSuccessAt: this.#connectivity.lastSuccessAt,
      lastAttemptAt: this.#exchange.lastAttemptAt,
      lastError: this.#connectivity.lastError,
      consecutiveFailures: this.#connectivity.consecutiveFailures,
      nextAttemptAt: this.#loop.nextAttemptAt,
      blocked: this.#exchange.blocked,
    };
  }

  /**
   * The clerk's retry button (see SyncLoop.syncNow): never creates ops, never
   * floods. An enforcing terminal then reads its feed too (a failure there
   * leaves the report as it is; the next sync tries again).
   */
  syncNow(): Promise<SyncReport> {
    return this.#background.syncThenFeed(this.#loop.syncNow());
  }

  /** Asks the server what it stored for `ids` (default: all pending) and settles accordingly. */
  requery(ids?: readonly string[]): Promise<OpStatus[]> {
    return this.#loop.requery(ids);
  }

  start(): void {
    this.#assertOpen();
    this.#loop.start();
    this.#background.contactSoon('started');
    // A rotation committed before a crash or a lost answer is completed now.
    if (this.keyRotationPending) this.#resumeRotation();
  }

  /** Completes a pending key rotation in the background; errors other than "try later" are reported. */
  #resumeRotation(): void {
    if (this.#closed || !this.#credentials || this.revoked) return;
    this.rotateKey().catch((error: unknown) => {
      if (error instanceof TransportError || (error instanceof KeyRotationError && error.retryable)) return;
      this.#onError(error);
    });
  }

  stop(): void {
    this.#loop.stop();
  }

  /**
   * Sudden death, as SIGKILL or a power cut would cause: stops every timer,
   * drops the journal connection without another write, and waits for
   * nothing. A request in flight is abandoned; its answer, if any, is never
   * applied. Open the data directory again to recover. For simulators.
   */
  kill(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#loop.kill();
    this.#journal.kill();
  }

  /** After a power cut in the journal: the journal already dropped its connection. */
  #die(): void {
    this.#closed = true;
    this.#loop.kill();
  }

  /**
   * Ops whose recording an earlier run could not confirm (a disk error on
   * commit: RecordOutcomeUnknownError), each resolved against the journal:
   * `recorded: true` — it stands and syncs, do not ring it again;
   * `recorded: false` — it never happened. Show them to the clerk, then
   * acknowledgeInDoubt().
   */
  inDoubtOps(): InDoubtOp[] {
    return this.#journal.inDoubtOps();
  }

  /** Forgets the in-doubt ops once shown. */
  acknowledgeInDoubt(): void {
    this.#journal.clearInDoubt();
  }

  /** True after close() or kill(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops delivery, waits for the requests in flight, and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loop.close();
    await this.#background.settled();
    this.#journal.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new TerminalClosedError();
  }

  #assertCanRecord(): Credentials {
    this.#assertOpen();
    if (!this.#credentials) throw new NotEnrolledError();
    if (this.revoked) {
      const code = this.#journal.getMeta(META.revokedCode) ?? 'device_revoked';
      throw new DeviceRevokedError(this.#credentials.deviceId, code, this.#journal.getMeta(META.revokedMessage) ?? '');
    }
    return this.#credentials;
  }

  #statusChanged(): void {
    if (this.#closed || !this.#journal.isOpen || !this.#events.has('status')) return;
    const status = this.status();
    const key = JSON.stringify({ ...status, oldestPendingAgeMs: null });
    if (key === this.#lastStatusKey) return;
    this.#lastStatusKey = key;
    this.#events.emit('status', status);
  }
}
