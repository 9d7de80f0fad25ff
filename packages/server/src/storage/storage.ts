/**
 * The storage interface of the settlement server.
 *
 * One interface, one folder per backend (`sqlite/`, later `postgres/`).
 * It is deliberately coarse: ingesting a batch is ONE call, so each backend
 * runs the whole batch — read the facts, decide with the shared pure planner
 * (ingest/plan-ingest.ts), write — inside one transaction of its own, with
 * its own locking (SQLite: one writer; PostgreSQL: the device row locked
 * FOR UPDATE and primary keys). No correctness may depend on process memory.
 *
 * All methods are async so that a networked database fits; the SQLite
 * backend simply does its work synchronously inside them.
 */
import type {
  DeviceStatus,
  Op,
  OpResult,
  Placement,
  PolicyDraft,
  SignedPolicy,
  StoredResult,
} from '@holdfast/protocol';
import type { ExceptionRecord, LedgerEvent, OfflinePaymentRecord, ShiftRecord } from '../ingest/plan-ingest.js';
import type { WalletAccountRecord, WalletEntryRecord } from '../wallets/wallet-plan.js';
import type { UnblockOutcome, UnblockRequest } from '../wallets/wallet-records.js';
import type {
  AuthorizationFinish,
  AuthorizationRecord,
  AuthorizationSlot,
  BettingConfig,
  BettingConfigRecord,
  SelectionLiability,
} from './authorizations.js';

export type { UnblockOutcome, UnblockRequest } from '../wallets/wallet-records.js';

/** A wristband's wallet with its entries (in counter order, then op id). */
export interface WalletView {
  account: WalletAccountRecord;
  entries: WalletEntryRecord[];
}

export interface WalletFilter {
  /** Page after this wristband uid (uids ascending). */
  after?: string;
  /** 1..1000. */
  limit: number;
  /** Only blocked (true) or only unblocked (false) wallets. */
  blocked?: boolean;
}

export type StorageKind = 'sqlite' | 'postgres';

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

export interface EnrollmentTokenRecord {
  id: string;
  /** SHA-256 hex of the token; the token itself is never stored. */
  tokenHash: string;
  label: string | null;
  createdAt: number;
  expiresAt: number;
  usedAt: number | null;
  deviceId: string | null;
  publicKey: string | null;
  /** Placement copied onto the device that redeems the token; all null for none. */
  merchant: string | null;
  location: string | null;
  event: string | null;
}

/**
 * A key the server signs risk policies with (Ed25519). The private key
 * lives in the database so that every process on one PostgreSQL signs with
 * the same key; it never leaves the server (no API answer, no log).
 */
export interface ServerKeyRecord {
  /** policyKeyId(publicKey): first 16 hex digits of SHA-256 of the raw public key. */
  id: string;
  /** Raw Ed25519 public key, base64url. */
  publicKey: string;
  /** PKCS#8 DER, base64url. */
  privateKey: string;
  createdAt: number;
  /** When it stopped signing; null for the active key (at most one). */
  retiredAt: number | null;
}

/** An operator's draft, with what the service assigned before the storage transaction. */
export interface PolicyIssueRequest {
  draft: PolicyDraft;
  /** UUIDv7 of the new policy. */
  id: string;
  /** Server clock when it was asked for; issuedAt is this, or just after the latest policy. */
  now: number;
}

/**
 * The newest policies when the next one is issued, read inside the issuing
 * transaction: the next version of the scope, and the latest issuedAt of
 * any policy (so that a policy issued later is always newer by
 * `comparePolicies`, even across processes whose clocks differ).
 */
export interface PolicyIssueSlot {
  version: number;
  /** Largest issuedAt of all policies so far, or null for the first. */
  latestIssuedAt: number | null;
}

export interface PolicyFilter {
  merchant?: string;
  /** Only policies that have not expired at this instant (`expiresAt > unexpiredAt`). */
  unexpiredAt?: number;
}

