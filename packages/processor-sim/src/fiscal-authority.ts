/**
 * `holdfast fiscal-sim`: a tax authority's e-invoicing service, simulated
 * (docs/e-invoicing.md). Beside the card processor in this package, with
 * its own SQLite file and API key, and the same habits:
 *
 * - a bill is answered once per idempotency key (UNIQUE), in one
 *   `BEGIN IMMEDIATE` transaction with the number it gets; a replay gets
 *   the stored answer, a key reused for another bill a 409;
 * - fiscal numbers are sequential (`<prefix>-<8 digits>`), given only to
 *   registered bills; a rejection (total 0, malformed seller tax id) is a
 *   stored, final answer too;
 * - knobs, changeable at run time: `outagePct` (503
 *   `authority_unavailable`, nothing done), `latencyMs`, `lostAnswerPct`
 *   (stored, then the connection is dropped: the answer lost after
 *   commit), all drawn from one seed.
 *
 * `duplicateBills` in /v1/stats counts bill ids registered under more
 * than one key: the number a correct submitter keeps at 0.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { type Clock, chance, SeededRandom, sleep, systemClock } from '@holdfast/domain';
import {
  FISCAL_REPLAYED_HEADER,
  type FiscalAnswer,
  type FiscalBillRequest,
  type FiscalRejectCode,
} from '@holdfast/processor-client';
import { canonicalJson } from '@holdfast/protocol';
import { loadOrCreateSecretFile } from '@holdfast/secret-file';
import Database from 'better-sqlite3';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';

export const FISCAL_DATABASE_FILE = 'fiscal-authority.db';
export const FISCAL_API_KEY_FILE = 'fiscal-api-key';

/** Seller tax ids the authority accepts: 8 to 15 capital letters and digits. */
export const TAX_ID_PATTERN = /^[A-Z0-9]{8,15}$/;

export interface FiscalKnobs {
  /** Share of requests (0..1) answered 503 authority_unavailable, nothing done. */
  outagePct: number;
  /** Delay before each answer, ms, [min, max]. */
  latencyMs: [number, number];
  /** Share of new registrations (0..1) stored and then never answered (connection dropped). */
  lostAnswerPct: number;
  /** Prefix of the fiscal numbers. */
  prefix: string;
  /**
   * Seller tax ids struck off the authority's register: every bill of one
   * is refused for good (422 tax_id_deregistered, not retryable, nothing
   * stored), the permanent refusal a submitter must stop retrying.
   */
  deregisteredTaxIds: string[];
}

export const DEFAULT_FISCAL_KNOBS: FiscalKnobs = {
  outagePct: 0,
  latencyMs: [0, 0],
  lostAnswerPct: 0,
  prefix: 'FE',
  deregisteredTaxIds: [],
};

class FiscalError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
  ) {
    super(message);
  }
  toWire() {
    return {
      code: this.code,
      message: this.message,
      retryable: this.status === 503,
      ...(this.field ? { field: this.field } : {}),
    };
  }
}

/** Fastify's own errors (bad JSON, content type, size) as the authority's. */
function fromFastify(error: FastifyError): FiscalError {
  const status = error.statusCode ?? 500;
  if (status === 413) return new FiscalError(413, 'body_too_large', error.message);
  if (status === 415) return new FiscalError(415, 'unsupported_media_type', 'content-type must be application/json');
  if (error instanceof SyntaxError || error.code?.startsWith('FST_ERR_CTP_')) {
    return new FiscalError(400, 'malformed_json', error.message);
  }
  if (status >= 400 && status < 500) return new FiscalError(400, 'invalid_request', error.message);
  return new FiscalError(500, 'internal', 'internal error');
}

const invalid = (field: string, message: string) =>
  new FiscalError(400, 'invalid_request', `${field}: ${message}`, field);

