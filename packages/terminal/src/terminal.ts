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
  cryptoRandom,
  DomainError,
  type OfflineExposure,
  type Random,
  reduceShift,
  SHIFT_RULES,
  type Shift,
  systemClock,
} from '@holdfast/domain';
import {
  type BetSelection,
  type CardTender,
  type CashMovedBody,
  type CashMovementReason,
  type Customer,
  type Decision,
  decisionSchema,
  epochMs,
  importPrivateKey,
  isKnownKind,
  NO_DECISION,
  OP_KINDS,
  type Op,
  type OpBodies,
  type OpKind,
  type OpStatus,
  onlineRequestSchema,
  type Placement,
  parseBody,
  policyRef,
  potentialPayout,
  type SaleBody,
  type SaleLine,
  type ShiftClosedBody,
  type ShiftOpenedBody,
  type SignedPolicy,
  saleLineSchema,
  schema,
  type Tender,
  type TopUpMethod,
  ticketAuthorizationSchema,
  uuidv7,
  ValidationError,
  type WalletRefundedBody,
  type WalletToppedUpBody,
} from '@holdfast/protocol';
import { ConnectivityMonitor } from './connectivity.js';
import { Emitter } from './emitter.js';
import { enrollDevice } from './enrollment.js';
import {
  DeviceRevokedError,
  EnrollmentInProgressError,
  FeedError,
  JournalClosedError,
  NotEnrolledError,
  PolicyRefreshError,
  SimulatedCrashError,
  TerminalClosedError,
  TransportError,
  WristbandRefusedError,
} from './errors.js';
import { Exchange } from './exchange.js';
import { DeviceFeed, type FeedNotice, type FeedPollResult, type PostAuthDecline } from './feed.js';
import { type CrashPoint, Journal, OPS_PAGE_MAX } from './journal.js';
import { META } from './journal-schema.js';
import type { DeadLetter, JournalEntry, SyncAttempt } from './journal-types.js';
import { OfflinePolicy, type TerminalPlacement } from './offline-policy.js';
import { type OnlineAuthorization, OnlineAuthorizations, type OnlineOutcome } from './online.js';
import { Outbox } from './outbox.js';
import type { Credentials, SyncReport } from './sync-events.js';
import { SyncLoop, type SyncState } from './sync-loop.js';
import { type ResolvedOptions, resolveOptions, type TerminalOptions } from './terminal-options.js';
import type { ClerkOpState, RecordedOp, TerminalEvents, TerminalStatus } from './terminal-types.js';
import type { Transport } from './transport.js';
import {
  type BlockedWristband,
  type ChipImage,
  type PendingChipWrite,
  type WristbandReader,
  WristbandStore,
} from './wristband.js';

/** What a wristband payment, top-up or refund did. */
export interface WristbandReceipt {
  op: RecordedOp;
  /** The chip after the write, or as read if the write did not happen. */
  chip: ChipImage;
  /**
   * False: the op IS recorded but the chip write failed (wristband pulled
   * away); it is finished the next time this wristband is read here.
   */
  chipWritten: boolean;
  writeError: string | null;
}

/** The chip part of recording an op: decided once the op id and time are known. */
type ChipPlan = (
  id: string,
  at: number,
  deviceId: string,
) => {
  decision: Decision;
  meta: Record<string, string>;
  exposure: OfflineExposure | null;
  write: Omit<PendingChipWrite, 'opId' | 'recordedAt' | 'writtenAt'>;
};

/** The decision of an op the server approved online (POST /v1/authorize). */
const ONLINE_APPROVED: Decision = Object.freeze({ mode: 'online', outcome: 'approved', policy: null });

