/**
 * Request and response messages of the HTTP API (see docs/protocol.md).
 *
 * Requests from terminals are untrusted: each has a schema the server
 * parses it with. Responses have types; the terminal checks the parts it
 * acts on.
 */
import type { SignedPriceList } from './catalog.js';
import { type DeviceReportView, deviceReportSchema } from './device-report.js';
import type { SignedKeySet } from './key-set.js';
import { MAX_AMOUNT } from './money.js';
import { epochMs, type Op, opSchema, uuid } from './op.js';
import type { OpResult, StoredAnswer } from './results.js';
import type { SignedPolicy } from './risk-policy.js';
import * as s from './schema.js';
import type { SignedRoster } from './staff.js';
import { labelString, publicKeyString, refString, signatureString, tokenString } from './wire-strings.js';

/** Most ops one batch may carry. */
export const BATCH_MAX_OPS = 500;
/**
 * How far a batch's `sentAt` may be from the server clock for the server to
 * record what it derives from it (`lastSeenAt`, `clockOffsetMs`): 24 hours.
 * Wide, because tills really have wrong clocks; a batch outside it is still
 * ingested (docs/protocol.md §4.2, "Freshness").
 */
export const BATCH_FRESHNESS_MS = 24 * 60 * 60 * 1000;

/**
 * Largest request body a server takes by default, bytes (it advertises its
 * own in GET /v1/health as `limits.bodyBytes`). A larger body is answered
 * 413 before it is read and the connection closed, which a client may see as
 * a network error: a terminal never builds a batch over this.
 */
export const BATCH_MAX_BYTES = 4 * 1024 * 1024;
/** Most op ids one status query may ask about. */
export const QUERY_MAX_IDS = 500;

// ---- placement ------------------------------------------------------------

/**
 * Where a device belongs: a merchant, and optionally one of its locations
 * and an event. A risk policy's scope names devices by it, and exposure is
 * added up per placement.
 */
export const placementSchema = s.object({
  merchant: refString(),
  location: s.nullable(refString()),
  event: s.nullable(refString()),
});
export type Placement = s.Infer<typeof placementSchema>;

/** Public keys the server signs risk policies with: key id → raw Ed25519 public key (base64url). */
export type PolicyKeySet = Record<string, string>;

// ---- enrollment -----------------------------------------------------------

export const enrollRequestSchema = s.object({
  token: tokenString(),
  publicKey: publicKeyString(),
  label: s.optional(labelString()),
  /** Signature over enrollmentMessage(token, publicKey) with the new private key. */
  sig: signatureString(),
});
export type EnrollRequest = s.Infer<typeof enrollRequestSchema>;

export interface EnrollResponse {
  deviceId: string;
  label: string;
  enrolledAt: number;
  serverTime: number;
  /**
   * The server's policy keys, for the terminal to pin (trust on first use)
   * and verify risk policies with. Additive: servers before risk policies
   * do not send it.
   */
  policyKeys?: PolicyKeySet;
  /**
   * Where the server placed the device (from its enrollment token), or null.
   * Additive: servers before the device feed do not send it.
   */
  placement?: Placement | null;
  /**
   * True when this server signs its answers to batches, status queries and
   * online authorizations with the policy keys above (docs/protocol.md §2,
   * "Signed answers"): the terminal then takes no unsigned answer to those.
   * Additive: servers before signed answers do not send it.
   */
  signsAnswers?: boolean;
}

export const createTokenRequestSchema = s.refine(
  s.object({
    label: s.optional(labelString()),
    /** How long the token stays redeemable; default 24 h, at most 30 days. */
    ttlSeconds: s.optional(s.int({ min: 60, max: 30 * 24 * 3600 })),
    /** Placement given to the device that redeems the token (see placementSchema). */
    merchant: s.optional(refString()),
    location: s.optional(s.nullable(refString())),
    event: s.optional(s.nullable(refString())),
  }),
  (t) =>
    t.merchant === undefined && (t.location != null || t.event != null)
      ? ['merchant', 'required when location or event is given']
      : null,
);
export type CreateTokenRequest = s.Infer<typeof createTokenRequestSchema>;

export interface CreateTokenResponse {
  token: string;
  label: string | null;
  expiresAt: number;
  /** The placement the enrolling device will get, or null. */
  placement: Placement | null;
}

// ---- ingest -----------------------------------------------------------------

export const batchSchema = s.object({
  device: uuid(),
  ops: s.array(opSchema, { minItems: 1, maxItems: BATCH_MAX_OPS }),
  /** Signature over batchMessage(the batch): every other field (v2); batchHeadMessage from v1 terminals. */
  sig: signatureString(),
  /** Device clock when the batch was sent (ms): the freshness check and the clock-offset estimate. */
  sentAt: epochMs(),
  /** Newest seq the device has recorded, sent or not: tells the server how far behind it is. */
  latestSeq: s.int({ min: 1 }),
  /** Optional (terminals before it omit it): the device's report, covered by `sig` (device-report.ts). */
  report: s.optional(deviceReportSchema),
});
export type Batch = Omit<s.Infer<typeof batchSchema>, 'ops'> & { ops: Op[] };

