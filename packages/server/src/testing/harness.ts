/**
 * Test harness: a complete server on in-memory SQLite (or any Storage) with a
 * settable clock, and devices enrolled through the real API that can build
 * signed batches.
 * Used by the server's own tests; not part of the public API.
 */

import type { KeyObject } from 'node:crypto';
import { ManualClock } from '@holdfast/domain/testing';
import {
  type Batch,
  type CardTender,
  type CashMovedBody,
  ChainBuilder,
  type Decision,
  type DeviceKeys,
  type EnrollResponse,
  enrollmentMessage,
  generateDeviceKeys,
  type IngestResponse,
  importPrivateKey,
  NO_DECISION,
  type Op,
  type SaleBody,
  type ShiftOpenedBody,
  signBatch,
  signMessage,
  type WireError,
} from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import type { ProcessorLike } from '../forwarding/forwarder.js';
import { HoldfastService, type HoldfastServiceOptions } from '../holdfast-service.js';
import type { AdmissionOptions } from '../http/admission.js';
import { buildApp } from '../http/build-app.js';
import type { EdgeOptions } from '../http/edge.js';
import type { MetricsOptions } from '../http/metrics.js';
import type { SourceLimitOptions } from '../http/source-limit.js';
import type { OperatorRole } from '../model/operator.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';
export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/**
 * An HTTP answer. `body` and `error` are the same parsed JSON, typed as the
 * success shape and as the WireError every non-2xx answer carries; a test
 * reads the view that matches `status`.
 */
export interface Answer<T> {
  status: number;
  body: T;
  error: WireError;
}

export interface TestDevice {
  id: string;
  keys: DeviceKeys;
  privateKey: KeyObject;
  chain: ChainBuilder;
  /** Appends a shift.opened op (EUR, float 10000). */
  openShift(body?: Partial<ShiftOpenedBody>): Op;
  /** Appends a cash sale of `total` minor units on `shift`. */
  sale(shift: string, total?: number, extra?: Partial<SaleBody>): Op;
  /** Appends a sale of `total` paid by one card (EUR), recorded with `decision` (default: none). */
  cardSale(shift: string, total: number, decision?: Decision, card?: Partial<CardTender>): Op;
  /** Appends a cash.moved op (EUR). */
  cashMove(shift: string, direction: 'in' | 'out', amount: number, extra?: Partial<CashMovedBody>): Op;
  /** Appends a shift.closed op (EUR) with the clerk's count. */
  closeShift(shift: string, countedCash: number): Op;
  /** A batch signed with this device's key; sentAt defaults to the harness clock. */
  batch(ops: readonly Op[], latestSeq?: number, sentAt?: number): Batch;
}

export interface HarnessOptions {
  /** Storage to run on (migrated by the harness); default a fresh in-memory SQLite. */
  storage?: Storage;
  /** How to dispose of the storage on close(); default storage.close(). */
  closeStorage?: (storage: Storage) => Promise<void>;
  bodyLimit?: number;
  /**
   * Admission limits; by default a device may have any number of batches in
   * flight, because the storage suite races copies of one batch on purpose
   * (admission itself is tested in http/admission.test.ts).
   */
  admission?: Partial<AdmissionOptions>;
  /** Timeouts and connection cap (http/edge.ts). */
  edge?: Partial<EdgeOptions>;
  /**
   * The limit on refused requests per source address (http/source-limit.ts).
   * Off by default: the harness clock is manual (buckets never refill) and
   * tests send many refusals from one address on purpose; the limit itself is
   * tested in http/edge.test.ts and http/source-limit.test.ts.
   */
  sourceLimit?: Partial<SourceLimitOptions>;
  /** A card processor for online authorizations (POST /v1/authorize); none by default. */
  processor?: ProcessorLike;
  processorTimeoutMs?: number;
  /** Serve GET /metrics with these options (http/metrics.ts); off by default. */
  metrics?: MetricsOptions;
  /** CORS allowlist (http/edges.ts); none by default. */
  corsOrigins?: readonly string[];
  /** Operator accounts' options; default: scrypt at N = 2^10 (tests only: cheap hashing, same code). */
  operators?: HoldfastServiceOptions['operators'];
}

/** The password the harness gives every operator account it creates. */
export const OPERATOR_PASSWORD = 'correct horse battery staple';

export interface RequestOptions {
  payload?: unknown;
  headers?: Record<string, string>;
  /** Send the operator bearer token. */
  admin?: boolean;
}

export interface Harness {
  storage: Storage;
  service: HoldfastService;
  app: FastifyInstance;
  clock: ManualClock;
  adminHeaders: { authorization: string };
  newToken(label?: string, ttlSeconds?: number): Promise<string>;
  /** Posts an enrollment for `keys` with `token`, signed with `keys` unless `sig` is given. */
  enroll(token: string, keys: DeviceKeys, extra?: { label?: string; sig?: string }): Promise<Answer<EnrollResponse>>;
  enrollDevice(label?: string): Promise<TestDevice>;
  /**
   * Creates operator account `username` with `role` (password OPERATOR_PASSWORD)
   * and logs it in: the bearer headers of its session.
   */
  operator(username: string, role: OperatorRole): Promise<{ authorization: string }>;
  send(batch: unknown): Promise<Answer<IngestResponse>>;
  request<T = unknown>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    options?: RequestOptions,
  ): Promise<Answer<T>>;
  close(): Promise<void>;
}

/** A valid cash sale body of one line. */
export function saleBody(shift: string, total: number, extra: Partial<SaleBody> = {}): SaleBody {
  return {
    shift,
    currency: 'EUR',
    lines: [{ sku: 'BEER-05', name: 'Beer 0.5l', qty: 1, unitPrice: total }],
    total,
    tenders: total > 0 ? [{ type: 'cash', amount: total, tendered: total }] : [],
    ...extra,
  };
}