/** An offline payment as stored, with what settlement will fill in later. */
export interface StoredOfflinePayment extends OfflinePaymentRecord {
  /** When the processor settled it (server clock); null until then. Nothing fills it in yet. */
  settledAt: number | null;
  /** The processor's outcome (e.g. captured, declined); null until settled. */
  outcome: string | null;
  /** Consecutive transient forwarding failures (outage, unknown outcome) since the last answer; 0 at first. */
  attempts: number;
  /** Not claimed before this instant (server clock): the backoff after a transient failure; null: due now. */
  nextAttemptAt: number | null;
  /** Why the last forwarding attempt left it unsettled, for operators; null if none failed. */
  lastError: string | null;
  /** The last forwarding-deadline stage reported for it: null, `warning` or `missed`. */
  deadlineStage: 'warning' | 'missed' | null;
  /** When the processor refused it for good (never retried after); null otherwise. */
  refusedAt: number | null;
  /** The processor's error code of that refusal (e.g. `idempotency_key_reused`). */
  refusalCode: string | null;
}

/** Which offline payment: a sale may be split over several cards (one row per card tender). */
export interface OfflinePaymentKey {
  opId: string;
  tenderIndex: number;
}

/** An offline payment claimed for forwarding, with what the forwarder needs beside it. */
export interface ClaimedOfflinePayment extends StoredOfflinePayment {
  /** The device's current placement merchant, or null if it was never placed. */
  merchant: string | null;
  claimedBy: string;
  claimExpiresAt: number;
}

/** The processor's final answer about a forwarded payment. */
export interface PaymentSettlement {
  status: 'approved' | 'declined';
  /** The processor's authorization id. */
  processorId: string;
  /** Only for a decline. */
  declineCode?: string;
  /** Server clock when the answer was received. */
  at: number;
}

export interface SettleRequest {
  payment: OfflinePaymentKey;
  /** Who settles (the forwarder's owner id); kept for the record. */
  owner: string;
  settlement: PaymentSettlement;
  /** Id of the `post_auth_decline` exception this raises if it is a decline (data, not a callback). */
  exceptionId: string;
}

export interface SettleOutcome {
  /** What is stored: this settlement, or the one stored before (a second settle changes nothing). */
  settlement: PaymentSettlement;
  /** False when the payment had already been settled. */
  settledNow: boolean;
}

/** A transient forwarding failure: try again with the same key, not before `nextAttemptAt`. */
export interface DeferRequest {
  payment: OfflinePaymentKey;
  /** The claimer; a payment claimed by someone else since (lease ran out) is left alone. */
  owner: string;
  /** Consecutive failures now (the stored `attempts` + 1). */
  attempts: number;
  nextAttemptAt: number;
  error: string;
}

/** The processor refused the payment for good (a 4xx about the request): never retried. */
export interface RefuseRequest {
  payment: OfflinePaymentKey;
  owner: string;
  /** The processor's error code, e.g. `idempotency_key_reused`, `invalid_request`. */
  code: string;
  /** HTTP status and message of the refusal, for the exception's detail. */
  status: number;
  message: string;
  /** The field the processor named, if any. */
  field: string | null;
  at: number;
  /** Id of the `payment_refused` exception this raises. */
  exceptionId: string;
}

/** Which forwarding-deadline exception an unsettled payment is due for. */
export interface DeadlineQuery {
  now: number;
  /** Warn once a payment is this old (measured from `deadlineBase`). */
  warnAfterMs: number;
  /** The deadline: an alarm once a payment is this old. */
  deadlineMs: number;
  limit: number;
}

/** An unsettled, unrefused payment whose `stage` exception has not been raised yet. */
export interface DeadlineCandidate {
  payment: StoredOfflinePayment;
  stage: 'warning' | 'missed';
}

/** A deadline exception to raise for a payment, and the stage it records on the payment. */
export interface DeadlineNotice {
  payment: OfflinePaymentKey;
  stage: 'warning' | 'missed';
  exception: ExceptionRecord;
}

/** One row of the decline-rate report: a placement, a UTC day (of the processor's answer) and a currency. */
export interface DeclineReportRow {
  /** UTC day of `settledAt`, YYYY-MM-DD. */
  day: string;
  /** The device's current placement; null merchant for unplaced devices. */
  merchant: string | null;
  location: string | null;
  currency: string;
  /** Offline payments the processor answered for (approved or declined). */
  forwardedCount: number;
  forwardedAmount: number;
  declinedCount: number;
  declinedAmount: number;
  /** declinedCount / forwardedCount (0..1). */
  declineRate: number;
}

export const EXCEPTION_ACTIONS = ['contacted', 'written_off', 'recovered', 'acknowledged'] as const;
export type ExceptionActionKind = (typeof EXCEPTION_ACTIONS)[number];