export interface IngestResponse {
  device: string;
  /** One result per op, in the order of the batch. */
  results: OpResult[];
  /** Highest seq of this device the server holds with no gap below it. */
  highWater: number;
  serverTime: number;
  /** The server's signature (AnswerSignature), from servers that sign answers. */
  serverKey?: string;
  serverSig?: string;
}

// ---- status queries -----------------------------------------------------------

export const opQuerySchema = s.object({
  device: uuid(),
  ids: s.array(uuid(), { minItems: 1, maxItems: QUERY_MAX_IDS }),
  at: epochMs(),
  /** Signature over queryMessage(device, ids, at). */
  sig: signatureString(),
});
export type OpQuery = s.Infer<typeof opQuerySchema>;

// ---- risk policy ----------------------------------------------------------------

/** A terminal asks for the risk policy in force for it (docs/risk-policy.md). */
export const policyRequestSchema = s.object({
  device: uuid(),
  at: epochMs(),
  /** Signature over policyRequestMessage(device, at). */
  sig: signatureString(),
});
export type PolicyRequest = s.Infer<typeof policyRequestSchema>;

export interface PolicyResponse {
  /** The newest policy in force that covers the device, or null when there is none. */
  policy: SignedPolicy | null;
  /** Every key a policy from this server may be signed with. */
  keys: PolicyKeySet;
  /**
   * `keys` signed by each key in it (key-set.ts): how a terminal that pinned
   * older keys learns a rotated one. Servers before key rotation omit it.
   */
  keySet?: SignedKeySet;
  serverTime: number;
}

// ---- device feed ----------------------------------------------------------------

/** Most items one feed page holds. */
export const FEED_PAGE_MAX = 200;

/** A terminal asks for what the server has to tell it after cursor `after` (docs/protocol.md, "Device feed"). */
export const feedRequestSchema = s.object({
  device: uuid(),
  /** The `next` of the previous answer; 0 the first time. */
  after: s.int({ min: 0 }),
  at: epochMs(),
  /** Signature over feedRequestMessage(device, after, at). */
  sig: signatureString(),
  /**
   * Optional: the roster version the terminal holds (0: none). The answer
   * carries the location's signed roster only when it differs. Not covered
   * by `sig`: it only saves bytes (docs/protocol.md, "Device feed").
   */
  roster: s.optional(s.int({ min: 0 })),
  /**
   * Optional: the price-list version the terminal holds (0: none). The
   * answer carries the location's signed price list only when a newer one
   * exists (docs/catalog-and-stock.md). Not covered by `sig`, like `roster`.
   */
  priceList: s.optional(s.int({ min: 0 })),
  /**
   * Optional: the `version` of the stock levels the terminal holds (0:
   * none). The answer carries the location's levels only when they changed
   * since (docs/catalog-and-stock.md). Not covered by `sig`, like `roster`.
   */
  stock: s.optional(s.int({ min: 0 })),
  /** Optional: the device's report (device-report.ts), covered by `sig` when present. */
  report: s.optional(deviceReportSchema),
});
export type FeedRequest = s.Infer<typeof feedRequestSchema>;

/** What a `payment.settled` / `payment.declined` item carries: one card tender of one of the device's own ops. */
export interface PaymentFeedData {
  tenderIndex: number;
  amount: number;
  currency: string;
  brand: string;
  last4: string;
  /** The processor's authorization id. */
  processorId: string;
  /** The processor's decline code; null for a settled payment. */
  declineCode: string | null;
}

/** Schema the terminal checks a payment item's data with before acting on it. */
export const paymentFeedDataSchema = s.object({
  tenderIndex: s.int({ min: 0, max: 9 }),
  amount: s.int({ min: 1, max: MAX_AMOUNT }),
  currency: s.string({ minLength: 3, maxLength: 3 }),
  brand: s.string({ minLength: 1, maxLength: 32 }),
  last4: s.string({ minLength: 4, maxLength: 4 }),
  processorId: s.string({ minLength: 0, maxLength: 200 }),
  declineCode: s.nullable(s.string({ minLength: 1, maxLength: 200 })),
});

/**
 * One thing the server tells a device: a ledger event at position `pos`.
 * `payment.*` items concern the device's own ops (data: PaymentFeedData);
 * `wristband.*` items concern every device of the merchant (data as the
 * event wrote it). A terminal ignores nothing silently: types it does not
 * handle are kept for whoever does.
 */
export interface FeedItem {
  pos: number;
  type: string;
  /** The op the event is about. */
  opId: string;
  /** The device whose op it is. */
  device: string;
  /** Server clock when the event was written. */
  at: number;
  data: Record<string, unknown>;
}