/** The knobs after applying `patch` (unknown or out-of-range fields are a 400 naming them). */
export function patchFiscalKnobs(knobs: FiscalKnobs, patch: unknown): FiscalKnobs {
  if (typeof patch !== 'object' || patch === null || Array.isArray(patch)) throw invalid('body', 'an object');
  const next = { ...knobs };
  for (const [name, value] of Object.entries(patch)) {
    if (name === 'outagePct' || name === 'lostAnswerPct') {
      if (typeof value !== 'number' || !(value >= 0 && value <= 1)) throw invalid(name, 'a number 0..1');
      next[name] = value;
    } else if (name === 'latencyMs') {
      const ok =
        Array.isArray(value) &&
        value.length === 2 &&
        value.every((v) => Number.isSafeInteger(v) && v >= 0 && v <= 60_000) &&
        value[0] <= value[1];
      if (!ok) throw invalid(name, '[min, max] integers 0..60000, min <= max');
      next.latencyMs = [value[0], value[1]];
    } else if (name === 'deregisteredTaxIds') {
      const ok =
        Array.isArray(value) &&
        value.length <= 100 &&
        value.every((v) => typeof v === 'string' && v.length > 0 && v.length <= 64);
      if (!ok) throw invalid(name, 'a list of at most 100 tax ids');
      next.deregisteredTaxIds = [...(value as string[])];
    } else if (name === 'prefix') {
      if (typeof value !== 'string' || !/^[A-Z]{1,6}$/.test(value)) throw invalid(name, '1 to 6 capital letters');
      next.prefix = value;
    } else throw invalid(name, 'not a knob (outagePct, latencyMs, lostAnswerPct, prefix, deregisteredTaxIds)');
  }
  return next;
}

/** The request checked field by field (400 on the first wrong one). */
export function parseFiscalBill(body: unknown): FiscalBillRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('body', 'a JSON object');
  const b = body as Record<string, unknown>;
  const str = (name: string, max: number) => {
    const v = b[name];
    if (typeof v !== 'string' || v.length === 0 || v.length > max) throw invalid(name, `a string of 1..${max}`);
    return v;
  };
  const int = (name: string, min: number) => {
    const v = b[name];
    if (!Number.isSafeInteger(v) || (v as number) < min) throw invalid(name, `an integer >= ${min}`);
    return v as number;
  };
  const known = new Set([
    'billId',
    'sellerTaxId',
    'device',
    'provisionalNumber',
    'issuedAt',
    'currency',
    'total',
    'lines',
    'kind',
    'refersTo',
  ]);
  for (const name of Object.keys(b)) if (!known.has(name)) throw invalid(name, 'not a field of a bill');
  const currency = str('currency', 3);
  if (!/^[A-Z]{3}$/.test(currency)) throw invalid('currency', 'an ISO 4217 code');
  const bill: FiscalBillRequest = {
    billId: str('billId', 100),
    sellerTaxId: str('sellerTaxId', 64),
    device: str('device', 100),
    provisionalNumber: str('provisionalNumber', 100),
    issuedAt: int('issuedAt', 0),
    currency,
    total: int('total', 0),
    lines: int('lines', 1),
  };
  if (b.kind === undefined && b.refersTo === undefined) return bill;
  if (b.kind !== 'credit_note') throw invalid('kind', '"credit_note" or absent (a bill)');
  const r = b.refersTo;
  if (typeof r !== 'object' || r === null || Array.isArray(r)) throw invalid('refersTo', 'the credited bill');
  const ref = r as Record<string, unknown>;
  for (const name of Object.keys(ref)) {
    if (name !== 'billId' && name !== 'fiscalNumber') throw invalid(`refersTo.${name}`, 'not a field of refersTo');
  }
  if (typeof ref.billId !== 'string' || ref.billId.length === 0 || ref.billId.length > 100) {
    throw invalid('refersTo.billId', 'a string of 1..100');
  }
  const fiscalNumber = ref.fiscalNumber;
  if (fiscalNumber !== null && (typeof fiscalNumber !== 'string' || fiscalNumber.length === 0)) {
    throw invalid('refersTo.fiscalNumber', "the bill's fiscal number, or null for a rejected bill");
  }
  if (bill.total === 0 && fiscalNumber !== null) throw invalid('total', 'a credit note credits at least 1 minor unit');
  return { ...bill, kind: 'credit_note', refersTo: { billId: ref.billId, fiscalNumber } };
}

/** The authority's rule on a well-formed bill: null (register) or why it is rejected. */
export function fiscalRejection(bill: FiscalBillRequest): { code: FiscalRejectCode; reason: string } | null {
  if (!TAX_ID_PATTERN.test(bill.sellerTaxId)) {
    return { code: 'malformed_tax_id', reason: 'seller tax id must be 8 to 15 capital letters and digits' };
  }
  // A cancellation of a rejected bill of 0 (a credit note naming no fiscal number) is registered.
  if (bill.total === 0 && bill.kind === undefined) {
    return { code: 'zero_total', reason: 'a bill with a total of 0 is not registered' };
  }
  return null;
}

