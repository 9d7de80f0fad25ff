/**
 * The settlement service: everything the server does, independent of HTTP.
 *
 * The HTTP layer (http/) checks path and query parameters, calls this class
 * and its operator modules (`devices`, `exceptions`, `ledger`, `wallets`,
 * over the same Storage) and maps errors in one place (http/error-handler.ts:
 * a ProtocolError, or a schema's ValidationError as invalid_request). The
 * simulator drives this class directly. It holds no state that correctness
 * depends on: everything lives in Storage (a public-key cache is only a
 * cache; the ingest counters are only for logs and the operator).
 */

import type { KeyObject } from 'node:crypto';
import {
  type Clock,
  cryptoRandom,
  type InjectedBugs,
  NO_INJECTED_BUGS,
  type Random,
  systemClock,
} from '@holdfast/domain';
import {
  type AnswerRoute,
  type AnswerSignature,
  type AuthorizeResponse,
  type CreateTokenResponse,
  createTokenRequestSchema,
  DEVICE_KEY_GRACE_MS,
  type DeviceReport,
  type DeviceStatus,
  type EnrollResponse,
  enrollmentMessage,
  enrollRequestSchema,
  eventNameSchema,
  eventResultsRequestSchema,
  FEED_PAGE_MAX,
  type FeedResponse,
  feedRequestMessage,
  feedRequestSchema,
  type IngestResponse,
  importPublicKey,
  type LoyaltyAnswer,
  loyaltyRequestMessage,
  loyaltyRequestSchema,
  type OpQueryResponse,
  type OpStatus,
  opQuerySchema,
  type Placement,
  type PolicyKeySet,
  type PolicyResponse,
  ProtocolError,
  placementSchema,
  policyRef,
  policyRequestMessage,
  policyRequestSchema,
  queryMessage,
  type RotateKeyResponse,
  type ShiftReportAnswer,
  type SignedPolicy,
  shiftReportRequestMessage,
  shiftReportRequestSchema,
  uuidv7,
  verifyMessage,
} from '@holdfast/protocol';
import { type BettingConfigRecord, bettingConfigSchema, type SelectionLiability } from './authorize/betting-config.js';
import { OnlineAuthorizer } from './authorize/online-authorizer.js';
import { DeviceAuthenticator } from './device-auth.js';
import { DEFAULT_TOKEN_TTL_SECONDS, newEnrollmentToken, tokenHash } from './enrollment.js';
import { checkFeedCursor, feedItemOf } from './feed/device-feed.js';
import { FiscalDesk } from './fiscal/fiscal-desk.js';
import type { ProcessorLike } from './forwarding/forwarder.js';
import { Admission, type AdmissionOptions, admissionOptions } from './http/admission.js';
import { batchSignature, batchTrust, checkBodies, parseBatch, verifyBatchOps } from './ingest/verify-batch.js';
import type { IngestOutcome, SignedBatch, VerifiedBatch } from './model/batch.js';
import type { CardRefund } from './model/card-refund.js';
import type { DeviceRecord } from './model/device.js';
import { deviceReportRecord } from './model/device-report.js';
import type { ForwardingDeadlineRow } from './model/forwarding-deadline-row.js';
import type { GaugeQuery, OperationalGauges, StoreReadiness } from './model/operational-gauges.js';
import type { SaleCorrectionRecord } from './model/sale-correction.js';
import type { StoreSummary } from './model/summary.js';
import type { ResultsOutcome, TicketView } from './model/ticket.js';
import type { ExposureAnswer } from './risk-policies.js';
import { CatalogDesk } from './services/catalog-desk.js';
import { DeviceAdmin } from './services/device-admin.js';
import { ExceptionDesk } from './services/exception-desk.js';
import { rotateDeviceKey } from './services/key-rotation.js';
import { LedgerReads } from './services/ledger-reads.js';
import { type LoyaltyCodeSender, LoyaltyCounter, OutboxCodeSender } from './services/loyalty-counter.js';
import { LoyaltyDesk } from './services/loyalty-desk.js';
import { OperatorAccounts, type OperatorAccountsOptions } from './services/operator-accounts.js';
import { PolicyDesk, type PolicyDryRun, type ServerKeyView } from './services/policy-desk.js';
import { ReportDesk } from './services/report-desk.js';
import { StaffDesk } from './services/staff-desk.js';
import { StockDesk } from './services/stock-desk.js';
import { WalletAdmin } from './services/wallet-admin.js';
import { signingRefusals } from './signed-refusal.js';
import type { Storage, StorageKind } from './storage/storage.js';

