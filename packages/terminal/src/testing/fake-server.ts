/**
 * FakeServer: an in-memory server with Holdfast's ingest semantics, used as
 * a Transport by the terminal's tests and benches (the simulator runs the
 * real HoldfastService). packages/sim/src/fake-server-parity.test.ts runs
 * one scenario set against both, so the two cannot drift apart unnoticed.
 *
 * It checks what the real server checks, in the same order (docs/protocol.md
 * §4.2): schema, devices, contiguity, duplicate ids, latestSeq, enrollment
 * and revocation, signature, hashes, chain links; then per op: duplicate,
 * conflict, fork, seq_gap, broken link, invalid body, accepted. It stores
 * what it took and answers retries with the stored result.
 *
 * Requests and answers cross a JSON round trip, as on a wire, so neither side
 * can share objects with the other.
 */

import type { KeyObject } from 'node:crypto';
import { type Clock, cryptoRandom, type Random, systemClock } from '@holdfast/domain';
import {
  type AnswerRoute,
  type Batch,
  batchHeadMessage,
  batchMessage,
  batchSchema,
  type DeviceReport,
  type EnrollRequest,
  type EnrollResponse,
  type ErrorCode,
  enrollmentMessage,
  enrollRequestSchema,
  FEED_PAGE_MAX,
  type FeedItem,
  type FeedRequest,
  type FeedResponse,
  type FeedStock,
  feedRequestMessage,
  feedRequestSchema,
  GENESIS_HASH,
  hashOp,
  type IngestResponse,
  importPublicKey,
  isKnownKind,
  type Op,
  type OpQuery,
  type OpQueryResponse,
  type OpResult,
  type OpStatus,
  opQuerySchema,
  type Placement,
  type PolicyKeySet,
  type PolicyRequest,
  type PolicyResponse,
  ProtocolError,
  parseBody,
  policyRef,
  policyRequestMessage,
  policyRequestSchema,
  queryMessage,
  refusalAnswer,
  type SignedKeySet,
  type SignedPolicy,
  type SignedPriceList,
  type SignedRoster,
  type StoredResult,
  signAnswer,
  uuidv7,
  ValidationError,
  verifyMessage,
} from '@holdfast/protocol';
import type { HealthResponse, Transport, TransportResult } from '../transport.js';

interface StoredOp {
  op: Op;
  result: StoredResult;
}

/** What the fake server holds for one device. */
export interface FakeDevice {
  id: string;
  label: string;
  publicKey: string;
  key: KeyObject;
  enrolledAt: number;
  revokedReason: string | null;
  highWater: number;
  headHash: string;
  latestSeq: number;
  ops: Map<number, StoredOp>;
}

export interface FakeServerOptions {
  clock?: Clock;
  /** Device ids and tokens (default: crypto random). */
  random?: Random;
}

export class FakeServer implements Transport {
  readonly #clock: Clock;
  readonly #random: Random;
  readonly #tokens = new Map<string, { label: string | null; usedBy: string | null }>();
  readonly #devices = new Map<string, FakeDevice>();
  readonly #ids = new Map<string, { device: string; seq: number }>();
  readonly #taken = new Map<string, number>();
  /** Requests received, by route. */
  readonly requests = { enroll: 0, batches: 0, queries: 0, policies: 0, feeds: 0, pings: 0 };
  /** What `fetchPolicy` answers (tests set it; it is handed out as is, never checked). */
  policy: SignedPolicy | null = null;
  /** The policy keys `fetchPolicy` answers with, and the enrollment answer's `policyKeys` unless null. */
  policyKeys: PolicyKeySet | null = null;
  /** The signed roster the feed carries to every device whose request holds another version (tests set it). */
  roster: SignedRoster | null = null;
  /** The signed price list the feed carries to every device whose request holds another version (tests set it). */
  priceList: SignedPriceList | null = null;
  /** The stock levels the feed carries to every device whose request holds another version (tests set it). */
  stock: FeedStock | null = null;
  /**
   * When set, the server signs its answers to batches and status queries with
   * this key (an id of `policyKeys`) and says so at enrollment, as the real
   * server does (docs/protocol.md §2, "Signed answers").
   */
  answerKey: { id: string; privateKey: KeyObject } | null = null;
  /** The signed key set `fetchPolicy` carries (protocol key-set.ts), unless null; tests set it. */
  keySet: SignedKeySet | null = null;
  /** Placements the feed (and the enrollment answer) report, by device id; tests set them. */
  readonly placements = new Map<string, Placement>();
  /** Most items one feed answer holds (the real server: FEED_PAGE_MAX). */
  feedPageSize: number = FEED_PAGE_MAX;
  /**
   * Whether this server takes device reports (protocol device-report.ts):
   * false (default) plays a server from before them, which refuses the
   * field; true says so in feed answers, as the real server does.
   */
  takesReports = false;
  /** Every report received, with the route that carried it, in order. */
  readonly reports: { route: 'batches' | 'feed'; report: DeviceReport }[] = [];
  /** The feed: events at positions 1, 2, … (see settlePayment, pushFeedEvent). */
  readonly #feed: FeedItem[] = [];