export interface StoredFiscalAnswer {
  key: string;
  answer: FiscalAnswer;
}

/** The authority's records: every answer it gave, by key, append-only. */
export class FiscalAuthorityStorage {
  readonly #db: Database.Database;

  constructor(path: string, synchronous: 'FULL' | 'NORMAL' | 'OFF' = 'FULL') {
    mkdirSync(join(path, '..'), { recursive: true });
    this.#db = new Database(path);
    this.#db.pragma('journal_mode = WAL');
    this.#db.pragma(`synchronous = ${synchronous}`);
    this.#db.pragma('busy_timeout = 5000');
    this.#db.exec(`
      CREATE TABLE IF NOT EXISTS bills (
        pos INTEGER PRIMARY KEY AUTOINCREMENT,
        idempotency_key TEXT NOT NULL UNIQUE,
        request_hash TEXT NOT NULL,
        bill_id TEXT NOT NULL,
        status TEXT NOT NULL CHECK (status IN ('registered', 'rejected')),
        fiscal_sequence INTEGER UNIQUE,
        answer_json TEXT NOT NULL,
        created_at INTEGER NOT NULL,
        CHECK ((status = 'registered') = (fiscal_sequence IS NOT NULL))
      );
      CREATE INDEX IF NOT EXISTS bills_bill ON bills (bill_id);
      CREATE TRIGGER IF NOT EXISTS bills_no_update BEFORE UPDATE ON bills
        BEGIN SELECT RAISE(ABORT, 'fiscal answers are final'); END;
      CREATE TRIGGER IF NOT EXISTS bills_no_delete BEFORE DELETE ON bills
        BEGIN SELECT RAISE(ABORT, 'fiscal answers are final'); END;
    `);
  }

  /** The stored answer for `key` or a new one, in one immediate transaction; `created` says which. */
  register(
    key: string,
    bill: FiscalBillRequest,
    now: number,
    prefix: string,
  ): { answer: FiscalAnswer; created: boolean } {
    const hash = createHash('sha256').update(canonicalJson(bill)).digest('hex');
    return this.#db
      .transaction(() => {
        const row = this.#db.prepare('SELECT * FROM bills WHERE idempotency_key = ?').get(key) as
          | Record<string, unknown>
          | undefined;
        if (row) {
          if (row.request_hash !== hash) {
            throw new FiscalError(409, 'idempotency_key_reused', 'this idempotency key was used for another bill');
          }
          return { answer: JSON.parse(row.answer_json as string) as FiscalAnswer, created: false };
        }
        const rejection =
          fiscalRejection(bill) ?? (bill.kind === 'credit_note' ? this.#referenceRejection(bill) : null);
        const kind = bill.kind === 'credit_note' ? { kind: 'credit_note' as const } : {};
        let answer: FiscalAnswer;
        let sequence: number | null = null;
        if (rejection) {
          answer = {
            status: 'rejected',
            billId: bill.billId,
            rejectCode: rejection.code,
            reason: rejection.reason,
            registeredAt: now,
            ...kind,
          };
        } else {
          const last = this.#db.prepare('SELECT max(fiscal_sequence) AS s FROM bills').get() as { s: number | null };
          sequence = (last.s ?? 0) + 1;
          answer = {
            status: 'registered',
            billId: bill.billId,
            fiscalNumber: `${prefix}-${String(sequence).padStart(8, '0')}`,
            sequence,
            registeredAt: now,
            ...kind,
          };
        }
        this.#db
          .prepare(
            `INSERT INTO bills (idempotency_key, request_hash, bill_id, status, fiscal_sequence, answer_json, created_at)
             VALUES (?, ?, ?, ?, ?, ?, ?)`,
          )
          .run(key, hash, bill.billId, answer.status, sequence, JSON.stringify(answer), now);
        return { answer, created: true };
      })
      .immediate();
  }

  /**
   * A credit note must credit a bill this authority answered: registered
   * under the fiscal number it names, or (fiscalNumber null: a cancelled
   * bill) rejected and never registered.
   */
  #referenceRejection(note: FiscalBillRequest): { code: FiscalRejectCode; reason: string } | null {
    const ref = note.refersTo;
    if (!ref) return null;
    const rows = this.#db.prepare('SELECT answer_json FROM bills WHERE bill_id = ?').all(ref.billId) as {
      answer_json: string;
    }[];
    const answers = rows.map((r) => JSON.parse(r.answer_json) as FiscalAnswer).filter((a) => a.kind === undefined);
    const registered = answers.find((a) => a.status === 'registered');
    if (ref.fiscalNumber === null) {
      if (registered)
        return { code: 'unknown_reference', reason: `bill ${ref.billId} is registered: credit its fiscal number` };
      if (answers.length === 0)
        return { code: 'unknown_reference', reason: `no bill ${ref.billId} was ever submitted` };
      return null;
    }
    if (registered?.status !== 'registered' || registered.fiscalNumber !== ref.fiscalNumber) {
      return { code: 'unknown_reference', reason: `no bill ${ref.billId} registered as ${ref.fiscalNumber}` };
    }
    return null;
  }

  findByKey(key: string): FiscalAnswer | null {
    const row = this.#db.prepare('SELECT answer_json FROM bills WHERE idempotency_key = ?').get(key) as
      | { answer_json: string }
      | undefined;
    return row ? (JSON.parse(row.answer_json) as FiscalAnswer) : null;
  }

  list(): StoredFiscalAnswer[] {
    const rows = this.#db.prepare('SELECT idempotency_key, answer_json FROM bills ORDER BY pos').all() as {
      idempotency_key: string;
      answer_json: string;
    }[];
    return rows.map((r) => ({ key: r.idempotency_key, answer: JSON.parse(r.answer_json) as FiscalAnswer }));
  }

  /** `creditNotes`: credit notes registered (counted in `registered` too). */
  stats(): { registered: number; rejected: number; duplicateBills: number; creditNotes: number } {
    const count = (status: string) =>
      (this.#db.prepare('SELECT count(*) AS n FROM bills WHERE status = ?').get(status) as { n: number }).n;
    const dup = this.#db
      .prepare(
        `SELECT count(*) AS n FROM (SELECT bill_id FROM bills WHERE status = 'registered'
         GROUP BY bill_id HAVING count(*) > 1)`,
      )
      .get() as { n: number };
    const notes = this.#db
      .prepare(
        `SELECT count(*) AS n FROM bills WHERE status = 'registered' AND answer_json LIKE '%"kind":"credit_note"%'`,
      )
      .get() as { n: number };
    return {
      registered: count('registered'),
      rejected: count('rejected'),
      duplicateBills: dup.n,
      creditNotes: notes.n,
    };
  }

  close(): void {
    this.#db.close();
  }
}

export interface StartFiscalSimOptions extends Partial<FiscalKnobs> {
  dataDir: string;
  port?: number;
  host?: string;
  /** Default: read from, or created in, `<dataDir>/fiscal-api-key`. */
  apiKey?: string;
  seed?: number;
  synchronous?: 'FULL' | 'NORMAL' | 'OFF';
  clock?: Clock;
  logger?: FastifyServerOptions['logger'];
}

export interface RunningFiscalSim {
  url: string;
  port: number;
  apiKey: string;
  seed: number;
  storage: FiscalAuthorityStorage;
  app: FastifyInstance;
  knobs(): FiscalKnobs;
  close(): Promise<void>;
}

function keyGuard(apiKey: string) {
  if (apiKey.length < 16) throw new RangeError('the API key must be at least 16 characters');
  const digest = (s: string) => createHash('sha256').update(s).digest();
  const expected = digest(apiKey);
  return async (request: { url: string; headers: Record<string, unknown> }): Promise<void> => {
    if (request.url.split('?')[0] === '/v1/health') return;
    const header = request.headers.authorization;
    const match = typeof header === 'string' ? /^Bearer (.+)$/.exec(header) : null;
    if (!match?.[1] || !timingSafeEqual(digest(match[1]), expected)) {
      throw new FiscalError(401, 'unauthorized', 'needs "Authorization: Bearer <api key>"');
    }
  };
}

export async function startFiscalSim(options: StartFiscalSimOptions): Promise<RunningFiscalSim> {
  const {
    dataDir,
    port,
    host = '127.0.0.1',
    apiKey,
    seed,
    synchronous,
    clock = systemClock,
    logger,
    ...rest
  } = options;
  let knobs = patchFiscalKnobs(DEFAULT_FISCAL_KNOBS, rest);
  const usedSeed = seed ?? randomBytes(4).readUInt32BE(0);
  const random = new SeededRandom(usedSeed);
  const storage = new FiscalAuthorityStorage(join(dataDir, FISCAL_DATABASE_FILE), synchronous);
  let app: FastifyInstance;
  let key: string;
  try {
    key = apiKey ?? loadOrCreateSecretFile(join(dataDir, FISCAL_API_KEY_FILE));
    app = Fastify({ logger: logger ?? false, bodyLimit: 64 * 1024, return503OnClosing: true });
    app.removeContentTypeParser('text/plain');
    app.setErrorHandler((error, request, reply) => {
      const e = error instanceof FiscalError ? error : fromFastify(error as FastifyError);
      if (e.status >= 500 && e.status !== 503) request.log.error({ err: error }, 'request failed');
      void reply.status(e.status).send(e.toWire());
    });
    app.setNotFoundHandler((request) => {
      throw new FiscalError(404, 'not_found', `no route ${request.method} ${request.url.split('?')[0]}`);
    });
    app.addHook('onRequest', keyGuard(key));
    const delay = async () => {
      const [min, max] = knobs.latencyMs;
      const ms = min + Math.floor(random.float() * (max - min + 1));
      if (ms > 0) await sleep(clock, ms);
    };
    app.get('/v1/health', async () => ({ status: 'ok', time: clock.now() }));
    app.post('/v1/bills', async (request, reply) => {
      const idempotencyKey = request.headers['idempotency-key'];
      if (typeof idempotencyKey !== 'string' || !/^[A-Za-z0-9_\-:.]{1,200}$/.test(idempotencyKey)) {
        throw invalid('header.idempotency-key', 'a token of 1..200 letters, digits and _-:.');
      }
      const bill = parseFiscalBill(request.body);
      await delay();
      if (chance(random, knobs.outagePct)) {
        throw new FiscalError(503, 'authority_unavailable', 'the authority is unavailable; nothing was registered');
      }
      if (knobs.deregisteredTaxIds.includes(bill.sellerTaxId)) {
        // Refused for good (422, not retryable): no bill of a struck-off seller is ever accepted; nothing stored.
        throw new FiscalError(
          422,
          'tax_id_deregistered',
          `seller tax id ${bill.sellerTaxId} is not on the register; no bill of it can be accepted`,
          'sellerTaxId',
        );
      }
      const { answer, created } = storage.register(idempotencyKey, bill, clock.now(), knobs.prefix);
      request.log.info({ billId: bill.billId, status: answer.status, created }, 'bill');
      if (created && chance(random, knobs.lostAnswerPct)) {
        request.log.warn({ billId: bill.billId }, 'answer lost after commit');
        void reply.hijack();
        request.raw.socket.destroy();
        return reply;
      }
      void reply.header(FISCAL_REPLAYED_HEADER, String(!created));
      return reply.status(created ? 201 : 200).send(answer);
    });
    app.get('/v1/bills', async (request) => {
      const q = request.query as Record<string, unknown>;
      if (q.idempotencyKey !== undefined) {
        await delay();
        if (chance(random, knobs.outagePct)) {
          throw new FiscalError(503, 'authority_unavailable', 'the authority is unavailable');
        }
        const found = storage.findByKey(String(q.idempotencyKey));
        if (!found) throw new FiscalError(404, 'not_found', 'no bill under that idempotency key');
        return found;
      }
      return { items: storage.list() };
    });
    app.get('/v1/stats', async () => storage.stats());
    app.get('/v1/admin/config', async () => knobs);
    app.post('/v1/admin/config', async (request) => {
      knobs = patchFiscalKnobs(knobs, request.body);
      request.log.warn({ knobs }, 'configuration changed');
      return knobs;
    });
    await app.listen({ port: port ?? 0, host });
  } catch (error) {
    storage.close();
    throw error;
  }
  const address = app.server.address();
  const boundPort = typeof address === 'object' && address ? address.port : (port ?? 0);
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${boundPort}`,
    port: boundPort,
    apiKey: key,
    seed: usedSeed,
    storage,
    app,
    knobs: () => knobs,
    async close() {
      await app.close();
      storage.close();
    },
  };
}