export interface HoldfastServiceOptions {
  storage: Storage;
  clock?: Clock;
  random?: Random;
  /** The card processor for online card authorizations (POST /v1/authorize); absent: refused. */
  processor?: ProcessorLike;
  /** Timeout of each processor call made while a terminal waits (default 8 s). */
  processorTimeoutMs?: number;
  /** Deliberate bugs this server runs with (the simulator's bug-injection runs only); default none. */
  bugs?: InjectedBugs;
  /** Operator accounts: password hashing cost and session lifetimes (defaults in services/). */
  operators?: Pick<OperatorAccountsOptions, 'scrypt' | 'sessions' | 'limiter'>;
  /** Delivers loyalty one-time codes to members (default: the outbox table, services/loyalty-counter.ts). */
  loyaltyCodeSender?: LoyaltyCodeSender;
}

/** Counters since start, for logs and the operator API. */
export interface IngestCounters {
  batches: number;
  accepted: number;
  duplicate: number;
  conflict: number;
  fork: number;
  rejected: number;
}

/** A device's placement on the wire, or null if it was never placed. */
function placementOf(device: DeviceRecord): Placement | null {
  return device.merchant === null
    ? null
    : { merchant: device.merchant, location: device.location, event: device.event };
}

/** What GET /v1/admin/summary answers: the store's totals and this process's ingest counters. */
export interface ServiceSummary extends StoreSummary {
  ingest: Readonly<IngestCounters>;
}

/** Ingest batches a PostgreSQL storage takes at once by default (SQLite has one writer: 1). */
const POSTGRES_INGEST_CONCURRENCY = 8;

/** After a write failed, health answers 503 for at least this long before a probe write may clear it. */
export const WRITE_FAILURE_HOLD_MS = 30_000;

/**
 * The settlement service. Request bodies are parsed here with the protocol
 * schemas, which throw ValidationError naming the field; other refusals are
 * ProtocolErrors. Nothing is applied when either is thrown.
 */
export class HoldfastService {
  /** The fleet: statuses and revocation. */
  readonly devices: DeviceAdmin;
  /** Exceptions, operator actions on them, and the decline report. */
  readonly exceptions: ExceptionDesk;
  /** Ops, ledger events and shifts as stored. */
  readonly ledger: LedgerReads;
  /** Wristband wallets and lifting their blocks. */
  readonly wallets: WalletAdmin;
  /** Loyalty members and adjustments of their points. */
  readonly loyalty: LoyaltyDesk;
  readonly stock: StockDesk;
  /** Staff at the till: rosters per location (services/staff-desk.ts). */
  readonly staff: StaffDesk;
  /** The catalog and price lists (services/catalog-desk.ts). */
  readonly catalog: CatalogDesk;
  /** Sales, outage and accounting reports; tax rates (services/report-desk.ts, docs/reports.md). */
  readonly reports: ReportDesk;
  /** Operator accounts, sessions, API tokens and the audit log. */
  readonly operators: OperatorAccounts;
  /** E-invoicing: bills, credit notes, actions on rejected bills, jurisdictions (fiscal/fiscal-desk.ts). */
  readonly fiscal: FiscalDesk;
  readonly #storage: Storage;
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #bugs: InjectedBugs;
  /** Device public keys by their base64url text (a cache). */
  readonly #auth: DeviceAuthenticator;
  /** The storage's last write failure, until a write succeeds again (see health()). */
  #writeFailure: { since: number; last: number; message: string } | null = null;
  readonly #counters: IngestCounters = { batches: 0, accepted: 0, duplicate: 0, conflict: 0, fork: 0, rejected: 0 };
  readonly #online: OnlineAuthorizer;
  readonly #policies: PolicyDesk;
  readonly #loyaltyCounter: LoyaltyCounter;