/** One operator action on an exception, as stored (append-only). */
export interface ExceptionAction {
  id: string;
  exceptionId: string;
  action: ExceptionActionKind;
  note: string;
  /** Money written off or recovered (minor units), for payment exceptions; null otherwise. */
  amount: number | null;
  currency: string | null;
  /** The operator's name as given. */
  by: string;
  at: number;
  /** True for the one action that resolved the exception. */
  resolves: boolean;
}

/** An exception with its actions and the status they derive. */
export interface ExceptionView extends ExceptionRecord {
  pos: number;
  status: 'open' | 'resolved';
  actions: ExceptionAction[];
}

export interface ExceptionFilter {
  after: number;
  limit: number;
  status?: 'open' | 'resolved';
  type?: string;
}

/** An operator's action, with what the service assigned (id, time). */
export interface ExceptionActionRequest {
  id: string;
  exceptionId: string;
  action: ExceptionActionKind;
  note: string;
  /** As given; null when absent (a money action then takes what is outstanding). */
  amount: number | null;
  by: string;
  at: number;
}

/** What recording an action did; see exceptions/exception-actions.ts for the rules. */
export type ExceptionActionOutcome =
  | { outcome: 'recorded'; exception: ExceptionView }
  | { outcome: 'not_found' }
  | { outcome: 'already_resolved'; exception: ExceptionView }
  | { outcome: 'invalid'; field: string; rule: string; message: string };

/** Unsettled offline-approved payments of one currency and placement (the device's current placement). */
export interface ExposureActual {
  currency: string;
  /** Null for devices that were never placed. */
  merchant: string | null;
  location: string | null;
  event: string | null;
  /** Σ unsettled amounts, minor units. */
  amount: number;
  count: number;
}

/** What redeeming a token did; see enrollment.ts for the rules. */
export type RedeemOutcome =
  | { outcome: 'enrolled' | 'already_enrolled'; device: DeviceRecord }
  | { outcome: 'token_invalid' | 'token_expired' | 'token_used' | 'key_already_enrolled' };

export interface RedeemRequest {
  tokenHash: string;
  publicKey: string;
  label: string | undefined;
  /** Id to give the device if this redemption creates it. */
  newDeviceId: string;
  now: number;
}

/** A batch whose envelope, hashes, chain links and signature were verified. */
export interface VerifiedBatch {
  device: string;
  ops: Op[];
  /** Each op's canonical text (what its hash covers), if the verifier kept it; computed otherwise. */
  canonical?: readonly string[];
  sentAt: number;
  latestSeq: number;
}

export interface IngestOutcome {
  results: OpResult[];
  highWater: number;
}

/** An op as stored, with its stored result. */
export interface StoredOp {
  op: Op;
  result: StoredResult;
  receivedAt: number;
}

export interface Page<T> {
  items: T[];
  /** Cursor for the next page, or null at the end. */
  next: number | null;
}

/** A ledger event as a device's feed delivers it: for a payment event, the card the payment was made with. */
export interface DeviceFeedEvent extends LedgerEvent {
  pos: number;
  /** Brand and last four of the card of a `payment.*` event (from its offline payment); null otherwise. */
  card: { brand: string; last4: string } | null;
}

/** One page of a device's feed (see `Storage.listDeviceFeed`). */
export interface DeviceFeedPage {
  items: DeviceFeedEvent[];
  /** Cursor for the next call: every event at or below it that concerns the device is in this page or earlier. */
  next: number;
  /** True when the page is full: more may follow `next`. */
  more: boolean;
  /** The largest ledger position when the page was read (0 for an empty ledger): no cursor handed out is above it. */
  end: number;
}

export interface SalesSummary {
  currency: string;
  sales: number;
  total: number;
  cash: number;
  card: number;
}

export interface StoreSummary {
  devices: number;
  revokedDevices: number;
  opsAccepted: number;
  opsRejected: number;
  ledgerEvents: number;
  sales: SalesSummary[];
  openShifts: number;
  closedShifts: number;
  exceptions: Record<string, number>;
}

export interface Storage {
  readonly kind: StorageKind;
  /** Creates or upgrades the schema; safe to call on every start. */
  migrate(): Promise<void>;
  /** Cheap liveness check for the health endpoint. */
  ping(): Promise<void>;
  close(): Promise<void>;

  insertEnrollmentToken(token: EnrollmentTokenRecord): Promise<void>;
  /** Redeems a token for a public key, atomically (see enrollment.ts for the rules). */
  redeemEnrollmentToken(request: RedeemRequest): Promise<RedeemOutcome>;

