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
import type { DeviceStatus, Op, OpResult, StoredResult } from '@holdfast/protocol';
import type { ExceptionRecord, LedgerEvent, ShiftRecord } from '../ingest/plan-ingest.js';

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
  listExceptions(after: number, limit: number): Promise<Page<ExceptionRecord & { pos: number }>>;
  listShifts(device: string | null): Promise<ShiftRecord[]>;
  summary(): Promise<StoreSummary>;
}