  constructor(options: HoldfastServiceOptions) {
    this.#storage = options.storage;
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
    this.#bugs = options.bugs ?? NO_INJECTED_BUGS;
    this.#auth = new DeviceAuthenticator(this.#storage, () => this.#clock.now());
    this.#online = new OnlineAuthorizer({
      storage: this.#storage,
      clock: this.#clock,
      newId: () => this.newId(),
      signedBy: (id, verify) => this.#auth.signedBy(id, verify),
      processor: options.processor,
      processorTimeoutMs: options.processorTimeoutMs,
    });
    this.#policies = new PolicyDesk(this.#storage, this.#clock, () => this.newId());
    this.devices = new DeviceAdmin(this.#storage, this.#clock);
    this.exceptions = new ExceptionDesk(this.#storage, this.#clock, () => this.newId());
    this.ledger = new LedgerReads(this.#storage);
    this.wallets = new WalletAdmin(this.#storage, this.#clock);
    this.loyalty = new LoyaltyDesk(this.#storage, this.#clock, () => this.newId());
    this.stock = new StockDesk(this.#storage);
    this.#loyaltyCounter = new LoyaltyCounter({
      storage: this.#storage,
      clock: this.#clock,
      random: this.#random,
      newId: () => this.newId(),
      sender: options.loyaltyCodeSender ?? new OutboxCodeSender(this.#storage, this.#clock),
      hasRule: async (device) =>
        (await this.#policies.inForce(device, this.#clock.now())).policy?.policy.loyalty !== undefined,
    });
    this.staff = new StaffDesk(this.#storage, this.#clock);
    this.catalog = new CatalogDesk(this.#storage, this.#clock);
    this.reports = new ReportDesk(this.#storage, this.#clock, () => this.newId());
    this.fiscal = new FiscalDesk(this.#storage, this.#clock, () => this.newId());
    this.operators = new OperatorAccounts({
      storage: this.#storage,
      clock: this.#clock,
      newId: () => this.newId(),
      ...options.operators,
    });
  }

  /** Ingest counters since this service started: a snapshot, for logs and the operator API. */
  get counters(): Readonly<IngestCounters> {
    return Object.freeze({ ...this.#counters });
  }

  /** The service clock's reading, epoch ms. */
  now(): number {
    return this.#clock.now();
  }

  /** A fresh UUIDv7 on the service clock and random. */
  newId(): string {
    return uuidv7(this.#clock.now(), this.#random.bytes(10));
  }

  /**
   * Checks that the storage answers (throws if not) and that its writes do
   * not fail. After a batch failed to write (disk full, read-only, I/O
   * error), throws ProtocolError storage_unwritable (503) naming the failure
   * until a batch is written again; so that a server no traffic reaches
   * (taken out of a load balancer by this very check) can come back, a probe
   * write is tried once WRITE_FAILURE_HOLD_MS have passed since the last
   * failure, and clears it if it commits. A small probe can commit on a disk
   * too full for a batch: the next failing batch then raises it again.
   * Which storage, and the server time after the check.
   */
  async health(): Promise<{ storage: StorageKind; time: number }> {
    await this.#storage.ping();
    const failed = this.#writeFailure;
    if (failed) {
      if (this.#clock.now() - failed.last >= WRITE_FAILURE_HOLD_MS) {
        try {
          await this.#storage.probeWrite();
          this.#writeFailure = null;
        } catch (error) {
          this.#noteWriteFailure(error);
        }
      }
      const still = this.#writeFailure;
      if (still) {
        throw new ProtocolError(
          'storage_unwritable',
          `storage cannot write: ${still.message} (failing since ${new Date(still.since).toISOString()})`,
          { retryAfterMs: WRITE_FAILURE_HOLD_MS },
        );
      }
    }
    return { storage: this.#storage.kind, time: this.#clock.now() };
  }

  /** The storage's failure to write (not a refusal: a ProtocolError is an answer, not a failure). */
  #noteWriteFailure(error: unknown): void {
    if (error instanceof ProtocolError) return;
    const code = (error as { code?: unknown }).code;
    const message = `${typeof code === 'string' ? `${code}: ` : ''}${error instanceof Error ? error.message : String(error)}`;
    const now = this.#clock.now();
    this.#writeFailure = { since: this.#writeFailure?.since ?? now, last: now, message };
  }

  /**
   * The admission controller for ingest into this service (http/admission.ts),
   * on the service's clock and random. By default as many batches at once as
   * the storage takes: one on SQLite (one writer), several on PostgreSQL.
   * Throws an Error naming a bad option.
   */
  ingestAdmission(overrides: Partial<AdmissionOptions> = {}): Admission {
    const concurrency = this.#storage.kind === 'postgres' ? POSTGRES_INGEST_CONCURRENCY : 1;
    return new Admission(admissionOptions({ concurrency, ...overrides }), this.#clock, this.#random);
  }

  /** GET /v1/ready: the store is migrated and takes a write transaction (throws if it cannot be written). */
  readiness(): Promise<StoreReadiness> {
    return this.#storage.readiness();
  }

  /** The forwarding backlog and open exceptions by type (GET /metrics). */
  operationalGauges(query: GaugeQuery): Promise<OperationalGauges> {
    return this.#storage.operationalGauges(query);
  }

  /** Storage calls waiting for their turn right now (GET /metrics). */
  storageQueueDepth(): number {
    return this.#storage.pendingCalls();
  }

  /** The store's totals with this service's ingest counters (GET /v1/admin/summary). */
  async summary(): Promise<ServiceSummary> {
    return { ...(await this.#storage.summary()), ingest: this.counters };
  }

  /** POST /v1/authorize: an online decision for an op the terminal must not record on its own (authorize/). */
  async authorize(body: unknown): Promise<AuthorizeResponse & AnswerSignature> {
    const answer = await this.#online.authorize(body);
    // Signed like a batch answer (docs/protocol.md §2): a forged "approved" would make a till print a ticket.
    // The answer exists only for a request whose signature verified, so `sig` is that request's signature.
    return this.#policies.signAnswer('authorize', (body as { sig: string }).sig, answer);
  }

  /**
   * POST /v1/loyalty: a till's online loyalty question (look a member up,
   * redeem with a one-time code, confirm the code; services/loyalty-counter.ts).
   * Signed like the other device routes, bound to the request's signature.
   */
  async loyaltyAsk(body: unknown): Promise<LoyaltyAnswer & AnswerSignature> {
    const request = loyaltyRequestSchema.parse(body);
    const message = loyaltyRequestMessage(request.device, request.at, request.question);
    const { device } = await this.#auth.signedBy(request.device, (key) => verifyMessage(message, request.sig, key));
    const answer = await this.#loyaltyCounter.answer(device, request.question);
    return this.#policies.signAnswer('loyalty', request.sig, answer);
  }

  /** Stores the next betting configuration (limits, liability caps, suspensions); refused naming the field. */
  setBettingConfig(body: unknown): Promise<BettingConfigRecord> {
    return this.#storage.setBettingConfig(bettingConfigSchema.parse(body), this.#clock.now());
  }

  /** The betting configuration in force and the liability held per selection. */
  async bettingStatus(): Promise<{ config: BettingConfigRecord | null; liabilities: SelectionLiability[] }> {
    const [config, liabilities] = await Promise.all([
      this.#storage.getBettingConfig(),
      this.#storage.listSelectionLiabilities(),
    ]);
    return { config, liabilities };
  }

  /** Records an event's results and settles the tickets they decide (docs/betting.md); refused naming the field. */
  recordResults(event: unknown, body: unknown): Promise<ResultsOutcome> {
    const name = eventNameSchema.parse(event, 'event');
    const request = eventResultsRequestSchema.parse(body);
    return this.#storage.recordResults(name, request.results, this.#clock.now());
  }

  /** A ticket with its history and payout; null if never accepted. */
  /** A sale's corrections, held or counted (docs/corrections.md). */
  getSaleCorrections(saleId: string): Promise<SaleCorrectionRecord[]> {
    return this.#storage.getSaleCorrections(saleId);
  }

  /** The card refunds of a sale's corrections, with their state at the processor (docs/corrections.md). */
  listCardRefunds(saleId: string): Promise<CardRefund[]> {
    return this.#storage.listCardRefunds(saleId);
  }

  getTicket(id: string): Promise<TicketView | null> {
    return this.#storage.getTicket(id);
  }

  /** Every accepted ticket with its history and payout. */
  listTickets(): Promise<TicketView[]> {
    return this.#storage.listTickets();
  }

  /** Creates an enrollment token (shown once; only its hash is stored), optionally placing the device it enrolls. */
  async createEnrollmentToken(body: unknown): Promise<CreateTokenResponse> {
    const request = createTokenRequestSchema.parse(body ?? {});
    const token = newEnrollmentToken();
    const now = this.#clock.now();
    const expiresAt = now + (request.ttlSeconds ?? DEFAULT_TOKEN_TTL_SECONDS) * 1000;
    const label = request.label ?? null;
    const placement: Placement | null =
      request.merchant === undefined
        ? null
        : { merchant: request.merchant, location: request.location ?? null, event: request.event ?? null };
    await this.#storage.insertEnrollmentToken({
      id: this.newId(),
      tokenHash: tokenHash(token),
      label,
      createdAt: now,
      expiresAt,
      usedAt: null,
      deviceId: null,
      publicKey: null,
      merchant: placement?.merchant ?? null,
      location: placement?.location ?? null,
      event: placement?.event ?? null,
    });
    return { token, label, expiresAt, placement };
  }

  /** Enrolls a device's public key with a token: answers its id, the server time and the policy keys to pin. */
  async enroll(body: unknown): Promise<EnrollResponse> {
    const request = enrollRequestSchema.parse(body);
    let key: KeyObject;
    try {
      key = importPublicKey(request.publicKey);
    } catch {
      throw new ProtocolError('invalid_request', 'publicKey is not a valid Ed25519 public key', {
        field: 'publicKey',
        rule: 'raw Ed25519 public key, base64url',
      });
    }
    if (!verifyMessage(enrollmentMessage(request.token, request.publicKey), request.sig, key)) {
      throw new ProtocolError('bad_signature', 'enrollment signature does not verify with the given public key', {
        field: 'sig',
        rule: 'Ed25519 signature over the enrollment message',
      });
    }
    const now = this.#clock.now();
    const outcome = await this.#storage.redeemEnrollmentToken({
      tokenHash: tokenHash(request.token),
      publicKey: request.publicKey,
      label: request.label,
      newDeviceId: this.newId(),
      now,
    });
    switch (outcome.outcome) {
      case 'enrolled':
      case 'already_enrolled':
        // The request is signed with the device's own key: it may learn that it was revoked, never get its placement back.
        if (outcome.device.revokedAt !== null) {
          throw new ProtocolError(
            'device_revoked',
            `device ${outcome.device.id} was revoked: ${outcome.device.revokeReason ?? ''}`,
            { field: 'token' },
          );
        }
        return {
          deviceId: outcome.device.id,
          label: outcome.device.label,
          enrolledAt: outcome.device.enrolledAt,
          serverTime: now,
          policyKeys: await this.policyKeys(),
          placement: placementOf(outcome.device),
          signsAnswers: true,
        };
      case 'token_invalid':
        throw new ProtocolError('token_invalid', 'enrollment token is not known', { field: 'token' });
      case 'token_expired':
        throw new ProtocolError('token_expired', 'enrollment token has expired', { field: 'token' });
      case 'token_used':
        throw new ProtocolError('token_used', 'enrollment token was already used by another key', { field: 'token' });
      case 'key_already_enrolled':
        throw new ProtocolError('key_already_enrolled', 'this public key is already enrolled as another device', {
          field: 'publicKey',
        });
    }
  }

  /**
   * Keeps a device's report (model/device-report.ts; ignored when its time is
   * not fresh). The report only informs operators: one that cannot be stored
   * is dropped, never failing the batch or poll it came with (the next
   * report replaces it).
   */
  async #recordReport(device: string, report: DeviceReport, sentAt: number, now: number): Promise<void> {
    const record = deviceReportRecord(device, report, sentAt, now);
    if (record === null) return;
    await this.#storage.recordDeviceReport(record).catch(() => undefined);
  }

  /** Signs a refusal that stops a terminal (signed-refusal.ts), like an answer. */
  readonly #signRefusal = (route: AnswerRoute, requestSig: string, answer: object) =>
    this.#policies.signAnswer(route, requestSig, answer);

  /** Verifies and ingests one batch. Throws ProtocolError for request-level problems (nothing applied). */
  async ingest(body: unknown): Promise<IngestResponse> {
    return this.ingestVerified(await this.verifyBatch(body));
  }

  /**
   * Parses a batch and checks that its device is enrolled and active and
   * that its signature, hashes and links verify; touches no storage but the
   * device lookup. Throws ProtocolError (nothing applied). The HTTP layer
   * charges the device's rate limit only after this succeeded.
   */
  async verifyBatch(body: unknown): Promise<SignedBatch> {
    const batch = parseBatch(body);
    const { proof } = await signingRefusals('batches', batch.sig, this.#signRefusal, () =>
      this.#auth.signedBy(batch.device, (key) => batchSignature(batch, key)),
    );
    const canonical = verifyBatchOps(batch);
    const bodies = checkBodies(batch.ops);
    return {
      sig: batch.sig,
      device: batch.device,
      ops: batch.ops,
      canonical,
      bodies,
      sentAt: batch.sentAt,
      latestSeq: batch.latestSeq,
      trust: batchTrust(proof, batch.sentAt, this.#clock.now()),
      ...(batch.report !== undefined ? { report: batch.report } : {}),
    };
  }

  /** Ingests a batch `verifyBatch` returned; the answer is signed for the request it answers. */
  async ingestVerified(verified: SignedBatch): Promise<IngestResponse> {
    const now = this.#clock.now();
    if (this.#bugs.has('commit-after-ack')) {
      return this.#policies.signAnswer('batches', verified.sig, this.#ackBeforeCommit(verified, now));
    }
    let outcome: IngestOutcome;
    try {
      outcome = await this.#storage.ingest(verified, now, () => this.newId());
    } catch (error) {
      this.#noteWriteFailure(error);
      throw error;
    }
    this.#writeFailure = null;
    this.#counters.batches++;
    for (const r of outcome.results) this.#counters[r.status]++;
    // Only a v2 signature covers the report, and only a fresh sentAt places it on the server's clock.
    if (verified.report !== undefined && verified.trust === 'fresh') {
      await this.#recordReport(verified.device, verified.report, verified.sentAt, now);
    }
    const answer = { device: verified.device, results: outcome.results, highWater: outcome.highWater, serverTime: now };
    return this.#policies.signAnswer('batches', verified.sig, answer);
  }

  /**
   * Deliberate bug (`bugs` has 'commit-after-ack'; the simulator's bug-injection runs only): answers "accepted" for
   * every op at once and commits a moment later; a crash in between loses
   * ops the terminal believes confirmed.
   */
  #ackBeforeCommit(batch: VerifiedBatch, now: number): IngestResponse {
    this.#clock.setTimer(50, () => {
      this.#storage.ingest(batch, this.#clock.now(), () => this.newId()).catch(() => undefined);
    });
    const last = batch.ops[batch.ops.length - 1];
    return {
      device: batch.device,
      results: batch.ops.map((op) => ({ id: op.id, seq: op.seq, status: 'accepted' as const, at: now })),
      highWater: last?.seq ?? 0,
      serverTime: now,
    };
  }

  /** A device asks what the server holds for some of its op ids. */
  async queryOps(body: unknown): Promise<OpQueryResponse> {
    const query = opQuerySchema.parse(body);
    const { device } = await signingRefusals('ops/query', query.sig, this.#signRefusal, () =>
      this.#auth.signedBy(query.device, (key) =>
        verifyMessage(queryMessage(query.device, query.ids, query.at), query.sig, key),
      ),
    );
    const stored = new Map((await this.#storage.getDeviceOps(query.device, query.ids)).map((s) => [s.op.id, s]));
    const results: OpStatus[] = query.ids.map((id) => {
      const s = stored.get(id);
      return s
        ? { id, found: true, seq: s.op.seq, hash: s.op.hash, result: { id, seq: s.op.seq, ...s.result } }
        : { id, found: false };
    });
    const fresh = await this.#storage.getDevice(query.device);
    const answer = { results, highWater: fresh?.highWater ?? device.highWater, serverTime: this.#clock.now() };
    return this.#policies.signAnswer('ops/query', query.sig, answer);
  }

  /** Places a device (merchant, location, event) and answers its status; not_found for an unknown id. */
  async setPlacement(id: string, body: unknown): Promise<DeviceStatus> {
    const placement = placementSchema.parse(body);
    const device = await this.#storage.setDevicePlacement(id, placement, this.#clock.now());
    const status = device ? await this.#storage.deviceStatus(id) : null;
    if (!status) throw new ProtocolError('not_found', `no device ${id}`);
    return status;
  }

  /** The public policy keys, creating the signing key if the database has none yet. */
  policyKeys(): Promise<PolicyKeySet> {
    return this.#policies.keys();
  }

  /** Issues a policy from an operator's draft, refused naming the field (services/policy-desk.ts). */
  issuePolicy(body: unknown): Promise<SignedPolicy> {
    return this.#policies.issue(body);
  }

  /**
   * Offline card payments still to be forwarded, most urgent first, each
   * with its deadline: `deadlineMs` after min(approvedAt, receivedAt).
   */
  async forwardingDeadlines(limit: number, deadlineMs: number): Promise<ForwardingDeadlineRow[]> {
    const rows = await this.#storage.listForwardingDeadlines(limit);
    return rows.map((r) => ({ ...r, deadlineAt: r.deadlineFrom + deadlineMs }));
  }

  /** A draft validated as issuing validates it, and its exposure bound previewed; nothing issued. */
  dryRunPolicy(body: unknown): Promise<PolicyDryRun> {
    return this.#policies.dryRun(body);
  }

  /** Rotates the server's signing key (services/policy-desk.ts `rotate`). */
  rotateServerKey(): Promise<{ active: ServerKeyView; retired: ServerKeyView | null }> {
    return this.#policies.rotate();
  }

  /** Every server signing key ever used, oldest first, public halves only. */
  listServerKeys(): Promise<{ keys: ServerKeyView[] }> {
    return this.#policies.listKeys();
  }

  /** Every policy issued, oldest first, with the keys that verify them. */
  listPolicies(): Promise<{ policies: SignedPolicy[]; keys: PolicyKeySet }> {
    return this.#policies.list();
  }

  /** A device asks for its policy: the newest in force covering its placement, with the policy keys. */
  async fetchPolicy(body: unknown): Promise<PolicyResponse & AnswerSignature> {
    const request = policyRequestSchema.parse(body);
    const { device } = await this.#auth.signedBy(request.device, (key) =>
      verifyMessage(policyRequestMessage(request.device, request.at), request.sig, key),
    );
    const now = this.#clock.now();
    // Signed as a whole, bound to the request: a replayed or forged answer cannot pass for server contact.
    return this.#policies.signAnswer('policy', request.sig, {
      ...(await this.#policies.inForce(device, now, true)),
      serverTime: now,
    });
  }

  /** A device rotates its key (services/key-rotation.ts); the answer is signed like a batch answer. */
  rotateDeviceKey(body: unknown): Promise<RotateKeyResponse & AnswerSignature> {
    return rotateDeviceKey(
      {
        auth: this.#auth,
        storage: this.#storage,
        clock: this.#clock,
        signAnswer: (route, sig, answer) => this.#policies.signAnswer(route, sig, answer),
        graceMs: this.deviceKeyGraceMs,
      },
      body,
    );
  }

  /** How long a device's previous key stays accepted after a rotation (tests shorten it). */
  deviceKeyGraceMs: number = DEVICE_KEY_GRACE_MS;

  /**
   * A device reads its feed (docs/protocol.md, "Device feed"): the ledger
   * events after its cursor that concern it, its placement and the policy
   * in force for it. Signed like a policy request; refused when the cursor
   * is past the ledger's end. `at` is not checked for freshness: the answer
   * is a read of what the device may see anyway, and a device whose clock is
   * wrong must still learn of blocked wristbands and declines.
   */
  async fetchFeed(body: unknown): Promise<FeedResponse & AnswerSignature> {
    const request = feedRequestSchema.parse(body);
    const message = feedRequestMessage(request.device, request.after, request.at, request.report);
    const { device } = await this.#auth.signedBy(request.device, (key) => verifyMessage(message, request.sig, key));
    const now = this.#clock.now();
    const page = await this.#storage.listDeviceFeed(device.id, request.after, FEED_PAGE_MAX);
    checkFeedCursor(request.after, page.end);
    if (request.report !== undefined) await this.#recordReport(device.id, request.report, request.at, now);
    const { policy } = await this.#policies.inForce(device, now);
    const roster = await this.staff.rosterFor(device.location, request.roster, now);
    const priceList = await this.catalog.priceListFor(device.location, request.priceList, now);
    const stock = await this.stock.feedFor(device, request.stock);
    // Signed as a whole, bound to the request: nobody on the path can add a decline or drop a block.
    return this.#policies.signAnswer('feed', request.sig, {
      items: page.items.map(feedItemOf),
      next: page.next,
      more: page.more,
      placement: placementOf(device),
      policy: policy === null ? null : policyRef(policy.policy),
      ...(roster ? { roster } : {}),
      ...(priceList ? { priceList } : {}),
      ...(stock ? { stock } : {}),
      reports: true as const,
      serverTime: now,
    });
  }

  /**
   * A terminal asks whether the server confirms the Z report of one of its
   * own shifts (POST /v1/shifts/z-report): the check of
   * GET /v1/admin/shifts/:id/z-report, signed and bound to the request.
   * A shift of another device is not found, as an unknown one is.
   */
  async shiftReport(body: unknown): Promise<ShiftReportAnswer & AnswerSignature> {
    const request = shiftReportRequestSchema.parse(body);
    const message = shiftReportRequestMessage(request.device, request.shift, request.at);
    const { device } = await this.#auth.signedBy(request.device, (key) => verifyMessage(message, request.sig, key));
    const opened = await this.#storage.getOp(request.shift);
    if (opened?.op.kind !== 'shift.opened' || opened.op.device !== device.id) {
      throw new ProtocolError('not_found', `no shift ${request.shift} of this device`, { field: 'shift' });
    }
    const check = await this.ledger.zReport(request.shift);
    return this.#policies.signAnswer('shifts/z-report', request.sig, {
      shift: check.shift,
      state: check.state,
      stored: check.stored,
      pending: check.pending,
      notApplied: check.notApplied,
      server: check.server,
      differences: check.differences,
      serverTime: this.#clock.now(),
    });
  }

  /**
   * The exposure at `at` (default now): the bound every policy issued
   * allows the placed devices, and the offline-approved payments not yet
   * settled.
   */
  exposure(at: number = this.#clock.now()): Promise<ExposureAnswer> {
    return this.#policies.exposure(at);
  }
}