/** A card tender of `amount` (a Visa ending 4242 unless told otherwise). */
export function cardTender(amount: number, card: Partial<CardTender> = {}): CardTender {
  return { type: 'card', amount, token: 'tok_test_4242', brand: 'visa', last4: '4242', ...card };
}

/** A valid cash.moved body; the reason follows the direction. */
export function cashMovedBody(
  shift: string,
  direction: 'in' | 'out',
  amount: number,
  extra: Partial<CashMovedBody> = {},
): CashMovedBody {
  return { shift, currency: 'EUR', direction, amount, reason: direction === 'in' ? 'paid_in' : 'safe_drop', ...extra };
}

export async function createHarness(options: HarnessOptions = {}): Promise<Harness> {
  const store = options.storage ?? new SqliteStorage({ path: ':memory:' });
  await store.migrate();
  const clock = new ManualClock(T0);
  const service = new HoldfastService({
    storage: store,
    clock,
    ...(options.processor ? { processor: options.processor } : {}),
    ...(options.processorTimeoutMs !== undefined ? { processorTimeoutMs: options.processorTimeoutMs } : {}),
    operators: options.operators ?? { scrypt: { logN: 10, r: 8, p: 1 } },
  });
  const app = buildApp({
    service,
    operatorToken: OPERATOR_TOKEN,
    ...(options.bodyLimit !== undefined ? { bodyLimit: options.bodyLimit } : {}),
    admission: { perDeviceInFlight: 1_000, ...options.admission },
    ...(options.metrics ? { metrics: options.metrics } : {}),
    ...(options.corsOrigins ? { corsOrigins: options.corsOrigins } : {}),
    ...(options.edge ? { edge: options.edge } : {}),
    sourceLimit: { rate: 0, ...options.sourceLimit },
  });
  const adminHeaders = { authorization: `Bearer ${OPERATOR_TOKEN}` };

  const request = async <T>(
    method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE',
    url: string,
    opts: RequestOptions = {},
  ): Promise<Answer<T>> => {
    const res = await app.inject({
      method,
      url,
      headers: { ...(opts.admin ? adminHeaders : {}), ...opts.headers },
      ...(opts.payload !== undefined ? { payload: opts.payload as object } : {}),
    });
    const json = res.body === '' ? undefined : res.json();
    return { status: res.statusCode, body: json as T, error: json as WireError };
  };

  const newToken = async (label?: string, ttlSeconds?: number) => {
    const res = await request<{ token: string }>('POST', '/v1/admin/enrollment-tokens', {
      admin: true,
      payload: { ...(label ? { label } : {}), ...(ttlSeconds ? { ttlSeconds } : {}) },
    });
    if (res.status !== 200) throw new Error(`token: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body.token;
  };

  const enroll = (token: string, keys: DeviceKeys, extra: { label?: string; sig?: string } = {}) =>
    request<EnrollResponse>('POST', '/v1/enroll', {
      payload: {
        token,
        publicKey: keys.publicKey,
        sig: extra.sig ?? signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey)),
        ...(extra.label ? { label: extra.label } : {}),
      },
    });

  const enrollDevice = async (label?: string): Promise<TestDevice> => {
    const token = await newToken(label);
    const keys = generateDeviceKeys();
    const res = await enroll(token, keys, label ? { label } : {});
    if (res.status !== 200) throw new Error(`enroll: ${res.status} ${JSON.stringify(res.body)}`);
    const id = res.body.deviceId;
    const privateKey = importPrivateKey(keys.privateKey);
    const chain = new ChainBuilder(id, privateKey, { now: () => clock.now() });
    return {
      id,
      keys,
      privateKey,
      chain,
      openShift: (body = {}) =>
        chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 10_000, ...body }),
      sale: (shift, total = 450, extra = {}) => chain.next('sale.recorded', saleBody(shift, total, extra)),
      cardSale: (shift, total, decision = NO_DECISION, card = {}) =>
        chain.next('sale.recorded', saleBody(shift, total, { tenders: [cardTender(total, card)] }), decision),
      cashMove: (shift, direction, amount, extra = {}) =>
        chain.next('cash.moved', cashMovedBody(shift, direction, amount, extra)),
      closeShift: (shift, countedCash) => chain.next('shift.closed', { shift, currency: 'EUR', countedCash }),
      batch: (ops, latestSeq, sentAt) =>
        signBatch(
          id,
          ops,
          privateKey,
          sentAt ?? clock.now(),
          latestSeq ?? Math.max(chain.seq, ...ops.map((o) => o.seq)),
        ),
    };
  };

  const send = (batch: unknown) => request<IngestResponse>('POST', '/v1/batches', { payload: batch });

  const operator = async (username: string, role: OperatorRole) => {
    const created = await request('POST', '/v1/admin/operators', {
      admin: true,
      payload: { username, role, password: OPERATOR_PASSWORD },
    });
    if (created.status !== 200) throw new Error(`operator ${username}: ${JSON.stringify(created.body)}`);
    const login = await request<{ session: string }>('POST', '/v1/admin/session', {
      payload: { username, password: OPERATOR_PASSWORD },
    });
    if (login.status !== 200) throw new Error(`login ${username}: ${JSON.stringify(login.body)}`);
    return { authorization: `Bearer ${login.body.session}` };
  };

  return {
    storage: store,
    service,
    app,
    clock,
    adminHeaders,
    newToken,
    enroll,
    enrollDevice,
    operator,
    send,
    request,
    async close() {
      await app.close();
      await (options.closeStorage ? options.closeStorage(store) : store.close());
    },
  };
}
