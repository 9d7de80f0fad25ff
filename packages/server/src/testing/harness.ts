/**
 * Test harness: a complete server on in-memory SQLite with a settable clock,
 * and devices enrolled through the real API that can build signed batches.
 * Used by the server's own tests; not part of the public API.
 */
import type { Clock, TimerHandle } from '@holdfast/domain';
import {
  type Batch,
  ChainBuilder,
  type DeviceKeys,
  type Op,
  type SaleBody,
  type ShiftOpenedBody,
  enrollmentMessage,
  generateDeviceKeys,
  importPrivateKey,
  signMessage,
} from '@holdfast/protocol';
import type { FastifyInstance } from 'fastify';
import { HoldfastService } from '../holdfast-service.js';
import { buildApp } from '../http/build-app.js';
import { SqliteStorage } from '../storage/sqlite/sqlite-storage.js';
import type { Storage } from '../storage/storage.js';

export const OPERATOR_TOKEN = 'test-operator-token-0123456789';
export const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);

/** A clock that moves only when told to. Timers are not needed by the server. */
export class FixedClock implements Clock {
  constructor(public time = T0) {}
  now(): number {
    return this.time;
  }
  setTimer(): TimerHandle {
    throw new Error('FixedClock has no timers');
  }
  advance(ms: number): void {
    this.time += ms;
  }
}

export interface TestDevice {
  id: string;
  keys: DeviceKeys;
  chain: ChainBuilder;
  /** Appends a shift.opened op (EUR, float 10000). */
  openShift(body?: Partial<ShiftOpenedBody>): Op;
  /** Appends a cash sale of `total` minor units on `shift`. */
  sale(shift: string, total?: number, extra?: Partial<SaleBody>): Op;
  batch(ops: readonly Op[], latestSeq?: number): Batch;
}

export interface Harness {
  storage: Storage;
  service: HoldfastService;
  app: FastifyInstance;
  clock: FixedClock;
  adminHeaders: { authorization: string };
  newToken(label?: string, ttlSeconds?: number): Promise<string>;
  enrollDevice(label?: string): Promise<TestDevice>;
  send(batch: unknown): Promise<{ status: number; body: any }>;
  close(): Promise<void>;
}

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

export async function createHarness(storage?: Storage): Promise<Harness> {
  const store = storage ?? new SqliteStorage({ path: ':memory:' });
  await store.migrate();
  const clock = new FixedClock();
  const service = new HoldfastService({ storage: store, clock });
  const app = buildApp({ service, operatorToken: OPERATOR_TOKEN });
  const adminHeaders = { authorization: `Bearer ${OPERATOR_TOKEN}` };

  const newToken = async (label?: string, ttlSeconds?: number) => {
    const res = await app.inject({
      method: 'POST',
      url: '/v1/admin/enrollment-tokens',
      headers: adminHeaders,
      payload: { ...(label ? { label } : {}), ...(ttlSeconds ? { ttlSeconds } : {}) },
    });
    if (res.statusCode !== 200) throw new Error(`token: ${res.statusCode} ${res.body}`);
    return (res.json() as { token: string }).token;
  };

  const enrollDevice = async (label?: string): Promise<TestDevice> => {
    const token = await newToken(label);
    const keys = generateDeviceKeys();
    const sig = signMessage(enrollmentMessage(token, keys.publicKey), importPrivateKey(keys.privateKey));
    const res = await app.inject({
      method: 'POST',
      url: '/v1/enroll',
      payload: { token, publicKey: keys.publicKey, sig, ...(label ? { label } : {}) },
    });
    if (res.statusCode !== 200) throw new Error(`enroll: ${res.statusCode} ${res.body}`);
    const id = (res.json() as { deviceId: string }).deviceId;
    const chain = new ChainBuilder(id, keys.privateKey, { now: () => clock.now() });
    return {
      id,
      keys,
      chain,
      openShift: (body = {}) => chain.next('shift.opened', { clerk: 'ana', currency: 'EUR', openingFloat: 10_000, ...body }),
      sale: (shift, total = 450, extra = {}) => chain.next('sale.recorded', saleBody(shift, total, extra)),
      batch: (ops, latestSeq) => chain.batch(ops, latestSeq),
    };
  };

  const send = async (batch: unknown) => {
    const res = await app.inject({ method: 'POST', url: '/v1/batches', payload: batch as object });
    return { status: res.statusCode, body: res.json() };
  };

  return {
    storage: store,
    service,
    app,
    clock,
    adminHeaders,
    newToken,
    enrollDevice,
    send,
    async close() {
      await app.close();
      await store.close();
    },
  };
}
