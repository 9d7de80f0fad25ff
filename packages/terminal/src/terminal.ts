/**
 * Terminal: the SDK a till, handheld or kiosk embeds.
 *
 * Recording is synchronous and local: `record*` returns once the op is
 * committed to the journal, whatever the network is doing. Delivery happens
 * behind it in the sync loop. What the clerk sees of an op:
 *
 *   pending          recorded, not confirmed yet (NOT failed: it is safe on disk)
 *   confirmed        the server settled it
 *   needs_attention  the server will not take it as it stands (dead letter)
 */
import {
  applyCashMovement,
  applySale,
  type Clock,
  closeShift,
  cryptoRandom,
  DomainError,
  type OfflineExposure,
  openShift,
  type Random,
  type Shift,
  systemClock,
} from '@holdfast/domain';
import {
  type CashMovedBody,
  type CashMovementReason,
  type Decision,
  decisionSchema,
  epochMs,
  importPrivateKey,
  isKnownKind,
  NO_DECISION,
  OP_KINDS,
  type OpBodies,
  type OpKind,
  type OpStatus,
  parseBody,
  type SaleBody,
  type SaleLine,
  type ShiftClosedBody,
  type ShiftOpenedBody,
  type SignedPolicy,
  type Tender,
  uuidv7,
  ValidationError,
} from '@holdfast/protocol';
import { ConnectivityMonitor } from './connectivity.js';
import { Emitter } from './emitter.js';
import { enrollDevice } from './enrollment.js';
import {
  DeviceRevokedError,
  EnrollmentInProgressError,
  JournalClosedError,
  NotEnrolledError,
  PolicyRefreshError,
  SimulatedCrashError,
  TerminalClosedError,
  TransportError,
} from './errors.js';
import { Exchange } from './exchange.js';
import { type CrashPoint, Journal, OPS_PAGE_MAX } from './journal.js';
import { META } from './journal-schema.js';
import type { DeadLetter, JournalEntry, SyncAttempt } from './journal-types.js';
import { OfflinePolicy, type TerminalPlacement } from './offline-policy.js';
import { Outbox } from './outbox.js';
import type { Credentials, SyncReport } from './sync-events.js';
import { SyncLoop, type SyncState } from './sync-loop.js';
import { type ResolvedOptions, resolveOptions, type TerminalOptions } from './terminal-options.js';
import type { ClerkOpState, RecordedOp, TerminalEvents, TerminalStatus } from './terminal-types.js';
import type { Transport } from './transport.js';

export { POLICY_REFRESH_MIN_INTERVAL_MS } from './terminal-options.js';

export class Terminal {
  readonly #journal: Journal;
  readonly #transport: Transport;
  readonly #clock: Clock;
  readonly #idRandom: Random;
  readonly #requestTimeoutMs: number;
  readonly #events: Emitter<TerminalEvents>;
  readonly #connectivity = new ConnectivityMonitor();
  readonly #exchange: Exchange;
  readonly #loop: SyncLoop;
  #credentials: Credentials | null = null;
  #shift: Shift | null;
  #enrolling: { token: string; promise: Promise<{ deviceId: string }> } | null = null;
  #closed = false;
  #lastStatusKey = '';
  readonly #policy: OfflinePolicy;
  readonly #enforceCards: boolean;
  readonly #placement: TerminalPlacement | null;
  readonly #onError: (error: unknown) => void;
  #refreshing: Promise<unknown> | null = null;
  #lastRefreshAt: number | null = null;
  readonly #policyRefreshMs: number;