  constructor(options: FakeServerOptions = {}) {
    this.#clock = options.clock ?? systemClock;
    this.#random = options.random ?? cryptoRandom;
  }

  /** Issues a one-time enrollment token. */
  createToken(label: string | null = null): string {
    const token = Buffer.from(this.#random.bytes(32)).toString('base64url');
    this.#tokens.set(token, { label, usedBy: null });
    return token;
  }

  device(id: string): FakeDevice | undefined {
    return this.#devices.get(id);
  }

  revoke(deviceId: string, reason = 'revoked by operator'): void {
    const device = this.#require(deviceId);
    device.revokedReason = reason;
  }

  /** Forgets the device's ops above `seq`, as a server restored from an older backup would. */
  restoreTo(deviceId: string, seq: number): void {
    const device = this.#require(deviceId);
    for (const [s, stored] of device.ops) {
      if (s <= seq) continue;
      device.ops.delete(s);
      this.#ids.delete(stored.op.id);
      this.#taken.delete(stored.op.id);
    }
    device.highWater = Math.min(device.highWater, seq);
    device.headHash = device.ops.get(device.highWater)?.op.hash ?? GENESIS_HASH;
  }

  /** The device's stored ops in seq order. */
  storedOps(deviceId: string): Op[] {
    const device = this.#require(deviceId);
    return [...device.ops.values()].sort((a, b) => a.op.seq - b.op.seq).map((s) => s.op);
  }

  /** How many times an op was taken into a chain (exactly-once means never above 1). */
  timesApplied(id: string): number {
    return this.#taken.get(id) ?? 0;
  }

  async enroll(req: EnrollRequest): Promise<TransportResult<EnrollResponse>> {
    this.requests.enroll++;
    const input = wire(req);
    let parsed: EnrollRequest;
    try {
      parsed = enrollRequestSchema.parse(input);
    } catch (error) {
      return refuse(error);
    }
    const token = this.#tokens.get(parsed.token);
    if (!token) return fail('token_invalid', 'unknown enrollment token');
    if (
      !verifyMessage(enrollmentMessage(parsed.token, parsed.publicKey), parsed.sig, importPublicKey(parsed.publicKey))
    ) {
      return fail('bad_signature', 'enrollment signature does not verify');
    }
    if (token.usedBy) {
      const device = this.#devices.get(token.usedBy);
      if (device?.publicKey !== parsed.publicKey) return fail('token_used', 'token was used by another key');
      return ok(this.#enrolled(device));
    }
    const id = uuidv7(this.#clock.now(), this.#random.bytes(10));
    const device: FakeDevice = {
      id,
      label: parsed.label ?? token.label ?? id.slice(-8),
      publicKey: parsed.publicKey,
      key: importPublicKey(parsed.publicKey),
      enrolledAt: this.#clock.now(),
      revokedReason: null,
      highWater: 0,
      headHash: GENESIS_HASH,
      latestSeq: 0,
      ops: new Map(),
    };
    this.#devices.set(id, device);
    token.usedBy = id;
    return ok(this.#enrolled(device));
  }

  async sendBatch(batch: Batch): Promise<TransportResult<IngestResponse>> {
    this.requests.batches++;
    let parsed: Batch;
    try {
      parsed = batchSchema.parse(wire(batch)) as Batch;
    } catch (error) {
      return refuse(error);
    }
    if (parsed.report !== undefined && !this.takesReports)
      return fail('invalid_request', 'report: no such field', 'report');
    const problem = this.#checkBatch(parsed);
    if (problem) return problem;
    if (parsed.report !== undefined) this.reports.push({ route: 'batches', report: parsed.report });
    const device = this.#devices.get(parsed.device) as FakeDevice;
    device.latestSeq = Math.max(device.latestSeq, parsed.latestSeq);
    const results = parsed.ops.map((op) => this.#ingest(device, op));
    const answer = { device: device.id, results, highWater: device.highWater, serverTime: this.#clock.now() };
    return ok(this.#signed('batches', parsed.sig, answer));
  }

  async queryOps(query: OpQuery): Promise<TransportResult<OpQueryResponse>> {
    this.requests.queries++;
    let parsed: OpQuery;
    try {
      parsed = opQuerySchema.parse(wire(query));
    } catch (error) {
      return refuse(error);
    }
    const device = this.#devices.get(parsed.device);
    const refused = refuseUnlessSignedBy(
      device,
      parsed.device,
      !!device && verifyMessage(queryMessage(parsed.device, parsed.ids, parsed.at), parsed.sig, device.key),
    );
    if (refused || !device) return this.#signedRefusal('ops/query', parsed.sig, refused ?? notSigned(parsed.device));
    const results: OpStatus[] = parsed.ids.map((id) => {
      const where = this.#ids.get(id);
      const stored = where?.device === device.id ? device.ops.get(where.seq) : undefined;
      return stored
        ? {
            id,
            found: true,
            seq: stored.op.seq,
            hash: stored.op.hash,
            result: { id, seq: stored.op.seq, ...stored.result },
          }
        : { id, found: false };
    });
    return ok(
      this.#signed('ops/query', parsed.sig, { results, highWater: device.highWater, serverTime: this.#clock.now() }),
    );
  }

  async fetchPolicy(req: PolicyRequest): Promise<TransportResult<PolicyResponse>> {
    this.requests.policies++;
    let parsed: PolicyRequest;
    try {
      parsed = policyRequestSchema.parse(wire(req));
    } catch (error) {
      return refuse(error);
    }
    const device = this.#devices.get(parsed.device);
    const refused = refuseUnlessSignedBy(
      device,
      parsed.device,
      !!device && verifyMessage(policyRequestMessage(parsed.device, parsed.at), parsed.sig, device.key),
    );
    if (refused || !device) return refused ?? notSigned(parsed.device);
    return ok(
      this.#signed('policy', parsed.sig, {
        policy: this.policy,
        keys: this.policyKeys ?? {},
        ...(this.keySet === null ? {} : { keySet: this.keySet }),
        serverTime: this.#clock.now(),
      }),
    );
  }

  /**
   * Settles the card tender `tenderIndex` of a stored sale, as the real
   * server's forwarder would: a `payment.settled` or, with a decline code,
   * `payment.declined` event in the feed of the device that recorded it.
   */
  settlePayment(opId: string, tenderIndex: number, declineCode: string | null = null): FeedItem {
    const where = this.#ids.get(opId);
    const stored = where ? this.#devices.get(where.device)?.ops.get(where.seq) : undefined;
    if (!where || !stored) throw new Error(`fake server: no stored op ${opId}`);
    const body = stored.op.body as {
      currency?: string;
      tenders?: { type: string; amount: number; brand?: string; last4?: string }[];
    };
    const tender = body.tenders?.[tenderIndex];
    if (tender?.type !== 'card') throw new Error(`fake server: tender ${tenderIndex} of op ${opId} is not a card`);
    return this.pushFeedEvent(where.device, declineCode === null ? 'payment.settled' : 'payment.declined', opId, {
      tenderIndex,
      amount: tender.amount,
      currency: body.currency,
      brand: tender.brand,
      last4: tender.last4,
      processorId: `auth_${this.#feed.length + 1}`,
      declineCode,
    });
  }

  /** Appends an event to the feed: `payment.*` go to `device` only, every other type to every device. */
  pushFeedEvent(device: string, type: string, opId: string, data: Record<string, unknown>): FeedItem {
    const item: FeedItem = { pos: this.#feed.length + 1, type, opId, device, at: this.#clock.now(), data };
    this.#feed.push(item);
    return wire(item);
  }

  async fetchFeed(req: FeedRequest): Promise<TransportResult<FeedResponse>> {
    this.requests.feeds++;
    let parsed: FeedRequest;
    try {
      parsed = feedRequestSchema.parse(wire(req));
    } catch (error) {
      return refuse(error);
    }
    if (parsed.report !== undefined && !this.takesReports)
      return fail('invalid_request', 'report: no such field', 'report');
    const device = this.#devices.get(parsed.device);
    const refused = refuseUnlessSignedBy(
      device,
      parsed.device,
      !!device &&
        verifyMessage(
          feedRequestMessage(parsed.device, parsed.after, parsed.at, parsed.report),
          parsed.sig,
          device.key,
        ),
    );
    if (refused || !device) return refused ?? notSigned(parsed.device);
    if (parsed.report !== undefined) this.reports.push({ route: 'feed', report: parsed.report });
    const end = this.#feed.length;
    if (parsed.after > end) return fail('invalid_request', `feed cursor ${parsed.after} is past the end (${end})`);
    const mine = this.#feed.slice(parsed.after).filter((e) => !e.type.startsWith('payment.') || e.device === device.id);
    const items = mine.slice(0, this.feedPageSize);
    const more = mine.length > this.feedPageSize;
    return ok(
      this.#signed('feed', parsed.sig, {
        items,
        next: more ? (items[items.length - 1] as FeedItem).pos : end,
        more,
        placement: this.placements.get(device.id) ?? null,
        policy: this.policy === null ? null : policyRef(this.policy.policy),
        ...(this.roster && this.roster.roster.version !== parsed.roster ? { roster: this.roster } : {}),
        ...(this.priceList && this.priceList.list.version !== parsed.priceList ? { priceList: this.priceList } : {}),
        ...(this.stock && this.stock.version !== parsed.stock ? { stock: this.stock } : {}),
        ...(this.takesReports ? { reports: true as const } : {}),
        serverTime: this.#clock.now(),
      }),
    );
  }

  async ping(): Promise<TransportResult<HealthResponse>> {
    this.requests.pings++;
    return ok({ status: 'ok', time: this.#clock.now() });
  }

  #checkBatch(batch: Batch): TransportResult<never> | null {
    const ops = batch.ops;
    for (const [i, op] of ops.entries()) {
      if (op.device !== batch.device) return fail('device_mismatch', `ops[${i}].device is not the batch's device`);
      const prev = ops[i - 1];
      if (prev && op.seq !== prev.seq + 1) return fail('seq_not_contiguous', `ops[${i}].seq does not follow`);
    }
    if (new Set(ops.map((op) => op.id)).size !== ops.length) return fail('duplicate_in_batch', 'an id appears twice');
    const last = ops.at(-1) as Op;
    if (batch.latestSeq < last.seq) return fail('invalid_request', 'latestSeq is below the last op');
    const device = this.#devices.get(batch.device);
    // v2 signs every field; v1 (older terminals) the ops only, so its latestSeq is not recorded.
    const v2 = !!device && verifyMessage(batchMessage(batch), batch.sig, device.key);
    const v1 =
      !v2 && !!device && verifyMessage(batchHeadMessage(batch.device, last.seq, last.hash), batch.sig, device.key);
    const refused = refuseUnlessSignedBy(device, batch.device, v2 || v1);
    if (refused || !device) return this.#signedRefusal('batches', batch.sig, refused ?? notSigned(batch.device));
    for (const [i, op] of ops.entries()) {
      if (hashOp(op) !== op.hash) return fail('hash_mismatch', `ops[${i}].hash is not the op's hash`);
      const prev = ops[i - 1];
      if (prev ? op.prev !== prev.hash : op.seq === 1 && op.prev !== GENESIS_HASH) {
        return fail('chain_broken', `ops[${i}].prev does not link to the op before it`);
      }
    }
    return null;
  }

  #ingest(device: FakeDevice, op: Op): OpResult {
    const known = this.#ids.get(op.id);
    if (known) {
      const stored = this.#devices.get(known.device)?.ops.get(known.seq);
      if (stored && stored.op.hash === op.hash) {
        return {
          id: op.id,
          seq: op.seq,
          status: 'duplicate',
          original: { id: op.id, seq: op.seq, ...stored.result },
        };
      }
      return { id: op.id, seq: op.seq, status: 'conflict', message: `op ${op.id} was stored with another hash` };
    }
    if (device.ops.has(op.seq)) {
      return { id: op.id, seq: op.seq, status: 'fork', message: `seq ${op.seq} is held by another op` };
    }
    if (op.seq > device.highWater + 1) {
      const expectedSeq = device.highWater + 1;
      return {
        id: op.id,
        seq: op.seq,
        status: 'rejected',
        reason: 'seq_gap',
        message: `send seq ${expectedSeq} first`,
        expectedSeq,
      };
    }
    if (op.prev !== device.headHash) {
      return { id: op.id, seq: op.seq, status: 'fork', message: `prev does not match the stored op ${op.seq - 1}` };
    }
    const result = this.#judge(op);
    device.ops.set(op.seq, { op, result });
    device.highWater = op.seq;
    device.headHash = op.hash;
    this.#ids.set(op.id, { device: device.id, seq: op.seq });
    this.#taken.set(op.id, (this.#taken.get(op.id) ?? 0) + 1);
    return { id: op.id, seq: op.seq, ...result };
  }

  #judge(op: Op): StoredResult {
    const at = this.#clock.now();
    if (!isKnownKind(op.kind)) {
      return { status: 'rejected', reason: 'unknown_kind', message: `unknown kind ${op.kind}`, at };
    }
    try {
      parseBody(op.kind, op.body);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return {
        status: 'rejected',
        reason: 'invalid_body',
        message: error.message,
        field: error.field,
        rule: error.rule,
        at,
      };
    }
    return { status: 'accepted', at };
  }

  /** A refusal that stops a terminal, signed as the real server signs it (server signed-refusal.ts). */
  #signedRefusal(route: AnswerRoute, requestSig: string, refused: TransportResult<never>): TransportResult<never> {
    // Only device_revoked, which follows a verified signature; unknown_device is never signed.
    if (refused.ok || this.answerKey === null || refused.error.code !== 'device_revoked') return refused;
    const { serverKey, serverSig } = signAnswer(route, requestSig, refusalAnswer(refused.error), this.answerKey);
    return { ...refused, error: { ...refused.error, serverKey, serverSig } };
  }

  #signed<A extends object>(route: AnswerRoute, requestSig: string, answer: A): A {
    return this.answerKey === null ? answer : signAnswer(route, requestSig, answer, this.answerKey);
  }

  #enrolled(device: FakeDevice): EnrollResponse {
    const answer: EnrollResponse = {
      deviceId: device.id,
      label: device.label,
      enrolledAt: device.enrolledAt,
      serverTime: this.#clock.now(),
    };
    if (this.policyKeys !== null) answer.policyKeys = { ...this.policyKeys };
    if (this.answerKey !== null) answer.signsAnswers = true;
    const placement = this.placements.get(device.id);
    if (placement) answer.placement = { ...placement };
    return answer;
  }