export { POLICY_REFRESH_MIN_INTERVAL_MS } from './terminal-options.js';
/** Background feed polls (after a successful sync) happen at most this often. */
export const FEED_POLL_MIN_INTERVAL_MS = 10_000;

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
  readonly #wristbands: WristbandStore;
  readonly #enforceCards: boolean;
  readonly #placement: TerminalPlacement | null;
  readonly #onError: (error: unknown) => void;
  #refreshing: Promise<unknown> | null = null;
  #lastRefreshAt: number | null = null;
  readonly #feed: DeviceFeed;
  #polling: Promise<FeedPollResult> | null = null;
  #lastPollAt: number | null = null;
  #syncThenFeed: { sync: Promise<SyncReport>; promise: Promise<SyncReport> } | null = null;
  readonly #online: OnlineAuthorizations;
  #retryingOnline: Promise<unknown> | null = null;
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
      // better-sqlite3's own error for a statement on the dropped connection (a background policy refresh).
      if (
        this.#closed &&
        !journal.isOpen &&
        error instanceof TypeError &&
        /database connection is not open/.test(error.message)
      )
        return;
      report(error);
    };
    this.#onError = onError;
    this.#events = new Emitter<TerminalEvents>((error) => onError(error));
    this.#policy = new OfflinePolicy(journal);
    this.#wristbands = new WristbandStore(journal);
    this.#enforceCards = config.offlineCardPolicy === 'enforce';
    this.#placement = options.placement ? Object.freeze({ ...options.placement }) : null;
    // Wristband notices (blocks, unblocks) update the block list in the transaction that keeps them.
    this.#feed = new DeviceFeed(journal, this.#policy, (item, now) => {
      if (item.type.startsWith('wristband.')) this.#wristbands.applyNotice(item.type, item.data, now);
    });
    // Only an enforcing terminal asks for policies and its feed on its own, so 'off' terminals send what they always sent.
    if (this.#enforceCards) {
      this.#events.on('sync', (event) => {
        if (event.outcome !== 'ok') return;
        this.#refreshPolicySoon();
        this.#pollFeedSoon();
      });
    }
    const deviceId = journal.getMeta(META.deviceId);
    const privateKey = journal.getMeta(META.privateKey);
    if (deviceId && privateKey) this.#credentials = { deviceId, key: importPrivateKey(privateKey) };
    const shift = journal.getMeta(META.shift);
    this.#shift = shift ? (JSON.parse(shift) as Shift) : null;
    this.#online = new OnlineAuthorizations({
      journal,
      transport: options.transport,
      clock: this.#clock,
      timeoutMs: config.requestTimeoutMs,
      credentials: () => this.#credentials,
      recordApproved: (row, answer, also) => {
        const authorization = answer.authorizationId as string;
        if (row.opKind === 'ticket.issued') {
          const stake = row.body.stake as number;
          const selections = row.body.selections as BetSelection[];
          const body = {
            ...row.body,
            potentialPayout: potentialPayout(
              stake,
              selections.map((x) => x.odds),
            ),
            authorization,
          };
          return this.#record(
            'ticket.issued',
            body as OpBodies['ticket.issued'],
            ONLINE_APPROVED,
            null,
            row.opId,
            also,
          );
        }
        return this.#record(
          'sale.recorded',
          row.body as OpBodies['sale.recorded'],
          ONLINE_APPROVED,
          null,
          row.opId,
          also,
        );
      },
    });
    // A successful sync means the server is reachable: ask again about what is pending confirmation.
    this.#events.on('sync', (event) => {
      if (event.outcome === 'ok') this.#retryOnlineSoon();
    });
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
        if (this.#enforceCards) {
          this.#refreshPolicySoon();
          this.#pollFeedSoon();
        }
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
    const credentials = this.#assertCanRecord();
    if (this.#polling) return this.#polling;
    this.#lastPollAt = this.#clock.now();
    const poll = this.#feed
      .poll(this.#transport, credentials, this.#clock, this.#requestTimeoutMs)
      .then((result) => {
        for (const decline of result.declines) this.#events.emit('postAuthDecline', decline);
        for (const notice of result.notices) this.#events.emit('feedItem', notice);
        const held = this.#policy.policy();
        if (
          this.#enforceCards &&
          result.policy !== null &&
          (held === null || policyRef(held.policy) !== result.policy)
        ) {
          this.refreshPolicy().catch((error: unknown) => {
            if (error instanceof TransportError || error instanceof PolicyRefreshError) return;
            this.#onError(error);
          });
        }
        return result;
      })
      .finally(() => {
        this.#polling = null;
      });
    this.#polling = poll;
    return poll;
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
    const shift = this.#requireOpenShift();
    return this.record('sale.recorded', this.#saleBody(shift, input));
  }

  #saleBody(shift: Shift, input: { lines: SaleLine[]; tenders: Tender[]; customer?: Customer }): SaleBody {
    // Plain arithmetic: a malformed line must reach parseBody, which names its field.
    let total = 0;
    for (const line of Array.isArray(input.lines) ? input.lines : []) {
      total += line.qty * line.unitPrice - (line.discount ?? 0);
    }
    return {
      shift: shift.id,
      currency: shift.currency,
      lines: input.lines,
      total,
      tenders: input.tenders,
      ...(input.customer !== undefined ? { customer: input.customer } : {}),
    };
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
    if (kind === 'ticket.issued') {
      throw new ValidationError('kind', 'a kind recorded without the server (tickets: sellTicket)', kind);
    }
    return this.#record(kind, body, decision);
  }

  /**
   * Records an op. `chip` only for a wristband op (wristband.ts): it decides
   * the op under the policy's wristband limits and names the chip write the
   * op promises, committed with it. `givenId` and `also` only for an online
   * approval (online.ts): the op takes the id the server approved, and
   * `also` marks the authorization recorded in the same journal
   * transaction. Such an op changes the local shift only if its shift is
   * still the open one (a late approval after the shift closed is still the
   * fact; the server reconciles).
   */
  #record<K extends OpKind>(
    kind: K,
    body: OpBodies[K],
    decision: Decision = NO_DECISION,
    chip: ChipPlan | null = null,
    givenId?: string,
    also?: (op: Op) => void,
  ): RecordedOp {
    const credentials = this.#assertCanRecord();
    if (!isKnownKind(kind)) throw new ValidationError('kind', `one of ${OP_KINDS.join(', ')}`, String(kind));
    const parsed = parseBody(kind, body);
    if (!chip) refuseChipOps(kind, parsed);
    const checkedDecision = decisionSchema.parse(decision, 'decision');
    // A device clock outside the protocol's range would make an op no server can accept, blocking the chain.
    const at = epochMs().parse(this.#clock.now(), 'at');
    const id = givenId ?? uuidv7(at, this.#idRandom.bytes(10));
    const shift =
      givenId === undefined ? this.#shiftAfter(kind, parsed, id) : this.#shiftAfterApproval(kind, parsed, id);
    const meta: Record<string, string> = shift ? { [META.shift]: JSON.stringify(shift) } : {};
    let opDecision: Decision = checkedDecision;
    let exposure: OfflineExposure | null = null;
    const sale = kind === 'sale.recorded' ? (parsed as SaleBody) : null;
    if (this.#enforceCards && sale?.tenders.some((t) => t.type === 'card') && checkedDecision.mode !== 'online') {
      const authorized = this.#policy.authorizeCardSale({
        id,
        at,
        deviceId: credentials.deviceId,
        placement: this.#placement ?? this.#feed.placement(),
        currency: sale.currency,
        tenders: sale.tenders,
      });
      opDecision = authorized.decision;
      exposure = authorized.exposure;
      Object.assign(meta, authorized.meta);
    }
    const planned = chip ? chip(id, at, credentials.deviceId) : null;
    if (planned) {
      opDecision = planned.decision;
      exposure = planned.exposure;
      Object.assign(meta, planned.meta);
    }
    // The op, its exposure and the chip write it promises commit together (see wristband.ts).
    const op = planned
      ? this.#journal.transaction(() => {
          const appended = this.#journal.append({
            id,
            device: credentials.deviceId,
            kind,
            body: parsed as Record<string, unknown>,
            at,
            decision: opDecision,
            ...(Object.keys(meta).length > 0 ? { meta } : {}),
          });
          this.#wristbands.promise({ ...planned.write, opId: id, recordedAt: at });
          return appended;
        }, 'record')
      : this.#journal.append({
          id,
          device: credentials.deviceId,
          kind,
          body: parsed as Record<string, unknown>,
          at,
          decision: opDecision,
          ...(Object.keys(meta).length > 0 ? { meta } : {}),
          ...(also ? { also } : {}),
        });
    if (shift) this.#shift = shift;
    if (exposure) this.#policy.committed(exposure);
    const recorded: RecordedOp = { id, seq: op.seq, kind, hash: op.hash, at, state: 'pending' };
    this.#events.emit('recorded', recorded);
    this.#statusChanged();
    this.#loop.notifyRecorded();
    return recorded;
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
    const shift = this.#requireOpenShift();
    const request = ticketAuthorizationSchema.parse(
      { kind: 'ticket', stake: input.stake, currency: shift.currency, selections: input.selections },
      'ticket',
    );
    const body = { shift: shift.id, stake: request.stake, currency: request.currency, selections: request.selections };
    return this.#askOnline('ticket.issued', request, body);
  }

  /**
   * Records a sale whose one card tender is authorized online first, e.g.
   * after `recordSale` threw NeedsOnlineError. The sale is recorded (with
   * decision online/approved and the op id the server approved) only once
   * the processor approved it; outcomes as for `sellTicket`. Not an offline
   * payment: nothing is forwarded later.
   */
  recordSaleOnline(input: { lines: SaleLine[]; tenders: Tender[] }): Promise<OnlineOutcome> {
    const shift = this.#requireOpenShift();
    const body = parseBody('sale.recorded', this.#saleBody(shift, input));
    this.#shiftAfter('sale.recorded', body, shift.id);
    const cards = body.tenders.filter((t) => t.type === 'card');
    const card = cards[0];
    if (cards.length !== 1 || card?.type !== 'card') {
      throw new ValidationError(
        'tenders',
        'exactly one card tender for a sale authorized online',
        String(cards.length),
      );
    }
    const request = onlineRequestSchema.parse({
      kind: 'card',
      amount: card.amount,
      currency: body.currency,
      token: card.token,
      brand: card.brand,
      last4: card.last4,
    });
    return this.#askOnline('sale.recorded', request, body as unknown as Record<string, unknown>);
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
    this.#assertCanRecord();
    return this.#online.retry().then((outcomes) => {
      for (const o of outcomes) this.#onlineSettled(o);
      return outcomes;
    });
  }

  async #askOnline(
    opKind: 'ticket.issued' | 'sale.recorded',
    request: ReturnType<typeof onlineRequestSchema.parse>,
    body: Record<string, unknown>,
  ): Promise<OnlineOutcome> {
    this.#assertCanRecord();
    const at = epochMs().parse(this.#clock.now(), 'at');
    const opId = uuidv7(at, this.#idRandom.bytes(10));
    this.#online.begin({ opId, opKind, request, body });
    const outcome = await this.#online.attempt(opId);
    this.#onlineSettled(outcome);
    return outcome;
  }

  #onlineSettled(outcome: OnlineOutcome): void {
    this.#events.emit('online', outcome);
  }

  /** After a successful sync: one retry round at a time, in the background. */
  #retryOnlineSoon(): void {
    if (this.#closed || this.#retryingOnline || !this.#credentials || this.revoked) return;
    if (this.#online.pending().length === 0) return;
    this.#retryingOnline = this.retryPendingAuthorizations()
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        this.#retryingOnline = null;
      });
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
    const shift = this.#requireOpenShift();
    // The lines first: the wristband's share is computed from them.
    const lines = schema.array(saleLineSchema, { minItems: 1, maxItems: 500 }).parse(input.lines, 'lines');
    let total = 0;
    for (const line of lines) total += line.qty * line.unitPrice - (line.discount ?? 0);
    const amount = total - (input.cash?.amount ?? 0);
    if (!Number.isSafeInteger(amount) || amount < 1) {
      throw input.cash
        ? new ValidationError('cash.amount', `less than the sale total (${total})`, String(input.cash.amount))
        : new ValidationError('lines', 'a sale total of at least 1', String(total));
    }
    const chip = this.#chipFor(input.reader, shift.currency);
    if (chip.balance < amount) {
      throw new WristbandRefusedError(
        'insufficient_balance',
        `wristband ${chip.uid} holds ${chip.balance}, the sale needs ${amount} ${shift.currency}`,
        chip.uid,
      );
    }
    const tenders: Tender[] = [
      ...(input.cash ? [{ type: 'cash' as const, ...input.cash }] : []),
      { type: 'wristband', amount, wristband: chip.uid, counter: chip.counter + 1, balanceBefore: chip.balance },
    ];
    const body: SaleBody = { shift: shift.id, currency: shift.currency, lines, total, tenders };
    const op = this.#record('sale.recorded', body, NO_DECISION, (id, at, deviceId) => {
      const authorized = this.#policy.authorizeWristband({
        id,
        at,
        deviceId,
        placement: this.placement(),
        kind: 'sale.recorded',
        currency: shift.currency,
        amount,
        wristband: chip.uid,
      });
      return { ...authorized, write: chipWrite(chip, 'debit', amount, null) };
    });
    return this.#writeChip(input.reader, chip, op, chip.balance - amount);
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
    const shift = this.#requireOpenShift();
    const chip = this.#chipFor(input.reader, shift.currency);
    const body: WalletToppedUpBody = {
      shift: shift.id,
      currency: shift.currency,
      wristband: chip.uid,
      amount: input.amount,
      counter: chip.counter + 1,
      balanceBefore: chip.balance,
      paid: input.paid,
      ...(input.card ? { card: input.card } : {}),
    };
    const op = this.#record('wallet.topped_up', body, NO_DECISION, (id, at, deviceId) => {
      const write = chipWrite(chip, 'topup', input.amount, null);
      if (input.paid !== 'card' || !input.card || !this.#enforceCards) {
        return { decision: NO_DECISION, meta: {}, exposure: null, write };
      }
      const authorized = this.#policy.authorizeCardSale({
        id,
        at,
        deviceId,
        placement: this.placement(),
        currency: shift.currency,
        kind: 'wallet.topped_up',
        tenders: [{ type: 'card', amount: input.amount, ...input.card }],
      });
      return { ...authorized, write };
    });
    return this.#writeChip(input.reader, chip, op, chip.balance + input.amount);
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
    const shift = this.#requireOpenShift();
    const chip = this.#chipFor(input.reader, shift.currency);
    const stored = this.#journal.getOp(input.sale);
    const paid =
      stored?.op.kind === 'sale.recorded'
        ? ((stored.op.body as SaleBody).tenders.find((t) => t.type === 'wristband' && t.wristband === chip.uid)
            ?.amount ?? 0)
        : 0;
    const left = paid - this.#wristbands.refundedOf(input.sale, chip.uid);
    if (paid === 0 || input.amount > left) {
      throw new WristbandRefusedError(
        'refund_not_allowed',
        paid === 0
          ? `sale ${input.sale} was not paid with wristband ${chip.uid} on this terminal`
          : `at most ${left} ${shift.currency} of sale ${input.sale} is left to refund`,
        chip.uid,
      );
    }
    const body: WalletRefundedBody = {
      shift: shift.id,
      currency: shift.currency,
      wristband: chip.uid,
      amount: input.amount,
      counter: chip.counter + 1,
      balanceBefore: chip.balance,
      sale: input.sale,
      ...(input.reason !== undefined ? { reason: input.reason } : {}),
    };
    const op = this.#record('wallet.refunded', body, NO_DECISION, (id, at, deviceId) => {
      const authorized = this.#policy.authorizeWristband({
        id,
        at,
        deviceId,
        placement: this.placement(),
        kind: 'wallet.refunded',
        currency: shift.currency,
        amount: input.amount,
        wristband: chip.uid,
        isRefund: true,
      });
      return { ...authorized, write: chipWrite(chip, 'refund', input.amount, input.sale) };
    });
    return this.#writeChip(input.reader, chip, op, chip.balance + input.amount);
  }

  /**
   * Applies a `wristband.blocked` / `wristband.unblocked` item of the device
   * feed (data as in the server's ledger event). Returns true if the
   * blocked list changed. Called by the feed dispatch.
   */
  applyWristbandNotice(type: string, data: unknown): boolean {
    this.#assertOpen();
    return this.#wristbands.applyNotice(type, data, this.#clock.now());
  }

  /** The wristbands the server blocked, as this terminal knows them. */
  blockedWristbands(): BlockedWristband[] {
    this.#assertOpen();
    return this.#wristbands.blocked();
  }

  /** Chip writes recorded ops promised that have not reached their chip yet. */
  pendingWristbandWrites(): PendingChipWrite[] {
    this.#assertOpen();
    return this.#wristbands.pending();
  }

  /** Reads the chip (finishing a pending write first) and refuses a blocked or foreign one. */
  #chipFor(reader: WristbandReader, currency: string): ChipImage {
    const chip = this.#wristbands.readSettled(reader, this.#clock.now());
    const blocked = this.#wristbands.isBlocked(chip.uid);
    if (blocked) {
      throw new WristbandRefusedError(
        'wristband_blocked',
        `wristband ${chip.uid} is blocked by the server (${blocked.reason}): send the customer to the info desk`,
        chip.uid,
      );
    }
    if (chip.currency !== currency) {
      throw new WristbandRefusedError(
        'currency',
        `wristband ${chip.uid} holds ${chip.currency}, this till takes ${currency}`,
        chip.uid,
      );
    }
    return chip;
  }

  /** Writes the chip after the op committed; a failed write leaves it pending (finished at the next read). */
  #writeChip(reader: WristbandReader, read: ChipImage, op: RecordedOp, balance: number): WristbandReceipt {
    const counter = read.counter + 1;
    try {
      reader.write({ uid: read.uid, expectedCounter: read.counter, balance, counter });
    } catch (error) {
      return { op, chip: read, chipWritten: false, writeError: error instanceof Error ? error.message : String(error) };
    }
    this.#wristbands.markWritten(op.id, this.#clock.now());
    return { op, chip: { ...read, balance, counter }, chipWritten: true, writeError: null };
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
    if (state === undefined) return undefined;
    // A post-authorization decline (postAuthDeclines() says which) outranks the server's acceptance.
    return state === 'dead' || this.#feed.isDeclined(id) ? 'needs_attention' : state;
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
    const sync = this.#loop.syncNow();
    if (!this.#enforceCards) return sync;
    // Presses while one runs get the same promise, as the loop's own.
    if (this.#syncThenFeed?.sync === sync) return this.#syncThenFeed.promise;
    const promise = sync.then(async (report) => {
      if (this.#canPoll()) await this.pollFeed().catch((error: unknown) => this.#feedFailed(error));
      return report;
    });
    this.#syncThenFeed = { sync, promise };
    return promise;
  }

  /** Asks the server what it stored for `ids` (default: all pending) and settles accordingly. */
  requery(ids?: readonly string[]): Promise<OpStatus[]> {
    return this.#loop.requery(ids);
  }

  start(): void {
    this.#assertOpen();
    this.#loop.start();
    if (this.#enforceCards) this.#pollFeedSoon();
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
    await this.#retryingOnline;
    await this.#enrolling?.promise.catch(() => undefined);
    await this.#refreshing;
    await this.#polling?.catch(() => undefined);
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
    const { effect } = SHIFT_RULES[kind];
    if (effect === 'opens' && open) throw new DomainError('shift_already_open', `shift ${open.id} is still open`);
    if ((effect === 'within' || effect === 'closes') && !open) {
      throw new DomainError('no_open_shift', 'no shift is open on this terminal');
    }
    return reduceShift(open, id, kind, body);
  }

  /**
   * The shift after an online-approved op: as `#shiftAfter` while the op's
   * shift is still the open one, else unchanged (null). An approval is a
   * fact; a shift closed meanwhile is for the server to reconcile.
   */
  #shiftAfterApproval(kind: OpKind, body: OpBodies[OpKind], id: string): Shift | null {
    const open = this.#shift?.status === 'open' ? this.#shift : null;
    if (!open || (body as { shift?: unknown }).shift !== open.id) return null;
    try {
      return this.#shiftAfter(kind, body, id);
    } catch (error) {
      if (error instanceof DomainError) return null;
      throw error;
    }
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

  #canPoll(): boolean {
    return !this.#closed && this.#credentials !== null && !this.revoked;
  }

  /** A feed poll in the background, at most every FEED_POLL_MIN_INTERVAL_MS; a failure waits for the next chance. */
  #pollFeedSoon(): void {
    if (!this.#canPoll()) return;
    const now = this.#clock.now();
    if (this.#lastPollAt !== null && now - this.#lastPollAt < FEED_POLL_MIN_INTERVAL_MS) return;
    this.pollFeed().catch((error: unknown) => this.#feedFailed(error));
  }

  /** A feed poll that failed for a reason the next poll may not have: reported, never thrown at the clerk. */
  #feedFailed(error: unknown): void {
    if (error instanceof TransportError || (error instanceof FeedError && error.retryable)) return;
    this.#onError(error);
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

/** The pending-write row of a chip write about to be made from `chip`. */
function chipWrite(
  chip: ChipImage,
  kind: PendingChipWrite['kind'],
  amount: number,
  sale: string | null,
): Omit<PendingChipWrite, 'opId' | 'recordedAt' | 'writtenAt'> {
  return {
    wristband: chip.uid,
    kind,
    amount,
    counter: chip.counter + 1,
    balanceBefore: chip.balance,
    balanceAfter: kind === 'debit' ? chip.balance - amount : chip.balance + amount,
    sale,
  };
}

/**
 * Wristband ops change a chip: only payWithWristband, topUpWristband and
 * refundToWristband record them, because they write the chip too.
 */
function refuseChipOps(kind: OpKind, body: OpBodies[OpKind]): void {
  if (kind === 'wallet.topped_up' || kind === 'wallet.refunded') {
    throw new ValidationError(
      'kind',
      `not ${kind}: recorded with topUpWristband / refundToWristband (the chip is written too)`,
      kind,
    );
  }
  if (kind !== 'sale.recorded') return;
  (body as SaleBody).tenders.forEach((t, i) => {
    if (t.type === 'wristband') {
      throw new ValidationError(
        `body.tenders[${i}].type`,
        'not "wristband": recorded with payWithWristband (the chip is written too)',
        'wristband',
      );
    }
  });
}
