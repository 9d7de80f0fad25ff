/**
 * The tax authority's e-invoicing wire (docs/e-invoicing.md), as the
 * server's fiscal submitter and the `holdfast fiscal-sim` authority both
 * see it: a bill registered once per idempotency key, answered with a
 * fiscal number (registered) or a rejection (the authority's final word on
 * that bill as sent). FiscalClient keeps "answered" apart from "unknown"
 * exactly as ProcessorClient does: a timeout, reset or unexplained 5xx may
 * come after the authority committed, so the caller asks `findByKey`.
 */
import { ProcessorRefusedError } from './errors.js';
import { badResponse, callJson, isObject, type Json } from './json-call.js';

/** A bill as registered: what the authority needs to number it. Money in integer minor units. */
export interface FiscalBillRequest {
  /** The bill's id at the seller (the sale op id). */
  billId: string;
  /** The seller's tax id (`[A-Z0-9]{8,15}`). */
  sellerTaxId: string;
  /** The device (till) that issued the bill and its provisional number there. */
  device: string;
  provisionalNumber: string;
  /** When the bill was issued (device clock, ms since the epoch). */
  issuedAt: number;
  currency: string;
  total: number;
  lines: number;
  /** A credit note (money given back on a bill, or a rejected bill cancelled); absent: a bill. */
  kind?: 'credit_note';
  /** A credit note's bill: its id at the seller, and its fiscal number (null: a rejected bill, cancelled). */
  refersTo?: { billId: string; fiscalNumber: string | null };
}

export type FiscalRejectCode = 'zero_total' | 'malformed_tax_id' | 'rule' | 'unknown_reference';

/** The authority's answer for a bill: final, stored under its key. */
export type FiscalAnswer = (
  | { status: 'registered'; billId: string; fiscalNumber: string; sequence: number; registeredAt: number }
  | { status: 'rejected'; billId: string; rejectCode: FiscalRejectCode; reason: string; registeredAt: number }
) & {
  /** Set on the answer for a credit note (its billId is the credit note's id); absent for a bill. */
  kind?: 'credit_note';
};

/** Header set to `true` when an answer is a replay of one stored under the same key. */
export const FISCAL_REPLAYED_HEADER = 'x-fiscal-replayed';

/** Error codes of the authority's API. */
export const FISCAL_ERROR_CODES = [
  'unauthorized',
  'invalid_request',
  'malformed_json',
  'body_too_large',
  'unsupported_media_type',
  'idempotency_key_reused',
  'not_found',
  'authority_unavailable',
  'tax_id_deregistered',
] as const;

export interface FiscalClientOptions {
  apiKey: string;
  /** Timeout of calls that take none: default 10 s. */
  timeoutMs?: number;
  fetch?: typeof fetch;
}

/** Whether `v` is an answer as the authority sends it. */
export function isFiscalAnswer(v: unknown): v is FiscalAnswer {
  if (!isObject(v) || typeof v.billId !== 'string' || typeof v.registeredAt !== 'number') return false;
  if (v.status === 'registered') return typeof v.fiscalNumber === 'string' && typeof v.sequence === 'number';
  return v.status === 'rejected' && typeof v.rejectCode === 'string' && typeof v.reason === 'string';
}

export class FiscalClient {
  readonly #base: string;
  readonly #apiKey: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;

  constructor(baseUrl: string, options: FiscalClientOptions) {
    this.#base = baseUrl.replace(/\/+$/, '');
    this.#apiKey = options.apiKey;
    this.#timeoutMs = options.timeoutMs ?? 10_000;
    this.#fetch = options.fetch ?? globalThis.fetch;
  }

  /** Registers under `key`; throws ProcessorRefusedError (nothing done) or ProcessorOutcomeUnknownError. */
  async register(
    key: string,
    bill: FiscalBillRequest,
    timeoutMs = this.#timeoutMs,
  ): Promise<{ answer: FiscalAnswer; replayed: boolean }> {
    const res = await this.#call('POST', '/v1/bills', bill, timeoutMs, { 'idempotency-key': key });
    if (!isFiscalAnswer(res.body)) throw badResponse('POST /v1/bills', res.status);
    return { answer: res.body, replayed: res.headers.get(FISCAL_REPLAYED_HEADER) === 'true' };
  }

  /** The answer stored under `key`, or null when the authority has none. */
  async findByKey(key: string, timeoutMs = this.#timeoutMs): Promise<FiscalAnswer | null> {
    try {
      const res = await this.#call('GET', `/v1/bills?idempotencyKey=${encodeURIComponent(key)}`, undefined, timeoutMs);
      if (!isFiscalAnswer(res.body)) throw badResponse('GET /v1/bills', res.status);
      return res.body;
    } catch (error) {
      if (error instanceof ProcessorRefusedError && error.status === 404 && error.code === 'not_found') return null;
      throw error;
    }
  }

  /** Every stored answer with its key, in the authority's order. */
  async listAll(timeoutMs = this.#timeoutMs): Promise<{ key: string; answer: FiscalAnswer }[]> {
    const res = await this.#call('GET', '/v1/bills', undefined, timeoutMs);
    if (!isObject(res.body) || !Array.isArray(res.body.items)) throw badResponse('GET /v1/bills', res.status);
    return res.body.items as { key: string; answer: FiscalAnswer }[];
  }

  /** Changes the simulator's knobs at run time; returns them. */
  async configure(patch: Record<string, unknown>, timeoutMs = this.#timeoutMs): Promise<Json> {
    return (await this.#call('POST', '/v1/admin/config', patch, timeoutMs)).body as Json;
  }

  #call(
    method: 'GET' | 'POST',
    path: string,
    body: unknown,
    timeoutMs: number,
    extraHeaders: Record<string, string> = {},
  ): Promise<{ status: number; body: unknown; headers: Headers }> {
    return callJson({
      fetch: this.#fetch,
      base: this.#base,
      apiKey: this.#apiKey,
      method,
      path,
      body,
      timeoutMs,
      headers: extraHeaders,
      unavailableCode: 'authority_unavailable',
      service: 'authority',
    });
  }
}