  #require(id: string): FakeDevice {
    const device = this.#devices.get(id);
    if (!device) throw new Error(`fake server: no device ${id}`);
    return device;
  }
}

function wire<T>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}

function ok<T>(body: T): TransportResult<T> {
  return { ok: true, status: 200, body: wire(body) };
}

/**
 * The real server's one answer for an unknown device or a signature that
 * does not verify (server/src/device-auth.ts); the revocation only to a
 * validly signed request.
 */
function refuseUnlessSignedBy(
  device: FakeDevice | undefined,
  id: string,
  verified: boolean,
): TransportResult<never> | null {
  if (!device || !verified) return notSigned(id);
  if (device.revokedReason !== null) return fail('device_revoked', device.revokedReason, 'device');
  return null;
}

function notSigned(id: string): TransportResult<never> {
  return fail('unknown_device', `no device enrolled as ${id} signed this request`, 'sig');
}

function fail(code: ErrorCode, message: string, field?: string): TransportResult<never> {
  const error = new ProtocolError(code, message, field === undefined ? {} : { field });
  return { ok: false, status: error.status, error: error.toWire() };
}

function refuse(error: unknown): TransportResult<never> {
  if (!(error instanceof ValidationError)) throw error;
  const wireError = ProtocolError.fromValidation(error).toWire();
  return { ok: false, status: 400, error: wireError };
}