  getDevice(id: string): Promise<DeviceRecord | null>;
  listDevices(): Promise<DeviceRecord[]>;
  revokeDevice(id: string, reason: string, now: number): Promise<DeviceRecord | null>;
  /** Sets a device's placement; null if there is no such device. */
  setDevicePlacement(id: string, placement: Placement, now: number): Promise<DeviceRecord | null>;
  deviceStatus(id: string): Promise<DeviceStatus | null>;
  listDeviceStatuses(): Promise<DeviceStatus[]>;

  /**
   * Ingests a verified batch in one transaction: per-op results, ledger
   * events, projections, exceptions, the device's head and statistics.
   * Throws ProtocolError('device_revoked' | 'unknown_device') if the device
   * was revoked or removed since the caller looked.
   */
  ingest(batch: VerifiedBatch, now: number, newId: () => string): Promise<IngestOutcome>;

  getOp(id: string): Promise<StoredOp | null>;
  /** Stored ops of one device among `ids` (others' ops are not revealed). */
  getDeviceOps(device: string, ids: readonly string[]): Promise<StoredOp[]>;

  listLedger(after: number, limit: number): Promise<Page<LedgerEvent & { pos: number }>>;
  /**
   * The ledger events after `after` that concern `device`, in `pos` order,
   * at most `limit`: `payment.settled` / `payment.declined` of its own ops,
   * and `wristband.*` events of any device, except those of a device placed
   * under another merchant than `device` (both placed). Same ordering
   * guarantee as listLedger: a page is a prefix of the feed that can never
   * grow in the middle, so `next` never skips an event that commits later.
   */
  listDeviceFeed(device: string, after: number, limit: number): Promise<DeviceFeedPage>;
  listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>>;
  listShifts(device: string | null): Promise<ShiftRecord[]>;
  summary(): Promise<StoreSummary>;

  /**
   * The active policy-signing key: the one stored, or `candidate` stored
   * now if there is none. Several processes calling at once get the same key.
   */
  ensureServerKey(candidate: ServerKeyRecord): Promise<ServerKeyRecord>;
  /** Keys that have not been retired, newest first (the first signs). */
  listServerKeys(): Promise<ServerKeyRecord[]>;

  /**
   * Issues a policy in one transaction: reads the slot (the scope's next
   * version, the latest issuedAt) and the active server key, signs with
   * the shared `signIssued` (risk-policies.ts) and stores the result.
   * Concurrent issuers, in any process, get distinct versions: the second
   * waits for the first (or, on a unique violation, runs again). Throws
   * ProtocolError('invalid_request') if the assigned fields break a rule
   * (see signIssued), and an Error if there is no active key; nothing is
   * stored then. Policies are append-only. (Arguments are data, not
   * callbacks: a backend may run in another thread.)
   */
  issuePolicy(request: PolicyIssueRequest): Promise<SignedPolicy>;
  /** Stored policies, oldest first (issuedAt, id): only `merchant`'s, and only those with `expiresAt > unexpiredAt`, if given. */
  listPolicies(filter?: PolicyFilter): Promise<SignedPolicy[]>;

  /** Offline-approved payments (projection), by device, seq, tender; only `device`'s, if given. */
  listOfflinePayments(device: string | null): Promise<StoredOfflinePayment[]>;
  /**
   * Unsettled offline payments summed per currency and the device's
   * current placement, sorted by currency, merchant, location, event (null first).
   */
  exposureActual(): Promise<ExposureActual[]>;

  /**
   * Claims up to `limit` unsettled offline payments for `owner` until
   * `now + leaseMs`, in (device, seq, tender) order, in one short
   * transaction. Only unrefused rows whose claim is absent or expired and
   * whose `nextAttemptAt` (backoff) has come, and never a row while an
   * earlier unsettled, unrefused row of its device is claimed (by anyone,
   * this owner included) or still backing off: a device's payments reach
   * the processor in seq order. Two processes calling at once get disjoint
   * devices.
   */
  claimOfflinePayments(owner: string, limit: number, now: number, leaseMs: number): Promise<ClaimedOfflinePayment[]>;
  /**
   * Records the processor's answer about a payment, once, in one
   * transaction: settled_at, outcome, the processor id, a ledger event
   * (`payment.settled` or `payment.declined`) and, for a decline, a
   * `post_auth_decline` exception. A second settle of the same payment
   * changes nothing and returns the stored settlement; null if there is no
   * such payment.
   */
  settleOfflinePayment(request: SettleRequest): Promise<SettleOutcome | null>;