  /** Opens the journal in `dataDir` (exclusively) and, unless `autoSync: false`, starts delivery. */
  static open(options: TerminalOptions): Terminal {
    const config = resolveOptions(options);
    // The hook is bound late: a power cut inside the journal must also stop this Terminal.
    let self: Terminal | null = null;
    const hook = options.crashHook;
    const journal = Journal.open(options.dataDir, {
      ...(options.journalSync ? { synchronous: options.journalSync } : {}),
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
    this.#transport = options.transport;
    this.#clock = options.clock ?? systemClock;
    this.#idRandom = options.idRandom ?? cryptoRandom;
    this.#requestTimeoutMs = config.requestTimeoutMs;
    this.#policyRefreshMs = config.policyRefreshMinIntervalMs;
    const report = options.onError ?? ((error: unknown) => console.error('holdfast terminal:', error));
    // After death (kill or a simulated power cut) abandoned work fails on the closed journal: not news.
    const onError = (error: unknown) => {
      if (this.#closed && (error instanceof JournalClosedError || error instanceof SimulatedCrashError)) return;
      report(error);
    };
    this.#onError = onError;
    this.#events = new Emitter<TerminalEvents>((error) => onError(error));
    this.#policy = new OfflinePolicy(journal);
    this.#enforceCards = config.offlineCardPolicy === 'enforce';
    this.#placement = options.placement ? Object.freeze({ ...options.placement }) : null;
    // Only an enforcing terminal asks for policies on its own, so 'off' terminals send what they always sent.
    if (this.#enforceCards) {
      this.#events.on('sync', (event) => {
        if (event.outcome === 'ok') this.#refreshPolicySoon();
      });
    }
    const deviceId = journal.getMeta(META.deviceId);
    const privateKey = journal.getMeta(META.privateKey);
    if (deviceId && privateKey) this.#credentials = { deviceId, key: importPrivateKey(privateKey) };
    const shift = journal.getMeta(META.shift);
    this.#shift = shift ? (JSON.parse(shift) as Shift) : null;
    const outbox = new Outbox(journal);
    this.#exchange = new Exchange({
      journal,
      outbox,
      transport: options.transport,
      clock: this.#clock,
      requestTimeoutMs: config.requestTimeoutMs,
      connectivity: this.#connectivity,
      events: this.#events,
    });
    this.#loop = new SyncLoop({
      journal,
      outbox,
      exchange: this.#exchange,
      clock: this.#clock,
      random: options.random ?? cryptoRandom,
      backoffSeconds: config.backoffSeconds,
      batchSize: config.batchSize,
      idlePingMs: config.idlePingMs,
      manualRetryMinIntervalMs: config.manualRetryMinIntervalMs,
      probeIntervalMs: config.probeIntervalMs,
      connectivity: this.#connectivity,
      events: this.#events,
      credentials: () => this.#credentials,
      isRevoked: () => this.revoked,
      onChange: () => this.#statusChanged(),
      onError,
    });
    if (options.autoSync ?? true) this.#loop.start();
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
    if (this.#enrolling) {
      if (this.#enrolling.token === token) return this.#enrolling.promise;
      return Promise.reject(new EnrollmentInProgressError());
    }
    const promise = enrollDevice({
      journal: this.#journal,
      transport: this.#transport,
      clock: this.#clock,
      connectivity: this.#connectivity,
      timeoutMs: this.#requestTimeoutMs,
      token,
      label,
    })
      .then((credentials) => {
        this.#credentials = credentials;
        this.#statusChanged();
        this.#loop.notifyRecorded();
        if (this.#enforceCards) this.#refreshPolicySoon();
        return { deviceId: credentials.deviceId };
      })
      .finally(() => {
        this.#enrolling = null;
      });
    this.#enrolling = { token, promise };
    return promise;
  }

  /**
   * Fetches the risk policy in force for this device, verifies it with the
   * pinned policy keys and keeps it if it is newer than the one held; records
   * the time of this successful server contact. Returns the policy held
   * afterwards (null: none). Throws TransportError, PolicyRefreshError or
   * PolicyVerificationError, storing nothing. Recording never waits for it.
   */
  async refreshPolicy(): Promise<SignedPolicy | null> {
    const credentials = this.#assertCanRecord();
    this.#lastRefreshAt = this.#clock.now();
    const refresh = this.#policy.refresh(this.#transport, credentials, this.#clock, this.#requestTimeoutMs);
    this.#refreshing = refresh.catch(() => undefined);
    return refresh;
  }

  /** The signed risk policy this terminal holds, or null. */
  riskPolicy(): SignedPolicy | null {
    this.#assertOpen();
    return this.#policy.policy();
  }

  /**
   * What this device holds approved offline (card sales under the risk
   * policy). Nothing releases it yet: settlement notices are not built, so it
   * only grows (docs/risk-policy.md, "Terminal enforcement").
   */
  offlineExposure(): OfflineExposure {
    this.#assertOpen();
    return this.#policy.exposure();
  }

  /** Opens a shift; the shift's id is this op's id. */
  openShift(input: ShiftOpenedBody): RecordedOp {
    return this.record('shift.opened', input);
  }

  /** Records a sale in the open shift; `total` is computed from the lines. */
  recordSale(input: { lines: SaleLine[]; tenders: Tender[] }): RecordedOp {
    const shift = this.#requireOpenShift();
    // Plain arithmetic: a malformed line must reach parseBody, which names its field.
    let total = 0;
    for (const line of Array.isArray(input.lines) ? input.lines : []) {
      total += line.qty * line.unitPrice - (line.discount ?? 0);
    }
    const body: SaleBody = {
      shift: shift.id,
      currency: shift.currency,
      lines: input.lines,
      total,
      tenders: input.tenders,
    };
    return this.record('sale.recorded', body);
  }

  recordCashMovement(input: {
    direction: 'in' | 'out';
    reason: CashMovementReason;
    amount: number;
    note?: string;
  }): RecordedOp {
    const shift = this.#requireOpenShift();
    const body: CashMovedBody = { shift: shift.id, currency: shift.currency, ...input };
    return this.record('cash.moved', body);
  }

  closeShift(input: { countedCash: number; note?: string }): RecordedOp {
    const shift = this.#requireOpenShift();
    const body: ShiftClosedBody = { shift: shift.id, currency: shift.currency, ...input };
    return this.record('shift.closed', body);
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
    const credentials = this.#assertCanRecord();
    if (!isKnownKind(kind)) throw new ValidationError('kind', `one of ${OP_KINDS.join(', ')}`, String(kind));
    const parsed = parseBody(kind, body);
    const checkedDecision = decisionSchema.parse(decision, 'decision');
    // A device clock outside the protocol's range would make an op no server can accept, blocking the chain.
    const at = epochMs().parse(this.#clock.now(), 'at');
    const id = uuidv7(at, this.#idRandom.bytes(10));
    const shift = this.#shiftAfter(kind, parsed, id);
    const meta: Record<string, string> = shift ? { [META.shift]: JSON.stringify(shift) } : {};
    let opDecision: Decision = checkedDecision;
    let exposure: OfflineExposure | null = null;
    const sale = kind === 'sale.recorded' ? (parsed as SaleBody) : null;
    if (this.#enforceCards && sale?.tenders.some((t) => t.type === 'card') && checkedDecision.mode !== 'online') {
      const authorized = this.#policy.authorizeCardSale({
        id,
        at,
        deviceId: credentials.deviceId,
        placement: this.#placement,
        currency: sale.currency,
        tenders: sale.tenders,
      });
      opDecision = authorized.decision;
      exposure = authorized.exposure;
      Object.assign(meta, authorized.meta);
    }
    const op = this.#journal.append({
      id,
      device: credentials.deviceId,
      kind,
      body: parsed as Record<string, unknown>,
      at,
      decision: opDecision,
      ...(Object.keys(meta).length > 0 ? { meta } : {}),
    });
    if (shift) this.#shift = shift;
    if (exposure) this.#policy.committed(exposure);
    const recorded: RecordedOp = { id, seq: op.seq, kind, hash: op.hash, at, state: 'pending' };
    this.#events.emit('recorded', recorded);
    this.#statusChanged();
    this.#loop.notifyRecorded();
    return recorded;
  }

  /** The open shift, or null. Survives restarts (it is committed with the op that changed it). */
  currentShift(): Shift | null {
    return this.#shift?.status === 'open' ? { ...this.#shift } : null;
  }

  /** The latest shift, open or closed (e.g. to show the variance after closing), or null. */
  lastShift(): Shift | null {
    return this.#shift ? { ...this.#shift } : null;
  }

  opState(id: string): ClerkOpState | undefined {
    this.#assertOpen();
    const state = this.#journal.getOp(id)?.state;
    return state === 'dead' ? 'needs_attention' : state;
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

  /** The clerk's retry button (see SyncLoop.syncNow): never creates ops, never floods. */
  syncNow(): Promise<SyncReport> {
    return this.#loop.syncNow();
  }

  /** Asks the server what it stored for `ids` (default: all pending) and settles accordingly. */
  requery(ids?: readonly string[]): Promise<OpStatus[]> {
    return this.#loop.requery(ids);
  }

  start(): void {
    this.#assertOpen();
    this.#loop.start();
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

  /** True after close() or kill(). */
  get closed(): boolean {
    return this.#closed;
  }

  /** Stops delivery, waits for a request in flight, and closes the journal. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#loop.close();
    await this.#enrolling?.promise.catch(() => undefined);
    await this.#refreshing;
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

  #requireOpenShift(): Shift {
    this.#assertCanRecord();
    const shift = this.#shift;
    if (shift?.status !== 'open') throw new DomainError('no_open_shift', 'no shift is open on this terminal');
    return shift;
  }

  /** The shift after `kind` is applied; throws DomainError for an op the shift rules refuse. */
  #shiftAfter(kind: OpKind, body: OpBodies[OpKind], id: string): Shift | null {
    const open = this.#shift?.status === 'open' ? this.#shift : null;
    if (kind === 'shift.opened') {
      if (open) throw new DomainError('shift_already_open', `shift ${open.id} is still open`);
      return openShift(id, body as ShiftOpenedBody);
    }
    if (kind !== 'sale.recorded' && kind !== 'cash.moved' && kind !== 'shift.closed') return null;
    if (!open) throw new DomainError('no_open_shift', 'no shift is open on this terminal');
    if (kind === 'sale.recorded') return applySale(open, body as SaleBody);
    if (kind === 'cash.moved') return applyCashMovement(open, body as CashMovedBody);
    return closeShift(open, body as ShiftClosedBody);
  }

  /** A policy refresh in the background, at most once a minute; a failure waits for the next chance. */
  #refreshPolicySoon(): void {
    if (this.#closed || !this.#credentials || this.revoked) return;
    const now = this.#clock.now();
    if (this.#lastRefreshAt !== null && now - this.#lastRefreshAt < this.#policyRefreshMs) return;
    this.refreshPolicy().catch((error: unknown) => {
      if (error instanceof TransportError || error instanceof PolicyRefreshError) return;
      this.#onError(error);
    });
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