export interface FeedResponse {
  /** In `pos` order, at most FEED_PAGE_MAX. */
  items: FeedItem[];
  /** The cursor to ask with next: every event at or below it that concerns the device is in this page or an earlier one. */
  next: number;
  /** True if more items may follow `next` now: ask again at once. */
  more: boolean;
  /** The device's current placement, or null if it was never placed. */
  placement: Placement | null;
  /** policyRef of the newest policy in force for the device, or null: a terminal holding another refreshes. */
  policy: string | null;
  /**
   * The signed roster of the device's location (staff.ts), present when the
   * location has staff and its version differs from the request's `roster`.
   * Absent from servers before staff at the till.
   */
  roster?: SignedRoster;
  /**
   * The signed price list of the device's location (catalog.ts), present
   * when the location has one newer than the request's `priceList`.
   * Absent from servers before the catalog.
   */
  priceList?: SignedPriceList;
  /**
   * The last-known stock of the device's location (covered by the answer's
   * signature), present when it changed since the request's `stock`.
   * Absent from servers before stock, and for a device placed nowhere.
   */
  stock?: FeedStock;
  /** True from servers that take device reports (device-report.ts) on feed polls and batches; absent before. */
  reports?: true;
  serverTime: number;
}

/** The stock levels of a location as the server knew them when it answered (docs/catalog-and-stock.md). */
export interface FeedStock {
  location: string;
  /** Changes whenever a level of the location moves (the newest level change, server clock). */
  version: number;
  /** The device's high-water mark read before the levels: its sales up to it are in them. */
  throughSeq: number;
  /** Every tracked level of the location. */
  levels: { sku: string; qty: number }[];
}

export type OpStatus =
  | { id: string; found: false }
  | { id: string; found: true; seq: number; hash: string; result: StoredAnswer };

export interface OpQueryResponse {
  results: OpStatus[];
  highWater: number;
  serverTime: number;
  /** The server's signature (AnswerSignature), from servers that sign answers. */
  serverKey?: string;
  serverSig?: string;
}

// ---- operator -------------------------------------------------------------------

export const revokeRequestSchema = s.object({ reason: s.string({ minLength: 1, maxLength: 500 }) });

/** What the server knows of one device's stream. */
export interface DeviceStatus {
  id: string;
  label: string;
  publicKey: string;
  enrolledAt: number;
  revokedAt: number | null;
  revokeReason: string | null;
  /** Highest seq held with no gap below it (0 before the first op). */
  highWater: number;
  headHash: string;
  /** Newest seq the device said it had recorded (0 if it never sent a batch). */
  latestSeq: number;
  /** Ops the device has recorded that the server does not hold yet: latestSeq − highWater. */
  behind: number;
  /** Set when the device sent ops after a hole: the seqs the server is missing. */
  gap: { from: number; to: number } | null;
  lastSeenAt: number | null;
  /** Server time minus device time, estimated from the newest batch (ms). */
  clockOffsetMs: number | null;
  conflicts: number;
  forks: number;
  /** Where the device belongs (merchant, location, event), or null if it was never placed. */
  placement: Placement | null;
  /** The newest report the device sent (oldest pending op, policy, software), or null if it never sent one. */
  report: DeviceReportView | null;
}

// ---- a shift's Z report confirmed by the server ------------------------------

/**
 * A terminal asks whether the server confirms the Z report of one of its own
 * shifts (POST /v1/shifts/z-report; docs/receipts.md, "The Z report confirmed
 * by the server").
 */
export const shiftReportRequestSchema = s.object({
  device: uuid(),
  /** Id of the shift's `shift.opened` op. */
  shift: uuid(),
  at: epochMs(),
  /** Signature over shiftReportRequestMessage(device, shift, at). */
  sig: signatureString(),
});
export type ShiftReportRequest = s.Infer<typeof shiftReportRequestSchema>;

/** The drawer figures the till's Z report and the server's projection both state. */
export const SHIFT_DRAWER_FIELDS = [
  'openingFloat',
  'cashIn',
  'cashOut',
  'expectedCash',
  'countedCash',
  'variance',
] as const;
export type ShiftDrawerField = (typeof SHIFT_DRAWER_FIELDS)[number];

/**
 * The server's word on a shift's Z report (signed, route `shifts/z-report`):
 * `open` until it holds the shift's closing; `confirmed` once closed with
 * every op applied and the same drawer figures; `differs` naming the op not
 * applied or the figure that differs.
 */
export interface ShiftReportAnswer {
  shift: string;
  state: 'open' | 'confirmed' | 'differs';
  /** Ops of the shift the server holds. */
  stored: number;
  /** Seqs the server lacks between the opening and the last op it holds. */
  pending: number[];
  notApplied: { id: string; seq: number; kind: string; status: string }[];
  /** The server's projection of what it applied. */
  server: Record<ShiftDrawerField, number | null>;
  differences: { field: ShiftDrawerField; till: number; server: number | null }[];
  serverTime: number;
}