  // Online authorizations (storage/authorizations.ts, server/src/authorize/).

  /**
   * Stores `pending` (a card authorization, status pending) unless its op id
   * is stored already; returns the stored row either way (`created` says
   * which). The caller compares device and request hash.
   */
  beginAuthorization(pending: AuthorizationRecord): Promise<AuthorizationSlot>;
  /**
   * Records the final answer of a pending authorization, once: a row that
   * is already final is returned unchanged; null if there is no such row.
   */
  finishAuthorization(opId: string, finish: AuthorizationFinish): Promise<AuthorizationRecord | null>;
  /**
   * Decides a ticket in ONE transaction: if the op id is stored, returns
   * that row (created false) and changes nothing; else locks the
   * liability rows of its selections (in selectionKey order), decides with
   * `decidePendingTicket` against the newest betting config, stores the
   * final row and adds the liability. Concurrent tickets on one selection,
   * in any process, can never pass its cap together.
   */
  authorizeTicket(pending: AuthorizationRecord, now: number): Promise<AuthorizationSlot>;
  /** Stored authorizations among `opIds` (any device). */
  getAuthorizations(opIds: readonly string[]): Promise<AuthorizationRecord[]>;
  /** Stores the next version of the betting configuration. */
  setBettingConfig(config: BettingConfig, now: number): Promise<BettingConfigRecord>;
  /** The newest betting configuration, or null if none was ever set. */
  getBettingConfig(): Promise<BettingConfigRecord | null>;
  /** Liability held per selection, by currency, event, market, selection. */
  listSelectionLiabilities(): Promise<SelectionLiability[]>;
  /** A wristband's wallet and entries; null if no op ever wrote to it. */
  getWallet(wristband: string): Promise<WalletView | null>;
  /** Wallet accounts by uid. */
  listWallets(filter: WalletFilter): Promise<WalletAccountRecord[]>;
  /**
   * Lifts a wristband's block in one transaction (the account row locked):
   * the account and a `wristband.unblocked` ledger event. Not blocked:
   * nothing written (`unblockedNow` false); null if there is no such wallet.
   */
  unblockWallet(request: UnblockRequest): Promise<UnblockOutcome | null>;
  /**
   * A transient failure: stores `attempts`, `nextAttemptAt` and the error
   * and releases the claim, if `owner` still holds it and it is unsettled.
   * Until then neither it nor any later payment of its device is claimed
   * (seq order). False if nothing was changed.
   */
  deferOfflinePayment(request: DeferRequest): Promise<boolean>;
  /**
   * A permanent refusal, once, in one transaction: `refused_at`, the code,
   * the claim released, and a `payment_refused` alarm. A refused payment is
   * never claimed again and no longer holds back its device's later
   * payments. It stays unsettled (its money was never confirmed). False if
   * it was settled or refused already, or is not claimed by `owner`.
   */
  refuseOfflinePayment(request: RefuseRequest): Promise<boolean>;
  /**
   * Unsettled, unrefused payments at or past a deadline stage that was not
   * recorded on them yet (`raiseDeadlineExceptions`), oldest first. The age
   * is measured from `deadlineBase` (min of device time and receipt).
   */
  listDeadlineCandidates(query: DeadlineQuery): Promise<DeadlineCandidate[]>;
  /**
   * Raises deadline exceptions in one transaction: each stored unless its
   * dedupe key is taken (two processes sweeping at once store one), and
   * its stage recorded on the payment so later sweeps skip it. Returns how
   * many exceptions were new.
   */
  raiseDeadlineExceptions(notices: readonly DeadlineNotice[]): Promise<number>;

  /** Settled offline payments with `from <= settledAt < to`, per UTC day, placement and currency. */
  declineReport(from: number, to: number): Promise<DeclineReportRow[]>;

  /**
   * Records an operator action in one transaction (the exception locked):
   * decides it with the shared `decideExceptionAction`, appends it and, for
   * money written off or recovered on a payment exception, a ledger event.
   * Of two racing resolutions exactly one is recorded; the other gets
   * `already_resolved`.
   */
  recordExceptionAction(request: ExceptionActionRequest): Promise<ExceptionActionOutcome>;
  /** Exceptions by pos with their actions and status, filtered by status and type. */
  listExceptionViews(filter: ExceptionFilter): Promise<Page<ExceptionView>>;
}
